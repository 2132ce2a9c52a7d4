"""Admin routes of 居宅同意取得型 (docs/admin.md, docs/home-visit.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockgateway.domain.consent import ConsentKind
from mockgateway.domain.continuing_consent import Channel
from mockgateway.domain.numbers import MedicalInstitutionCode
from mockgateway.engine import Gateway
from mockgateway.services.home_visit.feature import HomeVisitFeature, consent_json
from mockgateway.services.home_visit.first_visit import FirstVisit

if TYPE_CHECKING:
    from mockgateway.control.admin_routes import AdminRequest


def add_routes(gateway: Gateway, home: HomeVisitFeature, visit: FirstVisit | None) -> None:
    routes = gateway.admin_routes
    routes[("GET", "/admin/home-visit/settings")] = lambda _: (200, home.settings.as_dict())
    routes[("PUT", "/admin/home-visit/settings")] = lambda r: (200, home.update_settings(r.json_object()).as_dict())
    routes[("GET", "/admin/home-visit/consents")] = lambda r: (
        200,
        {"consents": home.consents_json(r.query.get("mic"), r.query.get("person"))},
    )

    def passcode(request: AdminRequest) -> tuple[int, Any]:
        """目視確認用パスコード取得 (OQS-IF-049/050), as the institution's portal would issue it."""
        doc = request.json_object()
        mic = MedicalInstitutionCode.parse(str(doc.get("medical_institution", ""))).value
        issued = home.issue_passcode(mic, gateway.clock.now())
        return 200, {"medical_institution": mic, "passcode": issued.code,
                     "expires_at": f"{issued.expires_at:%Y%m%d%H%M%S}"}  # fmt: skip

    def withdraw(request: AdminRequest) -> tuple[int, Any]:
        doc = request.json_object()
        consent = home.book.get(str(doc.get("id", "")))
        if consent is None:
            return 404, {"error": f"no continuing consent {doc.get('id')!r}"}
        return 200, consent_json(home.book.withdraw(consent, gateway.clock.now()), gateway.clock.now())

    def register(request: AdminRequest) -> tuple[int, Any]:
        """A continuing consent as a first visit leaves it (set-up for a scenario without a reader)."""
        doc = request.json_object()
        person = str(doc.get("person_id", ""))
        if person not in gateway.index.people:
            return 404, {"error": f"no person {person!r}"}
        mic = MedicalInstitutionCode.parse(str(doc.get("medical_institution", ""))).value
        channel = Channel.parse(str(doc.get("channel", "home-visit")))
        kinds = frozenset(ConsentKind.parse(str(k)) for k in doc.get("kinds") or ["drug", "checkup"])
        consent = home.register(person, mic, channel, kinds, gateway.clock.now())
        if consent is None:
            return 400, {"error": f"channel {channel.value}: no continuing consent (24 h, like the counter)"}
        return 200, consent_json(consent, gateway.clock.now())

    def reader_fault(request: AdminRequest) -> tuple[int, Any]:
        """The counter's face-auth reader out of order (or repaired): {medical_institution, faulted}."""
        if visit is None:
            return 404, {"error": "the card reader is not installed on this gateway"}
        doc = request.json_object()
        mic = MedicalInstitutionCode.parse(str(doc.get("medical_institution", ""))).value
        faulted = doc.get("faulted", True) not in (False, "false", "0", 0)
        return 200, {"faulted": sorted(visit.set_fault(mic, faulted))}

    def clear(_: AdminRequest) -> tuple[int, Any]:
        """Forget first-visit consents and every withdrawal (fixture consents come back as written)."""
        home.book.clear()
        return 200, {"consents": home.consents_json(None, None)}

    routes[("DELETE", "/admin/home-visit/consents")] = clear
    routes[("POST", "/admin/home-visit/reader-fault")] = reader_fault
    routes[("POST", "/admin/home-visit/passcode")] = passcode
    routes[("POST", "/admin/home-visit/consents")] = register
    routes[("POST", "/admin/home-visit/withdraw")] = withdraw
