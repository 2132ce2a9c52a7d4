"""What the client sent, checked against the order from the journal's copy of the request."""

from __future__ import annotations

from mockgateway.control.journal import JournalEntry
from mockgateway.harness.orders import Card, Order, Report
from mockgateway.harness.outcome import Outcome, eligibility_problems

ORDER = Order(
    order_id="S.1",
    scenario_id="S",
    scenario_title="t",
    action="eligibility",
    medical_institution="1310112345",
    confirmation_date="20261123",
    cards=(Card("139998", "", "100234", "", "19650203"),),
    limit_consent=True,
)


def entry(
    insurer: str = "  139998", mic: str = "1310112345", consent: str | None = "1", date: str = "20261123"
) -> JournalEntry:
    flag = (
        f"<LimitApplicationCertificateRelatedConsFlg>{consent}</LimitApplicationCertificateRelatedConsFlg>"
        if consent
        else ""
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><XmlMsg><MessageHeader>'
        f"<QualificationConfirmationDate>{date}</QualificationConfirmationDate>"
        f"<MedicalInstitutionCode>{mic}</MedicalInstitutionCode></MessageHeader><MessageBody>"
        f"<QualificationConfirmSearchInfo><InsurerNumber>{insurer}</InsurerNumber>"
        "<InsuredIdentificationNumber>100234</InsuredIdentificationNumber><Birthdate>19650203</Birthdate>"
        f"{flag}</QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
    )
    return JournalEntry(
        id=7,
        at="20261123100000",
        real_time=0.0,
        transport="folder",
        api_id="OQSsiquc01",
        name="OQSsiquc01req_1.xml",
        medical_institution=mic,
        request=xml.encode(),
    )


def test_a_request_as_ordered_has_no_problem() -> None:
    assert eligibility_problems(ORDER, entry()) == []


def test_each_difference_names_element_expected_and_sent() -> None:
    problems = eligibility_problems(ORDER, entry(insurer="00139998", mic="1310199999", consent=None, date="20261122"))
    text = "\n".join(problems)
    assert "MessageHeader/MedicalInstitutionCode (医療機関コード) expected '1310112345', sent '1310199999'" in text
    assert "QualificationConfirmationDate (資格確認日) expected '20261123', sent '20261122'" in text
    assert "InsurerNumber (保険者番号 (8桁、6桁は先頭空白埋め)) expected '  139998', sent '00139998'" in text
    assert "LimitApplicationCertificateRelatedConsFlg (限度額適用認定証提供同意フラグ) expected '1', sent '0'" in text
    assert all(p.startswith("request OQSsiquc01req_1.xml (journal #7)") for p in problems)


def test_sending_nothing_or_too_often_is_a_problem() -> None:
    nothing = Outcome(ORDER, Report("S.1", "no-answer", message="gave up"))
    assert "the client sent nothing for order S.1: gave up" in nothing.sent_problems()[0]
    many = Outcome(ORDER, Report("S.1", "answered"), entries=[entry() for _ in range(4)])
    assert "4 requests for one order" in many.sent_problems()[0]


def test_the_gateway_side_comes_from_the_journal_when_the_adapter_saw_no_files() -> None:
    e = entry()
    e.response = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b"<XmlMsg><MessageHeader><SegmentOfResult>1</SegmentOfResult></MessageHeader></XmlMsg>"
    )
    found = Outcome(ORDER, Report("S.1", "answered", result_file="OQSsiquc01res_1.xml"), entries=[e])
    assert found.tree["MessageHeader"] == {"SegmentOfResult": "1"}
    assert found.encoding == "UTF-8"
    assert (found.request_name, found.result_name) == ("OQSsiquc01req_1.xml", "OQSsiquc01res_1.xml")


def test_a_bulk_upload_is_checked_record_by_record() -> None:
    from dataclasses import replace

    from mockgateway.harness.outcome import bulk_problems

    bulk = replace(
        ORDER, action="bulk", api_id="OQSmuquc01", cards=(ORDER.card, Card("06139992", "7", "33", "", "19850101"))
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><XmlMsg><MessageHeader><MedicalInstitutionCode>1310112345'
        "</MedicalInstitutionCode></MessageHeader><MessageBody>"
        "<QualificationConfirmSearchInfo><InsurerNumber>00139998</InsurerNumber>"
        "<InsuredIdentificationNumber>100234</InsuredIdentificationNumber><Birthdate>19650203</Birthdate>"
        "</QualificationConfirmSearchInfo><QualificationConfirmSearchInfo><InsurerNumber>06139992</InsurerNumber>"
        "<InsuredCardSymbol>7</InsuredCardSymbol><InsuredIdentificationNumber>33</InsuredIdentificationNumber><Birthdate>19850101</Birthdate>"
        "</QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
    )
    upload = JournalEntry(
        id=3,
        at="",
        real_time=0.0,
        transport="folder",
        api_id="OQSmuquc01",
        name="OQSmuquc01req_1.xml",
        medical_institution="1310112345",
        request=xml.encode(),
    )
    assert bulk_problems(bulk, upload) == [
        "upload OQSmuquc01req_1.xml (journal #3): record 1 InsurerNumber expected '  139998', sent '00139998'"
    ]
    assert Outcome(bulk, Report("S.1", "answered"), entries=[upload]).sent_problems() == bulk_problems(bulk, upload)


def _entry(api_id: str, xml: str, *, entry_id: int = 1, at: str = "20261123100000", **extra: object) -> JournalEntry:
    return JournalEntry(
        id=entry_id,
        at=at,
        real_time=0.0,
        transport="folder",
        api_id=api_id,
        name=f"{api_id}req_{entry_id}.xml",
        medical_institution="1310112345",
        request=('<?xml version="1.0" encoding="UTF-8"?><XmlMsg>' + xml + "</XmlMsg>").encode(),
        extra=dict(extra),
    )


