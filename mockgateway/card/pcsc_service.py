"""The virtual card in a real PC/SC reader, as a service: pcscd with the vpcd entry, and our vpcd
bridge holding a card in either slot, for software that talks PC/SC itself (OpenSC, a vendor's
Windows-style application run on Linux, a Java smartcardio client, pyscard).

The gateway runs it (`mockgateway card reader start|stop`, `card insert|remove`, the same on the
admin API; docs/card.md). Its state lives in one folder under the gateway's root:

    <root>/card-reader/pcscd.pid      pcscd's PID while the service runs (removed on stop)
    <root>/card-reader/pcscd.comm     a link to pcscd's client socket (/run/pcscd/pcscd.comm:
                                      the path is compiled into pcscd and libpcsclite, so PC/SC
                                      clients find it there without any setting)
    <root>/card-reader/pcscd.log      pcscd's output
    <root>/card-reader/reader.conf.d  the vpcd reader entry pcscd reads (-c)

Slot `face` is vpcd slot 0 (reader "… 00 00", the one the face-auth reader uses when its transport
is pcscd), slot `plain` is slot 1 ("… 00 01").
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockgateway.card import pcscd as pcscd_module
from mockgateway.card.model import CardModel
from mockgateway.card.pcscd import (
    DEFAULT_VPCD_PORT,
    FACE_AUTH_SLOT,
    PCSCD_SOCKET,
    PLAIN_SLOT,
    PcscdError,
    PrivatePcscd,
    pcscd_unavailable_reason,
    wait_for_card_state,
)
from mockgateway.card.vpcd import VirtualCardSlot, VpcdError

SLOTS = {"face": FACE_AUTH_SLOT, "plain": PLAIN_SLOT}
INSTALL_HINT = (
    "install them: `sudo apt-get install pcscd vsmartcard-vpcd` (Debian 11+ / Ubuntu 20.04+; "
    "other systems: pcsc-lite and vsmartcard's vpcd driver, https://frankmorgner.github.io/vsmartcard/)"
)


class ReaderServiceError(Exception):
    """The service cannot do what was asked; `status` is the admin API's answer (409, 503, …)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Inserted:
    person_id: str
    slot: VirtualCardSlot


class CardReaderService:
    def __init__(
        self,
        workdir: Path,
        *,
        port: int = DEFAULT_VPCD_PORT,
        pcscd_binary: str | None = None,
        vpcd_driver: Path | None = None,
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.pcscd_binary = pcscd_binary  # None: PATH or /usr/sbin/pcscd
        self.vpcd_driver = vpcd_driver or pcscd_module.VPCD_DRIVER
        self._daemon: PrivatePcscd | None = None
        self._cards: dict[str, _Inserted] = {}
        self._lock = threading.RLock()

    @property
    def pid_file(self) -> Path:
        return self.workdir / "pcscd.pid"

    @property
    def socket_link(self) -> Path:
        return self.workdir / "pcscd.comm"

    @property
    def running(self) -> bool:
        daemon = self._daemon
        return daemon is not None and daemon.process is not None and daemon.process.poll() is None

    def unavailable_reason(self) -> str | None:
        """Why pcscd + vpcd cannot run here (with how to install what is missing), or None."""
        binary = self.pcscd_binary or shutil.which("pcscd") or "/usr/sbin/pcscd"
        if not Path(binary).exists():
            return f"pcscd is not installed (looked for {binary}): {INSTALL_HINT}"
        if not self.vpcd_driver.exists():
            return f"the vsmartcard-vpcd driver is not installed ({self.vpcd_driver} is missing): {INSTALL_HINT}"
        return pcscd_unavailable_reason(port=self.port)

    # -- start / stop ---------------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        with self._lock:
            if self.running:
                return self.status()
            reason = self.unavailable_reason()
            if reason is not None:
                raise ReaderServiceError(503, f"the PC/SC card reader cannot start: {reason}")
            self.workdir.mkdir(parents=True, exist_ok=True)
            daemon = PrivatePcscd(self.workdir, port=self.port)
            try:
                daemon.start()
            except PcscdError as exc:
                raise ReaderServiceError(503, f"pcscd did not start: {exc}") from None
            self._daemon = daemon
            assert daemon.pid is not None
            self.pid_file.write_text(f"{daemon.pid}\n", encoding="ascii")
            with contextlib.suppress(FileNotFoundError):
                self.socket_link.unlink()
            self.socket_link.symlink_to(PCSCD_SOCKET)
            return self.status()

    def stop(self) -> dict[str, Any]:
        with self._lock:
            for name in list(self._cards):
                self._remove(name)
            daemon, self._daemon = self._daemon, None
            if daemon is not None:
                daemon.stop()
            for path in (self.pid_file, self.socket_link):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
            return self.status()

    # -- cards ----------------------------------------------------------------------------------

    def insert(self, slot: str, person_id: str, card: CardModel) -> dict[str, Any]:
        index = _slot_index(slot)
        with self._lock:
            if not self.running:
                raise ReaderServiceError(409, "the PC/SC card reader is not running: `mockgateway card reader start`")
            if slot in self._cards:
                raise ReaderServiceError(
                    409, f"slot {slot} already holds {self._cards[slot].person_id}'s card: remove it first"
                )
            vslot = VirtualCardSlot(self.port + index)
            try:
                vslot.insert(card)
            except VpcdError as exc:
                raise ReaderServiceError(409, f"slot {slot}: {exc}") from None
            self._cards[slot] = _Inserted(person_id, vslot)
            self._settle(index, present=True)
            return self.status()

    def remove(self, slot: str) -> dict[str, Any]:
        _slot_index(slot)
        with self._lock:
            if slot not in self._cards:
                raise ReaderServiceError(409, f"slot {slot} holds no card")
            self._remove(slot)
            self._settle(SLOTS[slot], present=False)
            return self.status()

    def _settle(self, index: int, *, present: bool) -> None:
        """Return only once pcscd reports the change, so a PC/SC program started right after
        `card insert` finds the card powered (and after `card remove`, finds none)."""
        daemon = self._daemon
        if daemon is None:
            return
        try:
            wait_for_card_state(daemon.reader_name(index), present=present)
        except ImportError:
            return  # without pyscard (extra `card`) the gateway cannot watch pcscd: best effort
        except PcscdError as exc:
            raise ReaderServiceError(
                504, f"pcscd did not report the card {'in' if present else 'out'}: {exc}"
            ) from None

    def _remove(self, slot: str) -> None:
        inserted = self._cards.pop(slot)
        inserted.slot.remove()

    def status(self) -> dict[str, Any]:
        daemon = self._daemon
        names = {name: f"{pcscd_module.DEFAULT_FRIENDLY_NAME} 00 {index:02d}" for name, index in SLOTS.items()}
        return {
            "running": self.running,
            "pid": daemon.pid if daemon is not None else None,
            "pid_file": str(self.pid_file),
            "socket": str(PCSCD_SOCKET),
            "socket_link": str(self.socket_link),
            "log": str(self.workdir / "pcscd.log"),
            "readers": names,
            "slots": {name: (self._cards[name].person_id if name in self._cards else None) for name in SLOTS},
        }


def _slot_index(slot: str) -> int:
    if slot not in SLOTS:
        raise ReaderServiceError(400, f"slot {slot!r}: one of {', '.join(SLOTS)}")
    return SLOTS[slot]
