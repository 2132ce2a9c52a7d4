"""居宅同意取得型 orders: what the reference client sends and shows, and what a client's requests
are checked against (docs/home-visit.md, docs/vendor-guide.md).

- `home-visit-requery`: 再照会 (OQSsihvq01 訪問診療等 / OQSsionq01 オンライン診療等) for one card;
- `consent-withdrawal`: 閲覧同意取り消し (OQSsihvd01) for one card;
- `consented-bulk`: 同意済資格情報一括取得 (OQSmuhvq / OQSmuonq 01, then 02 while 処理中) by a date range.

Each request carries the order's MedicalTreatmentFlag; a card's 保険者番号 is space-padded to 8.
The request layouts are the gateway's (services/home_visit/layout.py, partly inferred).
"""

from __future__ import annotations

from mockgateway.harness.orders import Card, Order
from mockgateway.wire.xmlcodec import Node, Tree

# Default API ids (HomeVisitSettings.api_ids; the single ones' mapping is inferred).
REQUERY_API = {"2": "OQSsihvq01", "3": "OQSsionq01"}
BULK_FAMILY = {"2": "OQSmuhvq", "3": "OQSmuonq"}
WITHDRAW_API = "OQSsihvd01"


def api_id(order: Order) -> str:
    """The API id an order's first request goes to."""
    if order.action == "home-visit-requery":
        return REQUERY_API.get(order.treatment, REQUERY_API["2"])
    if order.action == "consent-withdrawal":
        return WITHDRAW_API
    return f"{BULK_FAMILY.get(order.treatment, BULK_FAMILY['2'])}01"


def card_info(card: Card) -> dict[str, str]:
    info = {
        "InsurerNumber": card.insurer_number.rjust(8, " "),
        "InsuredCardSymbol": card.symbol,
        "InsuredIdentificationNumber": card.number,
        "InsuredBranchNumber": card.branch,
        "Birthdate": card.birthdate,
    }
    return {k: v for k, v in info.items() if v}


def request_tree(order: Order) -> Tree:
    """The first request of an order, as a well-behaved client sends it."""
    header: Tree = {"MedicalInstitutionCode": order.medical_institution}
    if order.action == "consented-bulk":
        info: dict[str, Node] = {}
        if order.date_range is not None:
            element, start, end = order.date_range
            info[f"{element}From"] = start
            info[f"{element}To"] = end
        info["MedicalTreatmentFlag"] = order.treatment
        return {"MessageHeader": header, "MessageBody": {"QualificationConfirmSearchInfo": info}}
    patient: dict[str, Node] = dict(card_info(order.card))
    patient["MedicalTreatmentFlag"] = order.treatment
    return {"MessageHeader": header, "MessageBody": {"QualificationConfirmSearchInfo": patient}}


def _text(tree: Tree, *path: str) -> str | None:
    node: Node = tree
    for name in path:
        node = node.get(name) if isinstance(node, dict) else None
    return node if isinstance(node, str) else None


def sent_problems(order: Order, where: str, tree: Tree) -> list[str]:
    """The first request the client sent for the order (`tree`, read from `where`), against the order."""
    problems: list[str] = []
    info = ("MessageBody", "QualificationConfirmSearchInfo")
    expected: list[tuple[tuple[str, ...], str | None, str]] = [
        (("MessageHeader", "MedicalInstitutionCode"), order.medical_institution, "医療機関コード"),
        ((*info, "MedicalTreatmentFlag"), order.treatment, "2 訪問診療等 / 3 オンライン診療等"),
    ]
    if order.action == "consented-bulk":
        for element in ("ConsentDate", "ExaminationDate"):
            wanted = order.date_range if order.date_range and order.date_range[0] == element else None
            label = "同意日" if element == "ConsentDate" else "受診日"
            expected.append(((*info, f"{element}From"), wanted[1] if wanted else None, f"{label}の期間の始め"))
            expected.append(((*info, f"{element}To"), wanted[2] if wanted else None, f"{label}の期間の終わり"))
    else:
        card = order.card
        expected += [
            ((*info, "InsurerNumber"), card.insurer_number.rjust(8, " "), "保険者番号 (8桁、6桁は先頭空白埋め)"),
            ((*info, "InsuredCardSymbol"), card.symbol or None, "被保険者証記号"),
            ((*info, "InsuredIdentificationNumber"), card.number, "被保険者証番号"),
            ((*info, "InsuredBranchNumber"), card.branch or None, "被保険者証枝番"),
            ((*info, "Birthdate"), card.birthdate, "生年月日"),
        ]
    for path, want, label in expected:
        got = _text(tree, *path)
        if got != want:
            problems.append(f"{where}: {path[-1]} ({label}) expected {want!r}, sent {got!r}")
    return problems
