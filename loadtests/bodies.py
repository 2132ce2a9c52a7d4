"""Request bodies as レセコン send them, and the few facts a load test reads back from answers.

Eligibility requests are built from a template (a load generator must not spend its CPU on XML);
bulk and 医療情報 requests use the gateway's own client helpers (`mockgateway.services.bulk.layout`,
`mockgateway.services.medical.client`), so the load follows the layouts the gateway implements.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import orjson

from loadtests.people import CardKeys, Patient

_VALIDITY = re.compile(rb"<QualificationValidity>(\d)</QualificationValidity>")
_SEGMENT = re.compile(rb"<SegmentOfResult>(\d)</SegmentOfResult>")
_RECEPTION = re.compile(rb"<ReceptionNumber>([^<]+)</ReceptionNumber>")
_ERROR = re.compile(rb"<ErrorCode>([^<]*)</ErrorCode>")


def _info(keys: CardKeys, birthdate: str, consent: str) -> str:
    symbol = f"<InsuredCardSymbol>{keys.symbol}</InsuredCardSymbol>" if keys.symbol else ""
    branch = f"<InsuredBranchNumber>{keys.branch}</InsuredBranchNumber>" if keys.branch else ""
    return (
        f"<InsurerNumber>{keys.insurer}</InsurerNumber>{symbol}"
        f"<InsuredIdentificationNumber>{keys.number}</InsuredIdentificationNumber>{branch}"
        f"<Birthdate>{birthdate}</Birthdate>"
        f"<LimitApplicationCertificateRelatedConsFlg>{consent}</LimitApplicationCertificateRelatedConsFlg>"
    )


def eligibility_xml(
    mic: str, date: str, keys: CardKeys, birthdate: str, *, consent: str = "0", file_id: str = ""
) -> bytes:
    """An OQSsiquc01req in Shift_JIS, as most レセコン write it."""
    ident = f"<ArbitraryFileIdentifier>{file_id}</ArbitraryFileIdentifier>" if file_id else ""
    text = (
        '<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>\n'
        f"<XmlMsg><MessageHeader><QualificationConfirmationDate>{date}</QualificationConfirmationDate>"
        f"<MedicalInstitutionCode>{mic}</MedicalInstitutionCode>{ident}</MessageHeader>"
        f"<MessageBody><QualificationConfirmSearchInfo>{_info(keys, birthdate, consent)}"
        "</QualificationConfirmSearchInfo></MessageBody></XmlMsg>\n"
    )
    return text.encode("cp932")


def eligibility_json(mic: str, date: str, keys: CardKeys, birthdate: str, *, consent: str = "0") -> bytes:
    """The same query for the Web API (…/ILI01030SV01/search)."""
    info = {"InsurerNumber": keys.insurer, "InsuredIdentificationNumber": keys.number, "Birthdate": birthdate,
            "LimitApplicationCertificateRelatedConsFlg": consent}  # fmt: skip
    if keys.symbol:
        info["InsuredCardSymbol"] = keys.symbol
    if keys.branch:
        info["InsuredBranchNumber"] = keys.branch
    header = {"QualificationConfirmationDate": date, "MedicalInstitutionCode": mic}
    return orjson.dumps({"XmlMsg": {"MessageHeader": header, "MessageBody": {"QualificationConfirmSearchInfo": info}}})


def typo(keys: CardKeys) -> CardKeys:
    """A clerk's slip: one digit of the 番号 changed (the gateway must answer 4 該当資格なし)."""
    digits = list(keys.number)
    last = digits[-1]
    digits[-1] = "0" if last != "0" else "1"
    return CardKeys(keys.insurer, keys.symbol, "9" + "".join(digits), keys.branch)


def bulk_upload(mic: str, date: str, patients: Sequence[Patient], *, file_id: str = "") -> bytes:
    from mockgateway.services.bulk.layout import CONFIRM, upload_tree
    from mockgateway.wire import xmlcodec

    records = []
    for i, p in enumerate(patients):
        record: dict[str, str | None] = {
            "InsurerNumber": p.keys.insurer,
            "InsuredCardSymbol": p.keys.symbol,
            "InsuredIdentificationNumber": p.keys.number,
            "InsuredBranchNumber": p.keys.branch,
            "Birthdate": p.birthdate,
            "ArbitraryIdentifier": f"{i + 1:06d}",
        }
        records.append({k: v for k, v in record.items() if v is not None})
    tree = upload_tree(CONFIRM, mic, records, file_identifier=file_id or None, confirmation_date=date)
    return xmlcodec.render("XmlMsg", tree, "Shift_JIS")


def bulk_download(mic: str, reception_number: str) -> bytes:
    from mockgateway.services.bulk.layout import download_tree
    from mockgateway.wire import xmlcodec

    return xmlcodec.render("XmlMsg", download_tree(mic, reception_number), "Shift_JIS")


def medical(mic: str, keys: CardKeys, role: str = "doctor") -> bytes:
    """A YZKsiquc01req / TKKsiquc01req (same layout) by card numbers, XML result, 外来, viewed by `role`."""
    from mockgateway.services.medical.client import medical_request

    card = {
        "InsurerNumber": keys.insurer,
        "InsuranceCardSymbol": keys.symbol,
        "InsuredPersonIdentificationNumber": keys.number,
        "BranchNumber": keys.branch,
    }
    return medical_request(card, medical_institution=mic, file_category="2", viewer_role=role)


def validity(body: bytes) -> str | None:
    found = _VALIDITY.search(body)
    return found.group(1).decode() if found else None


def segment(body: bytes) -> str | None:
    found = _SEGMENT.search(body)
    return found.group(1).decode() if found else None


def error_code(body: bytes) -> str | None:
    found = _ERROR.search(body)
    return found.group(1).decode() if found else None


def reception_number(body: bytes) -> str | None:
    found = _RECEPTION.search(body)
    return found.group(1).decode("cp932") if found else None
