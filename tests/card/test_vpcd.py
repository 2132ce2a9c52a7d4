"""The vpcd bridge against a fake vpcd (a local TCP server speaking the wire protocol)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from mockgateway.card.model import AID_JPKI, GenericCard, MyNumberCard
from mockgateway.card.profile import DEFAULT_ATR, CardState
from mockgateway.card.vpcd import VirtualCardSlot, VpcdError

pytestmark = pytest.mark.timeout(30)


class FakeVpcd:
    """Accepts one card connection and exchanges framed messages with it, as vpcd does."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.server.settimeout(10)
        self.conn, _ = self.server.accept()
        self.conn.settimeout(10)

    def send(self, payload: bytes) -> None:
        assert self.conn is not None
        # Length and payload in two writes, exactly like Debian's vpcd 3.3.
        self.conn.sendall(len(payload).to_bytes(2, "big"))
        self.conn.sendall(payload)

    def recv(self) -> bytes:
        assert self.conn is not None
        header = self._exact(2)
        return self._exact(int.from_bytes(header, "big"))

    def _exact(self, n: int) -> bytes:
        assert self.conn is not None
        buf = b""
        while len(buf) < n:
            chunk = self.conn.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("card closed the connection")
            buf += chunk
        return buf

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


@pytest.fixture
def vpcd() -> Iterator[FakeVpcd]:
    fake = FakeVpcd()
    yield fake
    fake.close()


def _insert(vpcd: FakeVpcd, card: MyNumberCard | GenericCard) -> VirtualCardSlot:
    slot = VirtualCardSlot(vpcd.port)
    acceptor = threading.Thread(target=vpcd.accept)
    acceptor.start()
    slot.insert(card)
    acceptor.join()
    return slot


def test_control_messages_and_apdus(vpcd: FakeVpcd, state: CardState) -> None:
    card = MyNumberCard(state)
    slot = _insert(vpcd, card)
    try:
        assert slot.inserted
        vpcd.send(b"\x04")
        assert vpcd.recv() == DEFAULT_ATR
        vpcd.send(b"\x01")  # power on: no answer
        vpcd.send(bytes.fromhex("00A4040C0A") + AID_JPKI)
        assert vpcd.recv() == b"\x90\x00"
        assert card.powered
        vpcd.send(b"\x00")  # power off
        vpcd.send(b"\x02")  # reset: powers on again, security state cleared
        vpcd.send(bytes.fromhex("00A4020C020018"))
        assert vpcd.recv() == b"\x6a\x82"  # the reset dropped the selected AP
        assert slot.apdu_count == 2
        assert slot.errors == []
    finally:
        slot.remove()


def test_tcp_options_are_set(vpcd: FakeVpcd, state: CardState) -> None:
    slot = _insert(vpcd, MyNumberCard(state))
    try:
        sock = slot._sock  # the bridge's own socket
        assert sock is not None
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        slot.remove()


def test_remove_closes_the_connection(vpcd: FakeVpcd, state: CardState) -> None:
    slot = _insert(vpcd, MyNumberCard(state))
    slot.remove()
    assert not slot.inserted
    assert slot.card is None
    with pytest.raises(ConnectionError):
        vpcd.recv()


def test_vpcd_closing_ends_the_bridge(vpcd: FakeVpcd, state: CardState) -> None:
    slot = _insert(vpcd, MyNumberCard(state))
    assert vpcd.conn is not None
    vpcd.conn.close()
    vpcd.conn = None
    assert slot._thread is not None
    slot._thread.join(10)
    assert not slot.inserted
    slot.remove()


def test_double_insert_is_refused(vpcd: FakeVpcd, state: CardState) -> None:
    slot = _insert(vpcd, MyNumberCard(state))
    try:
        with pytest.raises(VpcdError, match="already inserted"):
            slot.insert(MyNumberCard(state))
    finally:
        slot.remove()


def test_connect_failure_is_reported() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(VpcdError, match="cannot connect"):
        VirtualCardSlot(port).insert(GenericCard(), timeout=0.2)


def test_model_errors_answer_6f00(vpcd: FakeVpcd) -> None:
    class Broken(GenericCard):
        def process(self, apdu: bytes) -> bytes:
            raise RuntimeError("boom")

    slot = _insert(vpcd, Broken())
    try:
        vpcd.send(bytes.fromhex("00A4040C0A") + AID_JPKI)
        assert vpcd.recv() == b"\x6f\x00"
        assert [type(e) for e in slot.errors] == [RuntimeError]
    finally:
        slot.remove()
