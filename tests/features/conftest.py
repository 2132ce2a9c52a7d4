"""Wires the shared step modules (grouped by domain concept) into the Gherkin catalogue."""

from __future__ import annotations

from typing import Any

from tests.steps.bulk_steps import *  # noqa: F403
from tests.steps.card_steps import *  # noqa: F403
from tests.steps.client_steps import *  # noqa: F403
from tests.steps.clock_steps import *  # noqa: F403
from tests.steps.fault_steps import *  # noqa: F403
from tests.steps.home_visit_steps import *  # noqa: F403
from tests.steps.journal_steps import *  # noqa: F403
from tests.steps.medical_steps import *  # noqa: F403
from tests.steps.people_steps import *  # noqa: F403
from tests.steps.reference_steps import *  # noqa: F403
from tests.steps.result_steps import *  # noqa: F403
from tests.steps.world import world  # noqa: F401


def pytest_bdd_apply_tag(tag: str, function: Any) -> bool | None:
    """Scenario ids (@OQS-…) and rule references (@rule:…) are catalogue metadata, not markers."""
    del function
    if tag.startswith(("OQS-", "rule:", "doc:", "area:")):
        return True
    return None
