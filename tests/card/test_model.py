import dataclasses
import hashlib
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mockgateway.card import apdu
from mockgateway.card.client import CardClient, CardError
from mockgateway.card.model import (
    AID_JPKI,
    AID_KENHOJO,
    AID_KENKAKU,
    GenericCard,
    MyNumberCard,
)
from mockgateway.card.profile import (
    DEFAULT_ATR,
    MYNUMBER_BLOCKED_6983,
    MYNUMBER_BLOCKED_6984,
    MYNUMBER_PROFILE,
    CardProfile,
    CardState,
    PinId,
    ReadPastEnd,
)
from mockgateway.card.signing import digest_info
from mockgateway.card.tlv import parse_basic_four, parse_kenkaku_entries, parse_my_number

MakeState = Callable[..., CardState]


def run(card: MyNumberCard | GenericCard, command: bytes | str) -> tuple[bytes, int]:
    raw = bytes.fromhex(command) if isinstance(command, str) else command
    response = card.process(raw)
    return response[:-2], int.from_bytes(response[-2:], "big")


def sw(card: MyNumberCard | GenericCard, command: bytes | str) -> int:
    return run(card, command)[1]


@pytest.fixture
def card(state: CardState) -> MyNumberCard:
    c = MyNumberCard(state)
    c.power_on()
    return c


@pytest.fixture
def client(card: MyNumberCard) -> CardClient:
    return CardClient(card.process)


def _pub(der: bytes) -> rsa.RSAPublicKey:
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


# --- basics -------------------------------------------------------------------------------------


def test_atr_and_power(card: MyNumberCard) -> None:
    assert card.atr == DEFAULT_ATR == bytes.fromhex("3B E0 00 FF 81 31 FE 45 14")
    assert card.powered
    card.power_off()
    assert not card.powered
    assert card.reset() == DEFAULT_ATR


def test_token_ef(card: MyNumberCard) -> None:
    assert sw(card, apdu.select_df(AID_JPKI)) == 0x9000
    assert sw(card, apdu.select_ef(0x0006)) == 0x9000
    data, status = run(card, apdu.read_binary(0, 0x20))
    assert status == 0x9000
    assert data == b"JPKIAPICCTOKEN2" + b" " * 17


def test_free_certificates_read_back(card: MyNumberCard, client: CardClient, state: CardState) -> None:
    client.select_df(AID_JPKI)
    for fid, der in (
        (0x000A, state.credentials.auth_cert_der),
        (0x000B, state.credentials.auth_ca_cert_der),
        (0x0002, state.credentials.sign_ca_cert_der),
    ):
        client.select_ef(fid)
        assert client.read_all() == der


def test_read_binary_offsets_and_le_zero_means_256(card: MyNumberCard, state: CardState) -> None:
    der = state.credentials.auth_cert_der
    assert len(der) > 512
    run(card, apdu.select_df(AID_JPKI))
    run(card, apdu.select_ef(0x000A))
    data, status = run(card, "00B0000000")  # Le = 00
    assert (len(data), status) == (256, 0x9000)
    assert data == der[:256]
    data, _ = run(card, "00B0010010")  # offset 0x0100, 16 bytes
    assert data == der[256:272]
    # OpenSC style: 4 header bytes give the size
    head, _ = run(card, apdu.read_binary(0, 4))
    assert head[:2] == b"\x30\x82"
    assert int.from_bytes(head[2:4], "big") + 4 == len(der)


def test_read_past_end_policies(make_state: MakeState) -> None:
    expectations = {
        ReadPastEnd.SHORT_9000: (0x20 - 0x10, 0x9000),
        ReadPastEnd.SHORT_6282: (0x20 - 0x10, 0x6282),
        ReadPastEnd.WRONG_LE_6CXX: (0, 0x6C10),
    }
    for policy, (length, status) in expectations.items():
        card = MyNumberCard(make_state(0, dataclasses.replace(MYNUMBER_PROFILE, read_past_end=policy)))
        card.power_on()
        run(card, apdu.select_df(AID_JPKI))
        run(card, apdu.select_ef(0x0006))
        data, got = run(card, apdu.read_binary(0x10, 0x40))
        assert (len(data), got) == (length, status), policy
        assert sw(card, apdu.read_binary(0x20, 1)) == 0x6B00  # offset at/after the end


