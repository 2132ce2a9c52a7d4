"""資格確認限定型 (施術所・健診実施機関等・助産所) and the institution registry (docs/limited.md).

Seed 002: 施術所等 use the マイナ資格確認アプリ on a PC / tablet with a 市販の汎用カードリーダー; "患者の
資格情報のみを確認できる簡素な仕組み". So for an institution of a limited kind the gateway:
- answers 資格確認 as for anyone (the card reading and the 被保険者証情報 query);
- refuses every 医療情報 request (薬剤・診療・特定健診) with `limited.medical`, before looking at the
  person (the institution learns nothing about anyone's records), and the 災害時 4-facts search
  with `limited.disaster`.

Which kind an institution is: the registry (fixtures `institutions:`, `PUT /admin/institutions`)
wins; otherwise the 3rd digit of its code by the `digits` setting (domain/institutions.py).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from mockgateway.domain.institutions import DEFAULT_DIGITS, InstitutionCoding, InstitutionKind
from mockgateway.domain.numbers import MedicalInstitutionCode
from mockgateway.engine import INSTITUTIONS_KEY, Gateway
from mockgateway.services.medical.access import Refusal

SETTINGS_KEY = "limited.settings"
_FEATURES: weakref.WeakKeyDictionary[Gateway, LimitedFeature] = weakref.WeakKeyDictionary()


class LimitedFeature:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        saved = gateway.store.get_state(SETTINGS_KEY)
        self.digits: dict[str, InstitutionKind] = dict(DEFAULT_DIGITS)
        if isinstance(saved, Mapping) and isinstance(saved.get("digits"), Mapping):
            self.digits = {str(k): InstitutionKind.parse(str(v)) for k, v in saved["digits"].items()}

    @property
    def coding(self) -> InstitutionCoding:
        saved = self.gateway.store.get_state(INSTITUTIONS_KEY)
        registered = (
            {str(k): InstitutionKind.parse(str(v)) for k, v in saved.items()} if isinstance(saved, Mapping) else {}
        )
        return InstitutionCoding(self.digits, registered)

    def kind_of(self, code: str) -> InstitutionKind:
        return self.coding.kind_of(code)

    def gate(self, code: str, what: str) -> Refusal | None:
        kind = self.kind_of(code)
        if not kind.limited:
            return None
        if what == "disaster":
            return Refusal("limited.disaster", f"医療機関コード {code} は{kind.value} (資格確認限定型) です")
        return Refusal("limited.medical", f"医療機関コード {code} は{kind.value} (資格確認限定型) です: 資格情報のみ")

    def register(self, entries: Mapping[str, Any]) -> dict[str, str]:
        """`{code: kind}`; a kind of null removes the registration."""
        saved = self.gateway.store.get_state(INSTITUTIONS_KEY)
        current: dict[str, str] = dict(saved) if isinstance(saved, Mapping) else {}
        for raw, kind in entries.items():
            code = MedicalInstitutionCode.parse(str(raw)).value
            if kind is None:
                current.pop(code, None)
            else:
                current[code] = InstitutionKind.parse(str(kind)).value
        self.gateway.store.set_state(INSTITUTIONS_KEY, current)
        return current

    def set_digits(self, digits: Mapping[str, Any]) -> dict[str, str]:
        parsed = {str(k): InstitutionKind.parse(str(v)) for k, v in digits.items()}
        bad = sorted(d for d in parsed if d not in {"1", "3", "4", "6", "7", "8", "9"})
        if bad:
            raise ValueError(f"digits: 点数表番号 1/3/4/6/7/8/9 only, got {bad}")
        self.digits = {**dict(DEFAULT_DIGITS), **parsed}
        self.gateway.store.set_state(SETTINGS_KEY, {"digits": {k: v.value for k, v in self.digits.items()}})
        return {k: v.value for k, v in self.digits.items()}

    def as_json(self) -> dict[str, Any]:
        coding = self.coding
        return {
            "digits": {k: v.value for k, v in sorted(coding.digits.items())},
            "registered": {k: v.value for k, v in sorted(coding.registered.items())},
            "limited_kinds": sorted(k.value for k in InstitutionKind if k.limited),
        }


def feature(gateway: Gateway) -> LimitedFeature:
    try:
        return _FEATURES[gateway]
    except KeyError:
        raise LookupError(
            "the 資格確認限定型 feature is not installed (mockgateway.services.limited.install)"
        ) from None


def kind_of(gateway: Gateway, code: str) -> InstitutionKind:
    found = _FEATURES.get(gateway)
    return found.kind_of(code) if found is not None else InstitutionCoding().kind_of(code)


def install(gateway: Gateway) -> None:
    """After medical_service: the 医療情報 and 災害時 gates; admin routes /admin/institutions."""
    limited = LimitedFeature(gateway)
    _FEATURES[gateway] = limited
    try:
        from mockgateway.services.medical.service import medical_feature

        medical_feature(gateway).institution_gate = limited.gate
    except LookupError:
        pass
    routes = gateway.admin_routes
    routes[("GET", "/admin/institutions")] = lambda _: (200, limited.as_json())
    routes[("PUT", "/admin/institutions")] = lambda r: _put(limited, r.json())


def _put(limited: LimitedFeature, doc: Any) -> tuple[int, Any]:
    if not isinstance(doc, Mapping):
        raise ValueError('a JSON object {"registered": {code: kind|null}, "digits": {digit: kind}} is expected')
    unknown = sorted(set(doc) - {"registered", "digits"})
    if unknown:
        raise ValueError(f"unknown keys {unknown}; use registered, digits")
    if isinstance(doc.get("registered"), Mapping):
        limited.register(doc["registered"])
    if isinstance(doc.get("digits"), Mapping):
        limited.set_digits(doc["digits"])
    return 200, limited.as_json()
