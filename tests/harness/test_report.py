"""The HTML report: self-contained, a summary by area, each scenario with steps and evidence; and
the same report loaded in headless Chromium (Debian's `chromium`), its DOM asserted and a
screenshot taken."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import lxml.html
import pytest

from mockgateway.harness import report
from mockgateway.harness.results import Change, EvidenceItem, RunSummary, ScenarioResult, StepResult

EVIDENCE_REQUEST = "<InsurerNumber>00139998</InsurerNumber>"


def summary() -> RunSummary:
    failing = ScenarioResult(
        nodeid="t::elig3",
        id="OQS-ELIG-003",
        title="6桁の市町村国保は先頭空白で8桁に右詰めされる",
        area="資格確認（被保険者証・資格確認書）",
        feature="f",
        rules=["rule:oqs-interface-1.3"],
        capabilities=["eligibility"],
        status="fail",
        message="AssertionError: InsurerNumber expected '  139998', sent '00139998'",
        steps=[
            StepResult("もし", 'レセコンが "kokuho-ichiro" の被保険者証で資格確認する', "passed"),
            StepResult("ならば", '資格有効性は "1" である', "failed"),
            StepResult("かつ", '結果の "InsurerNumber" は "  139998" である', "not run"),
        ],
        evidence=[
            EvidenceItem(
                "order", "保険者番号 139998 で資格確認してください", {"order": {"order_id": "OQS-ELIG-003.1"}}
            ),
            EvidenceItem(
                "exchange",
                "#1 folder OQSsiquc01 OQSsiquc01req_1.xml",
                {
                    "transport": "folder",
                    "request": EVIDENCE_REQUEST,
                    "response": "<SegmentOfResult>9</SegmentOfResult>",
                    "reason": "InsurerNumber '  139998': 6桁の保険者番号は先頭空白で8桁にします",
                },
            ),
        ],
    )
    passing = ScenarioResult(
        "t::elig1",
        "OQS-ELIG-001",
        "有効な資格が返る",
        "資格確認（被保険者証・資格確認書）",
        "f",
        ["rule:oqs-interface-1.4"],
        ["eligibility"],
        "pass",
    )
    omitted = ScenarioResult(
        "t::bulk",
        "OQS-FAULT-005",
        "一括照会がいつまでも処理中",
        "障害・異常系",
        "f",
        ["doc:bulk"],
        ["bulk"],
        "omit",
        "the client does not claim capability bulk",
    )
    return RunSummary(
        "folder",
        ["eligibility"],
        "2026-11-23T10:00:00+09:00",
        3.2,
        [failing, passing, omitted],
        changes=[
            Change("OQS-NEW-001", "新しい", "(absent)", "pass"),
            Change("OQS-ELIG-003", "6桁の市町村国保", "pass", "fail"),
        ],
        expected_file="baseline.json",
    )


def check_content(doc: lxml.html.HtmlElement) -> None:
    text = doc.text_content()
    assert "mockgateway 接続試験レポート" in text
    rows = {
        r.xpath("string(td[1])"): [c.text_content() for c in r.xpath("td")[1:]]
        for r in doc.xpath("//table[@class='areas']//tr[td]")
    }
    assert rows["資格確認（被保険者証・資格確認書）"] == ["1", "1", "0", "0", "0"]
    assert rows["障害・異常系"] == ["0", "0", "0", "0", "1"]
    failed = doc.xpath("//details[@id='OQS-ELIG-003']")[0]
    assert failed.get("data-status") == "fail"
    assert failed.get("open") is not None  # failures are expanded
    assert "sent '00139998'" in failed.xpath("string(.//pre[@class='message'])")
    assert [li.get("class") for li in failed.xpath(".//ol[@class='steps']/li")] == ["passed", "failed", "notrun"]
    evidence = failed.xpath(".//details[@data-kind='exchange']")[0]
    assert EVIDENCE_REQUEST in evidence.text_content()
    assert doc.xpath("//details[@id='OQS-ELIG-001']")[0].get("open") is None
    assert "regression" in doc.xpath("string(//table[@class='changes'])")
    assert "OQS-NEW-001" not in doc.xpath("string(//table[@class='changes'])")  # catalogue growth is folded away
    assert "1 new, 0 removed" in doc.xpath("string(//details[@class='catalogue-changes']/summary)")
    assert "the client does not claim capability bulk" in doc.xpath("string(//details[@id='OQS-FAULT-005'])")
    # Significant spaces are kept and marked one per space: in the step, the message and the reason.
    padded_step = failed.xpath(".//ol[@class='steps']/li")[2]
    assert padded_step.xpath("string(.)").endswith('"  139998" である')
    assert len(padded_step.xpath(".//span[@class='sp']")) == 2
    assert len(failed.xpath(".//pre[@class='message']/span[@class='sp']")) == 2
    reason = evidence.xpath(".//table[@class='kv']//tr[td[1]='reason']/td[2]")[0]
    assert reason.xpath("string(.)").startswith("InsurerNumber '  139998'")
    assert len(reason.xpath("span[@class='sp']")) == 2
    assert not failed.xpath(".//ol[@class='steps']/li[1]//span[@class='sp']")  # single spaces between words


@pytest.mark.parametrize(
    ("text", "marked"),
    [("  139998", 2), ("a  b", 2), ("a b", 0), ("x '  1' y", 2), ("end  ", 2), ('"1 "', 1), ("保険　太郎", 0)],
)
def test_which_spaces_are_marked(text: str, marked: int) -> None:
    html = report.spaced(text)
    assert html.count('class="sp"') == marked
    assert lxml.html.fromstring(f"<p>{html}</p>").text_content() == text


def test_report_is_self_contained_and_complete(tmp_path: Path) -> None:
    html = report.render(summary())
    assert "<script" not in html
    assert "http://" not in html
    assert "https://" not in html
    check_content(lxml.html.fromstring(html))


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Debian's chromium is not installed (scripts/setup-chromium.sh installs it as root)")


def test_report_in_headless_chromium(tmp_path: Path) -> None:
    browser = _chromium()
    page = report.write(summary(), tmp_path / "report.html")
    url = page.as_uri()
    common = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, timeout=120, check=True)
    check_content(lxml.html.fromstring(dom.stdout.decode("utf-8")))
    shot = tmp_path / "report.png"
    subprocess.run(
        [*common, "--window-size=1280,1400", f"--screenshot={shot}", url], capture_output=True, timeout=120, check=True
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 1400)
    print(f"screenshot: {shot}")


def test_binary_and_long_bodies_are_described_not_dumped() -> None:
    from mockgateway.control.journal import JournalEntry
    from mockgateway.harness.report import MAX_BODY_CHARS, body_text, evidence_from_entry

    request = b'<?xml version="1.0" encoding="Shift_JIS"?><X>\x95\xdb\x8c\xaf</X>'
    entry = JournalEntry(3, "20261123100000", 0.0, "folder", "YZKsiquc01", "YZKsiquc01req_1.xml", "1310112345",
                         request=request, response=b"%PDF-1.3\n\x00\x01")  # fmt: skip
    data = evidence_from_entry(entry).data
    assert "保険" in data["request"]  # Shift_JIS decoded as the declaration says
    assert data["response"].startswith("(PDF, 11 bytes, sha256 ")
    assert body_text(b"PK\x03\x04rest").startswith("(ZIP, 8 bytes")
    clipped = body_text("x" * (MAX_BODY_CHARS + 5))
    assert clipped.endswith("(5 more characters clipped)")