def test_unknown_files_and_aps_answer_6a82(card: MyNumberCard) -> None:
    assert sw(card, apdu.select_df(bytes.fromhex("A000000003000000"))) == 0x6A82
    assert sw(card, apdu.select_ef(0x0006)) == 0x6A82  # no AP selected yet
    run(card, apdu.select_df(AID_JPKI))
    assert sw(card, apdu.select_ef(0x1234)) == 0x6A82
    assert sw(card, apdu.select_ef(0x0011)) == 0x6A82  # a kenhojo EF, not in JPKI AP


def test_command_errors(card: MyNumberCard) -> None:
    assert sw(card, "00B0000010") == 0x6986  # READ BINARY without a current EF
    run(card, apdu.select_df(AID_JPKI))
    run(card, apdu.select_ef(0x0018))
    assert sw(card, "00B0000010") == 0x6981  # a PIN EF cannot be read
    assert sw(card, "00B0000000"[:8]) == 0x6700  # no Le
    assert sw(card, "00CA010000") == 0x6D00
    assert sw(card, "A0A4040C0AD392F000260100000001") == 0x6E00
    assert sw(card, "00A4080C023F00") == 0x6A86
    assert sw(card, "00A4040C05D392F000") == 0x6700  # Lc says 5, 3 bytes follow
    assert sw(card, "00A4") == 0x6700
    assert sw(card, "00A4020C00000000") == 0x6700  # extended length
    assert sw(card, "00B0800000") == 0x6A81  # SFI addressing


def test_select_mf(card: MyNumberCard) -> None:
    run(card, apdu.select_df(AID_JPKI))
    assert sw(card, "00A4000C023F00") == 0x9000
    assert card.current_ap is None


# --- PINs -----------------------------------------------------------------------------------------


def test_retry_query_verify_decrement_and_reset(card: MyNumberCard, state: CardState) -> None:
    run(card, apdu.select_df(AID_JPKI))
    run(card, apdu.select_ef(0x0018))
    assert sw(card, apdu.verify(None)) == 0x63C3
    assert sw(card, apdu.verify("0000" if state.auth_pin != "0000" else "1111")) == 0x63C2
    assert sw(card, apdu.verify(None)) == 0x63C2
    assert state.tries[PinId.AUTH] == 2
    assert sw(card, apdu.verify(state.auth_pin)) == 0x9000
    assert sw(card, apdu.verify(None)) == 0x63C3  # 63Cx even right after a success
    assert state.tries[PinId.AUTH] == 3


def _wrong(pin: str) -> str:
    return "".join("1" if c != "1" else "2" for c in pin)


@pytest.mark.parametrize(
    ("profile", "blocked"),
    [(MYNUMBER_PROFILE, 0x63C0), (MYNUMBER_BLOCKED_6983, 0x6983), (MYNUMBER_BLOCKED_6984, 0x6984)],
)
def test_blocked_sw_per_profile(make_state: MakeState, profile: CardProfile, blocked: int) -> None:
    state = make_state(0, profile)
    card = MyNumberCard(state)
    card.power_on()
    run(card, apdu.select_df(AID_JPKI))
    run(card, apdu.select_ef(0x0018))
    wrong = _wrong(state.auth_pin)
    assert [sw(card, apdu.verify(wrong)) for _ in range(3)] == [0x63C2, 0x63C1, blocked]
    assert sw(card, apdu.verify(state.auth_pin)) == blocked  # the right PIN no longer helps
    assert sw(card, apdu.verify(None)) == blocked
    # counters persist across power cycles, like a real card
    card.power_off()
    card.power_on()
    run(card, apdu.select_df(AID_JPKI))
    run(card, apdu.select_ef(0x0018))
    assert sw(card, apdu.verify(None)) == blocked
    run(card, apdu.select_ef(0x0017))
    assert sw(card, apdu.compute_signature(digest_info(hashes.SHA256(), bytes(32)))) == 0x6982
    state.reset_tries()
    run(card, apdu.select_ef(0x0018))
    assert sw(card, apdu.verify(None)) == 0x63C3


