"""The built wheel, installed into a fresh venv outside the checkout, runs on its own: `mockgateway
--version`, `python -m mockgateway`, `mockgateway serve` with the shipped personas answering one
folder query, and `mockgateway-harness run` on the eligibility subset of the shipped catalogue.

Select it with `-m packaging` (it is part of the normal suite too). The venv gets the wheel with
`pip install --no-deps`; its third-party dependencies come from this checkout's .venv through a
folder of links that leaves out every trace of the editable mockgateway, so the package's code,
data and entry points can only come from the wheel (asserted below), and the run needs no index.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import sysconfig
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from mockgateway import __version__
from mockgateway.domain.clock import JST
from tests.conftest import eligibility_request, reply_tree, results_of

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.packaging, pytest.mark.slow]


@dataclass(frozen=True)
class Installed:
    venv: Path
    work: Path  # an empty folder outside the checkout: the cwd of every command
    env: dict[str, str]
    wheel: Path

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.work, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )


def _dependency_links(target: Path) -> Path:
    """A folder linking every installed distribution of .venv except mockgateway itself."""
    site = Path(sysconfig.get_paths()["purelib"])
    target.mkdir()
    for entry in site.iterdir():
        name = entry.name.lower()
        if name.startswith(("mockgateway", "__editable__", "_mockgateway")) or name.endswith(".pth"):
            continue
        (target / entry.name).symlink_to(entry)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("packaging")
    assert not tmp.resolve().is_relative_to(ROOT)
    dist = tmp / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("mockgateway-*.whl")
    assert len(list(dist.glob("mockgateway-*.tar.gz"))) == 1
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # A plain path line: appended after the venv's own site-packages; its .pth files are not run.
    (Path(purelib) / "mockgateway-test-deps.pth").write_text(f"{_dependency_links(tmp / 'deps')}\n")
    work = tmp / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MOCKGATEWAY_", "PYTHON", "VIRTUAL"))}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    return Installed(venv, work, env, wheel)


def test_the_wheel_holds_the_data_and_the_entry_points(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert "mockgateway/data/personas/personas.yaml" in names
    assert "mockgateway/harness/suite/pytest.ini" in names
    assert any(n.startswith("mockgateway/harness/features/資格確認（被保険者証・資格確認書）/") for n in names)
    assert "mockgateway/harness/steps/world.py" in names
    assert "mockgateway/population/data/prefectures.csv" in names
    assert {"mockgateway/console/static/console.js", "mockgateway/console/static/console.css"} <= set(names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(installed.wheel).read(entry_points).decode()
    assert "mockgateway-harness = mockgateway.harness.__main__:main" in text
    assert "mockgateway = mockgateway.pytest_plugin" in text


def test_the_code_comes_from_the_wheel_not_the_checkout(installed: Installed) -> None:
    done = installed.run(
        installed.bin("python"), "-c",
        "import mockgateway, mockgateway.pytest_plugin, sys; print(mockgateway.__file__); print(sys.path)",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    location = Path(done.stdout.splitlines()[0])
    assert location.is_relative_to(installed.venv), location
    assert str(ROOT) not in done.stdout


def test_version_and_python_dash_m(installed: Installed) -> None:
    for argv in (
        [installed.bin("mockgateway"), "--version"],
        [installed.bin("python"), "-m", "mockgateway", "--version"],
    ):
        done = installed.run(*argv)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"mockgateway {__version__}"


def test_serve_answers_a_folder_query_with_the_shipped_personas(installed: Installed) -> None:
    root = installed.work / "oqs"
    log = (installed.work / "serve.log").open("w")
    server = subprocess.Popen(
        [installed.bin("mockgateway"), "serve", "--root", str(root), "--http-port", "0", "--tls-port", "0"],
        cwd=installed.work,
        env=installed.env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = iter(server.stdout.readline, "")
        banner = next((line for line in lines if line.startswith("mockgateway ready")), None)
        assert banner is not None, (installed.work / "serve.log").read_text()
        today = dt.datetime.now(JST).strftime("%Y%m%d")
        request = eligibility_request(date=today, file_id="wheel-0001")
        (root / "req" / "OQSsiquc01req_wheel.xml").write_bytes(request)
        answer = root / "res" / "OQSsiquc01res_wheel.xml"
        for _ in range(600):  # polls, not a time limit: the test's own timeout bounds it
            if answer.exists():
                break
            time.sleep(0.05)
        (result,) = results_of(reply_tree(answer.read_bytes()))
        assert result["Name"] == "髙﨑　咲子"
    finally:
        server.terminate()
        server.wait(30)
        log.close()
        if server.stdout is not None:
            server.stdout.close()


def test_the_harness_runs_the_eligibility_subset(installed: Installed) -> None:
    report = installed.work / "report"
    done = installed.run(
        installed.bin("mockgateway-harness"), "run", "--mg-select=OQS-ELIG-*", f"--mg-report={report}", "-q",
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    statuses = {s["id"]: s["status"] for s in summary["scenarios"]}
    assert statuses
    assert all(sid.startswith("OQS-ELIG-") for sid in statuses)
    assert set(statuses.values()) == {"pass"}, statuses
    assert (report / "junit.xml").exists()
    assert (report / "report.html").exists()
