"""The pytest plugin's fixtures against a real gateway subprocess, and its options."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mockgateway.harness.orders import Card, Order
from mockgateway.harness.remote import AdminClient, AdminError, GatewayProcess
from mockgateway.pytest_plugin import Clock, JournalView


def test_server_fixture_runs_the_gateway_with_its_admin_api(mockgateway_server: GatewayProcess) -> None:
    status = mockgateway_server.admin.status()
    assert "OQSsiquc01" in status["apis"]
    assert status["people"] > 0
    assert (mockgateway_server.root / "req").is_dir()
    assert "GET /admin/status" in mockgateway_server.admin.routes()
    with pytest.raises(AdminError) as caught:
        AdminClient(mockgateway_server.http, "wrong-token").status()
    assert caught.value.status == 401


def test_clock_fixtures_and_journal(
    mockgateway_clock: Clock, mockgateway_fixtures: Any, mockgateway_journal: JournalView, mockgateway_client: Any
) -> None:
    assert mockgateway_clock.set("20261123100000") == "20261123100000"
    assert mockgateway_clock.advance(days=1) == "20261124100000"
    loaded = mockgateway_fixtures(
        textwrap.dedent(
            """
            version: "1"
            insurers:
              - {InsurerNumber: "06139992", InsurerName: 模擬商事健康保険組合}
            persons:
              - id: test-person
                Name: 試験　太郎
                NameKana: シケン　タロウ
                Sex1: "1"
                Birthdate: "19800101"
                qualifications:
                  - InsurerNumber: "06139992"
                    InsuredCardSymbol: "9"
                    InsuredIdentificationNumber: "1"
                    InsuredBranchNumber: "00"
                    InsuredCardClassification: "01"
                    PersonalFamilyClassification: "1"
                    InsuredName: 試験　太郎
                    QualificationDate: "20200401"
            """
        )
    )
    assert loaded["loaded"] == ["test-person"]
    order = Order(
        order_id="plugin.1", scenario_id="plugin", scenario_title="", action="eligibility",
        medical_institution="1310112345", confirmation_date="20261124",
        cards=(Card("06139992", "9", "1", "00", "19800101"),), timeout_seconds=10,
    )  # fmt: skip
    report = mockgateway_client.perform(order).report
    assert report.status == "answered"
    assert report.validity == "1"
    assert report.results[0]["Name"] == "試験　太郎"
    sent = mockgateway_journal.since_mark(api_id="OQSsiquc01")
    assert [e["medical_institution"] for e in sent] == ["1310112345"]
    assert sent[0]["transport"] == "folder"


def test_reader_seam_skips_until_the_card_feature_serves_it(mockgateway_server: GatewayProcess) -> None:
    from mockgateway.pytest_plugin import Reader

    served = Reader.PLACE in mockgateway_server.admin.routes()
    assert isinstance(served, bool)  # either way the fixture knows; with it: Reader(admin).place(...)


def run_pytest(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_x.py").write_text("def test_x():\n    pass\n", encoding="utf-8")
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path / "test_x.py"), *options]
    return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--mg-adapter=command"], "the command adapter needs --mg-command"),
        (["--mg-capabilities=eligibility,teleport"], "unknown capabilities ['teleport']"),
        (["--mg-config=missing.toml"], "missing.toml"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path: Path, options: list[str], message: str) -> None:
    done = run_pytest(tmp_path, *options)
    if "--mg-adapter=command" in options:  # the adapter is made lazily, by the fixture that needs it
        assert done.returncode == 0, done.stdout + done.stderr
        return
    assert done.returncode == 4, done.stdout + done.stderr
    assert message in done.stderr


def test_report_option_writes_ci_outputs_even_without_scenarios(tmp_path: Path) -> None:
    done = run_pytest(tmp_path, f"--mg-report={tmp_path / 'out'}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out" / "junit.xml").exists()
    assert not (tmp_path / "out" / "summary.json").exists()  # no scenario ran: nothing to summarise


def test_a_gateway_that_cannot_start_says_why(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="unrecognized arguments: --no-such-flag") as caught:
        GatewayProcess.start(tmp_path, extra_args=["--no-such-flag"], attempts=2)
    assert str(caught.value).count("exit status 2") == 2  # each attempt, with the process's own words
