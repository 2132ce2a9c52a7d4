"""Wires the step modules (mockgateway.harness.steps, grouped by domain concept) into the catalogue."""

from __future__ import annotations

from typing import Any

from mockgateway.harness.steps.bulk_result_steps import *  # noqa: F403
from mockgateway.harness.steps.bulk_steps import *  # noqa: F403
from mockgateway.harness.steps.card_reader_steps import *  # noqa: F403
from mockgateway.harness.steps.card_steps import *  # noqa: F403
from mockgateway.harness.steps.client_steps import *  # noqa: F403
from mockgateway.harness.steps.clock_steps import *  # noqa: F403
from mockgateway.harness.steps.fault_steps import *  # noqa: F403
from mockgateway.harness.steps.home_visit_steps import *  # noqa: F403
from mockgateway.harness.steps.journal_steps import *  # noqa: F403
from mockgateway.harness.steps.medical_steps import *  # noqa: F403
from mockgateway.harness.steps.people_steps import *  # noqa: F403
from mockgateway.harness.steps.reference_steps import *  # noqa: F403
from mockgateway.harness.steps.result_steps import *  # noqa: F403
from mockgateway.harness.steps.world import world  # noqa: F401


def pytest_bdd_apply_tag(tag: str, function: Any) -> bool | None:
    """Scenario ids (@OQS-…) and rule references (@rule:…) are catalogue metadata, not markers."""
    del function
    if tag.startswith(("OQS-", "rule:", "doc:", "area:")):
        return True
    return None
