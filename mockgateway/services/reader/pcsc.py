"""The PC/SC card reader service on the admin API (loopback + token; docs/card.md): a fixture
person's My Number card in a real pcscd reader, for software that reads cards itself.

GET /admin/card/reader, POST /admin/card/reader/start, POST /admin/card/reader/stop,
POST /admin/card/insert {"person_id", "slot": "face" | "plain"}, POST /admin/card/remove {"slot"}.
The cards are the face-auth reader's (one registry): a PIN failed in one counts in the other.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mockgateway.card.pcsc_service import CardReaderService, ReaderServiceError
from mockgateway.card.registry import NoCardError
from mockgateway.control.admin_routes import AdminRequest
from mockgateway.engine import Gateway
from mockgateway.services.reader.session import FaceFeature, feature

_SERVICES: weakref.WeakKeyDictionary[Gateway, CardReaderService] = weakref.WeakKeyDictionary()


def service_of(gateway: Gateway) -> CardReaderService:
    """The card reader service installed on `gateway` (LookupError if `install` was not called)."""
    try:
        return _SERVICES[gateway]
    except KeyError:
        raise LookupError("the PC/SC card reader service is not installed on this gateway") from None


class _StopWithGateway:
    """Stops pcscd when the gateway stops (a Worker: nothing to do at start)."""

    def __init__(self, service: CardReaderService) -> None:
        self.service = service

    def start(self) -> None:
        return None

    def stop(self) -> None:
        self.service.stop()


def install(gateway: Gateway, workdir: Path) -> CardReaderService:
    """After session.install: the service keeps its state in `workdir` (<root>/card-reader)."""
    service = CardReaderService(workdir)
    _SERVICES[gateway] = service
    add_routes(gateway, feature(gateway), service)
    gateway.workers.append(_StopWithGateway(service))
    return service


def add_routes(gateway: Gateway, face: FaceFeature, service: CardReaderService) -> None:
    routes = gateway.admin_routes
    routes[("GET", "/admin/card/reader")] = _answer(lambda _: service.status())
    routes[("POST", "/admin/card/reader/start")] = _answer(lambda _: service.start())
    routes[("POST", "/admin/card/reader/stop")] = _answer(lambda _: service.stop())
    routes[("POST", "/admin/card/insert")] = _answer(lambda r: _insert(face, service, r.json_object()))
    routes[("POST", "/admin/card/remove")] = _answer(lambda r: service.remove(_slot(r.json_object())))


def _answer(handler: Callable[[AdminRequest], dict[str, Any]]) -> Callable[[AdminRequest], tuple[int, Any]]:
    def answer(request: AdminRequest) -> tuple[int, Any]:
        try:
            return 200, handler(request)
        except ReaderServiceError as exc:
            return exc.status, {"error": str(exc)}

    return answer


def _slot(doc: dict[str, Any]) -> str:
    slot = doc.get("slot", "plain")
    if not isinstance(slot, str):
        raise ReaderServiceError(400, "slot: 'face' or 'plain'")
    return slot


def _insert(face: FaceFeature, service: CardReaderService, doc: dict[str, Any]) -> dict[str, Any]:
    person_id = doc.get("person_id")
    if not isinstance(person_id, str) or not person_id:
        raise ReaderServiceError(400, "person_id: the fixture person whose card is inserted")
    person = face.gateway.index.people.get(person_id)
    if person is None:
        raise ReaderServiceError(404, f"no person {person_id}")
    try:
        card = face.registry.card(person)
    except NoCardError as exc:
        raise ReaderServiceError(404, str(exc)) from None
    return service.insert(_slot(doc), person_id, card.model())
