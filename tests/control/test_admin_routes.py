from __future__ import annotations

import pytest

from mockgateway.control.admin_routes import AdminError, AdminRequest


def request(body: bytes) -> AdminRequest:
    return AdminRequest("POST", "/admin/x", {}, body)


def test_empty_body_is_an_empty_object() -> None:
    assert request(b"  ").json() == {}
    assert request(b"").json_object() == {}


def test_json_object_refuses_other_json_values() -> None:
    assert request(b'{"a": 1}').json_object() == {"a": 1}
    with pytest.raises(ValueError, match="a JSON object is expected"):
        request(b"[1, 2]").json_object()


def test_body_that_is_not_json_is_a_400() -> None:
    with pytest.raises(AdminError, match="body is not JSON") as caught:
        request(b"{nope").json()
    assert caught.value.status == 400
