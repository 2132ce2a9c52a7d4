"""同意済資格情報一括取得 (OQSmuhvq / OQSmuonq): two steps, date ranges, only this institution's consents."""

from __future__ import annotations

from mockgateway.domain.continuing_consent import Family
from mockgateway.engine import Gateway, Response
from mockgateway.services.bulk import service as bulk
from mockgateway.services.bulk.layout import download_tree
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree
from tests.services.home_visit.conftest import MIC, OTHER_MIC, body, consented, header, send


def download(g: Gateway, api_family: str, response: Response, *, mic: str = MIC) -> Response:
    feature = bulk.feature(g)
    assert feature is not None
    feature.worker.run_once()
    number = str(body(response)["ReceptionNumber"])
    return send(g, f"{api_family}02", download_tree(mic, number))


def units(response: Response) -> list[Tree]:
    found = body(response).get("BulkConfirmUnit")
    if found is None:
        return []
    return [u for u in (found if isinstance(found, list) else [found]) if isinstance(u, dict)]


def test_home_visit_consents_in_range_come_back_with_flags(gateway: Gateway) -> None:
    upload = consented(gateway, Family.HOME_VISIT, consent_from="20250101", consent_to="20261123")
    assert header(upload)["SegmentOfResult"] == "1"
    result = download(gateway, "OQSmuhvq", upload)
    assert header(result)["SegmentOfResult"] == "1"
    got = {str(u["ResultOfQualificationConfirmation"]["Name"]): u for u in units(result)}  # type: ignore[index]
    # kyotaku-ume (valid) and kyotaku-kigire (lapsed, flag 2); not kyotaku-torikeshi (withdrawn),
    # not kyotaku-kiyoshi (オンライン診療等 here; 訪問診療等 only at another institution)
    assert sorted(got) == ["居宅　梅", "期限　切子"]
    ume = got["居宅　梅"]["ResultOfQualificationConfirmation"]
    assert isinstance(ume, dict)
    assert ume["PharmacistsInfoConsFlg"] == "1"
    kigire = got["期限　切子"]
    assert kigire["ProcessingResultCode"] == "MGW3701"
    assert kigire["ResultOfQualificationConfirmation"]["PharmacistsInfoConsFlg"] == "2"  # type: ignore[index]
    assert header(result)["NumberOfProcessingResult"] == "2"


def test_the_range_narrows(gateway: Gateway) -> None:
    upload = consented(gateway, Family.HOME_VISIT, consent_from="20261020", consent_to="20261031")
    names = [u["ResultOfQualificationConfirmation"]["Name"] for u in units(download(gateway, "OQSmuhvq", upload))]  # type: ignore[index]
    assert names == ["居宅　梅"]  # consented on 2026-10-24


def test_examination_dates_for_online(gateway: Gateway) -> None:
    upload = consented(gateway, Family.ONLINE, examination_from="20261101", examination_to="20261130")
    found = units(download(gateway, "OQSmuonq", upload))
    assert [u["ResultOfQualificationConfirmation"]["Name"] for u in found] == ["居宅　清"]  # type: ignore[index]


def test_another_institution_sees_only_its_own(gateway: Gateway) -> None:
    upload = consented(gateway, Family.HOME_VISIT, mic=OTHER_MIC, consent_from="20200101", consent_to="20261231")
    found = units(download(gateway, "OQSmuhvq", upload, mic=OTHER_MIC))
    assert [u["ResultOfQualificationConfirmation"]["Name"] for u in found] == ["居宅　清"]  # type: ignore[index]
    # and the other institution cannot download this institution's job
    mine = consented(gateway, Family.HOME_VISIT, consent_from="20200101", consent_to="20261231")
    stolen = download(gateway, "OQSmuhvq", mine, mic=OTHER_MIC)
    assert header(stolen)["SegmentOfResult"] == "9"
    assert header(stolen)["ErrorCode"] == "MGW1203"
    assert "居宅".encode("cp932") not in stolen.body


def test_missing_date_range_is_segment_9_naming_the_element(gateway: Gateway) -> None:
    response = consented(gateway, Family.HOME_VISIT)
    assert header(response)["SegmentOfResult"] == "9"
    assert header(response)["ErrorCode"] == "MGW1003"
    assert "ConsentDateFrom" in str(header(response)["ErrorMessage"])


def test_half_a_range_names_the_missing_end(gateway: Gateway) -> None:
    response = consented(gateway, Family.HOME_VISIT, consent_from="20260101")
    assert header(response)["SegmentOfResult"] == "9"
    assert "ConsentDateTo" in str(header(response)["ErrorMessage"])


def test_reversed_range_and_wrong_flag(gateway: Gateway) -> None:
    reversed_ = consented(gateway, Family.HOME_VISIT, consent_from="20261201", consent_to="20261101")
    assert header(reversed_)["ErrorCode"] == "MGW1701"
    from mockgateway.services.home_visit.layout import consented_query_tree

    wrong = send(gateway, "OQSmuhvq01", consented_query_tree(MIC, Family.ONLINE, consent_from="20260101",
                                                             consent_to="20261231"))  # fmt: skip
    assert header(wrong)["SegmentOfResult"] == "9"
    assert "MedicalTreatmentFlag" in str(header(wrong)["ErrorMessage"])


def test_an_empty_range_is_a_normal_empty_result(gateway: Gateway) -> None:
    upload = consented(gateway, Family.HOME_VISIT, consent_from="20000101", consent_to="20000102")
    result = download(gateway, "OQSmuhvq", upload)
    assert header(result)["SegmentOfResult"] == "1"
    assert header(result)["NumberOfProcessingResult"] == "0"
    assert units(result) == []


def test_result_is_the_same_after_a_restart(gateway: Gateway) -> None:
    upload = consented(gateway, Family.HOME_VISIT, consent_from="20250101", consent_to="20261123")
    first = download(gateway, "OQSmuhvq", upload)
    again = send(gateway, "OQSmuhvq02", download_tree(MIC, str(body(upload)["ReceptionNumber"])))
    assert xmlcodec.parse(first.body).tree["MessageBody"] == xmlcodec.parse(again.body).tree["MessageBody"]
