"""Bridge between a card model and vsmartcard's vpcd reader driver (our own "vicc").

vpcd (a pcsc-lite IFD driver) listens on a TCP port per slot; a virtual card connects to it.
Wire protocol: every message is a 2-byte big-endian length and a payload. A 1-byte payload
from vpcd is a control message (00 power off, 01 power on, 02 reset, 04 send ATR); anything
else is a command APDU, answered with the response APDU. Closing the socket = card removed.

Debian's Python vicc (vsmartcard-vpicc) is broken as shipped, so this module speaks the
protocol itself. Only the normal mode is supported: vpcd's "reversed" mode (vpcd connecting
to a listening card) crashes pcscd 1.9.9.

Latency: Debian's vpcd writes the length and the payload separately; with delayed ACKs this
costs ~48 ms per APDU unless the card side sets TCP_QUICKACK before every recv (Linux resets
the flag after ACKing). With it an APDU round trip through pcscd is ~0.15 ms.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType

from mockgateway.card.model import CardModel

log = logging.getLogger(__name__)

CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04

DEFAULT_HOST = "127.0.0.1"


class VpcdError(Exception):
    """The bridge could not connect to vpcd or lost it unexpectedly."""


class VirtualCardSlot:
    """One vpcd slot (TCP port). `insert(card)` connects, `remove()` closes the connection.

    The connection is served by a daemon thread that calls the card model. Exceptions raised by
    the model are logged, answered with SW 6F00, and kept in `errors` for tests to assert on.
    """

    def __init__(self, port: int, host: str = DEFAULT_HOST) -> None:
        self.port = port
        self.host = host
        self.errors: list[BaseException] = []
        self._card: CardModel | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.apdu_count = 0

    @property
    def card(self) -> CardModel | None:
        return self._card

    @property
    def inserted(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def insert(self, card: CardModel, *, timeout: float = 10.0) -> None:
        """Connect `card` to vpcd, retrying while the port refuses (pcscd still starting)."""
        with self._lock:
            if self.inserted:
                raise VpcdError(f"port {self.port}: a card is already inserted")
            sock = self._connect(timeout)
            self._card = card
            self._sock = sock
            self._thread = threading.Thread(
                target=self._serve, args=(sock, card), name=f"vpcd-slot-{self.port}", daemon=True
            )
            self._thread.start()

    def remove(self, *, timeout: float = 5.0) -> None:
        """Close the connection ("pull the card out") and wait for the serving thread to end."""
        with self._lock:
            sock, thread = self._sock, self._thread
            self._sock = None
            self._thread = None
            self._card = None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in recv
            sock.close()
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> VirtualCardSlot:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    @contextlib.contextmanager
    def inserted_card(self, card: CardModel) -> Iterator[CardModel]:
        self.insert(card)
        try:
            yield card
        finally:
            self.remove()

    def _connect(self, timeout: float) -> socket.socket:
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=timeout)
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise VpcdError(f"cannot connect to vpcd at {self.host}:{self.port}: {exc}") from exc
                time.sleep(0.05)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock

    def _serve(self, sock: socket.socket, card: CardModel) -> None:
        try:
            while True:
                header = _recv_exact(sock, 2)
                if header is None:
                    break
                payload = _recv_exact(sock, int.from_bytes(header, "big"))
                if payload is None:
                    break
                reply = self._handle(card, payload)
                if reply is not None:
                    sock.sendall(len(reply).to_bytes(2, "big") + reply)
        except OSError as exc:
            # A local remove() shuts the socket down under us; anything else is worth a log line.
            if self._sock is sock:
                log.warning("vpcd slot %d: connection lost: %s", self.port, exc)
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def _handle(self, card: CardModel, payload: bytes) -> bytes | None:
        try:
            if len(payload) == 1:
                ctrl = payload[0]
                if ctrl == CTRL_GET_ATR:
                    return card.atr
                if ctrl == CTRL_POWER_ON:
                    card.power_on()
                elif ctrl == CTRL_RESET:
                    card.reset()
                elif ctrl == CTRL_POWER_OFF:
                    card.power_off()
                else:
                    log.warning("vpcd slot %d: unknown control byte %02X", self.port, ctrl)
                return None
            self.apdu_count += 1
            return card.process(payload)
        except Exception as exc:  # the bridge must survive a model bug; tests see `errors`
            log.exception("vpcd slot %d: card model failed on %s", self.port, payload.hex())
            self.errors.append(exc)
            return b"\x6f\x00" if len(payload) > 1 else None


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        # Re-armed before every recv: Linux clears TCP_QUICKACK after it sends an ACK.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)
