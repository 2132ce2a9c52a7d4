"""One order's outcome, seen twice: what the client reports, and what the gateway's journal saw.

Then-steps assert on both. `sent_problems` compares the request(s) the client actually sent
(from the journal) with the order: the right 医療機関コード, the 保険者番号 space-padded to eight,
the 資格確認日, the card keys and the consent flag (照会番号 registrations: the 照会番号 too;
a result download: the 受付番号). Each problem names the element, what was expected and what
came, so a vendor knows what to fix. How often a bulk client polled is not judged here but by
`mockgateway.services.bulk.polling` (steps about the polling pattern).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mockgateway.client.folder import Exchange
from mockgateway.control.journal import JournalEntry
from mockgateway.harness import home_visit
from mockgateway.harness.adapters import read_result_file
from mockgateway.harness.orders import BULK_ACTIONS, HOME_VISIT_ACTIONS, Order, Report
from mockgateway.wire import jsoncodec, xmlcodec
from mockgateway.wire.xmlcodec import Node, Tree

MAX_REQUESTS_PER_ORDER = 3  # a client may retry once or twice; more is a loop


@dataclass(slots=True)
class Outcome:
    order: Order
    report: Report
    exchange: Exchange | None = None  # the raw files, when the adapter saw them (reference client)
    entries: list[JournalEntry] = field(default_factory=list)  # what the gateway journaled meanwhile

    # -- what the gateway answered (for Then-steps about the terminal itself) -----------------

    @property
    def entry(self) -> JournalEntry:
        """The journal entry of the client's request for this order (the last one, after retries).
        For an upload-then-poll order, the last download once there is one (the result shown)."""
        mine = [e for e in self.entries if e.api_id == self.order.api_id]
        if self.order.action in BULK_ACTIONS:
            download = f"{self.order.api_id[:8]}02"
            mine = [e for e in self.entries if e.api_id == download] or mine
        assert mine, (
            f"the client sent no {self.order.api_id} request to the gateway for order {self.order.order_id} "
            f"(report: {self.report.status} {self.report.message!r})"
        )
        return mine[-1]

    @property
    def tree(self) -> Tree:
        if self.exchange is not None:
            return self.exchange.tree
        return parse_any(self.entry.response)

    @property
    def encoding(self) -> str:
        if self.exchange is not None:
            return self.exchange.encoding
        return xmlcodec.parse(self.entry.response).encoding

    @property
    def request_name(self) -> str:
        if self.exchange is not None:
            return self.exchange.request_name
        return self.entry.name or ""

    @property
    def result_name(self) -> str:
        if self.exchange is not None:
            return self.exchange.result_name
        if self.report.result_file:
            return self.report.result_file
        name = self.request_name
        return name.replace("req_", "res_", 1)

    # -- what the client sent ------------------------------------------------------------------

    def sent_problems(self) -> list[str]:
        if self.order.action in ("raw", "face"):
            return []  # raw: the bytes were the scenario's; face: the terminal wrote it, the client sent nothing
        if self.report.status == "no-answer" and not self.entries:
            return [f"the client sent nothing for order {self.order.order_id}: {self.report.message}"]
        mine = [e for e in self.entries if e.api_id.startswith(self.order.api_id[:8])]
        if not mine:
            seen = ", ".join(f"{e.api_id} {e.name}" for e in self.entries) or "nothing"
            order = self.order
            return [f"the client sent no {order.api_id} request for order {order.order_id} (gateway saw: {seen})"]
        problems: list[str] = []
        # Polls of an upload-then-poll order are many by design: only its uploads count as retries.
        polled = (*BULK_ACTIONS, "consented-bulk")
        counted = [e for e in mine if e.api_id == self.order.api_id] if self.order.action in polled else mine
        if len(counted) > MAX_REQUESTS_PER_ORDER:
            problems.append(f"{len(counted)} requests for one order (at most {MAX_REQUESTS_PER_ORDER} expected)")
        if self.order.action == "eligibility":
            problems += eligibility_problems(self.order, mine[-1])
        elif self.order.action == "webapi-eligibility":
            problems += webapi_problems(self.order, self.entries, mine[-1])
            problems += eligibility_problems(self.order, mine[-1])
        elif self.order.action == "reference-number":
            problems += registration_problems(self.order, mine[-1])
        elif self.order.action == "bulk-download":
            problems += download_problems(self.order, mine[-1])
        elif self.order.action in HOME_VISIT_ACTIONS:
            first = [e for e in mine if e.api_id == self.order.api_id] or mine
            where, tree, unreadable = _read(first[-1])
            problems += unreadable if tree is None else home_visit.sent_problems(self.order, where, tree)
            problems += poll_problems(self.order, first[-1], [e for e in mine if e.api_id != self.order.api_id])
        elif self.order.action in BULK_ACTIONS:
            uploads = [e for e in mine if e.api_id == self.order.api_id]
            if not uploads:
                return [*problems, f"no {self.order.api_id} upload was sent for order {self.order.order_id}"]
            problems += bulk_problems(self.order, uploads[-1])
            polls = [e for e in mine if e.api_id != self.order.api_id]
            problems += poll_problems(self.order, uploads[-1], polls)
        return problems


def parse_any(raw: bytes) -> Tree:
    """A journaled body: XML (folder, convenience route) or JSON (Web API, in-process)."""
    stripped = raw.lstrip()
    if stripped.startswith((b"{", b"[")):
        _, tree = jsoncodec.parse(raw)
        return tree
    return xmlcodec.parse(read_result_file(raw)).tree


def _text(tree: Tree, *path: str) -> str | None:
    node: Node = tree
    for name in path:
        if not isinstance(node, dict):
            return None
        node = node.get(name)
    return node if isinstance(node, str) else None


def _read(entry: JournalEntry, kind: str = "request") -> tuple[str, Tree | None, list[str]]:
    """Where to say a problem is, the sent tree, and the problem when it cannot be read."""
    where = f"{kind} {entry.name or entry.api_id} (journal #{entry.id})"
    try:
        return where, parse_any(entry.request), []
    except Exception as exc:  # the gateway journals what it could not parse too
        return where, None, [f"{where}: not a readable request: {exc}"]


def _mic_problems(where: str, tree: Tree, order: Order) -> list[str]:
    mic = _text(tree, "MessageHeader", "MedicalInstitutionCode")
    if mic != order.medical_institution:
        return [f"{where}: MedicalInstitutionCode expected {order.medical_institution!r}, sent {mic!r}"]
    return []


def eligibility_problems(order: Order, entry: JournalEntry) -> list[str]:
    where, tree, unreadable = _read(entry)
    if tree is None:
        return unreadable
    card = order.card
    info = ("MessageBody", "QualificationConfirmSearchInfo")
    mic = order.medical_institution if order.send_medical_institution_code else None
    padding = "0" if order.insurer_padding == "zero" else "空白"
    expected: list[tuple[tuple[str, ...], str | None, str]] = [
        (("MessageHeader", "MedicalInstitutionCode"), mic, "医療機関コード"),
        (("MessageHeader", "QualificationConfirmationDate"), order.confirmation_date, "資格確認日"),
        ((*info, "InsurerNumber"), order.padded_insurer_number, f"保険者番号 (8桁、6桁は先頭{padding}埋め)"),
        ((*info, "InsuredCardSymbol"), card.symbol or None, "被保険者証記号"),
        ((*info, "InsuredIdentificationNumber"), card.number, "被保険者証番号"),
        ((*info, "InsuredBranchNumber"), card.branch or None, "被保険者証枝番"),
        ((*info, "Birthdate"), card.birthdate, "生年月日"),
        (
            (*info, "LimitApplicationCertificateRelatedConsFlg"),
            "1" if order.limit_consent else "0",
            "限度額適用認定証提供同意フラグ",
        ),
    ]
    problems = []
    for path, want, label in expected:
        got = _text(tree, *path)
        if path[-1] == "LimitApplicationCertificateRelatedConsFlg" and got is None:
            got = "0"  # absent means not consented
        if (got or None) != want:
            problems.append(f"{where}: {'/'.join(path)} ({label}) expected {want!r}, sent {got!r}")
    return problems


def webapi_problems(order: Order, entries: list[JournalEntry], search: JournalEntry) -> list[str]:
    """The Web API way: the search came over the Web API; a login sent for the order names its
    医療機関コード (a client may reuse an earlier token: the gateway only accepts one it issued)."""
    problems = []
    if search.transport != "webapi":
        problems.append(f"request {search.name or search.api_id} came over {search.transport!r}, not the Web API")
    logins = [e for e in entries if e.transport == "webapi" and e.api_id == "auth" and e.id < search.id]
    if logins and logins[-1].medical_institution != order.medical_institution:
        got = logins[-1].medical_institution
        problems.append(
            f"login (journal #{logins[-1].id}): 医療機関コード expected {order.medical_institution!r}, sent {got!r}"
        )
    return problems


def _records(tree: Tree, element: str) -> list[Tree]:
    body = tree.get("MessageBody")
    node: Node = body.get(element) if isinstance(body, dict) else None
    return [r for r in (node if isinstance(node, list) else [node]) if isinstance(r, dict)]


def _card_problems(where: str, record: Tree, order: Order, index: int, *, registration: bool) -> list[str]:
    card = order.cards[index]
    expected: list[tuple[str, str | None]] = [
        ("InsurerNumber", card.insurer_number.rjust(8, " ")),
        ("InsuredCardSymbol", card.symbol or None),
        ("InsuredIdentificationNumber", card.number),
        ("InsuredBranchNumber", card.branch or None),
    ]
    expected.append(("ReferenceNumber", card.reference_number) if registration else ("Birthdate", card.birthdate))
    label = f"record {index + 1} " if order.action in BULK_ACTIONS else ""
    problems = []
    for element, want in expected:
        got = record.get(element)
        got = got if isinstance(got, str) else None
        if (got or None) != (want or None):
            problems.append(f"{where}: {label}{element} expected {want!r}, sent {got!r}")
    return problems


def bulk_problems(order: Order, entry: JournalEntry) -> list[str]:
    """The upload (01): the right 医療機関コード, the 資格確認日 (一括照会), and every card's keys as
    ordered (space-padded; 照会番号一括登録: with its 照会番号), in the order given."""
    where, tree, unreadable = _read(entry, "upload")
    if tree is None:
        return unreadable
    problems = _mic_problems(where, tree, order)
    registration = order.action == "reference-number-bulk"
    if not registration:  # without the header date the terminal judges on its own date at upload (inferred)
        sent = _text(tree, "MessageHeader", "QualificationConfirmationDate")
        applied = sent or (entry.at[:8] or None)
        if applied is not None and applied != order.confirmation_date:
            how = f"sent {sent!r}" if sent else f"not sent, so the terminal used its date {applied}"
            want = order.confirmation_date
            problems.append(f"{where}: QualificationConfirmationDate (資格確認日) expected {want!r}, {how}")
    element = "ReferenceNumberRegistrationInfo" if registration else "QualificationConfirmSearchInfo"
    records = _records(tree, element)
    if len(records) != len(order.cards):
        problems.append(f"{where}: {len(records)} records sent, {len(order.cards)} cards ordered")
    for i, record in enumerate(records[: len(order.cards)]):
        problems += _card_problems(where, record, order, i, registration=registration)
    return problems


def registration_problems(order: Order, entry: JournalEntry) -> list[str]:
    """照会番号登録 (OQSsiimm01): 医療機関コード, the card's keys (保険者番号 padded) and the 照会番号."""
    where, tree, unreadable = _read(entry)
    if tree is None:
        return unreadable
    problems = _mic_problems(where, tree, order)
    records = _records(tree, "ReferenceNumberRegistrationInfo")
    if len(records) != 1:
        return [*problems, f"{where}: {len(records)} ReferenceNumberRegistrationInfo sent, 1 expected"]
    return problems + _card_problems(where, records[0], order, 0, registration=True)


def download_problems(order: Order, entry: JournalEntry, reception_number: str | None = None) -> list[str]:
    """A download (02): the 医療機関コード and the 受付番号 (the order's, or the upload's answer)."""
    where, tree, unreadable = _read(entry, "download")
    if tree is None:
        return unreadable
    problems = _mic_problems(where, tree, order)
    want = reception_number if reception_number is not None else order.reception_number
    got = _text(tree, "MessageBody", "ReceptionNumber")
    if (got or "").strip() != want:
        problems.append(f"{where}: ReceptionNumber (受付番号) expected {want!r}, sent {got!r}")
    return problems


def poll_problems(order: Order, upload: JournalEntry, polls: list[JournalEntry]) -> list[str]:
    """Every download of an upload-then-poll order names the 受付番号 the upload was answered with."""
    number = upload.extra.get("reception_number")
    if not isinstance(number, str):
        return []  # the upload was refused: there was nothing to poll for
    return [p for poll in polls for p in download_problems(order, poll, number)]


def report_problems(report: Report) -> list[str]:
    """A report that cannot be asserted on at all (the client gave up or broke)."""
    if report.status == "answered":
        return []
    return [f"the client reported {report.status}: {report.message}"]
