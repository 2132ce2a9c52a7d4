"""The catalogue run against a fake vendor's software (tests/harness/fake_vendor.py, a separate
program), as a vendor would run it: pytest with --mg-adapter folder / command, then the report.

The well-behaved vendor passes everything it claims (the rest is omitted); the deliberately wrong
one fails, and the report shows why, with the request it actually sent as evidence.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.etree
import lxml.html
import pytest

ROOT = Path(__file__).resolve().parents[2]
FAKE_VENDOR = Path(__file__).with_name("fake_vendor.py")
# A representative subset for the slower variants: the whole 被保険者証 area, 資格喪失, two faults.
SUBSET = "OQS-ELIG-*,OQS-LOSS-001,OQS-LOSS-004,OQS-FAULT-001,OQS-FAULT-002"

pytestmark = pytest.mark.slow


@dataclass
class Run:
    returncode: int
    output: str
    report: Path

    @property
    def summary(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads((self.report / "summary.json").read_text(encoding="utf-8"))
        return doc

    def scenario(self, sid: str) -> dict[str, Any]:
        found = [s for s in self.summary["scenarios"] if s["id"] == sid]
        assert found, f"{sid} not in the summary"
        return found[0]

    def statuses(self) -> dict[str, str]:
        return {s["id"]: s["status"] for s in self.summary["scenarios"]}


def run_catalogue(report: Path, *options: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MOCKGATEWAY_"))}
    argv = [sys.executable, "-m", "pytest", "mockgateway/harness/suite", "-p", "no:cacheprovider", "-q", "-rs",
            f"--mg-report={report}", *options]  # fmt: skip
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env, check=False)
    return Run(done.returncode, done.stdout + done.stderr, report)


@pytest.fixture
def vendor(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Path, Path]]:
    """The fake vendor watching ROOT and ORDERS; `wrong` by indirect parametrisation."""
    wrong = bool(getattr(request, "param", False))
    root, orders = tmp_path / "oqs", tmp_path / "orders"
    argv = [sys.executable, str(FAKE_VENDOR), "watch", "--root", str(root), "--orders", str(orders)]
    process = subprocess.Popen([*argv, *(["--wrong"] if wrong else [])])
    try:
        yield root, orders
    finally:
        orders.mkdir(parents=True, exist_ok=True)
        (orders / "fake-vendor.stop").touch()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(10)


@pytest.fixture(scope="module")
def good_baseline(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The well-behaved vendor over the folder adapter, the whole catalogue."""
    tmp = tmp_path_factory.mktemp("good")
    root, orders = tmp / "oqs", tmp / "orders"
    process = subprocess.Popen(
        [sys.executable, str(FAKE_VENDOR), "watch", "--root", str(root), "--orders", str(orders)]
    )
    try:
        return run_catalogue(tmp / "report", "--mg-adapter=folder", f"--mg-root={root}", f"--mg-orders={orders}")
    finally:
        orders.mkdir(parents=True, exist_ok=True)
        (orders / "fake-vendor.stop").touch()
        process.wait(10)


def test_a_well_behaved_vendor_passes_what_it_claims(good_baseline: Run) -> None:
    run = good_baseline
    assert run.returncode == 0, run.output[-4000:]
    statuses = run.statuses()
    assert set(statuses.values()) <= {"pass", "omit"}, statuses
    assert statuses["OQS-ELIG-001"] == "pass"
    assert statuses["OQS-FAULT-002"] == "pass"  # it gave up on a lost answer and said so
    omitted = {s["id"]: s["message"] for s in run.summary["scenarios"] if s["status"] == "omit"}
    assert omitted["OQS-ELIG-010"].startswith("the client does not claim capability raw-request")
    assert all(run.scenario(sid)["capabilities"] != ["eligibility"] for sid in omitted), omitted
    # CI outputs next to the summary
    assert (run.report / "junit.xml").read_text(encoding="utf-8").startswith("<?xml")
    cucumber = json.loads((run.report / "cucumber.json").read_text(encoding="utf-8"))
    ran = [s for s in statuses.values() if s != "omit"]  # omitted before their first step: not in cucumber.json
    assert sum(len(f["elements"]) for f in cucumber) == len(ran)


