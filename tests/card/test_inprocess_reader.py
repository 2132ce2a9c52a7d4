"""The in-process pyscard fallback: high-level pyscard API only, no pcscd."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mockgateway.card.model import GenericCard, MyNumberCard
from mockgateway.card.profile import DEFAULT_ATR, CardState, PinId
from tests.card import vendor_client

pytest.importorskip("smartcard.reader.ReaderFactory", reason="pyscard is not installed (pip install pyscard)")

from mockgateway.card.inprocess_reader import DEFAULT_READER_NAMES, InProcessReaders

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def backend() -> Iterator[InProcessReaders]:
    with InProcessReaders() as b:
        yield b


def test_readers_lists_the_in_process_readers(backend: InProcessReaders) -> None:
    from smartcard.System import readers

    assert [str(r) for r in readers()] == list(DEFAULT_READER_NAMES)


def test_factory_is_restored() -> None:
    from smartcard.reader.ReaderFactory import ReaderFactory

    before = list(ReaderFactory.factorymethods)
    with InProcessReaders():
        assert ReaderFactory.factorymethods != before
    assert ReaderFactory.factorymethods == before


def test_vendor_style_login(backend: InProcessReaders, state: CardState) -> None:
    from smartcard.System import readers

    backend.slot(0).insert(MyNumberCard(state))
    connection = readers()[0].createConnection()
    connection.connect()
    try:
        assert bytes(connection.getATR()) == DEFAULT_ATR
        cert_der, signature, tries = vendor_client.login(connection, state.auth_pin, b"m")
    finally:
        connection.disconnect()
        connection.release()
    assert (cert_der, tries) == (state.credentials.auth_cert_der, 3)
    key = x509.load_der_x509_certificate(cert_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, b"m", padding.PKCS1v15(), hashes.SHA256())


def test_no_card_and_removed_card(backend: InProcessReaders, state: CardState) -> None:
    from smartcard.Exceptions import CardConnectionException, NoCardException
    from smartcard.System import readers

    reader = readers()[1]
    with pytest.raises(NoCardException):
        reader.createConnection().connect()
    backend.slot(1).insert(MyNumberCard(state))
    connection = reader.createConnection()
    connection.connect()
    backend.slot(1).remove()
    with pytest.raises(CardConnectionException, match="removed"):
        connection.transmit([0x00, 0xA4, 0x04, 0x0C, 0x0A, *vendor_client.JPKI_AP])


def test_disconnect_powers_down_but_counters_persist(backend: InProcessReaders, state: CardState) -> None:
    from smartcard.System import readers

    card = MyNumberCard(state)
    backend.slot(0).insert(card)
    reader = readers()[0]
    connection = reader.createConnection()
    connection.connect()
    vendor_client.send(connection, [0x00, 0xA4, 0x04, 0x0C, 0x0A, *vendor_client.JPKI_AP])
    vendor_client.send(connection, [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18])
    _, sw1, sw2 = connection.transmit([0x00, 0x20, 0x00, 0x80, 4, 0x39, 0x39, 0x39, 0x39 + 1])
    assert (sw1, sw2) == (0x63, 0xC2)
    connection.disconnect()
    assert not card.powered
    connection.connect()
    assert card.current_ap is None  # security state and selection are gone after power-off
    assert state.tries[PinId.AUTH] == 2
    connection.disconnect()
    connection.release()


def test_generic_card(backend: InProcessReaders) -> None:
    from smartcard.System import readers

    backend.slot(0).insert(GenericCard())
    connection = readers()[0].createConnection()
    connection.connect()
    _, sw1, sw2 = connection.transmit([0x00, 0xA4, 0x04, 0x0C, 0x0A, *vendor_client.JPKI_AP])
    assert (sw1, sw2) == (0x6A, 0x82)
    connection.disconnect()
    connection.release()
