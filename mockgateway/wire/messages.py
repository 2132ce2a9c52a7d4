"""Request trees → typed requests, with errors in the interface's terms.

`RequestError.kind` is a result-code name (codes.py); `element` is the element path, so the
ErrorMessage tells a vendor exactly which element broke which rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace

from mockgateway.domain.clock import parse_date
from mockgateway.domain.model import CardKey
from mockgateway.domain.numbers import (
    InsurerNumber,
    MedicalInstitutionCode,
    NumberError,
    normalize_branch,
    normalize_number,
    normalize_symbol,
)
from mockgateway.wire.xmlcodec import Node, Rendered, Tree


class RequestError(ValueError):
    def __init__(self, kind: str, element: str, detail: str) -> None:
        super().__init__(f"{element}: {detail}")
        self.kind, self.element, self.detail = kind, element, detail


_NUMBER_KIND = {"check_digit": "xml.check_digit", "required": "xml.required"}


def number_error(element: str, exc: NumberError) -> RequestError:
    return RequestError(_NUMBER_KIND.get(exc.rule, "xml.format"), element, exc.detail)


def child(tree: Mapping[str, Node], name: str, path: str, *, required: bool = True) -> Tree:
    node = tree.get(name)
    if node is None or node == "":
        if required:
            raise RequestError("xml.required", f"{path}/{name}", "必須項目です")
        return {}
    if not isinstance(node, dict):
        raise RequestError("xml.format", f"{path}/{name}", "子要素を持つ要素が必要です")
    return node


def children(tree: Mapping[str, Node], name: str, path: str) -> list[Tree]:
    node = tree.get(name)
    if node is None:
        return []
    items = node if isinstance(node, list) else [node]
    out: list[Tree] = []
    for item in items:
        if not isinstance(item, dict):
            raise RequestError("xml.format", f"{path}/{name}", "子要素を持つ要素が必要です")
        out.append(item)
    return out


def text(tree: Mapping[str, Node], name: str, path: str, *, required: bool = False) -> str | None:
    value = tree.get(name)  # what xmlcodec.text_at does for one name, without its generality
    if value is not None and type(value) is not str:
        detail = f"{name} が複数あります" if isinstance(value, list) else f"{name} は値を持つ要素です"
        raise RequestError("xml.format", f"{path}/{name}", detail)
    if value is None or value.strip() == "":
        if required:
            raise RequestError("xml.required", f"{path}/{name}", "必須項目です")
        return None
    return value


def date(tree: Mapping[str, Node], name: str, path: str, *, required: bool = False) -> dt.date | None:
    raw = text(tree, name, path, required=required)
    if raw is None:
        return None
    try:
        return parse_date(raw.strip())
    except ValueError as exc:
        raise RequestError("xml.date", f"{path}/{name}", str(exc)) from None


def flag(tree: Mapping[str, Node], name: str, path: str, allowed: tuple[str, ...] = ("0", "1")) -> str | None:
    raw = text(tree, name, path)
    if raw is not None and raw.strip() not in allowed:
        raise RequestError("xml.format", f"{path}/{name}", f"{raw!r} は {'/'.join(allowed)} のいずれかです")
    return raw.strip() if raw is not None else None


def parse_institution(header: Mapping[str, Node], path: str = "XmlMsg/MessageHeader") -> MedicalInstitutionCode:
    raw = text(header, "MedicalInstitutionCode", path, required=True)
    assert raw is not None
    try:
        return MedicalInstitutionCode.parse(raw)
    except NumberError as exc:
        raise number_error(f"{path}/MedicalInstitutionCode", exc) from None


def parse_insurer(
    info: Mapping[str, Node], path: str, *, strict_padding: bool = True, zero_padded: bool = False
) -> InsurerNumber:
    """`strict_padding`: a 6-digit insurer number must come right-aligned in 8 characters with
    leading spaces (§1.3); a vendor who sends it bare is told so rather than silently served.
    `zero_padded`: "00" + 6 digits is that 6-digit number too (the Web API's public clients pad
    with zeros; no 法別番号 is 00)."""
    raw = text(info, "InsurerNumber", path, required=True)
    assert raw is not None
    if zero_padded and len(raw) == 8 and raw.startswith("00") and raw[2:].isdigit() and raw.isascii():
        try:
            return InsurerNumber.parse(raw[2:])
        except NumberError as exc:
            raise number_error(f"{path}/InsurerNumber", exc) from None
    try:
        insurer = InsurerNumber.parse(raw)
    except NumberError as exc:
        raise number_error(f"{path}/InsurerNumber", exc) from None
    if strict_padding and raw != insurer.padded:
        raise RequestError(
            "xml.format",
            f"{path}/InsurerNumber",
            f"8桁に満たない保険者番号は先頭を半角空白で埋めて8桁にします: 送信 {raw!r}、期待 {insurer.padded!r}",
        )
    return insurer


CARD_ELEMENTS = ("InsuredCardSymbol", "InsuredIdentificationNumber", "InsuredBranchNumber")


def parse_card(
    info: Mapping[str, Node],
    path: str,
    names: tuple[str, str, str] = CARD_ELEMENTS,
    *,
    strict_padding: bool = True,
    zero_padded: bool = False,
) -> CardKey:
    """保険者番号 + 記号・番号・枝番; `names` are the 記号/番号/枝番 element names, which differ
    between interfaces (薬剤・特定健診 use InsuranceCardSymbol, InsuredPersonIdentificationNumber, BranchNumber)."""
    insurer = parse_insurer(info, path, strict_padding=strict_padding, zero_padded=zero_padded)
    parts: list[str] = []
    for element, normalize in zip(names, (normalize_symbol, normalize_number, normalize_branch), strict=True):
        try:  # one at a time, so the error names the element that broke the rule
            parts.append(normalize(text(info, element, path)))
        except NumberError as exc:
            raise number_error(f"{path}/{element}", exc) from None
    return CardKey(insurer.value, *parts)


@dataclass(frozen=True, slots=True)
class Header:
    medical_institution: MedicalInstitutionCode
    confirmation_date: dt.date | None
    arbitrary_file_identifier: str | None


def message(tree: Mapping[str, Node]) -> tuple[Tree, Tree]:
    """The request's MessageHeader and MessageBody (XmlMsg is the root, already checked)."""
    header = child(tree, "MessageHeader", "XmlMsg")
    body = child(tree, "MessageBody", "XmlMsg", required=False)
    return header, body