def test_evidence_is_what_went_over_the_folders(good_baseline: Run) -> None:
    evidence = good_baseline.scenario("OQS-ELIG-003")["evidence"]
    kinds = [e["kind"] for e in evidence]
    assert kinds[:2] == ["order", "report"]
    exchange = next(e for e in evidence if e["kind"] == "exchange")
    assert exchange["data"]["transport"] == "folder"
    assert "<InsurerNumber>  139998</InsurerNumber>" in exchange["data"]["request"]
    assert "<QualificationValidity>1</QualificationValidity>" in exchange["data"]["response"]
    report = next(e for e in evidence if e["kind"] == "report")["data"]["report"]
    assert report["status"] == "answered"
    assert report["results"][0]["InsurerNumber"] == "  139998"


@pytest.mark.parametrize("vendor", [True], indirect=True)
def test_a_wrong_vendor_fails_with_evidence_and_the_changes_since_the_baseline(
    vendor: tuple[Path, Path], good_baseline: Run, tmp_path: Path
) -> None:
    root, orders = vendor
    run = run_catalogue(
        tmp_path / "report", "--mg-adapter=folder", f"--mg-root={root}", f"--mg-orders={orders}",
        f"--mg-select={SUBSET}", f"--mg-expected={good_baseline.report / 'summary.json'}",
    )  # fmt: skip
    assert run.returncode == 1, run.output[-4000:]
    statuses = run.statuses()
    assert statuses["OQS-ELIG-001"] == "pass"  # an 8-digit 保険者番号: nothing to pad
    padded = run.scenario("OQS-ELIG-003")
    assert padded["status"] == "fail"
    assert (
        "InsurerNumber (保険者番号 (8桁、6桁は先頭空白埋め)) expected '  139998', sent '00139998'" in padded["message"]
    )
    sent = [e["data"]["request"] for e in padded["evidence"] if e["kind"] == "exchange"]
    assert any("<InsurerNumber>00139998</InsurerNumber>" in r for r in sent)
    consent = run.scenario("OQS-ELIG-006")
    assert consent["status"] == "fail"
    assert (
        "LimitApplicationCertificateRelatedConsFlg (限度額適用認定証提供同意フラグ) expected '1', sent '0'"
        in consent["message"]
    )
    lost = run.scenario("OQS-LOSS-004")
    assert lost["status"] == "fail"
    assert "the client did not report DisqualificationDate" in lost["message"]
    steps = {s["text"]: s["status"] for s in lost["steps"]}
    assert steps['結果の "DisqualificationDate" は "20261016" である'] == "failed"
    # what changed since the well-behaved baseline
    changes = {c["id"]: c["kind"] for c in run.summary["changes"]}
    assert changes["OQS-ELIG-003"] == "regression"
    assert changes["OQS-ELIG-006"] == "regression"
    assert changes["OQS-FAULT-003"] == "removed"  # not selected in this run
    # the HTML report says the same, with the evidence
    doc = lxml.html.fromstring((run.report / "report.html").read_text(encoding="utf-8"))
    failed = doc.xpath("//details[@id='OQS-ELIG-003']")[0]
    assert failed.get("data-status") == "fail"
    assert "<InsurerNumber>00139998</InsurerNumber>" in failed.text_content()
    assert "regression" in doc.xpath("string(//table[@class='changes'])")


def test_the_command_adapter_runs_a_vendor_command_per_order_over_http(tmp_path: Path) -> None:
    """A vendor command that talks HTTP (the convenience route) to the catalogue's one listener."""
    command = f"{sys.executable} {FAKE_VENDOR} command --http"
    run = run_catalogue(
        tmp_path / "report", "--mg-adapter=command", f"--mg-command={command}", "--mg-http-port=0",
        f"--mg-select={SUBSET},OQS-FAULT-004",
    )  # fmt: skip
    assert run.returncode == 0, run.output[-4000:]
    statuses = run.statuses()
    assert statuses["OQS-ELIG-003"] == "pass"
    assert statuses["OQS-FAULT-002"] == "pass"  # the cut connection was reported as no answer
    assert statuses["OQS-ELIG-011"] == "omit"
    assert run.scenario("OQS-FAULT-004")["message"].startswith("the client does not claim capability folder")
    assert run.summary["adapter"] == "command"
    exchange = next(e for e in run.scenario("OQS-ELIG-003")["evidence"] if e["kind"] == "exchange")
    assert (exchange["data"]["transport"], exchange["data"]["name"]) == ("http", "/oqs/OQSsiquc01")
    order = next(e for e in run.scenario("OQS-ELIG-003")["evidence"] if e["kind"] == "order")["data"]["order"]
    assert order["gateway"]["http"].startswith("http://127.0.0.1:")


