"""Steps about people, their qualifications and cards."""

from __future__ import annotations

from pytest_bdd import given

from mockgateway.config import DEFAULT_FIXTURES
from mockgateway.domain.model import Person, Qualification
from mockgateway.fixtures import load_paths
from mockgateway.harness.steps.world import World


@given("既定のペルソナが登録されている")
def default_personas(world: World) -> None:
    world.gateway.load(load_paths([DEFAULT_FIXTURES], world.gateway.clock.today()))


def person(world: World, person_id: str) -> Person:
    found = world.gateway.index.people.get(person_id)
    assert found is not None, f"no persona {person_id!r}; known: {sorted(world.gateway.index.people)}"
    return found


def card(world: World, person_id: str, *, previous: bool = False) -> Qualification:
    """The card the patient shows: the latest qualification, or the one before it."""
    history = sorted(person(world, person_id).qualifications, key=lambda q: q.qualification_date)
    if previous:
        assert len(history) > 1, f"{person_id} has no previous card"
        return history[-2]
    return history[-1]
