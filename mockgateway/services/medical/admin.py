"""Admin routes of the 医療情報 feature (loopback + token, like every admin route; docs/medical.md).

- `GET  /admin/medical/settings`, `PUT /admin/medical/settings` — retention years, viewer roles, font
- `POST /admin/medical/consents` — record consents as a card reader would (until the card feature
  does): `{"person_id", "medical_institution", "kinds": ["drug", …] | "all", "flag": "1",
  "at": "YYYYMMDDHHmmss" (default: the clock), "grace_period": false}`; `DELETE` forgets them all
- `POST /admin/medical/emergency` — 救急時: flag 3 for every kind `{"person_id", "medical_institution"}`
- `GET  /admin/medical/records?id=<person>` — the person's records as stored, and as the clock's
  date shows them after retention; the fixture error if they could not be read
- `GET  /admin/medical/views?since=<journal id>` — every 医療情報 / 災害時 access from the journal
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mockgateway.domain.clock import format_timestamp, parse_timestamp
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import Consent, ConsentKind
from mockgateway.domain.numbers import MedicalInstitutionCode, NumberError
from mockgateway.engine import Gateway
from mockgateway.services.medical import emergency
from mockgateway.services.medical.records import MedicalRecords
from mockgateway.services.medical.service import MedicalFeature, medical_feature

MEDICAL_APIS = ("YZKsiquc01", "TKKsiquc01", "MGWdsquc01")


def install(gateway: Gateway) -> None:
    """After service.install: the routes act on its feature."""
    add_routes(gateway, medical_feature(gateway))


def add_routes(gateway: Gateway, feature: MedicalFeature) -> None:
    routes = gateway.admin_routes
    routes[("GET", "/admin/medical/settings")] = lambda _: (200, feature.settings.as_dict())
    routes[("PUT", "/admin/medical/settings")] = lambda r: (200, feature.update_settings(r.json_object()).as_dict())
    routes[("POST", "/admin/medical/consents")] = lambda r: record_consents(feature, r.json_object())
    routes[("DELETE", "/admin/medical/consents")] = lambda _: clear_consents(feature)
    routes[("POST", "/admin/medical/emergency")] = lambda r: record_emergency(feature, r.json_object())
    routes[("GET", "/admin/medical/records")] = lambda r: records(feature, r.query.get("id", ""))
    routes[("GET", "/admin/medical/views")] = lambda r: views(gateway, r.query)


def _who(feature: MedicalFeature, doc: dict[str, Any]) -> tuple[str, str]:
    person_id = str(doc.get("person_id", ""))
    if person_id not in feature.gateway.index.people:
        raise ValueError(f"person_id {person_id!r}: no such person")
    try:
        mic = MedicalInstitutionCode.parse(str(doc.get("medical_institution", ""))).value
    except NumberError as exc:
        raise ValueError(f"medical_institution: {exc.detail}") from None
    return person_id, mic


def _at(feature: MedicalFeature, doc: dict[str, Any]) -> Any:
    raw = doc.get("at")
    return feature.gateway.clock.now() if raw is None else parse_timestamp(str(raw).ljust(14, "0"))


def record_consents(feature: MedicalFeature, doc: dict[str, Any]) -> tuple[int, Any]:
    person_id, mic = _who(feature, doc)
    raw_kinds = doc.get("kinds", "all")
    kinds = list(ConsentKind) if raw_kinds == "all" else [ConsentKind.parse(str(k)) for k in raw_kinds]
    flag = ConsentFlag(str(doc.get("flag", "1")))
    at = _at(feature, doc)
    grace = str(doc.get("grace_period", False)).lower() in {"true", "1", "yes"}
    recorded = []
    for kind in kinds:
        consent = Consent(person_id, mic, kind, flag, at)
        feature.gateway.consents.record(consent)
        if grace:
            feature.grace.mark(consent)
        recorded.append(_consent(consent, grace))
    return 201, {"recorded": recorded}


def clear_consents(feature: MedicalFeature) -> tuple[int, Any]:
    feature.gateway.consents.clear()
    feature.grace.clear()
    return 200, {"cleared": True}


def record_emergency(feature: MedicalFeature, doc: dict[str, Any]) -> tuple[int, Any]:
    person_id, mic = _who(feature, doc)
    recorded = emergency.record_emergency(feature.gateway.consents, person_id, mic, _at(feature, doc))
    return 201, {"recorded": [_consent(c, False) for c in recorded]}


def _consent(c: Consent, grace: bool) -> dict[str, Any]:
    return {
        "person_id": c.person_id,
        "medical_institution": c.medical_institution,
        "kind": c.kind.value,
        "flag": c.flag.value,
        "given_at": format_timestamp(c.given_at),
        "available_until": format_timestamp(c.available_until),
        "grace_period": grace,
    }


def records_as_json(records: MedicalRecords) -> dict[str, Any]:
    return {
        "drugs": [dataclasses.asdict(r) for r in records.drugs],
        "checkups": [dataclasses.asdict(c) for c in records.checkups],
    }


def records(feature: MedicalFeature, person_id: str) -> tuple[int, Any]:
    if person_id not in feature.gateway.index.people:
        return 404, {"error": f"no person {person_id!r}"}
    stored = feature.records_of(person_id)
    today = feature.gateway.clock.today()
    return 200, {
        "id": person_id,
        "error": feature.index.errors.get(person_id),
        "stored": records_as_json(stored),
        "viewable": records_as_json(stored.retained(feature.settings.retention, today)),
    }


def views(gateway: Gateway, query: dict[str, str]) -> tuple[int, Any]:
    entries = [e for e in gateway.journal.entries(since=int(query.get("since", "0"))) if e.api_id in MEDICAL_APIS]
    return 200, {
        "views": [
            {
                "id": e.id,
                "at": e.at,
                "transport": e.transport,
                "api_id": e.api_id,
                "medical_institution": e.medical_institution,
                "segment": e.segment,
                "reason": e.reason,
                **e.extra,
            }
            for e in entries
        ]
    }