# Card-reader scenarios: the vendor is told to show the face result; each face-file step judges what
# it showed, then the file. A reader error without a face file asks nothing of the vendor: omitted.
CARD_SUBSET = "OQS-CARD-001,OQS-CARD-006,OQS-CARD-020,OQS-CARD-023,OQS-CERT-001,OQS-CERT-007"


@pytest.mark.parametrize("vendor", [True], indirect=True)
def test_card_scenarios_judge_what_the_vendor_showed(vendor: tuple[Path, Path], tmp_path: Path) -> None:
    root, orders = vendor
    run = run_catalogue(
        tmp_path / "report", "--mg-adapter=folder", f"--mg-root={root}", f"--mg-orders={orders}",
        "--mg-capabilities=eligibility,face,certificate", f"--mg-select={CARD_SUBSET}",
    )  # fmt: skip
    statuses = run.statuses()
    assert statuses["OQS-CARD-001"] == "pass", run.scenario("OQS-CARD-001")["message"]
    assert statuses["OQS-CERT-001"] == "pass"  # it showed the certificate's expiry notice
    assert statuses["OQS-CERT-007"] == "pass"  # two placements: it showed the newer file each time
    assert statuses["OQS-CARD-023"] == "pass"  # an error face file: it showed SegmentOfResult 9 and the error
    assert statuses["OQS-CARD-006"] == "omit"  # a reader error only: nothing for the client to do
    lost = run.scenario("OQS-CARD-020")  # the deliberately wrong vendor hides the 資格喪失日
    assert lost["status"] == "fail"
    assert "the client shows DisqualificationDate None; the terminal's face file has '20261113'" in lost["message"]
    report = next(e for e in lost["evidence"] if e["kind"] == "report")["data"]["report"]
    assert report["result_file"].startswith("OQSsiquc01res_face_1310112345")


def _junit_counts(path: Path) -> tuple[dict[str, int], list[str]]:
    tree = lxml.etree.parse(str(path))
    suites = list(tree.iter("testsuite"))
    counts = {k: sum(int(s.get(k, "0")) for s in suites) for k in ("tests", "failures", "errors", "skipped")}
    return counts, [case.get("name", "") for case in tree.iter("testcase")]


def _agrees(run: Run) -> list[str]:
    counts, names = _junit_counts(run.report / "junit.xml")
    summary = run.summary["counts"]
    assert counts["failures"] == summary["fail"]
    assert counts["errors"] == summary["error"]
    assert counts["skipped"] == summary["omit"] + summary["skip"]
    assert counts["tests"] == sum(summary.values())
    return names


def test_junit_agrees_with_the_summary_and_names_the_scenarios(good_baseline: Run) -> None:
    names = _agrees(good_baseline)
    title = good_baseline.scenario("OQS-ELIG-003")["title"]
    assert f"OQS-ELIG-003 {title}" in names
    assert all(name.startswith("OQS-") for name in names), [n for n in names if not n.startswith("OQS-")]