def test_sign_password_has_five_tries(card: MyNumberCard, state: CardState) -> None:
    run(card, apdu.select_df(AID_JPKI))
    run(card, apdu.select_ef(0x001B))
    assert sw(card, apdu.verify(None)) == 0x63C5
    assert sw(card, apdu.verify("WRONG1")) == 0x63C4


def test_initial_tries_are_configurable(make_state: MakeState) -> None:
    state = make_state(0)
    state.tries[PinId.AUTH] = 1
    card = MyNumberCard(state)
    card.power_on()
    run(card, apdu.select_df(AID_JPKI))
    run(card, apdu.select_ef(0x0018))
    assert sw(card, apdu.verify(None)) == 0x63C1
    assert sw(card, apdu.verify(_wrong(state.auth_pin))) == 0x63C0


def test_verify_needs_a_pin_ef(card: MyNumberCard) -> None:
    run(card, apdu.select_df(AID_JPKI))
    assert sw(card, apdu.verify(None)) == 0x6986
    run(card, apdu.select_ef(0x000A))
    assert sw(card, apdu.verify("1234")) == 0x6981
    run(card, apdu.select_ef(0x0018))
    assert sw(card, "0020008104" + b"1234".hex()) == 0x6A86


def test_change_pin(card: MyNumberCard, state: CardState) -> None:
    run(card, apdu.select_df(AID_JPKI))
    run(card, apdu.select_ef(0x0018))
    assert sw(card, apdu.change_reference_data("4321")) == 0x6982  # not verified
    run(card, apdu.verify(state.auth_pin))
    assert sw(card, apdu.change_reference_data("12")) == 0x6A80
    assert sw(card, apdu.change_reference_data("4321")) == 0x9000
    assert state.auth_pin == "4321"
    assert sw(card, apdu.verify("4321")) == 0x9000


# --- ACLs and security state --------------------------------------------------------------------


def test_sign_certificate_needs_the_sign_password(client: CardClient, card: MyNumberCard, state: CardState) -> None:
    client.select_df(AID_JPKI)
    client.select_ef(0x0001)  # selecting is allowed
    assert sw(card, apdu.read_binary(0, 4)) == 0x6982
    client.select_ef(0x001B)
    assert client.verify(state.sign_password).ok
    client.select_ef(0x0001)
    assert client.read_all() == state.credentials.sign_cert_der


def test_security_state_resets_on_power_cycle_and_other_ap(card: MyNumberCard, state: CardState) -> None:
    sha = digest_info(hashes.SHA256(), hashlib.sha256(b"x").digest())

    def login() -> None:
        run(card, apdu.select_df(AID_JPKI))
        run(card, apdu.select_ef(0x0018))
        assert sw(card, apdu.verify(state.auth_pin)) == 0x9000

    login()
    run(card, apdu.select_ef(0x0017))
    assert sw(card, apdu.compute_signature(sha)) == 0x9000
    card.reset()
    run(card, apdu.select_df(AID_JPKI))
    run(card, apdu.select_ef(0x0017))
    assert sw(card, apdu.compute_signature(sha)) == 0x6982

    login()
    run(card, apdu.select_df(AID_KENHOJO))
    run(card, apdu.select_df(AID_JPKI))
    run(card, apdu.select_ef(0x0017))
    assert sw(card, apdu.compute_signature(sha)) == 0x6982

    login()
    run(card, apdu.select_df(AID_JPKI))  # same AP again: kept by default (profile switch)
    run(card, apdu.select_ef(0x0017))
    assert sw(card, apdu.compute_signature(sha)) == 0x9000

    login()
    run(card, apdu.select_ef(0x0018))
    run(card, apdu.verify(_wrong(state.auth_pin)))  # a failed VERIFY drops the verified state
    run(card, apdu.select_ef(0x0017))
    assert sw(card, apdu.compute_signature(sha)) == 0x6982


