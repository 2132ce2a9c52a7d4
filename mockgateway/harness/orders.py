"""Orders and reports: what the harness asks the client under test to do, and what it says it did.

An *order* is one action of the レセコン in a scenario ("もし レセコンが … で資格確認する"). The
harness never acts for the client: it hands the order over (to our reference client, as a JSON
file in the orders folder for a vendor's test driver, or on a vendor command's standard input)
and waits for a *report* of what the client displayed or parsed. Both are plain JSON, documented
in docs/vendor-guide.md; `SCHEMA_ORDER` / `SCHEMA_REPORT` version them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_ORDER = "mockgateway.order/1"
SCHEMA_REPORT = "mockgateway.report/1"

Action = Literal[
    "eligibility",  # 資格確認 (OQSsiquc01): one card
    "webapi-eligibility",  # 資格確認 over the Web API (TLS client certificate, login then search): one card
    "bulk",  # 資格確認一括照会 (OQSmuquc01 upload, OQSmuquc02 polls): cards
    "bulk-download",  # 一括照会の結果取得 only (OQSmuquc02) for a given 受付番号: reception_number
    "reference-number",  # 照会番号登録 (OQSsiimm01): one card with its reference_number
    "reference-number-bulk",  # 照会番号一括登録 (OQSmuimm01 upload, OQSmuimm02 polls): cards with reference_number
    "face",  # show the newest card-reader result in face/
    "raw",  # exact request bytes (reference client only)
    # 居宅同意取得型 (docs/home-visit.md): treatment = MedicalTreatmentFlag 2 (訪問診療等) / 3 (オンライン診療等)
    "home-visit-requery",  # 再照会 (OQSsihvq01 / OQSsionq01): one card, no My Number card
    "consented-bulk",  # 同意済資格情報一括取得 (OQSmuhvq01 / OQSmuonq01, then 02 polls): date_range
    "consent-withdrawal",  # 閲覧同意取り消し (OQSsihvd01): one card
]
BULK_ACTIONS: tuple[str, ...] = ("bulk", "reference-number-bulk")  # upload, then poll while 処理中
ELIGIBILITY_ACTIONS: tuple[str, ...] = ("eligibility", "webapi-eligibility")  # one card, one result list
HOME_VISIT_ACTIONS: tuple[str, ...] = ("home-visit-requery", "consented-bulk", "consent-withdrawal")
TREATMENTS = {"2": "訪問診療等", "3": "オンライン診療等"}  # MedicalTreatmentFlag of the 居宅 interfaces ([Y2])
ReportStatus = Literal["answered", "no-answer", "error", "unsupported"]
REPORT_STATUSES: tuple[str, ...] = ("answered", "no-answer", "error", "unsupported")

# Elements of ResultOfQualificationConfirmation a client is expected to be able to report.
RESULT_FIELDS: tuple[str, ...] = (
    "InsurerNumber",
    "InsuredCardSymbol",
    "InsuredIdentificationNumber",
    "InsuredBranchNumber",
    "PersonalFamilyClassification",
    "InsuredName",
    "Name",
    "NameKana",
    "Sex1",
    "Birthdate",
    "QualificationDate",
    "DisqualificationDate",
    "ReasonOfLoss",
    "InsuredPartialContributionRatio",
    "LimitApplicationCertificateRelatedConsFlg",
)


class ReportError(ValueError):
    """A report that does not follow the documented shape; the message names the key."""


@dataclass(frozen=True, slots=True)
class Card:
    """A 被保険者証 / 資格確認書 as the reception clerk reads it: numbers as printed."""

    insurer_number: str  # 6 or 8 digits, as printed (no padding)
    symbol: str
    number: str
    branch: str
    birthdate: str  # YYYYMMDD
    reference_number: str = ""  # 照会番号 to register (reference-number orders only)

    def as_json(self) -> dict[str, str]:
        doc = {
            "insurer_number": self.insurer_number,
            "symbol": self.symbol,
            "number": self.number,
            "branch": self.branch,
            "birthdate": self.birthdate,
        }
        if self.reference_number:
            doc["reference_number"] = self.reference_number
        return doc

    def describe(self) -> str:
        b = self.birthdate
        parts = [f"保険者番号 {self.insurer_number}"]
        if self.symbol:
            parts.append(f"記号 {self.symbol}")
        parts.append(f"番号 {self.number}")
        parts.append(f"枝番 {self.branch}" if self.branch else "枝番なし")
        parts.append(f"生年月日 {b[:4]}-{b[4:6]}-{b[6:]}" if len(b) == 8 else f"生年月日 {b!r}")
        if self.reference_number:
            parts.append(f"照会番号 {self.reference_number}")
        return " ".join(parts)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Card:
        return cls(
            insurer_number=str(doc["insurer_number"]),
            symbol=str(doc.get("symbol") or ""),
            number=str(doc["number"]),
            branch=str(doc.get("branch") or ""),
            birthdate=str(doc["birthdate"]),
            reference_number=str(doc.get("reference_number") or ""),
        )


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    scenario_id: str
    scenario_title: str
    action: Action
    medical_institution: str
    confirmation_date: str  # YYYYMMDD
    cards: tuple[Card, ...] = ()
    limit_consent: bool = False
    api_id: str = "OQSsiquc01"
    raw: bytes | None = None  # action "raw": the exact request bytes (reference client only)
    reception_number: str | None = None  # action "bulk-download": the 受付番号 to ask for
    treatment: str = ""  # 居宅 actions: MedicalTreatmentFlag 2 / 3
    # consented-bulk: (ConsentDate | ExaminationDate, from, to) YYYYMMDD; None: send no range (as ordered)
    date_range: tuple[str, str, str] | None = None
    timeout_seconds: float = 30.0
    gateway: dict[str, Any] = field(default_factory=dict)  # root, http: where the client points
    # Web API orders: whether the search names MessageHeader/MedicalInstitutionCode (the idToken
    # already does), and how a 6-digit 保険者番号 is left-padded to 8 ("space" as in files, or "zero"
    # as public Web API clients send it; docs/webapi.md)
    send_medical_institution_code: bool = True
    insurer_padding: str = "space"

    @property
    def padded_insurer_number(self) -> str:
        """The card's 保険者番号 as the order asks the client to send it."""
        return self.card.insurer_number.rjust(8, "0" if self.insurer_padding == "zero" else " ")

    @property
    def card(self) -> Card:
        assert self.cards, f"order {self.order_id} carries no card"
        return self.cards[0]

    def instruction(self) -> str:
        """The order in words, for a person at the keyboard or in a driver's log."""
        d = self.confirmation_date
        date = f"{d[:4]}-{d[4:6]}-{d[6:]}"
        who = f"医療機関コード {self.medical_institution} のレセコンで"
        if self.action == "eligibility":
            consent = "限度額情報の提供に同意して" if self.limit_consent else ""
            card = self.card.describe()
            return f"{who}、資格確認日 {date} として、{consent}次の被保険者証で資格確認してください: {card}"
        if self.action == "webapi-eligibility":
            consent = "限度額情報の提供に同意して" if self.limit_consent else ""
            card = self.card.describe()
            access = self.gateway.get("webapi", {})
            login = access.get("login_url", access.get("url", "(gateway.webapi.login_url)"))
            search = access.get("search_url", "(gateway.webapi.search_url)")
            how = "" if self.send_medical_institution_code else "医療機関コードを付けずに、"
            if self.insurer_padding == "zero":
                how += "6桁の保険者番号は先頭を0で埋めて、"
            return (
                f"{who}、Web API のログイン先 ({login}) に医療機関のクライアント証明書でログインし、"
                f"照会先 ({search}) に資格確認日 {date} として、{how}{consent}"
                f"次の被保険者証で資格確認してください: {card}"
            )
        if self.action == "face":
            return f"{who}、カードリーダーで資格確認した患者の結果 (face フォルダに届いたもの) を表示してください"
        if self.action == "bulk":
            listed = " / ".join(c.describe() for c in self.cards)
            return (
                f"{who}、資格確認日 {date} として、次の {len(self.cards)} 件を一括照会し、処理中の間は間隔をあけて"
                f"結果を問い合わせ、届いた結果を表示してください: {listed}"
            )
        if self.action == "bulk-download":
            return f"{who}、受付番号 {self.reception_number} の一括照会の結果を取得して表示してください"
        if self.action == "reference-number":
            return f"{who}、次の被保険者証に照会番号を登録してください: {self.card.describe()}"
        if self.action == "reference-number-bulk":
            listed = " / ".join(c.describe() for c in self.cards)
            return f"{who}、次の {len(self.cards)} 件の照会番号を一括登録し、結果を表示してください: {listed}"
        kind = TREATMENTS.get(self.treatment, f"MedicalTreatmentFlag {self.treatment}")
        if self.action == "home-visit-requery":
            return f"{who}、{kind}の患者をカードなしで再照会し、結果を表示してください: {self.card.describe()}"
        if self.action == "consent-withdrawal":
            return f"{who}、{kind}の閲覧同意を取り消してください: {self.card.describe()}"
        if self.action == "consented-bulk":
            if self.date_range is None:
                period = "期間を指定せずに (指示どおり)"
            else:
                element, start, end = self.date_range
                label = "同意日" if element == "ConsentDate" else "受診日"
                period = f"{label} {start}〜{end} で"
            return (
                f"{who}、{kind}の同意済資格情報を{period}一括取得し、処理中の間は間隔をあけて結果を問い合わせ、"
                "届いた結果を表示してください"
            )
        return f"{who}、指定の {self.api_id} 要求ファイルをそのまま送ってください"

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema": SCHEMA_ORDER,
            "order_id": self.order_id,
            "scenario": {"id": self.scenario_id, "title": self.scenario_title},
            "action": self.action,
            "instruction": self.instruction(),
            "medical_institution": self.medical_institution,
            "confirmation_date": self.confirmation_date,
            "api_id": self.api_id,
            "timeout_seconds": self.timeout_seconds,
            "gateway": self.gateway,
        }
        if self.action in ELIGIBILITY_ACTIONS:
            doc["card"] = self.card.as_json()
            doc["limit_consent"] = self.limit_consent
            if self.action == "webapi-eligibility":
                doc["send_medical_institution_code"] = self.send_medical_institution_code
                doc["insurer_padding"] = self.insurer_padding
        elif self.action == "reference-number":
            doc["card"] = self.card.as_json()
        elif self.action in BULK_ACTIONS:
            doc["cards"] = [c.as_json() for c in self.cards]
        elif self.action == "bulk-download":
            doc["reception_number"] = self.reception_number
        elif self.action in HOME_VISIT_ACTIONS:
            doc["treatment"] = self.treatment
            if self.action == "consented-bulk":
                element, start, end = self.date_range or ("", "", "")
                doc["date_range"] = {"element": element, "from": start, "to": end} if self.date_range else None
            else:
                doc["card"] = self.card.as_json()
        elif self.raw is not None:
            doc["raw"] = self.raw.decode("utf-8", errors="replace")
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Order:
        action = doc["action"]
        cards: tuple[Card, ...] = ()
        if "card" in doc:
            cards = (Card.from_json(doc["card"]),)
        elif "cards" in doc:
            cards = tuple(Card.from_json(c) for c in doc["cards"])
        scenario = doc.get("scenario") or {}
        return cls(
            order_id=str(doc["order_id"]),
            scenario_id=str(scenario.get("id", "")),
            scenario_title=str(scenario.get("title", "")),
            action=action,
            medical_institution=str(doc["medical_institution"]),
            confirmation_date=str(doc["confirmation_date"]),
            cards=cards,
            limit_consent=bool(doc.get("limit_consent", False)),
            api_id=str(doc.get("api_id", "OQSsiquc01")),
            raw=str(doc["raw"]).encode("utf-8") if doc.get("raw") is not None else None,
            reception_number=str(doc["reception_number"]) if doc.get("reception_number") is not None else None,
            treatment=str(doc.get("treatment") or ""),
            date_range=_date_range(doc.get("date_range")),
            timeout_seconds=float(doc.get("timeout_seconds", 30.0)),
            gateway=dict(doc.get("gateway") or {}),
            send_medical_institution_code=bool(doc.get("send_medical_institution_code", True)),
            insurer_padding=str(doc.get("insurer_padding") or "space"),
        )