def test_a_client_that_cannot_be_run_is_a_junit_error_not_a_failure(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-vendor-program"
    run = run_catalogue(
        tmp_path / "report", "--mg-adapter=command", f"--mg-command={missing}", "--mg-select=OQS-ELIG-001,OQS-ELIG-003"
    )
    assert run.returncode == 1, run.output[-4000:]
    assert set(run.statuses().values()) == {"error"}, run.statuses()
    _agrees(run)
    tree = lxml.etree.parse(str(run.report / "junit.xml"))
    assert len(list(tree.iter("error"))) == 2
    assert not list(tree.iter("failure"))


# Issue 13: 医療扶助, 保険証利用登録・資格確認書 and the reader's screens since 2024. One scenario per point;
# the well-behaved vendor passes them, a vendor with the matching fault fails each (`--fault`, fake_vendor.py).
ISSUE13 = {
    "OQS-FUJO-001": "the client did not report PublicExpenseResultList",  # 1 医療券 (every element)
    "OQS-FUJO-002": "the client reports QualificationValidity (資格有効性) '1'",  # 1 有効（未登録）
    "OQS-FUJO-010": "MedicalTreatmentMonth (診療年月) expected '202611', sent None",  # 2 OQSmutic
    "OQS-FUJO-004": "the client did not report DisqualificationDate",  # 3 医療扶助 then 国保 (history)
    "OQS-REG-001": "PharmacistsInfoConsFlg",  # 4 registered at the reader, the placement goes on to the result
    "OQS-REG-004": "InsuredCardValidDate",  # 5 after the 解除: the 資格確認書's numbers
    "OQS-KAKU-001": "InsuredCardValidDate",  # 6 資格確認書 validity
    "OQS-CARD-025": "LimitApplicationCertificateRelatedConsFlg",  # 7 限度額 without a screen
    "OQS-CARD-027": "PharmacistsInfoConsFlg",  # 8 包括同意
}
ISSUE13_FAULTS = ("fujo", "mutic-month", "kakunin", "limit", "consents")


def _issue13_run(tmp: Path, *options: str) -> Run:
    root, orders = tmp / "oqs", tmp / "orders"
    argv = [sys.executable, str(FAKE_VENDOR), "watch", "--root", str(root), "--orders", str(orders), *options]
    process = subprocess.Popen(argv)
    try:
        return run_catalogue(
            tmp / "report", "--mg-adapter=folder", f"--mg-root={root}", f"--mg-orders={orders}",
            "--mg-capabilities=eligibility,face,fujo-bulk", f"--mg-select={','.join(ISSUE13)}",
        )  # fmt: skip
    finally:
        orders.mkdir(parents=True, exist_ok=True)
        (orders / "fake-vendor.stop").touch()
        process.wait(10)


def test_issue13_points_pass_for_a_good_vendor_and_each_fails_for_a_wrong_one(tmp_path: Path) -> None:
    good = _issue13_run(tmp_path / "good")
    assert good.returncode == 0, good.output[-4000:]
    assert set(good.statuses().values()) == {"pass"}, good.statuses()
    faults = [f"--fault={name}" for name in ISSUE13_FAULTS]
    wrong = _issue13_run(tmp_path / "wrong", "--wrong", *faults)
    assert wrong.returncode == 1, wrong.output[-4000:]
    for sid, words in ISSUE13.items():
        found = wrong.scenario(sid)
        assert found["status"] == "fail", (sid, found["status"], found.get("message"))
        assert words in found["message"], (sid, found["message"])


# 居宅同意取得型: the order-driven scenarios (再照会, 閲覧同意取り消し, 同意済資格情報一括取得), by a vendor
# over the folders and over the convenience route; the deliberately wrong vendor sends the counter's
# MedicalTreatmentFlag 1 and zero-pads the 保険者番号, and fails them.
HOME_SUBSET = "OQS-HOME-001,OQS-HOME-002,OQS-HOME-003,OQS-HOME-004,OQS-HOME-005,OQS-HOME-006,OQS-HOME-020,OQS-HOME-023"


@pytest.mark.parametrize("vendor", [False], indirect=True)
def test_home_visit_scenarios_pass_for_a_vendor_over_the_folders(vendor: tuple[Path, Path], tmp_path: Path) -> None:
    root, orders = vendor
    run = run_catalogue(
        tmp_path / "report", "--mg-adapter=folder", f"--mg-root={root}", f"--mg-orders={orders}",
        "--mg-capabilities=eligibility,home-visit", f"--mg-select={HOME_SUBSET}",
    )  # fmt: skip
    assert run.returncode == 0, run.output[-4000:]
    assert set(run.statuses().values()) == {"pass"}, run.statuses()
    assert len(run.statuses()) == len(HOME_SUBSET.split(","))


def test_home_visit_scenarios_pass_for_a_vendor_over_the_convenience_route(tmp_path: Path) -> None:
    command = f"{sys.executable} {FAKE_VENDOR} command --http"
    run = run_catalogue(
        tmp_path / "report", "--mg-adapter=command", f"--mg-command={command}", "--mg-http-port=0",
        "--mg-capabilities=eligibility,home-visit", f"--mg-select={HOME_SUBSET}",
    )  # fmt: skip
    assert run.returncode == 0, run.output[-4000:]
    assert set(run.statuses().values()) == {"pass"}, run.statuses()
    exchange = next(e for e in run.scenario("OQS-HOME-001")["evidence"] if e["kind"] == "exchange")
    assert (exchange["data"]["transport"], exchange["data"]["name"]) == ("http", "/oqs/OQSsihvq01")


@pytest.mark.parametrize("vendor", [True], indirect=True)
def test_home_visit_scenarios_fail_for_a_wrong_vendor(vendor: tuple[Path, Path], tmp_path: Path) -> None:
    root, orders = vendor
    run = run_catalogue(
        tmp_path / "report", "--mg-adapter=folder", f"--mg-root={root}", f"--mg-orders={orders}",
        "--mg-capabilities=eligibility,home-visit", f"--mg-select={HOME_SUBSET}",
    )  # fmt: skip
    assert run.returncode == 1, run.output[-4000:]
    statuses = run.statuses()
    assert set(statuses.values()) == {"fail"}, statuses
    requery = run.scenario("OQS-HOME-001")
    assert "MedicalTreatmentFlag (2 訪問診療等 / 3 オンライン診療等) expected '2', sent '1'" in requery["message"]
    bulk = run.scenario("OQS-HOME-020")
    assert "MedicalTreatmentFlag" in bulk["message"]
    sent = [e["data"]["request"] for e in bulk["evidence"] if e["kind"] == "exchange"]
    assert any("<MedicalTreatmentFlag>1</MedicalTreatmentFlag>" in r for r in sent)


# The first visit (point 1), the faulted counter reader (point 3) and 資格確認限定型 (point 4): the
# card is read by the gateway, so what is judged is what the client does with the face result — the
# 閲覧期限 it shows (a 居宅 continuing consent is not the counter's 24 h) and, as a 施術所, that it asks
# for no 医療情報. The deliberately wrong vendor shows …ConsTime + 24 h and fetches 薬剤情報 after
# every reading.
READER_SUBSET = "OQS-HOME-040,OQS-HOME-044,OQS-HOME-045,OQS-HOME-046,OQS-LTD-010"
READER_CAPABILITIES = "--mg-capabilities=eligibility,home-visit,face,limited"


def _reader_run(tmp_path: Path, *, wrong: bool, transport: str) -> Run:
    flag = " --wrong" if wrong else ""
    if transport == "http":
        command = f"{sys.executable} {FAKE_VENDOR} command --http{flag}"
        return run_catalogue(
            tmp_path / "report", "--mg-adapter=command", f"--mg-command={command}", "--mg-http-port=0",
            READER_CAPABILITIES, f"--mg-select={READER_SUBSET}",
        )  # fmt: skip
    root, orders = tmp_path / "oqs", tmp_path / "orders"
    argv = [sys.executable, str(FAKE_VENDOR), "watch", "--root", str(root), "--orders", str(orders)]
    process = subprocess.Popen(argv + (["--wrong"] if wrong else []))
    try:
        return run_catalogue(
            tmp_path / "report", "--mg-adapter=folder", f"--mg-root={root}", f"--mg-orders={orders}",
            READER_CAPABILITIES, f"--mg-select={READER_SUBSET}",
        )  # fmt: skip
    finally:
        orders.mkdir(parents=True, exist_ok=True)
        (orders / "fake-vendor.stop").touch()
        process.wait(10)


@pytest.mark.parametrize("transport", ["folder", "http"])
def test_first_visit_reader_fault_and_limited_pass_for_a_vendor(tmp_path: Path, transport: str) -> None:
    run = _reader_run(tmp_path, wrong=False, transport=transport)
    assert run.returncode == 0, run.output[-4000:]
    assert run.statuses() == dict.fromkeys(READER_SUBSET.split(","), "pass")


@pytest.mark.parametrize("transport", ["folder", "http"])
def test_first_visit_reader_fault_and_limited_fail_for_a_wrong_vendor(tmp_path: Path, transport: str) -> None:
    run = _reader_run(tmp_path, wrong=True, transport=transport)
    assert run.returncode == 1, run.output[-4000:]
    statuses = run.statuses()
    window = (
        "the client shows PharmacistsInfoAvailableTime '20261124100000'; the terminal's face file has '20271123100000'"
    )
    for sid in ("OQS-HOME-040", "OQS-HOME-045", "OQS-HOME-046"):  # point 1 (app, マイナ在宅受付Web), point 3 (入院)
        assert statuses[sid] == "fail", (sid, statuses)
        assert window in run.scenario(sid)["message"], run.scenario(sid)["message"]
    # point 3 at a 発熱外来 counter: 24 h is right there, so this wrong vendor passes it
    assert statuses["OQS-HOME-044"] == "pass"
    limited = run.scenario("OQS-LTD-010")  # point 4: it asked for 薬剤情報 as a 施術所
    assert limited["status"] == "fail"
    assert "the client asked for 医療情報 as a 施術所 (資格確認限定型): YZKsiquc01" in limited["message"]
    steps = {s["text"]: s["status"] for s in limited["steps"]}
    assert steps['face ファイルの閲覧同意フラグはすべて "0" である'] == "passed"
    assert steps["レセコンは医療情報を求めなかった"] == "failed"
    sent = [e["data"] for e in limited["evidence"] if e["kind"] == "exchange"]
    assert any(e["name"].startswith(("YZKsiquc01", "/oqs/YZKsiquc01")) for e in sent), sent
