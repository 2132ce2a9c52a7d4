"""Test certificates: the 医療機関 TLS PKI (`institution_pki`) and the X.509 helpers it shares with
the card's certificate authority (mockgateway/card/authority.py)."""
