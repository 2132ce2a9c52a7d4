"""The card in a real (private) pcscd via vpcd, driven by pyscard the way vendors use it."""

from __future__ import annotations

import hashlib
import queue
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mockgateway.card.model import GenericCard, MyNumberCard
from mockgateway.card.pcscd import (
    PCSCD_SOCKET,
    PrivatePcscd,
    pcscd_unavailable_reason,
    stop_pyscard_card_monitor,
    wait_for_card_state,
    write_reader_conf,
)
from mockgateway.card.profile import DEFAULT_ATR, GENERIC_ATR, MYNUMBER_BLOCKED_6983, CardState
from mockgateway.card.vpcd import VirtualCardSlot
from tests.card import vendor_client
from tests.card.conftest import InsertCard

JPKI_AP = vendor_client.JPKI_AP
SHA256_DIGEST_INFO_HEADER = vendor_client.SHA256_DIGEST_INFO_HEADER
SHA256_OID = vendor_client.SHA256_OID


def _public_key(cert_der: bytes) -> rsa.RSAPublicKey:
    key = x509.load_der_x509_certificate(cert_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


# --- no daemon needed -------------------------------------------------------------------------


def test_reader_conf_has_one_vpcd_entry(tmp_path: Path) -> None:
    (tmp_path / "old").write_text("stale")
    entry = write_reader_conf(tmp_path, port=0x8C83, friendly_name="X Reader")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vpcd"]
    text = entry.read_text()
    assert 'FRIENDLYNAME "X Reader"' in text
    assert "DEVICENAME   /dev/null:0x8C83" in text
    assert "CHANNELID    0x8C83" in text
    assert "libifdvpcd.so" in text


def test_reader_names_and_ports(tmp_path: Path) -> None:
    daemon = PrivatePcscd(tmp_path, port=40000, friendly_name="F")
    assert (daemon.face_auth_reader, daemon.plain_reader) == ("F 00 00", "F 00 01")
    assert (daemon.port(0), daemon.port(1)) == (40000, 40001)
    with pytest.raises(ValueError, match="slot"):
        daemon.port(2)


def test_unavailable_reason_is_none_or_precise() -> None:
    reason = pcscd_unavailable_reason()
    assert reason is None or any(w in reason for w in ("pcscd", "vpcd", "root", "ports"))


# --- with the private pcscd -------------------------------------------------------------------


@pytest.mark.pcscd
@pytest.mark.timeout(60)
def test_daemon_lists_two_readers(pcscd: PrivatePcscd) -> None:
    from smartcard.System import readers

    assert PCSCD_SOCKET.exists()
    names = [str(r) for r in readers()]
    assert names == [pcscd.face_auth_reader, pcscd.plain_reader]


@pytest.mark.pcscd
@pytest.mark.timeout(60)
def test_vendor_style_client_login_sequence(pcscd: PrivatePcscd, insert_card: InsertCard, state: CardState) -> None:
    """Written like lanesky/mnbcard: readers()[0], createConnection(), connect(), transmit()."""
    from smartcard.Exceptions import NoCardException
    from smartcard.System import readers

    insert_card(MyNumberCard(state))

    rd = readers()
    if rd is None or len(rd) <= 0:
        raise AssertionError("No reader detected")
    reader = rd[0]
    assert str(reader) == pcscd.face_auth_reader
    try:
        connection = reader.createConnection()
        connection.connect()
    except NoCardException as exc:
        raise AssertionError("No card detected") from exc

    try:
        assert bytes(connection.getATR()) == DEFAULT_ATR
        message = b"nonce from the eligibility system"
        cert_der, signature, tries = vendor_client.login(connection, state.auth_pin, message)
        assert cert_der == state.credentials.auth_cert_der
        assert tries == 3
        assert len(signature) == 256
        _public_key(cert_der).verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    finally:
        connection.disconnect()
        connection.release()


@pytest.mark.pcscd
@pytest.mark.timeout(60)
def test_raw_scard_calls(pcscd: PrivatePcscd, insert_card: InsertCard, state: CardState) -> None:
    from smartcard import scard

    reader = insert_card(MyNumberCard(state), slot=1)
    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS
    try:
        hresult, names = scard.SCardListReaders(ctx, [])
        assert hresult == scard.SCARD_S_SUCCESS
        assert names == [pcscd.face_auth_reader, pcscd.plain_reader]
        hresult, hcard, protocol = scard.SCardConnect(
            ctx, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
        assert protocol == scard.SCARD_PROTOCOL_T1
        try:
            hresult, name, _card_state, _proto, atr = scard.SCardStatus(hcard)
            assert hresult == scard.SCARD_S_SUCCESS
            assert (name, bytes(atr)) == (reader, DEFAULT_ATR)

            def tx(apdu: bytes) -> tuple[bytes, int]:
                hresult, response = scard.SCardTransmit(hcard, protocol, list(apdu))
                assert hresult == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hresult)
                return bytes(response[:-2]), (response[-2] << 8) | response[-1]

            assert tx(bytes.fromhex("00A4040C0A") + bytes(JPKI_AP)) == (b"", 0x9000)
            assert tx(bytes.fromhex("00A4020C020018"))[1] == 0x9000
            assert tx(bytes.fromhex("0020008004") + state.auth_pin.encode())[1] == 0x9000
            assert tx(bytes.fromhex("00A4020C020017"))[1] == 0x9000
            di = bytes(SHA256_DIGEST_INFO_HEADER + SHA256_OID) + hashlib.sha256(b"raw").digest()
            signature, sw = tx(bytes([0x80, 0x2A, 0x00, 0x80, len(di)]) + di + b"\x00")
            assert sw == 0x9000
            _public_key(state.credentials.auth_cert_der).verify(signature, b"raw", padding.PKCS1v15(), hashes.SHA256())
        finally:
            assert scard.SCardDisconnect(hcard, scard.SCARD_UNPOWER_CARD) == scard.SCARD_S_SUCCESS
    finally:
        scard.SCardReleaseContext(ctx)


@pytest.mark.pcscd
@pytest.mark.timeout(60)
def test_card_request_waits_for_insertion(pcscd: PrivatePcscd, insert_card: InsertCard, state: CardState) -> None:
    from smartcard.CardRequest import CardRequest
    from smartcard.CardType import ATRCardType

    # Without newcardonly the request cannot miss a card pcscd saw before it started waiting.
    request = CardRequest(
        timeout=30,
        readers=[pcscd.face_auth_reader],
        cardType=ATRCardType(list(DEFAULT_ATR)),
    )
    # Insert from another thread while this one blocks in waitforcard(), like a person would.
    inserter = threading.Thread(target=insert_card, args=(MyNumberCard(state),))
    inserter.start()
    try:
        service = request.waitforcard()
    finally:
        inserter.join()
    try:
        service.connection.connect()
        _, sw1, sw2 = service.connection.transmit([0x00, 0xA4, 0x04, 0x0C, 0x0A, *JPKI_AP])
        assert (sw1, sw2) == (0x90, 0x00)
    finally:
        service.connection.disconnect()
        service.connection.release()


@pytest.mark.pcscd
@pytest.mark.timeout(60)
def test_card_monitor_sees_insert_and_remove(pcscd: PrivatePcscd, state: CardState) -> None:
    from smartcard.CardMonitoring import CardMonitor, CardObserver

    events: queue.Queue[tuple[str, str, bytes]] = queue.Queue()

    class Observer(CardObserver):  # type: ignore[misc]
        def update(self, observable: Any, handlers: Any) -> None:
            added, removed = handlers
            for card in added:
                events.put(("inserted", str(card.reader), bytes(card.atr)))
            for card in removed:
                events.put(("removed", str(card.reader), bytes(card.atr)))

    monitor = CardMonitor()
    observer = Observer()
    monitor.addObserver(observer)
    slot = VirtualCardSlot(pcscd.port(0))
    try:
        slot.insert(MyNumberCard(state))
        assert events.get(timeout=20) == ("inserted", pcscd.face_auth_reader, DEFAULT_ATR)
        slot.remove()
        assert events.get(timeout=20) == ("removed", pcscd.face_auth_reader, DEFAULT_ATR)
    finally:
        slot.remove()
        monitor.deleteObserver(observer)
        stop_pyscard_card_monitor()
        wait_for_card_state(pcscd.face_auth_reader, present=False)


@pytest.mark.pcscd
@pytest.mark.timeout(60)
def test_generic_card_is_rejected_by_select(insert_card: InsertCard) -> None:
    from smartcard.System import readers

    reader_name = insert_card(GenericCard())
    reader = next(r for r in readers() if str(r) == reader_name)
    connection = reader.createConnection()
    connection.connect()
    try:
        assert bytes(connection.getATR()) == GENERIC_ATR
        _, sw1, sw2 = connection.transmit([0x00, 0xA4, 0x04, 0x0C, 0x0A, *JPKI_AP])
        assert (sw1, sw2) == (0x6A, 0x82)
    finally:
        connection.disconnect()
        connection.release()


@pytest.mark.pcscd
@pytest.mark.timeout(60)
def test_blocked_pin_survives_reconnect(insert_card: InsertCard, make_state: Any) -> None:
    from smartcard.System import readers

    state: CardState = make_state(1, MYNUMBER_BLOCKED_6983)
    reader_name = insert_card(MyNumberCard(state))
    reader = next(r for r in readers() if str(r) == reader_name)
    wrong = [ord("1" if c != "1" else "2") for c in state.auth_pin]
    seen = []
    for _ in range(2):  # disconnect powers the card down; the counter must persist
        connection = reader.createConnection()
        connection.connect()
        try:
            connection.transmit([0x00, 0xA4, 0x04, 0x0C, 0x0A, *JPKI_AP])
            connection.transmit([0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18])
            for _ in range(2):
                _, sw1, sw2 = connection.transmit([0x00, 0x20, 0x00, 0x80, 4, *wrong])
                seen.append((sw1 << 8) | sw2)
        finally:
            connection.disconnect()
            connection.release()
    assert seen == [0x63C2, 0x63C1, 0x6983, 0x6983]


@pytest.mark.pcscd
@pytest.mark.timeout(60)
def test_two_slots_hold_two_cards(insert_card: InsertCard, make_state: Any) -> None:
    from smartcard.System import readers

    first: CardState = make_state(0)
    second: CardState = make_state(2)
    names = [insert_card(MyNumberCard(first), slot=0), insert_card(MyNumberCard(second), slot=1)]
    got = []
    for reader in readers():
        assert str(reader) in names
        connection = reader.createConnection()
        connection.connect()
        try:
            connection.transmit([0x00, 0xA4, 0x04, 0x0C, 0x0A, *JPKI_AP])
            connection.transmit([0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A])
            data, _, _ = connection.transmit([0x00, 0xB0, 0x00, 0x00, 0x00])
            got.append(bytes(data))
        finally:
            connection.disconnect()
            connection.release()
    assert got == [first.credentials.auth_cert_der[:256], second.credentials.auth_cert_der[:256]]


def test_unavailable_reasons_name_the_missing_piece(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import mockgateway.card.pcscd as mod

    monkeypatch.setattr(mod.shutil, "which", lambda name: None)
    monkeypatch.setattr(mod, "Path", lambda p: tmp_path / "absent")
    assert "pcscd not found" in (pcscd_unavailable_reason() or "")
    monkeypatch.undo()
    if shutil.which("pcscd") is None:
        pytest.skip("pcscd not installed: the driver check below needs it")
    monkeypatch.setattr(mod, "VPCD_DRIVER", tmp_path / "libifdvpcd.so")
    assert "vsmartcard-vpcd driver" in (pcscd_unavailable_reason() or "")
