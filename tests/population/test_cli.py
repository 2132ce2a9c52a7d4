"""`mockgateway population generate | report`."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from mockgateway.cli import main


def test_generate_then_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cli.sqlite3"
    config = tmp_path / "shares.yaml"
    config.write_text("edge_cases:\n  cert_revoked: 0.05\n", encoding="utf-8")
    report_file = tmp_path / "report.json"
    code = main(["population", "generate", "--size", "500", "--seed", "3", "--db", str(db), "--as-of", "20250618",
                 "--workers", "1", "--facilities-scale", "0.002", "--config", str(config),
                 "--report", str(report_file)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "calibration report: 500 people, seed 3, as of 20250618" in out
    assert f"db {db}" in out
    saved = orjson.loads(report_file.read_bytes())
    revoked = next(s for s in saved["strata"] if s["name"] == "cert_revoked")
    assert revoked["target"] == 0.05
    assert main(["population", "report", "--db", str(db), "--all"]) == 0
    shown = capsys.readouterr().out
    assert "都道府県" in shown
    assert "東京都" in shown
    assert main(["population", "report", "--db", str(db), "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["size"] == 500


def test_report_without_a_population_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["population", "report", "--db", str(tmp_path / "empty.sqlite3")]) == 2
    assert "population generate" in capsys.readouterr().err


def test_a_size_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--size"):
        main(["population", "generate", "--size", "0", "--db", str(tmp_path / "x.sqlite3")])


def _stored(db: Path, generated: float, n: int) -> None:
    """A population file whose one stratum (target 10 %) came out at `generated` over `n` people."""
    from mockgateway.population.calibration import CalibrationReport, Stratum
    from mockgateway.population.generate import SCHEMA
    from mockgateway.store.sqlite import SqliteRepository

    report = CalibrationReport(50, 1, "20250618", "2022-01", [Stratum("制度", "国保", "test", 0.10, generated, n)])
    store = SqliteRepository(db)
    try:
        store.ensure_schema(SCHEMA)
        with store.connection() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO population_meta (key, value) VALUES ('report', ?)",
                (orjson.dumps(report.as_dict()),),
            )
    finally:
        store.close()


@pytest.mark.parametrize(
    ("generated", "n", "code", "verdict"),
    [
        (0.10, 50, 0, "OK;"),
        (0.14, 50, 0, "OK (1 strata outside ±1.0 pp only by rounding"),  # 2 people off: rounding at n=50
        (0.20, 50, 1, "NG (1 strata outside"),  # 5 people off
    ],
)
def test_report_exit_code_follows_the_printed_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], generated: float, n: int, code: int, verdict: str
) -> None:
    db = tmp_path / "p.sqlite3"
    _stored(db, generated, n)
    assert main(["population", "report", "--db", str(db)]) == code
    assert f": {verdict}" in capsys.readouterr().out
