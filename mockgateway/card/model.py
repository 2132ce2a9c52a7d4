"""The My Number card model: command APDU bytes in, response APDU bytes out. No I/O.

Applications (SELECT by DF name ``00 A4 04 0C 0A <AID>``) and their EFs (``00 A4 02 0C 02``):

* 公的個人認証 (JPKI) AP: 0006 token, 000A/000B auth certificate + CA, 0001/0002 sign
  certificate (behind the sign password) + CA, 0017/001A keys, 0018/001B PINs.
* 券面事項入力補助 AP: 0001 個人番号, 0002 基本4情報 (behind 0011, or 照合番号A 0014 / B 0015).
* 券面事項確認 AP: 0002 券面事項 (behind 照合番号B 0012, or 照合番号A 0013).

Commands: SELECT, READ BINARY, VERIFY (and the retry query without data), CHANGE REFERENCE
DATA, COMPUTE DIGITAL SIGNATURE (``80 2A 00 80``, PKCS#1 v1.5 over the given DigestInfo).

The security state (verified PINs, current AP and EF) resets on power-on, reset and selection
of another AP; tries are in `CardState` and persist. The model is thread-safe: the vpcd bridge
calls it from its own thread while tests inspect the state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import rsa

from mockgateway.card import tlv
from mockgateway.card.apdu import SW, ApduError, CommandAPDU, retries_sw, sw_bytes
from mockgateway.card.profile import GENERIC_PROFILE, CardProfile, CardState, PinId, ReadPastEnd
from mockgateway.card.signing import pkcs1_v15_sign_raw

AID_JPKI = bytes.fromhex("D392F000260100000001")
AID_KENHOJO = bytes.fromhex("D3921000310001010408")
AID_KENKAKU = bytes.fromhex("D3921000310001010402")


class CardModel(Protocol):
    """What a reader transport needs from a card."""

    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> bytes: ...

    def power_off(self) -> None: ...

    def reset(self) -> bytes: ...

    def process(self, apdu: bytes) -> bytes: ...


class Ap(Enum):
    JPKI = "JPKI"
    KENHOJO = "券面事項入力補助"
    KENKAKU = "券面事項確認"


APS_BY_AID = {AID_JPKI: Ap.JPKI, AID_KENHOJO: Ap.KENHOJO, AID_KENKAKU: Ap.KENKAKU}


@dataclass(frozen=True)
class BinaryEf:
    data: bytes
    read_acl: tuple[PinId, ...] = ()  # empty: free; else any one of these PINs verified


@dataclass(frozen=True)
class PinEf:
    pin: PinId


@dataclass(frozen=True)
class KeyEf:
    key: rsa.RSAPrivateKey
    use_acl: PinId


Ef = BinaryEf | PinEf | KeyEf
Observer = Callable[[bytes, bytes], None]


class MyNumberCard:
    """A My Number card for one `CardState`. Create a new one (or a new state) for a fresh card."""

    def __init__(self, state: CardState, *, observer: Observer | None = None) -> None:
        self.state = state
        self.observer = observer  # called with (command, response) after every APDU
        self._lock = threading.RLock()
        self._files: dict[Ap, dict[int, Ef]] = {}
        self._ap: Ap | None = None
        self._ef: Ef | None = None
        self._verified: set[PinId] = set()
        self.powered = False
        self._build_files()

    @property
    def profile(self) -> CardProfile:
        return self.state.profile

    @property
    def atr(self) -> bytes:
        return self.profile.atr

    @property
    def current_ap(self) -> Ap | None:
        return self._ap

    @property
    def verified(self) -> frozenset[PinId]:
        return frozenset(self._verified)

    def power_on(self) -> bytes:
        with self._lock:
            self._clear_security(ap=None)
            self._build_files()  # picks up changes made to the state while the card was out
            self.powered = True
            return self.atr

    def power_off(self) -> None:
        with self._lock:
            self._clear_security(ap=None)
            self.powered = False

    def reset(self) -> bytes:
        return self.power_on()

    def process(self, apdu: bytes) -> bytes:
        with self._lock:
            try:
                cmd = CommandAPDU.parse(apdu)
                data, sw = self._dispatch(cmd)
                response = data + sw_bytes(sw)
            except ApduError as err:
                response = sw_bytes(err.sw)
        if self.observer is not None:
            self.observer(bytes(apdu), response)
        return response

    # --- dispatch -----------------------------------------------------------------------------

    def _dispatch(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        if cmd.cla == 0x80 and cmd.ins == 0x2A:
            return self._compute_signature(cmd)
        if cmd.cla != 0x00:
            raise ApduError(SW.CLA_NOT_SUPPORTED)
        if cmd.ins == 0xA4:
            return self._select(cmd)
        if cmd.ins == 0xB0:
            return self._read_binary(cmd)
        if cmd.ins == 0x20:
            return self._verify(cmd)
        if cmd.ins == 0x24:
            return self._change_reference_data(cmd)
        raise ApduError(SW.INS_NOT_SUPPORTED)

    def _select(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        if cmd.p2 not in (0x00, 0x0C):
            raise ApduError(SW.WRONG_P1P2)
        if cmd.p1 == 0x04:  # by DF name (AID)
            ap = APS_BY_AID.get(cmd.data)
            if ap is None or ap not in self._files:
                raise ApduError(SW.FILE_NOT_FOUND)
            if ap is not self._ap or self.profile.reselect_same_ap_resets_security:
                self._clear_security(ap=ap)
            else:
                self._ef = None
            return b"", SW.OK
        if cmd.p1 == 0x00:  # MF by FID 3F00 (or empty); anything else is not on this card
            if cmd.data in (b"", b"\x3f\x00"):
                self._clear_security(ap=None)
                return b"", SW.OK
            raise ApduError(SW.FILE_NOT_FOUND)
        if cmd.p1 == 0x02:  # EF under the current AP
            if len(cmd.data) != 2:
                raise ApduError(SW.WRONG_LENGTH)
            if self._ap is None:
                raise ApduError(SW.FILE_NOT_FOUND)
            ef = self._files[self._ap].get(int.from_bytes(cmd.data, "big"))
            if ef is None:
                raise ApduError(SW.FILE_NOT_FOUND)
            self._ef = ef
            return b"", SW.OK
        raise ApduError(SW.WRONG_P1P2)

    def _read_binary(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        if cmd.p1 & 0x80:  # short EF identifier addressing: not known to be used on this card
            raise ApduError(SW.FUNCTION_NOT_SUPPORTED)
        if cmd.le is None:
            raise ApduError(SW.WRONG_LENGTH)
        ef = self._ef
        if ef is None:
            raise ApduError(SW.NO_CURRENT_EF)
        if not isinstance(ef, BinaryEf):
            raise ApduError(SW.FILE_INCOMPATIBLE)
        if ef.read_acl and not self._verified.intersection(ef.read_acl):
            raise ApduError(SW.SECURITY_NOT_SATISFIED)
        offset = (cmd.p1 << 8) | cmd.p2
        if offset >= len(ef.data):
            raise ApduError(SW.OFFSET_OUTSIDE_EF)
        chunk = ef.data[offset : offset + cmd.le]
        if len(chunk) < cmd.le:
            policy = self.profile.read_past_end
            if policy is ReadPastEnd.SHORT_6282:
                return chunk, SW.END_OF_FILE
            if policy is ReadPastEnd.WRONG_LE_6CXX:
                raise ApduError(0x6C00 | len(chunk))
        return chunk, SW.OK

    def _verify(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        pin = self._current_pin(cmd, p1=0x00)
        remaining = self.state.tries[pin]
        if not cmd.has_data:
            # Retry query: 63Cx even right after a successful VERIFY (as real cards do).
            return b"", self.profile.blocked_sw if remaining == 0 else retries_sw(remaining)
        if remaining == 0:
            self._verified.discard(pin)
            raise ApduError(self.profile.blocked_sw)
        if cmd.data == self.state.pin_value(pin).encode("ascii"):
            self.state.tries[pin] = self.profile.max_tries(pin)
            self._verified.add(pin)
            return b"", SW.OK
        remaining -= 1
        self.state.tries[pin] = remaining
        self._verified.discard(pin)
        raise ApduError(self.profile.blocked_sw if remaining == 0 else retries_sw(remaining))

    def _change_reference_data(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        pin = self._current_pin(cmd, p1=0x01)
        if pin not in self._verified:
            raise ApduError(SW.SECURITY_NOT_SATISFIED)
        try:
            new_value = cmd.data.decode("ascii")
            self.state.set_pin_value(pin, new_value)
        except ValueError as exc:
            raise ApduError(SW.WRONG_DATA) from exc
        self.state.tries[pin] = self.profile.max_tries(pin)
        return b"", SW.OK

    def _current_pin(self, cmd: CommandAPDU, *, p1: int) -> PinId:
        if cmd.p1 != p1 or cmd.p2 != 0x80:
            raise ApduError(SW.WRONG_P1P2)
        if self._ef is None:
            raise ApduError(SW.NO_CURRENT_EF)
        if not isinstance(self._ef, PinEf):
            raise ApduError(SW.FILE_INCOMPATIBLE)
        return self._ef.pin

    def _compute_signature(self, cmd: CommandAPDU) -> tuple[bytes, int]:
        if cmd.p1 != 0x00 or cmd.p2 != 0x80:
            raise ApduError(SW.WRONG_P1P2)
        ef = self._ef
        if ef is None:
            raise ApduError(SW.NO_CURRENT_EF)
        if not isinstance(ef, KeyEf):
            raise ApduError(SW.FILE_INCOMPATIBLE)
        if ef.use_acl not in self._verified:
            raise ApduError(SW.SECURITY_NOT_SATISFIED)
        if not cmd.data or len(cmd.data) > ef.key.key_size // 8 - 11:
            raise ApduError(SW.WRONG_LENGTH)
        return pkcs1_v15_sign_raw(ef.key, cmd.data), SW.OK

    # --- state ----------------------------------------------------------------------------------

    def _clear_security(self, *, ap: Ap | None) -> None:
        self._ap = ap
        self._ef = None
        self._verified.clear()

    def _build_files(self) -> None:
        s = self.state
        if not s.profile.is_mynumber:
            self._files = {}
            return
        cred = s.credentials
        self._files = {
            Ap.JPKI: {
                0x0006: BinaryEf(tlv.token_ef()),
                0x000A: BinaryEf(cred.auth_cert_der),
                0x000B: BinaryEf(cred.auth_ca_cert_der),
                0x0001: BinaryEf(cred.sign_cert_der, (PinId.SIGN,)),
                0x0002: BinaryEf(cred.sign_ca_cert_der),
                0x0017: KeyEf(cred.auth_private_key, PinId.AUTH),
                0x0018: PinEf(PinId.AUTH),
                0x001A: KeyEf(cred.sign_private_key, PinId.SIGN),
                0x001B: PinEf(PinId.SIGN),
            },
            Ap.KENHOJO: {
                0x0001: BinaryEf(tlv.my_number_ef(s.individual_number), (PinId.KENHOJO, PinId.KENHOJO_A)),
                0x0002: BinaryEf(
                    tlv.basic_four_ef(tlv.BasicFour(s.name, s.address, f"{s.birthdate:%Y%m%d}", s.sex)),
                    (PinId.KENHOJO, PinId.KENHOJO_B),
                ),
                0x0011: PinEf(PinId.KENHOJO),
                0x0014: PinEf(PinId.KENHOJO_A),
                0x0015: PinEf(PinId.KENHOJO_B),
            },
            Ap.KENKAKU: {
                0x0002: BinaryEf(_kenkaku_entries(s), (PinId.KENKAKU_B, PinId.KENKAKU_A)),
                0x0012: PinEf(PinId.KENKAKU_B),
                0x0013: PinEf(PinId.KENKAKU_A),
            },
        }


def _kenkaku_entries(s: CardState) -> bytes:
    assert s.card_expires_on is not None  # CardState.__post_init__ sets it
    holder_key = s.credentials.auth_certificate.public_key()
    numbers = holder_key.public_numbers() if isinstance(holder_key, rsa.RSAPublicKey) else None
    public_key = tlv.rsa_public_key_tlv(numbers.n, numbers.e) if numbers else b""
    return tlv.kenkaku_entries_ef(
        tlv.KenkakuEntries(
            birth=f"{s.birthdate:%Y%m%d}",
            sex=s.sex,
            public_key=public_key,  # placeholder: the real key is the AP issuer's
            name_image=tlv.placeholder_png("name"),
            address_image=tlv.placeholder_png("address"),
            face_image=s.face_image,
            signature=bytes(256),  # placeholder: not a real signature over the entries
            expiry=f"{s.card_expires_on:%Y%m%d}",
            security_code_image=tlv.placeholder_png("security code"),
        )
    )


class GenericCard:
    """A card that is not a My Number card: no such APs (6A82), nothing readable."""

    def __init__(self, profile: CardProfile = GENERIC_PROFILE, *, observer: Observer | None = None) -> None:
        self.profile = profile
        self.observer = observer
        self.powered = False

    @property
    def atr(self) -> bytes:
        return self.profile.atr

    def power_on(self) -> bytes:
        self.powered = True
        return self.atr

    def power_off(self) -> None:
        self.powered = False

    def reset(self) -> bytes:
        return self.power_on()

    def process(self, apdu: bytes) -> bytes:
        try:
            cmd = CommandAPDU.parse(apdu)
            if cmd.cla != 0x00:
                sw: int = SW.CLA_NOT_SUPPORTED
            elif cmd.ins == 0xA4:
                sw = SW.FILE_NOT_FOUND
            elif cmd.ins in (0xB0, 0x20):
                sw = SW.NO_CURRENT_EF
            else:
                sw = SW.INS_NOT_SUPPORTED
        except ApduError as err:
            sw = err.sw
        response = sw_bytes(sw)
        if self.observer is not None:
            self.observer(bytes(apdu), response)
        return response