def test_reselecting_the_same_ap_can_reset_security(make_state: MakeState) -> None:
    state = make_state(0, dataclasses.replace(MYNUMBER_PROFILE, reselect_same_ap_resets_security=True))
    card = MyNumberCard(state)
    card.power_on()
    run(card, apdu.select_df(AID_JPKI))
    run(card, apdu.select_ef(0x0018))
    run(card, apdu.verify(state.auth_pin))
    assert PinId.AUTH in card.verified
    run(card, apdu.select_df(AID_JPKI))
    assert card.verified == frozenset()


# --- signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", [hashes.SHA1(), hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
def test_auth_signature_verifies_against_the_certificate(
    client: CardClient, card: MyNumberCard, state: CardState, algorithm: hashes.HashAlgorithm
) -> None:
    message = b"mockgateway challenge"
    h = hashes.Hash(algorithm)
    h.update(message)
    client.select_df(AID_JPKI)
    client.select_ef(0x000A)
    cert = client.read_all()
    client.select_ef(0x0018)
    assert client.verify(state.auth_pin).ok
    client.select_ef(0x0017)
    signature = client.sign(digest_info(algorithm, h.finalize()))
    assert len(signature) == 256
    _pub(cert).verify(signature, message, padding.PKCS1v15(), algorithm)


def test_sign_key_needs_sign_password_and_verifies(client: CardClient, card: MyNumberCard, state: CardState) -> None:
    di = digest_info(hashes.SHA256(), hashlib.sha256(b"doc").digest())
    client.select_df(AID_JPKI)
    client.select_ef(0x0018)
    assert client.verify(state.auth_pin).ok
    client.select_ef(0x001A)
    assert sw(card, apdu.compute_signature(di)) == 0x6982  # auth PIN does not open the sign key
    client.select_ef(0x001B)
    assert client.verify(state.sign_password).ok
    client.select_ef(0x001A)
    sig = client.sign(di)
    _pub(state.credentials.sign_cert_der).verify(sig, b"doc", padding.PKCS1v15(), hashes.SHA256())


def test_signature_command_errors(card: MyNumberCard, state: CardState) -> None:
    di = digest_info(hashes.SHA256(), bytes(32))
    run(card, apdu.select_df(AID_JPKI))
    assert sw(card, apdu.compute_signature(di)) == 0x6986
    run(card, apdu.select_ef(0x000A))
    assert sw(card, apdu.compute_signature(di)) == 0x6981
    run(card, apdu.select_ef(0x0018))
    run(card, apdu.verify(state.auth_pin))
    run(card, apdu.select_ef(0x0017))
    assert sw(card, "802A0081" + "33" + di.hex() + "00") == 0x6A86
    assert sw(card, apdu.compute_signature(bytes(246))) == 0x6700  # longer than k - 11


# --- 券面事項入力補助 AP / 券面事項確認 AP ---------------------------------------------------------


def test_kenhojo_my_number_and_basic_four(client: CardClient, card: MyNumberCard, state: CardState) -> None:
    client.select_df(AID_KENHOJO)
    client.select_ef(0x0001)
    assert sw(card, apdu.read_binary(0, 17)) == 0x6982
    client.select_ef(0x0011)
    assert client.tries() == 3
    assert client.verify(state.kenhojo_pin).ok
    client.select_ef(0x0001)
    raw = client.read_binary(0, 17)
    assert raw[:3] == b"\xff\x10\x0c"
    assert raw[3:15].decode() == state.individual_number  # mnbcard: data[3:15]
    assert parse_my_number(raw) == state.individual_number
    client.select_ef(0x0002)
    four = parse_basic_four(client.read_all())
    assert four.name == state.name
    assert four.address == state.address
    assert four.birth == f"{state.birthdate:%Y%m%d}"
    assert four.sex == state.sex


def test_kenhojo_pin_blocks_after_three(card: MyNumberCard, state: CardState) -> None:
    run(card, apdu.select_df(AID_KENHOJO))
    run(card, apdu.select_ef(0x0011))
    wrong = _wrong(state.kenhojo_pin)
    assert [sw(card, apdu.verify(wrong)) for _ in range(3)] == [0x63C2, 0x63C1, 0x63C0]


