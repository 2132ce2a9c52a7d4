"""My Number card (マイナンバーカード) at APDU level: card PKI, card model, virtual readers.

* `pki`              J-LIS-like TEST CA issuing 利用者証明用 / 署名用 certificates, CRLs
* `mynumber`         individual number check digit
* `apdu`, `tlv`      command parsing, status words, BER-TLV
* `profile`          `CardProfile` (card behaviour) and `CardState` (one person's card)
* `model`            `MyNumberCard` / `GenericCard`: APDU in, APDU out, no I/O
* `client`           `CardClient`: small APDU helper over any transmit function
* `vpcd`             bridge to vsmartcard-vpcd (`VirtualCardSlot`)
* `pcscd`            private pcscd with one vpcd entry (`PrivatePcscd`)
* `inprocess_reader` pyscard ReaderFactory fallback without pcscd
* `spec`, `registry`  the fixture `card:` key; each person's card, issued from the TEST CA on first use
* `reader`           the face-auth reader's slots (direct, pcscd) and APDU sequences
* `faceauth`         the reader's workflow: place card → identity → check → consent → result

See docs/card.md.
"""
