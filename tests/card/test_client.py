import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mockgateway.card.client import CardClient, CardError
from mockgateway.card.model import AID_JPKI, MyNumberCard
from mockgateway.card.profile import CardState


def test_jpki_authenticate(state: CardState) -> None:
    card = MyNumberCard(state)
    card.power_on()
    cert_der, signature = CardClient(card.process).jpki_authenticate(state.auth_pin, b"hello")
    key = x509.load_der_x509_certificate(cert_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, b"hello", padding.PKCS1v15(), hashes.SHA256())


def test_wrong_pin_raises_with_the_status_word(state: CardState) -> None:
    card = MyNumberCard(state)
    card.power_on()
    client = CardClient(card.process)
    wrong = "0000" if state.auth_pin != "0000" else "1111"
    with pytest.raises(CardError) as err:
        client.jpki_authenticate(wrong, b"x")
    assert err.value.sw == 0x63C2
    client.select_df(AID_JPKI)
    client.select_ef(0x0018)
    assert client.tries() == 2