def test_kenhojo_basic_four_with_verification_number_b(client: CardClient, state: CardState) -> None:
    client.select_df(AID_KENHOJO)
    client.select_ef(0x0015)
    assert client.verify(state.verification_number_b).ok
    client.select_ef(0x0002)
    assert parse_basic_four(client.read_all()).name == state.name
    client.select_ef(0x0001)
    with pytest.raises(CardError) as err:
        client.read_binary(0, 17)  # 照合番号B does not open the individual number
    assert err.value.sw == 0x6982


def test_kenkaku_entries_behind_verification_number_b(client: CardClient, card: MyNumberCard, state: CardState) -> None:
    assert len(state.verification_number_b) == 14
    client.select_df(AID_KENKAKU)
    client.select_ef(0x0002)
    assert sw(card, apdu.read_binary(0, 8)) == 0x6982
    client.select_ef(0x0012)
    assert client.tries() == 3
    assert client.verify(state.verification_number_b).ok
    client.select_ef(0x0002)
    entries = parse_kenkaku_entries(client.read_all())
    assert entries.face_image == state.face_image
    assert entries.face_image.startswith(b"\x00\x00\x00\x0cjP  ")
    assert entries.birth == f"{state.birthdate:%Y%m%d}"
    assert entries.expiry == f"{state.card_expires_on:%Y%m%d}"
    assert entries.name_image.startswith(b"\x89PNG")


def test_verification_number_tries_are_configurable(make_state: MakeState) -> None:
    state = make_state(0, dataclasses.replace(MYNUMBER_PROFILE, verification_number_tries=10))
    card = MyNumberCard(state)
    card.power_on()
    run(card, apdu.select_df(AID_KENKAKU))
    run(card, apdu.select_ef(0x0012))
    assert sw(card, apdu.verify(None)) == 0x63CA
    assert sw(card, apdu.verify("00000000000000")) == 0x63C9
    run(card, apdu.select_ef(0x0013))  # 照合番号A is a separate counter
    assert sw(card, apdu.verify(state.individual_number)) == 0x9000


# --- other cards, observer, state validation --------------------------------------------------------


def test_generic_card_is_not_a_my_number_card() -> None:
    card = GenericCard()
    assert card.power_on()[0] == 0x3B
    assert sw(card, apdu.select_df(AID_JPKI)) == 0x6A82
    assert sw(card, apdu.read_binary(0, 1)) == 0x6986
    assert sw(card, "80CA000000") == 0x6E00
    assert sw(card, "00CA000000") == 0x6D00


def test_not_mynumber_profile_on_model(make_state: MakeState) -> None:
    from mockgateway.card.profile import GENERIC_PROFILE

    card = MyNumberCard(make_state(0, GENERIC_PROFILE))
    assert card.power_on() == GENERIC_PROFILE.atr
    assert sw(card, apdu.select_df(AID_JPKI)) == 0x6A82


def test_generic_atr_has_a_valid_tck() -> None:
    from mockgateway.card.profile import GENERIC_ATR

    x = 0
    for b in GENERIC_ATR[1:]:
        x ^= b
    assert x == 0


def test_observer_sees_every_apdu(state: CardState) -> None:
    seen: list[tuple[bytes, bytes]] = []
    card = MyNumberCard(state, observer=lambda c, r: seen.append((c, r)))
    card.power_on()
    run(card, apdu.select_df(AID_JPKI))
    assert seen == [(apdu.select_df(AID_JPKI), b"\x90\x00")]


def test_state_validation(state: CardState) -> None:
    with pytest.raises(ValueError, match="check digit"):
        dataclasses.replace(state, individual_number="123456789017")
    with pytest.raises(ValueError, match="4 digits"):
        dataclasses.replace(state, auth_pin="12345")
    with pytest.raises(ValueError, match="sign_password"):
        dataclasses.replace(state, sign_password="abcdef")
    with pytest.raises(ValueError, match="blocked_sw"):
        CardProfile(blocked_sw=0x6A82)
    with pytest.raises(ValueError, match="tries"):
        dataclasses.replace(state, tries={PinId.AUTH: 4})
