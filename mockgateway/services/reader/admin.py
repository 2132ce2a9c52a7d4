"""Admin routes of the face-auth reader and the card registry (loopback + token; docs/card.md).

POST /admin/reader/place, GET /admin/reader/last, GET|PUT /admin/reader/settings, GET /admin/cards,
POST /admin/cards/reset-pin, POST /admin/cards/revoke.
"""

from __future__ import annotations

from typing import Any

from mockgateway.card.faceauth import ReaderResult
from mockgateway.card.registry import NoCardError
from mockgateway.control.admin_routes import AdminRequest
from mockgateway.domain.certificate import CertificateStatus, assess
from mockgateway.engine import Gateway
from mockgateway.services.reader.session import FaceFeature, feature, placement_from
from mockgateway.wire import xmlcodec


def install(gateway: Gateway) -> None:
    """After session.install: the routes act on that feature."""
    add_routes(gateway, feature(gateway))


def add_routes(gateway: Gateway, face: FaceFeature) -> None:
    routes = gateway.admin_routes
    routes[("POST", "/admin/reader/place")] = lambda r: (200, _place_json(face, r.json_object()))
    routes[("GET", "/admin/reader/last")] = lambda r: _last(face, r)
    routes[("GET", "/admin/reader/settings")] = lambda _: (200, face.settings.as_dict())
    routes[("PUT", "/admin/reader/settings")] = lambda r: (200, face.update_settings(r.json_object()).as_dict())
    routes[("GET", "/admin/cards")] = lambda r: _cards(face, r.query.get("id"))
    routes[("POST", "/admin/cards/reset-pin")] = lambda r: _reset_pin(face, r.json_object())
    routes[("POST", "/admin/cards/revoke")] = lambda r: _revoke(face, r.json_object())


def _result_json(result: ReaderResult) -> dict[str, Any]:
    out = result.as_json()
    out["face_xml"] = xmlcodec_text(result.body) if result.body is not None else None
    return out


def xmlcodec_text(body: bytes) -> str:
    encoding = xmlcodec.declared_encoding(body) or "utf-8"
    return body.decode("cp932" if xmlcodec.is_shift_jis(encoding) else "utf-8", errors="replace")


def _place_json(face: FaceFeature, doc: dict[str, Any]) -> dict[str, Any]:
    return _result_json(face.place(placement_from(doc)))


def _last(face: FaceFeature, request: AdminRequest) -> tuple[int, Any]:
    if face.last is None:
        return 404, {"error": "no card has been placed on the reader yet"}
    return 200, _result_json(face.last)


def _cards(face: FaceFeature, person_id: str | None) -> tuple[int, Any]:
    if person_id is None:
        return 200, {"cards": [c.as_json() for c in face.registry.all_issued()]}
    person = face.gateway.index.people.get(person_id)
    if person is None:
        return 404, {"error": f"no person {person_id}"}
    try:
        card = face.registry.card(person)
    except NoCardError as exc:
        return 404, {"error": str(exc)}
    out = card.as_json()
    a = assess(
        valid_from=card.valid_from,
        expires=card.expires,
        on=face.gateway.clock.today(),
        revoked=face.registry.is_revoked(card.serial),
        rules=face.settings.rules,
    )
    out.update(
        revoked=a.status is CertificateStatus.REVOKED,
        status=a.status.value,
        grace_until=f"{a.grace_until:%Y%m%d}",
        notice_from=f"{a.notice_from:%Y%m%d}",
    )
    return 200, out


def _issued_card(face: FaceFeature, doc: dict[str, Any]) -> Any:
    person = face.gateway.index.people.get(str(doc.get("person_id", "")))
    if person is None:
        raise ValueError(f"person_id {doc.get('person_id')!r}: no such person")
    try:
        return face.registry.card(person)
    except NoCardError as exc:
        raise ValueError(str(exc)) from None


def _reset_pin(face: FaceFeature, doc: dict[str, Any]) -> tuple[int, Any]:
    """What a municipal office does: every counter back to its maximum."""
    card = _issued_card(face, doc)
    card.state.reset_tries()
    return 200, card.as_json()


def _revoke(face: FaceFeature, doc: dict[str, Any]) -> tuple[int, Any]:
    card = _issued_card(face, doc)
    face.registry.revoke(card.person_id)
    return 200, dict(card.as_json(), revoked=True)
