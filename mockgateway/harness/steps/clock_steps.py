"""Steps about the gateway's clock."""

from __future__ import annotations

import datetime as dt

from pytest_bdd import given, parsers, when

from mockgateway.domain.clock import JST
from mockgateway.harness.steps.world import World


def _when(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=JST)


@given(parsers.parse('現在日時は "{when}" である'))
def clock_is(world: World, when: str) -> None:
    world.gateway.clock.set(_when(when), running=False)


@when(parsers.parse('時計を "{when}" に進める'))
def clock_moves(world: World, when: str) -> None:
    world.gateway.clock.set(_when(when), running=False)
