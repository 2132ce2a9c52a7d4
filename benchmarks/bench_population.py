"""Population at national scale: generation time and memory, calibration, gateway start with it.

Not a test. Each figure is the median of --runs runs; RSS is sampled every 0.1 s over the whole
process tree (the generator's worker processes included).

    .venv/bin/python benchmarks/bench_population.py [--size 1000000] [--runs 3] [--workers 0]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_scale import load_average, machine, rss_mb, run_sampled, tree_pids, wait_http  # noqa: E402
from wrklib import free_port  # noqa: E402


def generate(db: Path, size: int, seed: int, workers: int) -> dict[str, float]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "mockgateway", "population", "generate", "--size", str(size), "--seed", str(seed),
           "--db", str(db), "--workers", str(workers), "--quiet"]  # fmt: skip
    return run_sampled(cmd)


def start(db: Path) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="mg-start-"))
    port = free_port()
    cmd = [sys.executable, "-m", "mockgateway", "serve", "--root", str(root), "--db", str(db), "--http-port", str(port),
           "--tls-port", "0", "--no-folder", "--admin-token", "x"]  # fmt: skip
    began = time.monotonic()
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = wait_http(f"http://127.0.0.1:{port}/health")
        seconds = time.monotonic() - began
        with urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}/admin/status", headers={"X-Admin-Token": "x"})
        ) as resp:
            people = json.loads(resp.read())["people"]
        return {"seconds": seconds, "ready_poll": ready, "rss_mb": rss_mb(tree_pids(server.pid)), "people": people}
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(root, ignore_errors=True)


def report(db: Path) -> dict[str, object]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT value FROM population_meta WHERE key = 'report'").fetchone()
    finally:
        con.close()
    return dict(json.loads(row[0]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=0, help="generator processes (0: one per core)")
    ap.add_argument("--db", type=Path, help="keep the population here (default: a temporary file)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mg-pop-"))
    db = args.db or work / "population.sqlite3"
    db.parent.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}; load average before: {load_average()}")
    gens = [generate(db, args.size, args.seed, args.workers) for _ in range(args.runs)]
    seconds = statistics.median(g["seconds"] for g in gens)
    print(
        f"generate {args.size:,} people: {seconds:.1f} s ({args.size / seconds:,.0f} people/s), peak RSS of the "
        f"process tree {statistics.median(g['peak_rss_mb'] for g in gens):.0f} MB "
        f"(runs: {', '.join(format(g['seconds'], '.1f') for g in gens)} s); file {db.stat().st_size / 2**20:,.0f} MB"
    )
    rep = report(db)
    strata = rep["strata"]
    assert isinstance(strata, list)
    worst = max(strata, key=lambda s: abs(s["generated"] - s["target"]))
    outside = [s for s in strata if abs(s["generated"] - s["target"]) * 100 > rep["tolerance_pp"]]  # type: ignore[operator]
    print(
        f"calibration: {len(strata)} strata, {len(outside)} outside ±{rep['tolerance_pp']} pp; largest difference "
        f"{(worst['generated'] - worst['target']) * 100:+.3f} pp ({worst['dimension']} / {worst['name']})"
    )
    starts = [start(db) for _ in range(args.runs)]
    print(
        f"gateway start with {int(starts[0]['people']):,} people (process start to /health): "
        f"{statistics.median(s['seconds'] for s in starts):.2f} s, RSS "
        f"{statistics.median(s['rss_mb'] for s in starts):.0f} MB "
        f"(runs: {', '.join(format(s['seconds'], '.2f') for s in starts)} s)"
    )
    print(f"load average after: {load_average()}")
    if args.db is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
