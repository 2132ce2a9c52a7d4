"""`python -m mockgateway.harness`: index, lint, compare and report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockgateway.harness.__main__ import main
from mockgateway.harness.results import RunSummary, ScenarioResult

FEATURE = """# language: ja
機能: 試験

  @OQS-FAULT-001 @rule:x
  シナリオ: 一つ
    もし レセコンが "hoken-taro" の被保険者証で資格確認する
    ならば 資格有効性は "1" である
"""


def catalogue(tmp_path: Path, tags: str = "@OQS-FAULT-001 @rule:x") -> Path:
    folder = tmp_path / "features" / "障害・異常系"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.feature").write_text(FEATURE.replace("@OQS-FAULT-001 @rule:x", tags), encoding="utf-8")
    return tmp_path / "features"


def test_index_writes_then_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    features = catalogue(tmp_path)
    out = tmp_path / "docs" / "catalogue.md"
    assert main(["index", "--features", str(features), "--check"]) == 1
    assert "is out of date" in capsys.readouterr().err
    assert main(["index", "--features", str(features)]) == 0
    assert "OQS-FAULT-001" in out.read_text(encoding="utf-8")
    assert main(["index", "--features", str(features), "--check"]) == 0


def test_lint_reports_each_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    features = catalogue(tmp_path, tags="@OQS-FAULT-001")
    assert main(["lint", "--features", str(features)]) == 1
    assert "no @rule:… or @doc:… tag" in capsys.readouterr().out


def summary(path: Path, status: str) -> Path:
    result = ScenarioResult("n", "OQS-FAULT-001", "一つ", "障害・異常系", "f", ["rule:x"], ["eligibility"], status)  # type: ignore[arg-type]
    RunSummary("folder", ["eligibility"], "t", 1.0, [result]).write(path)
    return path


def test_compare_exits_1_on_a_regression_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = summary(tmp_path / "old.json", "pass"), summary(tmp_path / "new.json", "fail")
    assert main(["compare", str(old), str(new)]) == 1
    assert "regression OQS-FAULT-001" in capsys.readouterr().out
    assert main(["compare", str(new), str(old)]) == 0  # fixed


def test_report_renders_from_a_summary(tmp_path: Path) -> None:
    source = summary(tmp_path / "summary.json", "fail")
    assert main(["report", str(source)]) == 0
    assert 'data-status="fail"' in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert json.loads(source.read_text(encoding="utf-8"))["counts"]["fail"] == 1


def test_run_help_lists_every_mg_option_the_docs_use(capsys: pytest.CaptureFixture[str]) -> None:
    import re

    from mockgateway.harness.options import OPTIONS

    root = Path(__file__).resolve().parents[2]
    docs = (root / "docs" / "vendor-guide.md").read_text(encoding="utf-8") + (root / "README.md").read_text(
        encoding="utf-8"
    )
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    used = set(re.findall(r"--mg-[a-z-]+", docs))
    assert used
    assert used <= set(re.findall(r"--mg-[a-z-]+", text)), used - set(re.findall(r"--mg-[a-z-]+", text))
    assert {o.flag for o in OPTIONS} <= set(re.findall(r"--mg-[a-z-]+", text))


def test_run_passes_the_mg_options_to_pytest_as_values(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    seen: list[list[str]] = []
    monkeypatch.setattr(subprocess, "call", lambda argv, **_: seen.append(argv) or 0)
    assert main(["run", "--mg-adapter", "folder", "--mg-command=-x", "-k", "ELIG"]) == 0
    (argv,) = seen
    assert "--mg-adapter=folder" in argv
    assert "--mg-command=-x" in argv
    assert argv[-2:] == ["-k", "ELIG"]
    assert "-c" in argv
    assert argv[argv.index("-c") + 1].endswith("pytest.ini")
