"""Realistic latency (mockgateway.control.latency): the distribution, the setting, and the engine's delay."""

from __future__ import annotations

import random
import statistics

import pytest

from mockgateway.control.latency import PRESETS, LatencyModel, LogNormal, parse_latency
from mockgateway.engine import Format, Gateway
from tests.conftest import eligibility_request


def test_a_log_normal_has_the_median_and_p99_it_was_given() -> None:
    dist = LogNormal(median_ms=250, p99_ms=1200)
    rng = random.Random(1)
    draws = sorted(dist.sample_ms(rng) for _ in range(20_000))
    assert statistics.median(draws) == pytest.approx(250, rel=0.05)
    assert draws[int(0.99 * len(draws))] == pytest.approx(1200, rel=0.1)


def test_floor_and_cap_bound_every_draw() -> None:
    dist = LogNormal(median_ms=100, p99_ms=10_000, floor_ms=50, cap_ms=2_000)
    rng = random.Random(2)
    draws = [dist.sample_ms(rng) for _ in range(5_000)]
    assert min(draws) >= 50
    assert max(draws) <= 2_000


def test_parse_latency() -> None:
    assert parse_latency(None) is None
    assert parse_latency("off") is None
    realistic = parse_latency("realistic", seed=1)
    assert realistic is not None
    assert realistic.by_transport["folder"] is PRESETS["folder"]
    assert realistic.by_transport["webapi"] is PRESETS["http"]
    flat = parse_latency("300:1500")
    assert flat is not None
    assert flat.default == LogNormal(300, 1500)
    assert "others median 300 ms p99 1500 ms" in flat.describe()
    with pytest.raises(ValueError, match="MEDIAN_MS:P99_MS"):
        parse_latency("fast")
    with pytest.raises(ValueError, match="median"):
        parse_latency("500:100")


def test_the_same_seed_draws_the_same_delays() -> None:
    a, b = parse_latency("realistic", seed=5), parse_latency("realistic", seed=5)
    assert a is not None
    assert b is not None
    assert [a.sample("http") for _ in range(5)] == [b.sample("http") for _ in range(5)]
    assert LatencyModel().sample("http") == 0.0


def test_the_engine_adds_the_delay_and_journals_it(gateway: Gateway) -> None:
    request = eligibility_request()
    plain = gateway.process("OQSsiquc01", request, fmt=Format.XML, transport="http")
    assert plain.delay == 0.0
    assert "latency_ms" not in plain.entry.extra
    gateway.settings.latency = parse_latency("200:800", seed=3)
    slow = gateway.process("OQSsiquc01", request, fmt=Format.XML, transport="http")
    assert slow.delay > 0
    assert slow.entry.extra["latency_ms"] == pytest.approx(slow.delay * 1000, abs=0.1)
    assert slow.body == plain.body  # the answer itself is unchanged (the clock stands still)
