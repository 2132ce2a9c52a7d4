"""The reader's screens as they are since the 令和6年夏 release: 限度額 without a screen, 包括同意."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mockgateway.card.faceauth import ReaderResult
from mockgateway.domain.consent import ConsentKind
from mockgateway.engine import Gateway
from mockgateway.services.reader import session as face
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree
from tests.card.face_gateway import face_gateway

OTHER_MIC = "1311234569"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = face_gateway(tmp_path / "oqs")
    yield gw
    gw.store.close()


def result_of(result: ReaderResult) -> Tree:
    assert result.body is not None, result.session.steps
    node = xmlcodec.parse(result.body).tree
    listing = node["MessageBody"]
    assert isinstance(listing, dict)
    inner = listing["ResultList"]
    assert isinstance(inner, dict)
    q = inner["ResultOfQualificationConfirmation"]
    assert isinstance(q, dict)
    return q


# --- 7: 限度額適用認定証の同意画面 ----------------------------------------------------------------------


def test_limit_screen_is_omitted_by_default_and_the_information_provided(gateway: Gateway) -> None:
    assert face.feature(gateway).settings.limit_consent_screen == "omitted"
    result = face.place(gateway, "gendo-kenji")
    assert result.as_json()["limit_consent"] == "omitted"
    q = result_of(result)
    assert q["LimitApplicationCertificateRelatedConsFlg"] == "1"
    assert q["LimitApplicationCertificateRelatedConsTime"] == "20261123100000"
    info = q["LimitApplicationCertificateRelatedInfo"]
    assert isinstance(info, dict)
    assert info["LimitApplicationCertificateClassificationFlag"] == "A03"


def test_limit_screen_shown_as_before_2024(gateway: Gateway) -> None:
    face.feature(gateway).update_settings({"limit_consent_screen": "shown"})
    declined = face.place(gateway, "gendo-kenji")
    assert declined.as_json()["limit_consent"] == "declined"
    q = result_of(declined)
    assert q["LimitApplicationCertificateRelatedConsFlg"] == "0"
    assert q["SpecificDiseasesCertificateRelatedConsFlg"] == "0"  # the reader writes every flag, 0 when declined
    assert "LimitApplicationCertificateRelatedInfo" not in q
    agreed = face.place(gateway, "gendo-kenji", limit_consent=True)
    assert agreed.as_json()["limit_consent"] == "agreed"
    assert "LimitApplicationCertificateRelatedInfo" in result_of(agreed)
    with pytest.raises(ValueError, match="limit_consent_screen"):
        face.feature(gateway).update_settings({"limit_consent_screen": "maybe"})


def test_no_limit_information_in_the_grace_period(gateway: Gateway) -> None:
    q = result_of(face.place(gateway, "myna-yuyo"))
    assert q["LimitApplicationCertificateRelatedConsFlg"] == "0"
    assert q["SpecificDiseasesCertificateRelatedConsFlg"] == "0"


# --- 8: 包括同意 -----------------------------------------------------------------------------------------


def test_portal_presets_need_no_screen_and_the_result_says_so(gateway: Gateway) -> None:
    result = face.place(gateway, "houkatsu-doui", consents=["checkup"])
    s = result.session
    assert s.consents_shown == (ConsentKind.CHECKUP, ConsentKind.OPERATION)  # 55歳: 特定健診 asked
    assert set(s.consents_given) == {ConsentKind.DRUG, ConsentKind.DIAGNOSIS, ConsentKind.CHECKUP}
    assert result.as_json()["consents_relied_on"] == {"PharmacistsInfo": "portal", "DiagnosisInfo": "portal"}
    q = result_of(result)
    assert q["PharmacistsInfoConsFlg"] == "1"
    assert q["DiagnosisInfoConsFlg"] == "1"
    assert q["OperationInfoConsFlg"] == "0"
    assert gateway.journal.entries(transport="face")[-1].extra["face"]["consents_relied_on"] == {
        "PharmacistsInfo": "portal", "DiagnosisInfo": "portal",
    }  # fmt: skip


def test_previous_visit_at_the_same_institution_carries_over(gateway: Gateway) -> None:
    first = face.place(gateway, "hoken-taro", consents=["drug", "operation"])
    assert first.session.consents_relied == {}
    second = face.place(gateway, "hoken-taro")
    assert second.as_json()["consents_relied_on"] == {
        "PharmacistsInfo": "previous_visit", "OperationInfo": "previous_visit",
    }  # fmt: skip
    assert ConsentKind.DRUG not in second.session.consents_shown
    assert result_of(second)["PharmacistsInfoConsFlg"] == "1"
    # another 医療機関: nothing carried over, every screen again
    elsewhere = face.place(gateway, "hoken-taro", medical_institution=OTHER_MIC)
    assert elsewhere.session.consents_relied == {}
    assert ConsentKind.DRUG in elsewhere.session.consents_shown


def test_comprehensive_consent_off_is_the_reader_before(gateway: Gateway) -> None:
    face.feature(gateway).update_settings({"comprehensive_consent": False})
    result = face.place(gateway, "houkatsu-doui")
    assert result.session.consents_relied == {}
    assert ConsentKind.DRUG in result.session.consents_shown
    assert result_of(result)["PharmacistsInfoConsFlg"] == "0"
