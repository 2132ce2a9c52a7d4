"""The face-auth card reader (顔認証付きカードリーダー) as hardware: a slot and what it reads.

Two slots over the same card model:

* `DirectSlot` (default, fast): the reader calls the card model in-process, APDU by APDU.
* `PcscSlot`: the card goes into the pcscd face-auth reader (vpcd slot 0, `… 00 00`) through our
  vpcd bridge, and the reader talks to it with pyscard exactly as a PC/SC application would.
  Needs a running pcscd with the vpcd entry (`PrivatePcscd`, docs/card.md).

`CardReading` is what the reader does with the card, in APDUs: read the 利用者証明用 certificate
(JPKI AP, EF 000A), check and verify the 4-digit PIN (EF 0018, 3 tries), sign a challenge with
key 0017 (a real PKCS#1 v1.5 signature over SHA-256), and read the face image from the 券面事項確認
AP (EF 0002 behind 照合番号B, tag DF27). The PIN-less 特定機関認証 of real readers is not public
and is not emulated: face and 目視 modes read the certificate, which needs no PIN.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes

from mockgateway.card import apdu, tlv
from mockgateway.card.client import CardClient, CardError
from mockgateway.card.model import AID_JPKI, AID_KENKAKU, CardModel
from mockgateway.card.profile import ALLOWED_BLOCKED_SW
from mockgateway.card.signing import digest_info

SW_FILE_NOT_FOUND = 0x6A82
RETRY_INSERT_AFTER = 3.0  # seconds; pcscd normally sees an inserted card within ~0.6 s


class CardRemoved(Exception):
    """The card left the reader, or stopped answering, in the middle of a read (reader error 001)."""


class NotMyNumberCard(Exception):
    """The card has no JPKI / 券面事項確認 application (reader error 002)."""


class ReaderUnavailable(Exception):
    """The slot cannot be used (pcscd not running, pyscard missing, reader not found)."""


class ReaderSlot(Protocol):
    """One card slot of the reader."""

    @property
    def name(self) -> str: ...

    def insert(self, card: CardModel) -> None: ...

    def transmit(self, command: bytes) -> bytes:
        """Raises CardRemoved when there is no card to answer."""

    def remove(self) -> None: ...


class DirectSlot:
    """The card model called in-process: no PC/SC at all (the default)."""

    name = "mockgateway Direct Reader 00 00"

    def __init__(self) -> None:
        self._card: CardModel | None = None
        self._lock = threading.Lock()
        self.apdu_count = 0

    def insert(self, card: CardModel) -> None:
        with self._lock:
            if self._card is not None:
                raise ValueError(f"{self.name}: a card is already inserted")
            card.power_on()
            self._card = card

    def transmit(self, command: bytes) -> bytes:
        card = self._card
        if card is None:
            raise CardRemoved("no card in the reader")
        self.apdu_count += 1
        return card.process(command)

    def remove(self) -> None:
        with self._lock:
            card, self._card = self._card, None
        if card is not None:
            card.power_off()


class PcscSlot:
    """The face-auth reader slot of a pcscd with our vpcd entry, driven through pyscard.

    `port` is the vpcd port of the slot (35971 for slot 0) and `reader` the PC/SC reader name
    (`mockgateway Virtual Reader 00 00`). Insert connects our vpcd bridge, waits until pcscd reports
    the card, and connects to it with pyscard; remove disconnects and closes the bridge.
    """

    def __init__(self, port: int, reader: str, *, timeout: float = 10.0) -> None:
        self.port = port
        self.reader = reader
        self.timeout = timeout
        self._vslot: Any = None
        self._connection: Any = None
        self.apdu_count = 0

    @property
    def name(self) -> str:
        return self.reader

    @classmethod
    def face_auth_reader(cls, pcscd: Any) -> PcscSlot:
        """The face-auth reader (slot 0) of a `PrivatePcscd`."""
        from mockgateway.card.pcscd import FACE_AUTH_SLOT

        return cls(pcscd.port(FACE_AUTH_SLOT), pcscd.reader_name(FACE_AUTH_SLOT))

    def insert(self, card: CardModel) -> None:
        try:
            from smartcard.System import readers

            from mockgateway.card.pcscd import PcscdError, wait_for_card_state
            from mockgateway.card.vpcd import VirtualCardSlot, VpcdError
        except ImportError as exc:
            raise ReaderUnavailable(f"pyscard is not importable: {exc}") from None
        if self._vslot is not None:
            raise ValueError(f"{self.name}: a card is already inserted")
        vslot = VirtualCardSlot(self.port)
        try:
            vslot.insert(card, timeout=self.timeout)
            try:
                wait_for_card_state(self.reader, present=True, timeout=min(self.timeout, RETRY_INSERT_AFTER))
            except PcscdError:
                # After a card was pulled in the middle of a transaction, vpcd 0.8 never reports the
                # next connection as a card (measured: it ignores exactly one); connect once more.
                vslot.remove()
                vslot.insert(card, timeout=self.timeout)
                wait_for_card_state(self.reader, present=True, timeout=self.timeout)
            found = [r for r in readers() if str(r) == self.reader]
            if not found:
                raise ReaderUnavailable(f"reader {self.reader!r} not listed by pcscd")
            connection = found[0].createConnection()
            connection.connect()
        except (VpcdError, PcscdError) as exc:
            vslot.remove()
            raise ReaderUnavailable(str(exc)) from None
        except Exception:
            vslot.remove()
            raise
        self._vslot, self._connection = vslot, connection

    def transmit(self, command: bytes) -> bytes:
        connection = self._connection
        if connection is None:
            raise CardRemoved("no card in the reader")
        try:
            data, sw1, sw2 = connection.transmit(list(command))
        except Exception as exc:  # pyscard: CardConnectionException / NoCardException
            raise CardRemoved(f"{type(exc).__name__}: {exc}") from None
        self.apdu_count += 1
        return bytes(data) + bytes([sw1, sw2])

    def pull(self) -> None:
        """Take the card out without the application disconnecting first (mid-read removal)."""
        if self._vslot is not None:
            self._vslot.remove()

    def remove(self) -> None:
        connection, vslot = self._connection, self._vslot
        self._connection = self._vslot = None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.disconnect()
            with contextlib.suppress(Exception):
                connection.release()
        if vslot is not None:
            vslot.remove()
            from mockgateway.card.pcscd import wait_for_card_state

            with contextlib.suppress(Exception):
                wait_for_card_state(self.reader, present=False, timeout=self.timeout)


@dataclass(frozen=True, slots=True)
class PinCheck:
    ok: bool
    remaining: int  # tries left after this attempt (0 = blocked)
    blocked: bool
    sw: int


class CardReading:
    """The APDU sequences the reader runs against whatever card is in `slot`."""

    def __init__(self, slot: ReaderSlot) -> None:
        self.slot = slot
        self.client = CardClient(slot.transmit)

    def _select_ap(self, aid: bytes) -> None:
        r = self.client.transmit(apdu.select_df(aid))
        if r.sw == SW_FILE_NOT_FOUND:
            raise NotMyNumberCard(f"SELECT {aid.hex().upper()}: SW {r.sw:04X}")
        if not r.ok:
            raise CardRemoved(f"SELECT {aid.hex().upper()}: SW {r.sw:04X}")

    def _ok(self, what: str, command: bytes) -> bytes:
        try:
            return self.client.expect_ok(what, command)
        except CardError as exc:
            raise CardRemoved(str(exc)) from None

    def read_auth_certificate(self) -> bytes:
        """利用者証明用電子証明書 (JPKI EF 000A, free to read), DER."""
        self._select_ap(AID_JPKI)
        self._ok("SELECT EF 000A", apdu.select_ef(0x000A))
        try:
            return self.client.read_all()
        except (CardError, IndexError) as exc:
            raise CardRemoved(f"READ BINARY 000A: {exc}") from None

    def auth_pin_tries(self) -> int:
        """Tries left on the 利用者証明用 PIN (the retry query: consumes none). 0 = blocked."""
        self._select_ap(AID_JPKI)
        self._ok("SELECT EF 0018", apdu.select_ef(0x0018))
        sw = self.client.transmit(apdu.verify(None)).sw
        if sw & 0xFFF0 == 0x63C0:
            return sw & 0x0F
        if sw in ALLOWED_BLOCKED_SW:
            return 0
        raise CardRemoved(f"VERIFY (retry query): SW {sw:04X}")

    def verify_auth_pin(self, pin: str) -> PinCheck:
        """VERIFY on EF 0018 (JPKI AP and the PIN EF must be selected: `auth_pin_tries` does it)."""
        r = self.client.transmit(apdu.verify(pin))
        if r.ok:
            return PinCheck(True, 3, False, r.sw)
        if r.sw in (0x6983, 0x6984) or r.sw == 0x63C0:
            return PinCheck(False, 0, True, r.sw)
        if r.sw & 0xFFF0 == 0x63C0:
            return PinCheck(False, r.sw & 0x0F, False, r.sw)
        raise CardRemoved(f"VERIFY: SW {r.sw:04X}")

    def sign_challenge(self, challenge: bytes) -> bytes:
        """COMPUTE DIGITAL SIGNATURE with key 0017 over DigestInfo(SHA-256(challenge))."""
        self._ok("SELECT EF 0017", apdu.select_ef(0x0017))
        h = hashes.Hash(hashes.SHA256())
        h.update(challenge)
        return self._ok("COMPUTE DIGITAL SIGNATURE", apdu.compute_signature(digest_info(hashes.SHA256(), h.finalize())))

    def read_face_image(self, verification_number_b: str) -> bytes:
        """The face photo (券面事項確認 AP, EF 0002 tag DF27) behind 照合番号B (EF 0012)."""
        self._select_ap(AID_KENKAKU)
        self._ok("SELECT EF 0012", apdu.select_ef(0x0012))
        r = self.client.transmit(apdu.verify(verification_number_b))
        if not r.ok:
            raise CardRemoved(f"VERIFY 照合番号B: SW {r.sw:04X}")
        self._ok("SELECT EF 0002", apdu.select_ef(0x0002))
        try:
            entries = tlv.parse_kenkaku_entries(self.client.read_all())
        except (CardError, IndexError, tlv.TlvError) as exc:
            raise CardRemoved(f"READ BINARY 0002: {exc}") from None
        return entries.face_image
