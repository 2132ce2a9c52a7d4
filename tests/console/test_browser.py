"""The console in a real browser: Playwright for Python driving Debian's Chromium (no browser
download). Each test clicks through one thing a tester does and saves screenshots of the pages it
passes (MG_ARTIFACTS, default var/test-artifacts/console/)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.console.conftest import REPORT_RUN, Console
from tests.transports.conftest import ADMIN
from tests.transports.test_http import TARO

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")

ARTIFACTS = Path(os.environ.get("MG_ARTIFACTS", "var/test-artifacts")) / "console"
TIMEOUT_MS = 20_000  # generous: two cores shared by many test runs


def chromium_binary() -> str | None:
    """Debian's Chromium: the real binary (the /usr/bin/chromium wrapper is a shell script)."""
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("Debian's chromium is not installed (scripts/setup-chromium.sh installs it as root)")
    with playwright.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=binary, args=["--no-sandbox", "--disable-gpu"])
        except playwright.Error as exc:
            pytest.skip(f"chromium cannot start here: {str(exc).splitlines()[0]}")
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, console: Console) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="ja-JP")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == [], f"script errors in the page: {errors}"


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Any, console: Console) -> None:
    page.goto(console.base + "/console/reader")
    assert page.url.endswith("/console/login")
    shot(page, "01-login")
    page.fill("#token", ADMIN)
    page.click("#login")
    page.wait_for_url("**/console/reader")


def pick(page: Any, person_id: str) -> None:
    page.fill("#q", person_id)
    page.click(f'button.person[data-id="{person_id}"]')
    page.wait_for_selector("#place")


def enter_pin(page: Any, pin: str) -> None:
    for digit in pin:
        page.click(f'.keypad button[data-key="{digit}"]')
    page.click("#pinok")


def answer_consents(page: Any, agree: tuple[str, ...] = ()) -> None:
    """Answer the consent screens as they come (agree to `agree`), until the reader's outcome shows."""
    while True:
        page.wait_for_selector("#outcome, #screen .yesno")
        button = page.query_selector("#screen .yesno button.yes")
        if button is None:
            return
        kind = button.get_attribute("data-consent")
        page.click("#screen .yesno button.yes" if kind in agree else "#screen .yesno button.no")


def test_log_in_and_switch_to_english(page: Any, console: Console) -> None:
    log_in(page, console)
    assert page.inner_text("header nav").startswith("顔認証付きカードリーダー")
    page.click("header a.lang")
    page.wait_for_selector("text=Face-auth reader")
    assert "Please place your My Number card" in page.inner_text("#screen")
    shot(page, "02-reader-en")
    page.click("header a.lang")
    page.wait_for_selector("text=マイナンバーカードを置いてください")


def test_place_a_card_with_pin_and_consents_and_see_the_face_file(page: Any, console: Console) -> None:
    log_in(page, console)
    pick(page, "hoken-taro")
    shot(page, "03-reader-card-chosen")
    page.click("#place")
    page.click("#m-pin")
    enter_pin(page, "12")
    assert page.inner_text("#dots") == "●●○○"
    assert "null" not in page.inner_text("#screen")
    shot(page, "04-reader-pin")
    enter_pin(page, "34")
    # 46 years old: all four consent screens, 薬剤 first; agree to 薬剤 and 診療 only.
    page.wait_for_selector('button[data-consent="PharmacistsInfo"]')
    shot(page, "05-reader-consent")
    answer_consents(page, agree=("PharmacistsInfo", "DiagnosisInfo"))
    page.wait_for_selector("#facename")
    assert page.inner_text("#outcome") == "受付が完了しました"
    name = page.inner_text("#facename")
    assert name.startswith("face/OQSsiquc01res_face_1310112345")
    xml = page.inner_text("#facexml")
    assert "保険　太郎" in xml  # Shift_JIS decoded
    assert "<PharmacistsInfoConsFlg>1</PharmacistsInfoConsFlg>" in xml
    assert "<SpecificHealthCheckupsInfoConsFlg>0</SpecificHealthCheckupsInfoConsFlg>" in xml
    assert "<DiagnosisInfoConsFlg>1</DiagnosisInfoConsFlg>" in xml
    on_disk = (console.config.root / name).read_bytes()
    assert on_disk.startswith(b'<?xml version="1.0" encoding="Shift_JIS"')
    assert "保険　太郎" in on_disk.decode("cp932")
    shot(page, "06-reader-done")


