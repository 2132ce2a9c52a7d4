"""The harness's public surface is deliberate: one sorted `__all__`, asserted here (httpx's habit)."""

from __future__ import annotations

from mockgateway import harness


def test_public_api_is_sorted_and_as_documented() -> None:
    kinds = sorted(harness.__all__, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert harness.__all__ == kinds  # constants, classes, functions (isort order)
    assert set(harness.__all__) == {
        "AREAS", "CAPABILITIES", "AdminClient", "Card", "ClientAdapter", "CommandAdapter", "Environment",
        "FolderAdapter", "GatewayProcess", "HarnessSettings", "Order", "ReferenceAdapter", "Report", "RunSummary",
        "ScenarioResult", "check_catalogue", "compare", "load_catalogue", "load_settings", "read_expected",
        "render_index", "render_report",
    }  # fmt: skip
    for name in harness.__all__:
        assert getattr(harness, name) is not None
