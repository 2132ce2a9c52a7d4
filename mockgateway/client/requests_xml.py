"""Request documents as a レセコン writes them (OQSsiquc01req and friends)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mockgateway.domain.clock import format_date
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree


@dataclass(frozen=True, slots=True)
class CardQuery:
    """What the reception clerk types from a 被保険者証 / 資格確認書."""

    insurer_number: str  # as printed: 6 or 8 digits
    symbol: str
    number: str
    branch: str
    birthdate: dt.date
    limit_consent: bool = False
    arbitrary_identifier: str | None = None

    def search_info(self) -> Tree:
        info: Tree = {
            "InsurerNumber": self.insurer_number.rjust(8, " "),  # 6-digit 国保: leading spaces (§1.3)
            "InsuredCardSymbol": self.symbol or None,
            "InsuredIdentificationNumber": self.number,
            "InsuredBranchNumber": self.branch or None,
            "Birthdate": format_date(self.birthdate),
            "LimitApplicationCertificateRelatedConsFlg": "1" if self.limit_consent else "0",
            "ArbitraryIdentifier": self.arbitrary_identifier,
        }
        return {k: v for k, v in info.items() if v is not None}


def eligibility_request(
    query: CardQuery,
    *,
    medical_institution: str,
    on: dt.date,
    file_identifier: str | None = None,
    encoding: str = "Shift_JIS",
) -> bytes:
    header: Tree = {"QualificationConfirmationDate": format_date(on), "MedicalInstitutionCode": medical_institution}
    if file_identifier:
        header["ArbitraryFileIdentifier"] = file_identifier
    tree: Tree = {"MessageHeader": header, "MessageBody": {"QualificationConfirmSearchInfo": query.search_info()}}
    return xmlcodec.render("XmlMsg", tree, encoding)