def test_three_wrong_pins_block_the_card(page: Any, console: Console) -> None:
    log_in(page, console)
    pick(page, "kokuho-ichiro")
    page.click("#place")
    page.click("#m-pin")
    enter_pin(page, "0000")
    answer_consents(page)  # the console sends the placement once the consent screens are answered
    page.wait_for_selector("#tries")
    assert page.inner_text("#tries") == "残り2回"
    assert "暗証番号が正しくありません" in page.inner_text("#errmsg")
    shot(page, "07-reader-wrong-pin")
    page.click("#again")
    assert page.inner_text("#pinnote") == "残り2回"
    enter_pin(page, "9999")
    answer_consents(page)
    page.wait_for_selector("#tries >> text=残り1回")
    page.click("#again")
    enter_pin(page, "8888")
    answer_consents(page)
    page.wait_for_selector("#errmsg >> text=暗証番号がロックされています")
    shot(page, "08-reader-blocked")
    # Even the right PIN gets nowhere now, and the card says so.
    page.click("#remove")
    page.click("#place")
    page.click("#m-pin")
    enter_pin(page, "1234")
    answer_consents(page)
    page.wait_for_selector("#errmsg >> text=暗証番号がロックされています")
    assert "残り0回" in page.inner_text("#cardinfo")


def test_advance_the_clock_past_expiry_and_see_the_grace_period(page: Any, console: Console) -> None:
    log_in(page, console)
    page.click("header nav >> text=操作")
    page.wait_for_selector("#clocknow >> text=2026-11-23 10:00:00")
    shot(page, "09-controls")
    page.click('[data-adv="days:30"]')
    page.wait_for_selector("#clocknow >> text=2026-12-23")
    page.click('[data-adv="days:30"]')
    page.wait_for_selector("#clocknow >> text=2027-01-22")
    assert page.inner_text("#now") == "2027-01-22 10:00:00"
    page.fill("#pid", "myna-kigen-chikai")
    page.click("#pshow")
    page.wait_for_selector("#person >> text=grace")
    page.click("header nav >> text=顔認証付きカードリーダー")
    pick(page, "myna-kigen-chikai")
    page.click("#place")
    page.click("#m-face")  # no consent screens in the grace period
    page.wait_for_selector("#grace")
    assert "猶予期間中" in page.inner_text("#grace")
    xml = page.inner_text("#facexml")
    assert "<ProcessingResultCode>MGW3302</ProcessingResultCode>" in xml  # the grace-period notice
    assert "<PharmacistsInfoConsFlg>0</PharmacistsInfoConsFlg>" in xml
    assert "期限切れ（猶予期間中）" in page.inner_text("#cardinfo")
    shot(page, "10-reader-grace")


def test_a_503_fault_shows_as_a_failed_request_in_the_live_journal(page: Any, console: Console) -> None:
    log_in(page, console)
    page.goto(console.base + "/console/controls")
    page.select_option("#faultkind", "http503")
    page.fill('#faultform input[name="times"]', "1")
    page.click("#faultadd")
    page.wait_for_selector("#faults >> text=http503")
    page.goto(console.base + "/console/journal")
    page.wait_for_selector("#live.on")
    answer = requests.post(console.base + "/oqs/OQSsiquc01", data=TARO.encode(), timeout=10)
    assert answer.status_code == 503
    row = page.wait_for_selector("#rows tr >> text=障害注入")
    row.click()
    page.wait_for_selector("#res")
    assert "<SegmentOfResult>9</SegmentOfResult>" in page.inner_text("#res")
    assert "<Birthdate>19800401</Birthdate>" in page.inner_text("#req")
    ok = requests.post(console.base + "/oqs/OQSsiquc01", data=TARO.encode(), timeout=10)
    assert ok.status_code == 200  # the fault fired once
    page.wait_for_selector("#rows tr >> text=正常")
    page.click("#rows tr >> nth=0")
    page.wait_for_selector("#detail >> text=正常")
    assert "null" not in page.inner_text("#detail")
    page.select_option('#filters select[name="outcome"]', "fault")
    playwright.expect(page.locator("#rows tr")).to_have_count(1)  # only the failed one
    shot(page, "11-journal-fault")


