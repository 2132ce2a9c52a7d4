"""In-process pyscard readers: the fallback where pcscd + vpcd cannot run (no root, macOS, ...).

`InProcessReaders.install()` replaces pyscard's reader factory list
(`smartcard.reader.ReaderFactory.ReaderFactory.factorymethods`), so code written against
pyscard's **high-level API only** sees the virtual readers and cards:

* covered: `smartcard.System.readers()`, `Reader.createConnection()`, and on the connection
  `connect()`, `reconnect()`, `getATR()`, `getProtocol()`, `transmit()`, `disconnect()`,
  `release()`, connection observers and decorators built on those;
* not covered: the raw `smartcard.scard` functions (SCardEstablishContext, ...), `CardRequest`,
  `CardMonitor` / `ReaderMonitor`, `smartcard.Session`, OpenSC / PKCS#11 and any non-Python
  PC/SC client. Tests needing those must use the pcscd transport (`mockgateway.card.pcscd`).

Importing this module needs pyscard (and so libpcsclite on Linux), but no running pcscd.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from smartcard.CardConnection import CardConnection
from smartcard.CardConnectionDecorator import CardConnectionDecorator
from smartcard.Exceptions import CardConnectionException, NoCardException
from smartcard.pcsc.PCSCReader import PCSCReader
from smartcard.reader.Reader import Reader
from smartcard.reader.ReaderFactory import ReaderFactory

from mockgateway.card.model import CardModel

DEFAULT_READER_NAMES = ("mockgateway In-Process Reader 00 00", "mockgateway In-Process Reader 00 01")

# PC/SC constants, repeated here so the fallback does not depend on smartcard.scard.
SCARD_LEAVE_CARD = 0
SCARD_RESET_CARD = 1
SCARD_UNPOWER_CARD = 2
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_W_REMOVED_CARD = 0x80100069


class InProcessSlot:
    """A reader slot holding at most one card model. Removal invalidates open connections."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.card: CardModel | None = None
        self.powered = False
        self.generation = 0  # bumped on every insert/remove so stale connections notice
        self.lock = threading.RLock()

    def insert(self, card: CardModel) -> None:
        with self.lock:
            if self.card is not None:
                raise ValueError(f"{self.name}: a card is already inserted")
            self.card = card
            self.generation += 1
            card.power_on()  # a reader powers a card when it is inserted
            self.powered = True

    def remove(self) -> None:
        with self.lock:
            if self.card is not None and self.powered:
                self.card.power_off()
            self.card = None
            self.powered = False
            self.generation += 1


class InProcessCardConnection(CardConnection):  # type: ignore[misc]
    """A pyscard CardConnection talking straight to the slot's card model."""

    def __init__(self, slot: InProcessSlot) -> None:
        super().__init__(slot.name)
        self.slot = slot
        self._generation: int | None = None
        self._disposition = SCARD_UNPOWER_CARD  # pyscard's PCSC connection default

    def connect(self, protocol: Any = None, mode: Any = None, disposition: Any = None) -> None:
        super().connect(protocol, mode, disposition)
        with self.slot.lock:
            card = self.slot.card
            if card is None:
                raise NoCardException("Unable to connect: no card in reader", hresult=SCARD_E_NO_SMARTCARD)
            if not self.slot.powered:
                card.power_on()
                self.slot.powered = True
            self._generation = self.slot.generation
        self._disposition = SCARD_UNPOWER_CARD if disposition is None else disposition

    def reconnect(self, protocol: Any = None, mode: Any = None, disposition: Any = None) -> None:
        super().reconnect(protocol, mode, disposition)
        card = self._card()
        if disposition is None or disposition == SCARD_RESET_CARD:
            card.reset()
        elif disposition == SCARD_UNPOWER_CARD:
            card.power_off()
            card.power_on()
        self.slot.powered = True

    def disconnect(self) -> None:
        super().disconnect()
        with self.slot.lock:
            if self._generation is not None and self._generation == self.slot.generation:
                card = self.slot.card
                if card is not None and self._disposition == SCARD_RESET_CARD:
                    card.reset()
                elif card is not None and self._disposition == SCARD_UNPOWER_CARD:
                    card.power_off()
                    self.slot.powered = False
            self._generation = None

    def getATR(self) -> list[int]:
        return list(self._card().atr)

    def getProtocol(self) -> int:
        return int(CardConnection.T1_protocol)

    def doTransmit(self, command: Sequence[int], protocol: Any = None) -> tuple[list[int], int, int]:
        response = self._card().process(bytes(command))
        return list(response[:-2]), response[-2], response[-1]

    def _card(self) -> CardModel:
        with self.slot.lock:
            if self._generation is None:
                raise CardConnectionException("Card not connected")
            if self._generation != self.slot.generation or self.slot.card is None:
                raise CardConnectionException("Card was removed", hresult=SCARD_W_REMOVED_CARD)
            return self.slot.card


class InProcessReader(Reader):  # type: ignore[misc]
    def __init__(self, slot: InProcessSlot) -> None:
        super().__init__(slot.name)
        self.slot = slot

    def createConnection(self) -> Any:
        return CardConnectionDecorator(InProcessCardConnection(self.slot))


class InProcessReaders:
    """A set of in-process readers and the switch that makes pyscard list them.

    ``with InProcessReaders() as backend: backend.slot(0).insert(card); ...`` — on exit the
    original factory list is restored. `keep_pcsc=True` also lists real PC/SC readers when a
    pcscd answers (errors from it are ignored so the fallback still works without one).
    """

    def __init__(self, names: Sequence[str] = DEFAULT_READER_NAMES, *, keep_pcsc: bool = False) -> None:
        if not names:
            raise ValueError("at least one reader name is needed")
        self.slots = [InProcessSlot(n) for n in names]
        self.keep_pcsc = keep_pcsc
        self._saved: list[Callable[..., Any]] | None = None

    def slot(self, index: int) -> InProcessSlot:
        return self.slots[index]

    def readers(self, groups: Any = None) -> list[Reader]:
        found: list[Reader] = [InProcessReader(s) for s in self.slots]
        if self.keep_pcsc:
            # No pcscd is the very case of this fallback: its errors just mean "no PC/SC readers".
            with contextlib.suppress(Exception):
                found += PCSCReader.readers(groups)
        return found

    @property
    def installed(self) -> bool:
        return self._saved is not None

    def install(self) -> None:
        if self._saved is not None:
            raise RuntimeError("already installed")
        self._saved = list(ReaderFactory.factorymethods)
        ReaderFactory.factorymethods[:] = [self.readers]

    def uninstall(self) -> None:
        if self._saved is None:
            return
        ReaderFactory.factorymethods[:] = self._saved
        self._saved = None
        for s in self.slots:
            s.remove()

    def __enter__(self) -> InProcessReaders:
        self.install()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.uninstall()