@dataclass(frozen=True, slots=True)
class Report:
    """What the client under test says it got, as it would show it to the clerk."""

    order_id: str
    status: ReportStatus
    segment: str | None = None  # SegmentOfResult as read from the result
    error_code: str | None = None
    error_message: str | None = None
    validity: str | None = None  # QualificationValidity
    results: tuple[dict[str, str], ...] = ()  # one per ResultOfQualificationConfirmation, element → value
    message: str = ""  # free text: what the screen showed, or why it gave up
    request_file: str | None = None
    result_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_REPORT,
            "order_id": self.order_id,
            "status": self.status,
            "segment": self.segment,
            "error_code": self.error_code,
            "error_message": self.error_message,
            "validity": self.validity,
            "results": [dict(r) for r in self.results],
            "message": self.message,
            "request_file": self.request_file,
            "result_file": self.result_file,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, doc: Any, *, order_id: str | None = None) -> Report:
        """Validate a report; a wrong shape raises ReportError naming the key and what was expected."""
        if not isinstance(doc, dict):
            raise ReportError(f"a report is a JSON object, got {type(doc).__name__}")
        status = doc.get("status")
        if status not in REPORT_STATUSES:
            raise ReportError(f"status must be one of {list(REPORT_STATUSES)}, got {status!r}")
        got_id = doc.get("order_id")
        if order_id is not None and got_id is not None and str(got_id) != order_id:
            raise ReportError(f"order_id {got_id!r} answers another order (expected {order_id!r})")
        results = doc.get("results") or []
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
            raise ReportError("results must be a list of objects (element name → value)")
        for key in ("segment", "error_code", "error_message", "validity", "request_file", "result_file"):
            value = doc.get(key)
            if value is not None and not isinstance(value, str | int):
                raise ReportError(f"{key} must be a string or null, got {type(value).__name__}")
        extra = doc.get("extra") or {}
        return cls(
            order_id=str(got_id if got_id is not None else order_id or ""),
            status=status,
            segment=_opt(doc.get("segment")),
            error_code=_opt(doc.get("error_code")),
            error_message=_opt(doc.get("error_message")),
            validity=_opt(doc.get("validity")),
            results=tuple({str(k): _value(v) for k, v in r.items()} for r in results),
            message=str(doc.get("message") or ""),
            request_file=_opt(doc.get("request_file")),
            result_file=_opt(doc.get("result_file")),
            extra=dict(extra) if isinstance(extra, dict) else {"value": extra},
        )


def _date_range(doc: Any) -> tuple[str, str, str] | None:
    if not isinstance(doc, dict):
        return None
    return (str(doc.get("element") or ""), str(doc.get("from") or ""), str(doc.get("to") or ""))


def _value(value: Any) -> str:
    """A reported element: text as is; a group (object or list) as compact JSON; null as ""."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def yyyymmdd(day: dt.date) -> str:
    return day.strftime("%Y%m%d")