def parse_header(header: Mapping[str, Node], *, date_required: bool, institution: str | None = None) -> Header:
    """`institution`: the 医療機関コード the carrier authenticated, standing in for an absent
    MedicalInstitutionCode (the Web API's idToken already names the 医療機関)."""
    path = "XmlMsg/MessageHeader"
    if institution is not None and not (text(header, "MedicalInstitutionCode", path) or "").strip():
        header = {**header, "MedicalInstitutionCode": institution}
    mic = parse_institution(header, path)
    return Header(
        medical_institution=mic,
        confirmation_date=date(header, "QualificationConfirmationDate", path, required=date_required),
        arbitrary_file_identifier=text(header, "ArbitraryFileIdentifier", path),
    )


def echo_header(tree: Mapping[str, Node]) -> dict[str, str]:
    """What can be echoed from a request whose parsing failed (best effort, never raises)."""
    out: dict[str, str] = {}
    header = tree.get("MessageHeader")
    if isinstance(header, dict):
        for name in ("QualificationConfirmationDate", "MedicalInstitutionCode", "ArbitraryFileIdentifier"):
            value = header.get(name)
            if isinstance(value, str):
                out[name] = value
    return out


@dataclass(frozen=True, slots=True)
class SearchInfo:
    """資格確認照会用情報, as sent (for the echo) and normalised (for the search)."""

    raw: Tree
    card: CardKey
    insurer: InsurerNumber
    birthdate: dt.date
    limit_consent: bool
    arbitrary_identifier: str | None


def parse_search_info(
    info: Mapping[str, Node], path: str, *, strict_padding: bool = True, zero_padded: bool = False
) -> SearchInfo:
    card = parse_card(info, path, strict_padding=strict_padding, zero_padded=zero_padded)
    birth = date(info, "Birthdate", path, required=True)
    assert birth is not None
    consent = flag(info, "LimitApplicationCertificateRelatedConsFlg", path)
    return SearchInfo(
        raw={k: v for k, v in info.items() if isinstance(v, str)},
        card=card,
        insurer=InsurerNumber(card.insurer_number),
        birthdate=birth,
        limit_consent=consent == "1",
        arbitrary_identifier=text(info, "ArbitraryIdentifier", path),
    )


SEARCH_INFO_CACHE = 20_000  # validated 資格確認照会用情報 kept (a few hundred bytes each)
_search_infos: dict[tuple[object, ...], SearchInfo] = {}


def parse_search_info_memo(
    info: Mapping[str, Node], path: str, *, strict_padding: bool = True, zero_padded: bool = False
) -> SearchInfo:
    """`parse_search_info`, remembered per exact request values: the parse is a pure function of
    the element values (and the padding settings, part of the key), and a clinic asks about the
    same patient again and again. The echo comes back `Rendered` (read-only, its XML made once).
    A request that breaks a rule raises each time (errors are not remembered)."""
    try:
        key = (path, strict_padding, zero_padded, *info.items())
        hit = _search_infos.get(key)
    except TypeError:  # a nested element (unhashable): nothing to remember
        return parse_search_info(info, path, strict_padding=strict_padding, zero_padded=zero_padded)
    if hit is None:
        parsed = parse_search_info(info, path, strict_padding=strict_padding, zero_padded=zero_padded)
        hit = replace(parsed, raw=Rendered(parsed.raw))
        if len(_search_infos) >= SEARCH_INFO_CACHE:
            _search_infos.clear()  # whole-cache eviction: no bookkeeping
        _search_infos[key] = hit
    return hit