HEADER = "<MessageHeader><MedicalInstitutionCode>1310112345</MedicalInstitutionCode></MessageHeader>"


def test_a_registration_is_checked_with_its_reference_number() -> None:
    from dataclasses import replace

    card = Card("139998", "模擬市", "100234", "00", "19650203", reference_number="KARTE-1")
    order = replace(ORDER, action="reference-number", api_id="OQSsiimm01", cards=(card,))
    info = (
        "<ReferenceNumberRegistrationInfo><ReferenceNumber>KARTE-2</ReferenceNumber><InsurerNumber>139998"
        "</InsurerNumber><InsuredCardSymbol>模擬市</InsuredCardSymbol><InsuredIdentificationNumber>100234"
        "</InsuredIdentificationNumber><InsuredBranchNumber>00</InsuredBranchNumber></ReferenceNumberRegistrationInfo>"
    )
    sent = _entry("OQSsiimm01", HEADER + f"<MessageBody>{info}</MessageBody>", entry_id=4)
    problems = Outcome(order, Report("S.1", "answered"), entries=[sent]).sent_problems()
    assert problems == [
        "request OQSsiimm01req_4.xml (journal #4): InsurerNumber expected '  139998', sent '139998'",
        "request OQSsiimm01req_4.xml (journal #4): ReferenceNumber expected 'KARTE-1', sent 'KARTE-2'",
    ]


def test_polls_are_not_retries_but_must_name_the_reception_number() -> None:
    from dataclasses import replace

    order = replace(ORDER, action="bulk", api_id="OQSmuquc01", cards=(Card("01139997", "", "5678", "", "19800401"),))
    record = (
        "<QualificationConfirmSearchInfo><InsurerNumber>01139997</InsurerNumber><InsuredIdentificationNumber>5678"
        "</InsuredIdentificationNumber><Birthdate>19800401</Birthdate></QualificationConfirmSearchInfo>"
    )
    upload = _entry(
        "OQSmuquc01", HEADER + f"<MessageBody>{record}</MessageBody>", reception_number="R-1", bulk="upload"
    )

    def poll(number: str, n: int) -> JournalEntry:
        body = f"<MessageBody><ReceptionNumber>{number}</ReceptionNumber></MessageBody>"
        return _entry("OQSmuquc02", HEADER + body, entry_id=n, bulk="download")

    polls = [poll("R-1", n) for n in range(2, 8)]
    assert Outcome(order, Report("S.1", "answered"), entries=[upload, *polls]).sent_problems() == []
    wrong = Outcome(order, Report("S.1", "answered"), entries=[upload, *polls, poll("R-9", 9)]).sent_problems()
    assert wrong == ["download OQSmuquc02req_9.xml (journal #9): ReceptionNumber (受付番号) expected 'R-1', sent 'R-9'"]
    again = Outcome(order, Report("S.1", "answered"), entries=[upload] * 4).sent_problems()
    assert again == ["4 requests for one order (at most 3 expected)"]


def test_a_bulk_upload_without_the_ordered_date_is_judged_on_the_terminal_date() -> None:
    from dataclasses import replace

    from mockgateway.harness.outcome import bulk_problems

    tomorrow = replace(ORDER, action="bulk", api_id="OQSmuquc01", confirmation_date="20261124", cards=())
    body = "<MessageBody><QualificationConfirmSearchInfo/></MessageBody>"
    undated = _entry("OQSmuquc01", HEADER + body, at="20261123100000")
    assert bulk_problems(tomorrow, undated)[0].endswith(
        "QualificationConfirmationDate (資格確認日) expected '20261124', "
        "not sent, so the terminal used its date 20261123"
    )
    dated = HEADER.replace("<Med", "<QualificationConfirmationDate>20261124</QualificationConfirmationDate><Med")
    assert not any(
        "QualificationConfirmationDate" in p for p in bulk_problems(tomorrow, _entry("OQSmuquc01", dated + body))
    )


def test_a_download_order_checks_the_reception_number() -> None:
    from dataclasses import replace

    order = replace(ORDER, action="bulk-download", api_id="OQSmuquc02", cards=(), reception_number="R-1")
    body = "<MessageBody><ReceptionNumber>R-2</ReceptionNumber></MessageBody>"
    found = Outcome(order, Report("S.1", "answered"), entries=[_entry("OQSmuquc02", HEADER + body)])
    assert found.sent_problems() == [
        "download OQSmuquc02req_1.xml (journal #1): ReceptionNumber (受付番号) expected 'R-1', sent 'R-2'"
    ]


def test_a_web_api_order_must_search_over_the_web_api_after_a_login_for_its_institution() -> None:
    from dataclasses import replace

    order = replace(ORDER, action="webapi-eligibility")
    login = replace(entry(), id=6, transport="webapi", api_id="auth", name="auth", request=b"{}")
    search = entry()
    search.transport = "webapi"
    assert Outcome(order, Report("S.1", "answered"), entries=[login, search]).sent_problems() == []
    over_folder = Outcome(order, Report("S.1", "answered"), entries=[login, entry()]).sent_problems()
    assert over_folder == ["request OQSsiquc01req_1.xml came over 'folder', not the Web API"]
    login.medical_institution = "1310199999"
    other = Outcome(order, Report("S.1", "answered"), entries=[login, search]).sent_problems()
    assert other == ["login (journal #6): 医療機関コード expected '1310112345', sent '1310199999'"]
