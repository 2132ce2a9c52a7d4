"""The command line: fixtures check, pki, and `serve` as a real subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from mockgateway.cli import main
from mockgateway.config import DEFAULT_FIXTURES


def test_fixtures_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fixtures", "check", str(DEFAULT_FIXTURES)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK 7 insurers, 33 people")
    assert "with 医療情報" in out


def _one_person(path: Path, *, insurer: str = "01139997", extra: str = "") -> Path:
    """A fixture file with one insurer (01139997) and one person p1 insured by `insurer`."""
    path.write_text(
        "insurers:\n  - {InsurerNumber: '01139997', InsurerName: X}\n"
        "persons:\n  - id: p1\n    Name: 山田　一\n    NameKana: ﾔﾏﾀﾞ\n    Sex1: '1'\n    Birthdate: '19800101'\n"
        f"    qualifications:\n      - {{InsurerNumber: '{insurer}', InsuredIdentificationNumber: '1',"
        " QualificationDate: '20200101'}\n" + extra,
        encoding="utf-8",
    )
    return path


def test_fixtures_check_names_file_person_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _one_person(tmp_path / "bad.yaml", insurer="01139998")  # check digit wrong
    assert main(["fixtures", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "person p1" in err
    assert "InsurerNumber" in err
    assert "検証番号" in err


def test_pki_init_and_issue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pki", "init", "--dir", str(tmp_path)]) == 0
    assert main(["pki", "issue", "--dir", str(tmp_path), "--code", "1340141231", "--status", "expired"]) == 0
    assert (tmp_path / "1340141231-expired.pem").exists()
    assert "1340141231" in capsys.readouterr().out
    with pytest.raises(Exception, match="医療機関コード"):
        main(["pki", "issue", "--dir", str(tmp_path), "--code", "1340141232"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_runs_all_transports_and_stops_on_sigterm(tmp_path: Path) -> None:
    # The search host gets its own free port: the default (login port + 1) may be taken.
    http, tls, search = _free_port(), _free_port(), _free_port()
    root = tmp_path / "oqs"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockgateway",
            "serve",
            "--root",
            str(root),
            "--http-port",
            str(http),
            "--tls-port",
            str(tls),
            "--search-port",
            str(search),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line, seen = "", []
        deadline = time.monotonic() + 60
        while "mockgateway ready" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            seen.append(line)
        assert "mockgateway ready" in line, "".join(seen[-20:])
        assert requests.get(f"http://127.0.0.1:{http}/health", timeout=5).json()["status"] == "ok"
        for folder in ("req", "res", "face", "trash"):
            assert (root / folder).is_dir()
        assert (root / "mockgateway.sqlite3").exists()
        assert (root / "pki" / "ca.pem").exists()
        token = (root / "admin-token").read_text(encoding="ascii").strip()
        status = requests.get(f"http://127.0.0.1:{http}/admin/status", headers={"X-Admin-Token": token}, timeout=5)
        assert status.json()["people"] == 33
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_fixtures_check_reads_medical_records_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _one_person(tmp_path / "medical.yaml", extra="    medical:\n      generate: {seed: s1, months: '999'}\n")
    assert main(["fixtures", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "person p1/medical" in err
    assert "months" in err


def _serve_fails(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockgateway", "serve", "--http-port", str(_free_port()), "--tls-port", "0", *extra],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("a: &a [x, x]\nb: [*a, *a]\n", "エイリアス *a"),
        ("persons: " + "[" * 5000 + "]" * 5000 + "\n", "入れ子が深すぎます"),
        ("persons: [\n", "読めません"),
    ],
)
def test_serve_with_bad_fixtures_prints_one_line_and_exits_1(tmp_path: Path, content: str, says: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    done = _serve_fails(tmp_path, "--root", str(tmp_path / "oqs"), "--fixtures", str(bad))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("NG ")]
    assert len(lines) == 1
    assert str(bad) in lines[0]
    assert says in lines[0]
    check = subprocess.run([sys.executable, "-m", "mockgateway", "fixtures", "check", str(bad)],
                           capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert check.returncode == 1
    assert check.stderr.strip() == lines[0]


def test_serve_with_res_as_a_file_says_so_and_exits_1(tmp_path: Path) -> None:
    root = tmp_path / "oqs"
    root.mkdir()
    (root / "res").write_text("not a folder")
    done = _serve_fails(tmp_path, "--root", str(root))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "res exists but is not a folder" in done.stderr


def test_serve_with_a_bricked_saved_clock_points_at_reset_clock(tmp_path: Path) -> None:
    from mockgateway.store.sqlite import SqliteRepository

    root = tmp_path / "oqs"
    store = SqliteRepository(root / "mockgateway.sqlite3")
    store.set_state("clock", {"anchor_virtual": "9999-12-31T23:59:59+09:00", "anchor_real": 0.0, "running": True})
    store.close()
    done = _serve_fails(tmp_path, "--root", str(root))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "--reset-clock" in done.stderr
