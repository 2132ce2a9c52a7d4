"""A real, short locust run end to end: population, gateway, locust headless, reports, exit code."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="locust is the optional extra `load`: pip install -e '.[load]'"
)


def _run(tmp: Path, out: str, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "loadtests.run", "--profile", "2024-04", "--shape", "peak", "--scale", "0.01",
           "--duration", "6", "--db", str(tmp / "population.sqlite3"), "--size", "1500", "--start-gateway",
           "--out", str(tmp / out), *extra, "--", "--mg-card-pool", "4"]  # fmt: skip
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("load")


# A token starting with '-' (secrets.token_urlsafe gave one once in 64 runs) must reach `serve` and
# locust as a value, and no token may appear in what the run prints.
DASH_TOKEN = "-mg-token-with-a-leading-dash"


def test_a_short_run_answers_every_kind_of_task_correctly_and_writes_its_reports(work: Path) -> None:
    done = _run(work, "ok", f"--admin-token={DASH_TOKEN}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert DASH_TOKEN not in done.stdout + done.stderr
    assert "0 failures" in done.stdout + done.stderr
    with (work / "ok_stats.csv").open(encoding="utf-8") as stats:
        rows = list(csv.DictReader(stats))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    assert int(total["Request Count"]) > 0
    assert int(total["Failure Count"]) == 0
    names = {r["Name"] for r in rows}
    assert any(n.startswith("OQSsiquc01") for n in names), names  # answers were checked, not only sent
    html = (work / "ok.html").read_text(encoding="utf-8")
    assert "<html" in html.lower()
    assert "Aggregated" in html


def test_a_threshold_not_met_sets_the_exit_code(work: Path) -> None:
    done = _run(work, "strict", "--max-p99-ms", "0.001")  # no answer comes back in a microsecond
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "thresholds not met: p99" in done.stdout + done.stderr


def test_generated_admin_tokens_never_look_like_an_option() -> None:
    from mockgateway.control.tokens import new_admin_token

    tokens = {new_admin_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(set(t) <= set("0123456789abcdef") and len(t) == 32 for t in tokens)
