"""The face-auth reader workflow end to end: placement → identity → certificate → consent → face file.

Direct path (the card model in-process) for every outcome; the same placements through the pcscd
face-auth reader where pcscd can run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mockgateway.card.faceauth import (
    AuthMode,
    CheckResult,
    FaceMatch,
    Placement,
    ReaderError,
    ReaderResult,
    RemovalPoint,
)
from mockgateway.card.pcscd import PrivatePcscd
from mockgateway.card.reader import PcscSlot
from mockgateway.domain.clock import jst
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import ConsentKind
from mockgateway.engine import Gateway
from mockgateway.services.medical.access import GracePeriodBook
from mockgateway.services.reader import session as face
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree
from tests.card.face_gateway import MIC, face_gateway


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = face_gateway(tmp_path / "oqs")
    yield gw
    gw.store.close()


def place(gateway: Gateway, person_id: str | None, **options: Any) -> ReaderResult:
    return face.place(gateway, person_id, **options)


def tree(result: ReaderResult) -> Tree:
    assert result.body is not None, result.session.steps
    return xmlcodec.parse(result.body).tree


def header(result: ReaderResult) -> Tree:
    node = tree(result)["MessageHeader"]
    assert isinstance(node, dict)
    return node


def body(result: ReaderResult) -> Tree:
    node = tree(result)["MessageBody"]
    assert isinstance(node, dict)
    return node


def only(result: ReaderResult) -> Tree:
    listing = body(result)["ResultList"]
    assert isinstance(listing, dict)
    node = listing["ResultOfQualificationConfirmation"]
    assert isinstance(node, dict)
    return node


# --- confirmed ------------------------------------------------------------------------------------


def test_pin_mode_writes_the_face_file(gateway: Gateway, tmp_path: Path) -> None:
    r = place(gateway, "hoken-taro", mode="pin", pins=["1234"], consents=["drug", "checkup"])
    assert r.ok, r.session.steps
    assert r.session.method is AuthMode.PIN
    assert r.face_name is not None
    assert re.fullmatch(rf"OQSsiquc01res_face_{MIC}[0-9a-f]{{20}}_20261123100000\.xml", r.face_name)
    assert r.face_path == tmp_path / "oqs" / "face" / r.face_name
    assert r.face_path.read_bytes() == r.body
    assert r.body is not None
    assert r.body.startswith(b'<?xml version="1.0" encoding="Shift_JIS"')
    h = header(r)
    assert h["ReferenceClassification"] == "1"
    assert h["SegmentOfResult"] == "1"
    assert h["MedicalInstitutionCode"] == MIC
    assert h["QualificationConfirmationDate"] == "20261123"
    assert h["ProcessExecutionTime"] == "20261123100000"
    assert h["CharacterCodeIdentifier"] == "1"
    assert isinstance(h["ArbitraryFileIdentifier"], str)
    assert len(h["ArbitraryFileIdentifier"]) == 16
    b = body(r)
    assert b["ProcessingResultStatus"] == "1"
    assert "ProcessingResultCode" not in b
    assert b["QualificationValidity"] == "1"
    q = only(r)
    assert q["Name"] == "保険　太郎"
    assert q["PharmacistsInfoConsFlg"] == "1"
    assert q["PharmacistsInfoConsTime"] == "20261123100000"
    assert q["PharmacistsInfoAvailableTime"] == "20261124100000"
    assert q["SpecificHealthCheckupsInfoConsFlg"] == "1"
    assert q["DiagnosisInfoConsFlg"] == "0"
    assert "DiagnosisInfoConsTime" not in q
    assert q["OperationInfoConsFlg"] == "0"
    assert q["LimitApplicationCertificateRelatedConsFlg"] == "0"  # 限度額 is no longer asked
    assert q["SpecificDiseasesCertificateRelatedConsFlg"] == "0"  # every flag the reader writes
    assert b["PrescriptionIssueSelect"] == "2"  # 紙の処方箋: the reader's default choice
    assert next(iter(b)) == "PrescriptionIssueSelect"  # first in MessageBody
    assert r.body.splitlines()[2] == b"    <MessageHeader>"  # indented as the terminal writes it
    assert r.session.consents_shown == (
        ConsentKind.DRUG, ConsentKind.CHECKUP, ConsentKind.DIAGNOSIS, ConsentKind.OPERATION
    )  # fmt: skip
    assert any(s.startswith("challenge signed") for s in r.session.steps)


def test_the_prescription_choice_and_its_codes(gateway: Gateway) -> None:
    electronic = place(gateway, "hoken-taro", mode="pin", pins=["1234"], prescription="electronic")
    assert body(electronic)["PrescriptionIssueSelect"] == "1"
    assert electronic.session.placement.as_json()["prescription"] == "electronic"
    face.feature(gateway).update_settings({"prescription_code_paper": "0", "prescription": "paper"})
    assert body(place(gateway, "hoken-taro", mode="pin", pins=["1234"]))["PrescriptionIssueSelect"] == "0"
    face.feature(gateway).update_settings({"prescription": "none"})
    assert "PrescriptionIssueSelect" not in body(place(gateway, "hoken-taro", mode="pin", pins=["1234"]))
    with pytest.raises(ValueError, match="prescription"):
        face.feature(gateway).update_settings({"prescription": "fax"})
    with pytest.raises(ValueError, match="prescription"):
        place(gateway, "hoken-taro", mode="pin", pins=["1234"], prescription="fax")


def test_compact_face_files(gateway: Gateway) -> None:
    gateway.settings.indent_files = False  # serve --compact
    r = place(gateway, "hoken-taro", mode="pin", pins=["1234"])
    assert r.body is not None
    assert r.body.count(b"\n") == 1


def test_consents_go_into_the_consent_book(gateway: Gateway) -> None:
    place(gateway, "hoken-taro", mode="face", consents=["drug"])
    drug = gateway.consents.latest("hoken-taro", MIC, ConsentKind.DRUG)
    assert drug is not None
    assert drug.flag is ConsentFlag.GIVEN
    assert drug.given_at == jst(2026, 11, 23, 10)
    assert gateway.consents.latest("hoken-taro", MIC, ConsentKind.DIAGNOSIS) is None


def test_journal_entry(gateway: Gateway) -> None:
    r = place(gateway, "hoken-taro", mode="pin", pins=["1234"])
    entry = gateway.journal.entries(transport="face")[-1]
    assert entry.id == r.journal_id
    assert entry.api_id == "OQSsiquc01"
    assert entry.name == r.face_name
    assert entry.medical_institution == MIC
    assert entry.segment == "1"
    assert entry.validity == "1"
    assert entry.response == r.body
    assert b"1234" not in entry.request  # the PIN itself is never journalled
    assert b'"pins_typed":1' in entry.request
    assert entry.extra["face"]["method"] == "pin"
    assert entry.extra["face"]["certificate"]["status"] == "valid"
    assert entry.reason is not None
    assert "資格有効性 1" in entry.reason


@pytest.mark.parametrize(
    ("options", "method"),
    [
        ({"mode": "face"}, AuthMode.FACE),
        ({"mode": "visual"}, AuthMode.VISUAL),
        ({"mode": "face", "face": "mismatch", "fallback": "pin", "pins": ["1234"]}, AuthMode.PIN),
        ({"mode": "face", "face": "mismatch", "fallback": "visual"}, AuthMode.VISUAL),
        ({"mode": "pin", "pins": ["0000"], "fallback": "face"}, AuthMode.FACE),
    ],
)
def test_identity_modes_and_fallbacks(gateway: Gateway, options: dict[str, Any], method: AuthMode) -> None:
    r = place(gateway, "hoken-taro", **options)
    assert r.ok, r.session.steps
    assert r.session.method is method


def test_a_wrong_pin_then_the_right_one_resets_the_tries(gateway: Gateway) -> None:
    r = place(gateway, "hoken-taro", mode="pin", pins=["0000", "1234"])
    assert r.ok
    assert r.session.pin_tries_left == 3
    assert face.feature(gateway).registry.issued("hoken-taro").pin_tries == 3  # type: ignore[union-attr]


def test_under_40_no_checkup_screen(gateway: Gateway) -> None:
    r = place(gateway, "takasaki-sakiko", consents=["drug", "checkup"])
    assert ConsentKind.CHECKUP not in r.session.consents_shown
    assert only(r)["SpecificHealthCheckupsInfoConsFlg"] == "0"
    assert "not asked" in r.session.steps[-2]


def test_settings_choose_the_screens_and_the_age(gateway: Gateway) -> None:
    face.feature(gateway).update_settings({"consent_screens": ["drug", "checkup"], "checkup_min_age": 30})
    r = place(gateway, "takasaki-sakiko", consents=["drug", "checkup", "operation"])
    assert r.session.consents_shown == (ConsentKind.DRUG, ConsentKind.CHECKUP)
    assert only(r)["OperationInfoConsFlg"] == "0"
    assert only(r)["SpecificHealthCheckupsInfoConsFlg"] == "1"


def test_reference_number_of_this_institution_only(gateway: Gateway) -> None:
    from mockgateway.services import reference_numbers

    reg = reference_numbers.registry(gateway)
    assert reg is not None
    key = gateway.index.people["hoken-taro"].qualifications[0].key
    reg.register(MIC, key, "KARTE-1", gateway.clock.now())
    assert only(place(gateway, "hoken-taro"))["ReferenceNumber"] == "KARTE-1"
    assert "ReferenceNumber" not in only(place(gateway, "hoken-taro", medical_institution="1310110018"))


def test_lost_and_changed_qualifications(gateway: Gateway) -> None:
    lost = place(gateway, "soushitsu-jiro")
    assert body(lost)["QualificationValidity"] == "2"
    changed = place(gateway, "tenshoku-saburo")
    assert body(changed)["QualificationValidity"] == "1"
    assert only(changed)["InsurerNumber"] == "01139997"
    future = place(gateway, "mirai-goro")
    assert body(future)["QualificationValidity"] == "4"
    assert "ResultList" not in body(future)


def test_utf8_output(gateway: Gateway) -> None:
    gateway.settings.output_encoding = "UTF-8"
    r = place(gateway, "takasaki-sakiko")
    assert r.body is not None
    assert "髙﨑　咲子".encode() in r.body
    assert header(r)["CharacterCodeIdentifier"] == "0"


def test_no_folder_keeps_the_result_in_memory(tmp_path: Path) -> None:
    gw = face_gateway(tmp_path / "nofolder", folder=False)
    try:
        r = face.place(gw, "hoken-taro")
        assert r.face_name is not None
        assert r.face_path is None
        assert r.body is not None
        assert not (tmp_path / "nofolder" / "face").exists()
        assert face.feature(gw).last is r
    finally:
        gw.store.close()


# --- certificates ---------------------------------------------------------------------------------


def test_expiring_within_three_months_is_a_notice(gateway: Gateway) -> None:
    r = place(gateway, "myna-kigen-chikai", consents=["drug"])
    b = body(r)
    assert b["ProcessingResultStatus"] == "1"
    assert b["ProcessingResultCode"] == "MGW3301"
    assert isinstance(b["ProcessingResultMessage"], str)
    assert "20261223" in b["ProcessingResultMessage"]
    assert only(r)["PharmacistsInfoConsFlg"] == "1"


def test_grace_period_gives_eligibility_only(gateway: Gateway) -> None:
    r = place(gateway, "myna-yuyo", mode="pin", pins=["1234"], consents=["drug", "checkup", "diagnosis"])
    assert r.ok
    assert r.session.consents_shown == ()
    b = body(r)
    assert b["QualificationValidity"] == "1"
    assert b["ProcessingResultCode"] == "MGW3302"
    assert "20270131" in str(b["ProcessingResultMessage"])
    q = only(r)
    for kind in ("PharmacistsInfo", "SpecificHealthCheckupsInfo", "DiagnosisInfo", "OperationInfo"):
        assert q[f"{kind}ConsFlg"] == "0"
        assert f"{kind}ConsTime" not in q
    assert r.as_json()["grace_period"] is True
    # every kind recorded as not given (closing earlier windows), marked for the 医療情報 feature
    marks = GracePeriodBook(gateway.store)
    for kind in ConsentKind:
        consent = gateway.consents.latest("myna-yuyo", MIC, kind)
        assert consent is not None
        assert consent.flag is ConsentFlag.NONE
        assert marks.is_marked(consent)


def test_grace_reading_closes_an_earlier_window(gateway: Gateway) -> None:
    # consent given with a valid certificate late on its last day; the next morning it is in grace
    feature = face.feature(gateway)
    person = gateway.index.people["hoken-taro"]
    gateway.load(_with_card(gateway, "hoken-taro", cert_expires="20261123"), replace=False)
    gateway.clock.set(jst(2026, 11, 23, 22), running=False)
    assert place(gateway, "hoken-taro", consents=["drug"]).ok
    gateway.clock.set(jst(2026, 11, 24, 9), running=False)
    r = place(gateway, "hoken-taro", consents=["drug"])
    assert r.session.check is not None
    assert r.session.check.in_grace
    latest = gateway.consents.latest(person.id, MIC, ConsentKind.DRUG)
    assert latest is not None
    assert latest.flag is ConsentFlag.NONE
    assert feature.registry.issued("hoken-taro") is not None


@pytest.mark.parametrize(
    ("person_id", "error", "words"),
    [
        ("myna-kigire", ReaderError.CERTIFICATE_INVALID, "猶予期間 (20261031 まで) も過ぎています"),
        ("myna-shikkou", ReaderError.CERTIFICATE_INVALID, "失効"),
        ("myna-mitouroku", ReaderError.NOT_REGISTERED, "保険証利用登録"),
    ],
)
def test_certificate_and_registration_errors(gateway: Gateway, person_id: str, error: ReaderError, words: str) -> None:
    r = place(gateway, person_id, consents=["drug"])
    assert r.error is error
    assert words in r.session.error_detail
    assert r.face_name is None
    assert r.body is None
    assert gateway.consents.latest(person_id, MIC, ConsentKind.DRUG) is None
    entry = gateway.journal.entries(transport="face")[-1]
    assert entry.extra["face"]["error"]["id"] == error.id
    assert entry.segment is None
    assert entry.response == b""


def test_not_yet_valid_certificate(gateway: Gateway) -> None:
    gateway.load(_with_card(gateway, "hoken-taro", cert_issued="20261201", cert_expires="20311201"), replace=False)
    r = place(gateway, "hoken-taro")
    assert r.error is ReaderError.CERTIFICATE_UNKNOWN
    assert "有効期間の開始" in r.session.error_detail


def test_grace_rule_expiry_day(gateway: Gateway) -> None:
    face.feature(gateway).update_settings({"grace_rule": "expiry_day"})
    gateway.load(_with_card(gateway, "hoken-taro", cert_expires="20261015"), replace=False)
    gateway.clock.set(jst(2027, 1, 15, 9), running=False)
    assert place(gateway, "hoken-taro").ok
    gateway.clock.set(jst(2027, 1, 16, 9), running=False)
    assert place(gateway, "hoken-taro").error is ReaderError.CERTIFICATE_INVALID
    face.feature(gateway).update_settings({"grace_rule": "month_end"})
    assert place(gateway, "hoken-taro").ok  # month-end rule: until 2027-01-31


# --- the terminal's checks on what the reader read ------------------------------------------------------


def test_a_foreign_certificate_is_refused(gateway: Gateway) -> None:
    from mockgateway.card.authority import CardAuthority
    from mockgateway.card.keys import KeyCache

    other = CardAuthority.create(seed=99, key_cache=KeyCache()).issue_for(
        "stranger", "x", dt.date(1980, 1, 1), dt.date(2025, 1, 1)
    )
    check = face.feature(gateway).check(other.auth_cert_der, AuthMode.FACE, None, None)
    assert check.error is ReaderError.CERTIFICATE_UNKNOWN
    assert "TEST CA" in check.detail
    assert face.feature(gateway).check(b"junk", AuthMode.FACE, None, None).error is ReaderError.CERTIFICATE_UNKNOWN


def test_a_bad_signature_is_refused(gateway: Gateway) -> None:
    feature = face.feature(gateway)
    card = feature.registry.card(gateway.index.people["hoken-taro"])
    challenge = feature.challenge()
    check = feature.check(card.certificate_der, AuthMode.PIN, challenge, b"\x00" * 256)
    assert check.error is ReaderError.CERTIFICATE_UNKNOWN
    assert "署名" in check.detail
    assert feature.check(card.certificate_der, AuthMode.PIN, None, None).error is ReaderError.CERTIFICATE_UNKNOWN
    key = card.state.credentials.auth_private_key
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    ok: CheckResult = feature.check(card.certificate_der, AuthMode.FACE, None, None)
    assert ok.error is None
    assert ok.person_id == "hoken-taro"


def test_a_certificate_no_longer_registered_is_refused(gateway: Gateway) -> None:
    feature = face.feature(gateway)
    old = feature.registry.card(gateway.index.people["hoken-taro"])
    gateway.load(_with_card(gateway, "hoken-taro", pin="9999"), replace=False)  # a new card was issued
    check = feature.check(old.certificate_der, AuthMode.FACE, None, None)
    assert check.error is ReaderError.CERTIFICATE_UNKNOWN
    assert "登録されていない" in check.detail


# --- reader-side errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person_id", "options", "error", "tries"),
    [
        ("hoken-taro", {"mode": "face", "face": "mismatch"}, ReaderError.FACE_MISMATCH, 3),
        ("hoken-taro", {"mode": "pin", "pins": ["0000", "1111"]}, ReaderError.PIN_WRONG, 1),
        ("hoken-taro", {"mode": "pin", "pins": ["0000", "1111", "2222"]}, ReaderError.PIN_BLOCKED, 0),
        ("myna-lock", {"mode": "pin", "pins": ["1234"]}, ReaderError.PIN_BLOCKED, 0),
        ("myna-kao", {"mode": "pin", "pins": ["1234"]}, ReaderError.NO_PIN, 3),
        ("hoken-taro", {"mode": "pin", "pins": ["1234"], "remove_at": "signature"}, ReaderError.UNREADABLE, 3),
        ("hoken-taro", {"mode": "pin", "pins": ["1234"], "remove_at": "pin"}, ReaderError.UNREADABLE, 3),
        ("hoken-taro", {"mode": "face", "remove_at": "face_image"}, ReaderError.UNREADABLE, 3),
        ("hoken-taro", {"mode": "visual", "remove_at": "certificate"}, ReaderError.UNREADABLE, 3),
    ],
)
def test_reader_errors_write_no_face_file(
    gateway: Gateway, tmp_path: Path, person_id: str, options: dict[str, Any], error: ReaderError, tries: int
) -> None:
    r = place(gateway, person_id, **options)
    assert r.error is error, r.session.steps
    assert r.face_name is None
    assert not list((tmp_path / "oqs").glob("face/*"))
    assert face.feature(gateway).registry.issued(person_id).pin_tries == tries  # type: ignore[union-attr]
    assert face.feature(gateway).last is r
    assert r.as_json()["error"]["id"] == error.id
    assert gateway.journal.entries(transport="face")[-1].extra["face"]["outcome"] == "reader_error"


def test_locked_after_three_wrong_pins_even_with_the_right_one(gateway: Gateway) -> None:
    place(gateway, "hoken-taro", mode="pin", pins=["0000", "1111", "2222"])
    r = place(gateway, "hoken-taro", mode="pin", pins=["1234"])
    assert r.error is ReaderError.PIN_BLOCKED
    assert "blocked before any attempt" in " ".join(r.session.steps)
    face.feature(gateway).registry.issued("hoken-taro").state.reset_tries()  # type: ignore[union-attr]
    assert place(gateway, "hoken-taro", mode="pin", pins=["1234"]).ok


def test_not_a_my_number_card(gateway: Gateway) -> None:
    r = place(gateway, None, generic_card=True)
    assert r.error is ReaderError.NOT_MYNUMBER
    assert r.session.check is None


def test_error_files_setting(gateway: Gateway) -> None:
    face.feature(gateway).update_settings({"error_files": True})
    before = place(gateway, None, generic_card=True)  # before the holder is known: SegmentOfResult 9
    assert header(before)["SegmentOfResult"] == "9"
    assert header(before)["ErrorCode"] == "MGW1302"
    assert header(before)["ReferenceClassification"] == "1"
    assert tree(before)["MessageBody"] in ("", {})
    after = place(gateway, "myna-shikkou")  # identified: ProcessingResultStatus 2
    assert header(after)["SegmentOfResult"] == "1"
    assert "ErrorCode" not in header(after)
    assert body(after)["ProcessingResultStatus"] == "2"
    assert body(after)["ProcessingResultCode"] == "MGW2301"
    assert "006" in str(body(after)["ProcessingResultMessage"])
    assert "ResultList" not in body(after)
    entry = gateway.journal.entries(transport="face")[-1]
    assert entry.name == after.face_name
    assert entry.segment == "1"


def test_placement_validation() -> None:
    with pytest.raises(ValueError, match="PIN"):
        Placement("hoken-taro", mode=AuthMode.PIN)
    with pytest.raises(ValueError, match="4 digits"):
        Placement("hoken-taro", mode=AuthMode.PIN, pins=("12345",))
    with pytest.raises(ValueError, match="same as the mode"):
        Placement("hoken-taro", mode=AuthMode.FACE, fallback=AuthMode.FACE)
    with pytest.raises(ValueError, match="person id"):
        Placement(None)
    with pytest.raises(ValueError, match="unknown placement keys"):
        face.placement_from({"person_id": "x", "colour": "red"})
    with pytest.raises(ValueError, match="unknown mode"):
        face.placement_from({"person_id": "x", "mode": "iris"})
    p = face.placement_from(
        {"person_id": "x", "mode": "暗証番号", "pin": "0000,1234", "consent": "drug,手術", "remove_at": "pin"}
    )
    assert p == Placement(
        "x", AuthMode.PIN, None, ("0000", "1234"), FaceMatch.MATCH,
        frozenset({ConsentKind.DRUG, ConsentKind.OPERATION}), None, RemovalPoint.PIN,
    )  # fmt: skip


def test_unknown_person_and_person_without_card(gateway: Gateway) -> None:
    with pytest.raises(ValueError, match="no such person"):
        place(gateway, "nobody")
    doc = next(d for pid, d in gateway.store.documents() if pid == "kouki-ume")
    doc = {k: v for k, v in doc.items() if k != "card"}
    gateway.load(_docs(gateway, doc), replace=False)
    with pytest.raises(ValueError, match="マイナンバーカードがありません"):
        place(gateway, "kouki-ume")


def test_settings_round_trip_and_validation(gateway: Gateway) -> None:
    feature = face.feature(gateway)
    s = feature.update_settings({"medical_institution": "1310110018", "error_files": "true", "grace_months": 2})
    assert s.medical_institution == "1310110018"
    assert face.FaceSettings.load(gateway) == s
    assert place(gateway, "hoken-taro").medical_institution == "1310110018"
    bad: list[tuple[dict[str, Any], str]] = [
        ({"medical_institution": "1310110019"}, "検証番号"),
        ({"grace_rule": "never"}, "grace_rule"),
        ({"transport": "usb"}, "transport"),
        ({"colour": 1}, "unknown reader setting"),
        ({"grace_months": -1}, "not negative"),
        ({"consent_screens": "drug"}, "a list"),
    ]
    for change, words in bad:
        with pytest.raises(ValueError, match=words):
            feature.update_settings(change)
    assert dataclasses.asdict(feature.settings)["grace_months"] == 2


def test_face_file_name() -> None:
    assert face.face_file_name(MIC, jst(2026, 9, 29, 16, 1, 12), "4da5260a16de5a3d3ad7") == (
        "OQSsiquc01res_face_13101123454da5260a16de5a3d3ad7_20260929160112.xml"
    )
    with pytest.raises(ValueError, match="20 characters"):
        face.face_file_name(MIC, jst(2026, 9, 29), "short")


def test_feature_lookup_needs_install(tmp_path: Path) -> None:
    import time

    from mockgateway.domain.clock import VirtualClock
    from mockgateway.store.sqlite import SqliteRepository

    store = SqliteRepository(tmp_path / "bare.sqlite3")
    try:
        with pytest.raises(LookupError, match="not installed"):
            face.feature(Gateway(store, VirtualClock(time.time)))
    finally:
        store.close()


def _docs(gateway: Gateway, *docs: dict[str, Any]) -> Any:
    from mockgateway.fixtures import load_documents

    insurers = [{"InsurerNumber": n, "InsurerName": name} for n, name in gateway.store.insurers().items()]
    return load_documents([("test", {"insurers": insurers, "persons": list(docs)})], gateway.clock.today())


def _with_card(gateway: Gateway, person_id: str, **card: str) -> Any:
    doc = next(d for pid, d in gateway.store.documents() if pid == person_id)
    return _docs(gateway, dict(doc, card=card))


# --- the same placements through the pcscd face-auth reader ------------------------------------------


@pytest.fixture
def pcscd_gateway(gateway: Gateway, pcscd: PrivatePcscd) -> Gateway:
    face.feature(gateway).slot_factory = lambda: PcscSlot.face_auth_reader(pcscd)
    return gateway


@pytest.mark.pcscd
def test_pcscd_pin_mode(pcscd_gateway: Gateway) -> None:
    r = place(pcscd_gateway, "hoken-taro", mode="pin", pins=["1234"], consents=["drug"])
    assert r.ok, r.session.steps
    assert "00 00" in r.session.steps[0]
    assert only(r)["PharmacistsInfoConsFlg"] == "1"
    assert r.session.apdus > 5


@pytest.mark.pcscd
def test_pcscd_face_mode_and_errors(pcscd_gateway: Gateway) -> None:
    assert place(pcscd_gateway, "hoken-taro", mode="face").ok
    assert place(pcscd_gateway, None, generic_card=True).error is ReaderError.NOT_MYNUMBER
    assert place(pcscd_gateway, "hoken-taro", mode="pin", pins=["0000", "1111"]).error is ReaderError.PIN_WRONG


@pytest.mark.pcscd
def test_pcscd_card_removed_mid_read(pcscd_gateway: Gateway) -> None:
    r = place(pcscd_gateway, "hoken-taro", mode="pin", pins=["1234"], remove_at="signature")
    assert r.error is ReaderError.UNREADABLE, r.session.steps
    assert place(pcscd_gateway, "hoken-taro", mode="pin", pins=["1234"]).ok  # the reader recovers


@pytest.mark.pcscd
def test_pcscd_transport_from_settings(gateway: Gateway, pcscd: PrivatePcscd) -> None:
    face.feature(gateway).update_settings(
        {"transport": "pcscd", "pcscd_port": pcscd.port(0), "pcscd_reader": pcscd.face_auth_reader}
    )
    r = place(gateway, "hoken-taro", mode="visual")
    assert r.ok
    assert pcscd.face_auth_reader in r.session.steps[0]
