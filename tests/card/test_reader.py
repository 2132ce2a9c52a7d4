"""The face-auth reader as hardware: slots (direct, pcscd) and the APDU sequences it runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mockgateway.card.model import GenericCard, MyNumberCard
from mockgateway.card.pcscd import PrivatePcscd
from mockgateway.card.profile import MYNUMBER_BLOCKED_6983, MYNUMBER_BLOCKED_6984, CardState, PinId
from mockgateway.card.reader import CardReading, CardRemoved, DirectSlot, NotMyNumberCard, PcscSlot, ReaderSlot


def _verify(cert_der: bytes, challenge: bytes, signature: bytes) -> None:
    key = x509.load_der_x509_certificate(cert_der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())


@pytest.fixture
def direct() -> Iterator[DirectSlot]:
    slot = DirectSlot()
    yield slot
    slot.remove()


def test_direct_slot_reads_certificate_and_signs(direct: DirectSlot, state: CardState) -> None:
    direct.insert(MyNumberCard(state))
    reading = CardReading(direct)
    cert = reading.read_auth_certificate()
    assert cert == state.credentials.auth_cert_der
    assert reading.auth_pin_tries() == 3
    assert reading.verify_auth_pin(state.auth_pin).ok
    signature = reading.sign_challenge(b"fresh challenge")
    _verify(cert, b"fresh challenge", signature)
    assert direct.apdu_count > 5


def test_direct_slot_refuses_a_second_card(direct: DirectSlot, state: CardState) -> None:
    direct.insert(MyNumberCard(state))
    with pytest.raises(ValueError, match="already"):
        direct.insert(GenericCard())


def test_wrong_pin_counts_down_then_blocks(direct: DirectSlot, state: CardState) -> None:
    direct.insert(MyNumberCard(state))
    reading = CardReading(direct)
    reading.read_auth_certificate()
    assert reading.auth_pin_tries() == 3
    first = reading.verify_auth_pin("0000" if state.auth_pin != "0000" else "1111")
    assert (first.ok, first.remaining, first.blocked) == (False, 2, False)
    wrong = "0000" if state.auth_pin != "0000" else "1111"
    reading.verify_auth_pin(wrong)
    third = reading.verify_auth_pin(wrong)
    assert (third.ok, third.remaining, third.blocked, third.sw) == (False, 0, True, 0x63C0)
    assert state.tries[PinId.AUTH] == 0
    assert reading.auth_pin_tries() == 0
    assert reading.verify_auth_pin(state.auth_pin).blocked  # right PIN, still blocked


@pytest.mark.parametrize("profile", [MYNUMBER_BLOCKED_6983, MYNUMBER_BLOCKED_6984])
def test_blocked_status_word_by_profile(direct: DirectSlot, state: CardState, profile: object) -> None:
    blocked = dataclasses.replace(state, profile=profile, tries={PinId.AUTH: 0})
    direct.insert(MyNumberCard(blocked))
    reading = CardReading(direct)
    assert reading.auth_pin_tries() == 0
    check = reading.verify_auth_pin(blocked.auth_pin)
    assert check.blocked
    assert check.sw == profile.blocked_sw  # type: ignore[attr-defined]


def test_face_image_behind_verification_number_b(direct: DirectSlot, state: CardState) -> None:
    direct.insert(MyNumberCard(state))
    reading = CardReading(direct)
    assert reading.read_face_image(state.verification_number_b) == state.face_image
    with pytest.raises(CardRemoved, match="照合番号B"):
        reading.read_face_image("0" * 14)


def test_generic_card_is_not_a_my_number_card(direct: DirectSlot) -> None:
    direct.insert(GenericCard())
    with pytest.raises(NotMyNumberCard, match="6A82"):
        CardReading(direct).read_auth_certificate()


def test_removed_card_raises(direct: DirectSlot, state: CardState) -> None:
    direct.insert(MyNumberCard(state))
    reading = CardReading(direct)
    reading.read_auth_certificate()
    direct.remove()
    with pytest.raises(CardRemoved):
        reading.auth_pin_tries()


# --- through pcscd: the face-auth reader slot (… 00 00) ---------------------------------------------


@pytest.fixture
def pcsc_slot(pcscd: PrivatePcscd) -> Iterator[PcscSlot]:
    slot = PcscSlot.face_auth_reader(pcscd)
    yield slot
    slot.remove()


@pytest.mark.pcscd
def test_pcscd_slot_is_the_face_auth_reader(pcsc_slot: PcscSlot, pcscd: PrivatePcscd) -> None:
    assert pcsc_slot.name == pcscd.face_auth_reader
    assert pcsc_slot.name.endswith(" 00 00")


@pytest.mark.pcscd
def test_pcscd_slot_reads_and_signs(pcsc_slot: PcscSlot, state: CardState) -> None:
    pcsc_slot.insert(MyNumberCard(state))
    reading = CardReading(pcsc_slot)
    cert = reading.read_auth_certificate()
    assert cert == state.credentials.auth_cert_der
    assert reading.auth_pin_tries() == 3
    assert reading.verify_auth_pin(state.auth_pin).ok
    _verify(cert, b"challenge via pcscd", reading.sign_challenge(b"challenge via pcscd"))
    assert reading.read_face_image(state.verification_number_b) == state.face_image
    assert pcsc_slot.apdu_count > 5


@pytest.mark.pcscd
def test_pcscd_generic_card(pcsc_slot: PcscSlot) -> None:
    pcsc_slot.insert(GenericCard())
    with pytest.raises(NotMyNumberCard):
        CardReading(pcsc_slot).read_auth_certificate()


@pytest.mark.pcscd
def test_pcscd_card_pulled_mid_read(pcsc_slot: PcscSlot, state: CardState) -> None:
    pcsc_slot.insert(MyNumberCard(state))
    reading = CardReading(pcsc_slot)
    reading.read_auth_certificate()
    pcsc_slot.pull()  # the bridge closes: pcscd loses the card under the open connection
    with pytest.raises(CardRemoved):
        reading.auth_pin_tries()


def test_slots_satisfy_the_protocol(make_state: Callable[..., CardState]) -> None:
    slots: list[ReaderSlot] = [DirectSlot(), PcscSlot(35971, "mockgateway Virtual Reader 00 00")]
    assert all(isinstance(s.name, str) for s in slots)
    with pytest.raises(CardRemoved):
        slots[1].transmit(b"\x00\xa4\x04\x0c")  # nothing inserted