def test_a_near_miss_is_explained_next_to_request_and_result(page: Any, console: Console) -> None:
    log_in(page, console)
    page.goto(console.base + "/console/journal")
    page.wait_for_selector("#live.on")
    near = TARO.replace("<Birthdate>19800401</Birthdate>", "<Birthdate>19800402</Birthdate>")
    assert near != TARO
    requests.post(console.base + "/oqs/OQSsiquc01", data=near.encode(), timeout=10)
    page.click("#rows tr >> nth=0")
    page.wait_for_selector("#nearmiss")
    assert "生年月日が一致しません: 送信 19800402" in page.inner_text("#nearmiss")
    assert "<Birthdate>19800402</Birthdate>" in page.inner_text("#req")
    shot(page, "12-journal-near-miss")


def test_declare_a_disaster(page: Any, console: Console) -> None:
    log_in(page, console)
    page.goto(console.base + "/console/controls")
    page.fill('#disasterform input[name="end"]', "20261231")
    page.click("#declare")
    page.wait_for_selector("#disasters tr >> text=令和8年 試験災害")
    declared = console.admin("GET", "/admin/disasters").json()["declarations"]
    assert len(declared) == 1
    shot(page, "13-controls-disaster")


def test_open_a_certification_report(page: Any, console: Console) -> None:
    log_in(page, console)
    page.click("header nav >> text=接続試験")
    page.wait_for_selector(f"#reports >> text={REPORT_RUN}")
    shot(page, "14-runs")
    with page.context.expect_page() as opened:
        page.click("#reports a.open")
    report = opened.value
    report.wait_for_load_state()
    assert "接続試験レポート" in report.title()
    assert "OQS-ELIG-003" in report.inner_text("body")
    shot(report, "15-report")


@pytest.mark.slow
def test_start_a_certification_run_and_watch_it_live(page: Any, console: Console) -> None:
    """A real harness run (the reference client, area 災害時: a few scenarios) from the runs page."""
    log_in(page, console)
    page.goto(console.base + "/console/runs")
    page.select_option("#capability", "disaster")
    page.click("#runstart")
    page.wait_for_selector("#runresults .badge.pass", timeout=240_000)  # the first scenario, while it runs
    shot(page, "16-run-live")
    page.wait_for_selector("#runreport", timeout=240_000)
    state = page.inner_text("#runstate")
    assert state.endswith("exit 0"), state
    assert "fail" not in page.inner_text("#runcounts")
    run = console.admin("GET", "/admin/runs/current").json()
    assert run["counts"]["pass"] >= 5
    report = console.config.root / "reports" / run["name"] / "report.html"
    assert report.is_file()
    page.reload()
    page.wait_for_selector(f"#reports >> text={run['name']}")
    shot(page, "17-run-done")


def test_a_bulk_job_shows_with_its_progress(page: Any, console: Console) -> None:
    from mockgateway.services.bulk.layout import CONFIRM, upload_tree
    from mockgateway.wire import xmlcodec

    card = {"InsurerNumber": "01139997", "InsuredCardSymbol": "12-34", "InsuredIdentificationNumber": "5678",
            "InsuredBranchNumber": "00", "Birthdate": "19800401"}  # fmt: skip
    records = [{**card, "ArbitraryIdentifier": f"F{i}"} for i in range(3)]
    upload = xmlcodec.render("XmlMsg", upload_tree(CONFIRM, "1310112345", records, file_identifier="F-1"), "Shift_JIS")
    answer = requests.post(console.base + "/oqs/OQSmuquc01", data=upload, timeout=10)
    number = xmlcodec.text_at(xmlcodec.parse(answer.content).tree, "MessageBody", "ReceptionNumber")
    assert number
    log_in(page, console)
    page.goto(console.base + "/console/controls")
    row = page.locator("#bulk tr", has_text=number)
    playwright.expect(row).to_contain_text("/3")  # records processed of 3
    assert page.query_selector("#bulk progress") is not None
    shot(page, "18-controls-bulk")
