"""The locust side: an optional extra, never imported by the gateway; its options and classes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests import run

ROOT = Path(__file__).resolve().parents[2]
needs_locust = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="locust is the optional extra `load`: pip install -e '.[load]'"
)


def _python(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_importing_the_gateway_never_imports_locust_or_gevent() -> None:
    modules = ["mockgateway", "mockgateway.app", "mockgateway.server", "mockgateway.cli", "mockgateway.control.latency",
               "mockgateway.population.generate", "loadtests.traffic", "loadtests.people"]  # fmt: skip
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent', 'geventhttpclient')))"
    assert _python(code) == "[]"


@needs_locust
def test_locust_lists_one_user_class_per_facility_type() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "loadtests/locustfile.py", "--list"],
        check=False, capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert {"Hospital", "Clinic", "DentalClinic", "Pharmacy"} <= set(out.stdout.split())
    assert "Reception" not in out.stdout.split()  # abstract


@needs_locust
def test_the_profile_options_are_registered_with_locust() -> None:
    """An invalid --mg-profile is refused by locust's own parser, naming the four profiles."""
    out = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "loadtests/locustfile.py", "--headless", "-H", "http://127.0.0.1:9",
         "--mg-profile", "1999-01", "--mg-phf", "2", "--mg-bf", "1.5", "--mg-scale", "1", "--mg-vendor-share", "1"],
        check=False, capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert "invalid choice: '1999-01'" in out.stderr
    for profile in ("2021-12", "2024-04", "2024-07", "post-2024-12"):
        assert profile in out.stderr


def test_the_runner_refuses_a_target_that_is_not_loopback() -> None:
    with pytest.raises(SystemExit, match="loopback"):
        run.main(["--host", "http://example.com:8080", "--duration", "1"])


@needs_locust
def test_pacing_keeps_each_users_mean_rate_and_spreads_the_instants() -> None:
    """`paced`: intervals within ±jitter of 1/rate, their mean 1/rate; a user that fell behind
    starts afresh instead of firing a burst to catch up (no clock is asserted on: the due
    instants are compared with each other)."""
    code = """
import random, time, types
from loadtests.locustfile import paced
wait = paced(4.0, 0.2)
user = types.SimpleNamespace(rng=random.Random(1), _mg_due=time.monotonic() + 1000)
dues = [user._mg_due]
for _ in range(2000):
    wait(user)
    dues.append(user._mg_due)
steps = [b - a for a, b in zip(dues, dues[1:])]
late = types.SimpleNamespace(rng=random.Random(2), _mg_due=time.monotonic() - 1000)
print(min(steps), max(steps), (dues[-1] - dues[0]) / len(steps), wait(late))
"""
    low, high, mean, late = (float(x) for x in _python(code).split())
    assert 0.2 <= low < 0.22
    assert 0.28 < high <= 0.3
    assert abs(mean - 0.25) < 0.005
    assert late == 0.0
