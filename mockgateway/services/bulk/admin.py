"""Admin routes of the bulk interfaces (loopback + token; docs/bulk.md).

GET /admin/bulk/settings, PUT /admin/bulk/settings (a JSON object of settings to change: pace,
max_records, result_format, retention_seconds, …; kept in the store like every bulk setting),
GET /admin/bulk/jobs?number=<受付番号> (a job's progress).
"""

from __future__ import annotations

from typing import Any

from mockgateway.control.admin_routes import AdminRequest
from mockgateway.engine import Gateway
from mockgateway.services.bulk.service import BulkFeature, feature


def install(gateway: Gateway) -> None:
    """After service.install: the routes act on that feature (none when bulk is not installed)."""
    bulk = feature(gateway)
    if bulk is not None:
        add_routes(gateway, bulk)


def add_routes(gateway: Gateway, bulk: BulkFeature) -> None:
    routes = gateway.admin_routes
    routes[("GET", "/admin/bulk/settings")] = lambda _: (200, bulk.settings.as_dict())
    routes[("PUT", "/admin/bulk/settings")] = lambda r: (200, bulk.configure(**r.json_object()).as_dict())
    routes[("GET", "/admin/bulk/jobs")] = lambda r: _job(bulk, r)


def _job(bulk: BulkFeature, request: AdminRequest) -> tuple[int, Any]:
    number = request.query.get("number")
    if not number:
        return 400, {"error": "give ?number=<受付番号>"}
    status = bulk.status(number)
    if status is None:
        return 404, {"error": f"no bulk job with 受付番号 {number}"}
    return 200, status
