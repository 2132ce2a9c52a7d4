"""Card placed on the face-auth reader → face file written (target: <= 300 ms).

Builds a whole gateway (every feature, the default personas, the folder transport's `face/` in a
temporary root), issues the personas' cards up front (key generation is not reading), then times
each placement from the card being placed until the face file is on disk (`elapsed_ms`), for each
identity mode and a few outcomes,
through the card model in-process (the default) and, when a private pcscd can run (root,
scripts/setup-pcsc.sh), through the pcscd face-auth reader. Through pcscd "placed" includes pcscd
noticing the card (its reader status poll, every 0.4 s: back to back the card always waits a whole
cycle, placed at random moments half a cycle on average); "seen→file" is the part after that, and
"with removal" adds taking the card out again (noticed on the next poll too). Prints figures;
asserts nothing.

    .venv/bin/python benchmarks/bench_face.py [--count 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mockgateway.app import build_gateway
from mockgateway.card.faceauth import ReaderResult
from mockgateway.card.pcscd import PrivatePcscd, pcscd_unavailable_reason
from mockgateway.card.reader import PcscSlot
from mockgateway.config import DEFAULT_FIXTURES, Config
from mockgateway.domain.clock import jst
from mockgateway.engine import Gateway
from mockgateway.fixtures import load_paths
from mockgateway.services.reader import session as face

POLL = 0.4  # pcsc-lite's reader status poll (PCSCLITE_STATUS_POLL_RATE, compiled in)
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("顔認証 + 2 consents", "hoken-taro", {"mode": "face", "consents": ["drug", "checkup"]}),
    ("暗証番号 (VERIFY + RSA signature)", "hoken-taro", {"mode": "pin", "pins": ["1234"], "consents": ["drug"]}),
    ("目視", "hoken-taro", {"mode": "visual"}),
    ("顔認証 mismatch → 暗証番号", "hoken-taro", {"mode": "face", "face": "mismatch", "fallback": "pin",
                                                   "pins": ["1234"]}),
    ("猶予期間 (no consent screens)", "myna-yuyo", {"mode": "face"}),
    ("期限3か月以内 (notice)", "myna-kigen-chikai", {"mode": "face", "consents": ["drug"]}),
    ("reader error 006 (no file)", "myna-kigire", {"mode": "face"}),
]  # fmt: skip


def gateway(root: Path) -> Gateway:
    gw = build_gateway(Config(root=root, fixtures=[], tls_port=None))
    gw.clock.set(jst(2026, 11, 23, 10), running=False)
    gw.load(load_paths([DEFAULT_FIXTURES], gw.clock.today()))
    registry = face.feature(gw).registry
    registry.issue_all(gw.index.people[p] for _, p, _ in CASES)
    return gw


def measure(label: str, count: int, call: Callable[[], ReaderResult], pause: float = 0.0) -> None:
    for _ in range(min(5, count)):
        call()
    rng = random.Random(0)
    placed, read, whole = [], [], []
    for _ in range(count):
        if pause:
            time.sleep(rng.uniform(0, pause))  # a patient arrives at any moment of pcscd's poll cycle
        t0 = time.perf_counter_ns()
        result = call()
        whole.append((time.perf_counter_ns() - t0) / 1e6)
        if result.face_path is not None:
            assert result.face_path.exists()
        placed.append(result.elapsed_ms)
        read.append(result.read_ms)
    placed.sort()
    p50 = statistics.median(placed)
    p99 = placed[min(len(placed) - 1, int(len(placed) * 0.99))]
    print(
        f"{label:<36} n={count:<4} placed→file p50={p50:7.2f} p99={p99:7.2f} max={placed[-1]:7.2f} ms"
        f" | seen→file p50={statistics.median(read):6.2f} ms | with removal p50={statistics.median(whole):7.2f} ms"
    )


def run(gw: Gateway, count: int, title: str, pause: float = 0.0) -> None:
    print(f"-- {title}")
    for label, person_id, options in CASES:
        measure(label, count, lambda p=person_id, o=options: face.place(gw, p, **o), pause)  # type: ignore[misc]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="placements per case (direct)")
    parser.add_argument("--pcscd-count", type=int, default=20, help="placements per case through pcscd")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        gw = gateway(Path(tmp) / "oqs")
        try:
            run(gw, args.count, "card model in-process (default)")
            reason = pcscd_unavailable_reason(require_pyscard=True)
            if reason is not None:
                print(f"-- pcscd face-auth reader: skipped ({reason})")
                return 0
            with PrivatePcscd(Path(tmp) / "pcscd") as daemon:
                face.feature(gw).slot_factory = lambda: PcscSlot.face_auth_reader(daemon)
                run(gw, args.pcscd_count, f"pcscd face-auth reader ({daemon.face_auth_reader}), back to back")
                run(gw, args.pcscd_count, "pcscd face-auth reader, cards placed at random moments", POLL)
                face.feature(gw).slot_factory = None
        finally:
            gw.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
