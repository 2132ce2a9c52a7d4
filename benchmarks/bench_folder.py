"""Benchmark: folder transport, file-in → file-out, on a temporary directory.

    .venv/bin/python benchmarks/bench_folder.py [--requests 1000] [--burst 2000] [--workers 2]
                                                [--polling-requests 50] [--dir PATH]

Latency: requests are written one at a time the way clients should (write a dot-name, rename
into `req`); the clock runs from that rename to the result's rename into `res`, seen by a
client-side inotify watch on `res`. Throughput: `--burst` files are renamed into `req` at once
and the clock runs until the last result appears. A short polling-mode run shows what the
fallback costs (expected: about one to two poll intervals).
Target: p99 ≤ 50 ms (inotify mode).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import inotify_simple

from mockgateway.app import build_gateway
from mockgateway.config import Config
from mockgateway.domain.clock import jst
from mockgateway.engine import Gateway
from mockgateway.store.files import atomic_write
from mockgateway.transports.folder import FolderTransport
from mockgateway.wire import xmlcodec

TARGET_P99_MS = 50.0
REQUEST = (
    '<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>\n'
    "<XmlMsg><MessageHeader><QualificationConfirmationDate>20261123</QualificationConfirmationDate>"
    "<MedicalInstitutionCode>1310112345</MedicalInstitutionCode>"
    "<ArbitraryFileIdentifier>{i}</ArbitraryFileIdentifier></MessageHeader>"
    "<MessageBody><QualificationConfirmSearchInfo><InsurerNumber>01139997</InsurerNumber>"
    "<InsuredCardSymbol>12-34</InsuredCardSymbol><InsuredIdentificationNumber>5678</InsuredIdentificationNumber>"
    "<InsuredBranchNumber>00</InsuredBranchNumber><Birthdate>19800401</Birthdate>"
    "<LimitApplicationCertificateRelatedConsFlg>0</LimitApplicationCertificateRelatedConsFlg>"
    "</QualificationConfirmSearchInfo></MessageBody></XmlMsg>\n"
)


def request_bytes(i: int) -> bytes:
    return REQUEST.format(i=i).encode("cp932")


def drop(req: Path, name: str, data: bytes) -> None:
    temp = req / f".{name}.part"
    temp.write_bytes(data)
    os.replace(temp, req / name)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(label: str, millis: list[float]) -> float:
    p99 = percentile(millis, 0.99)
    print(
        f"{label}: n={len(millis)}  p50={percentile(millis, 0.50):.2f} ms  p99={p99:.2f} ms  "
        f"max={max(millis):.2f} ms  mean={statistics.fmean(millis):.2f} ms"
    )
    return p99


@contextmanager
def running(
    directory: Path, *, use_inotify: bool, workers: int, poll_interval: float = 0.2
) -> Iterator[tuple[Gateway, FolderTransport, inotify_simple.INotify]]:
    root = Path(tempfile.mkdtemp(prefix="bench-folder-", dir=directory))
    gateway = build_gateway(Config(root=root))
    gateway.clock.set(jst(2026, 11, 23, 10), running=False)
    gateway.reload()
    transport = FolderTransport(gateway, root, use_inotify=use_inotify, workers=workers, poll_interval=poll_interval)
    transport.start()
    results = inotify_simple.INotify()
    results.add_watch(transport.res, inotify_simple.flags.MOVED_TO)
    try:
        yield gateway, transport, results
    finally:
        results.close()
        transport.stop()
        gateway.store.close()


def wait_result(results: inotify_simple.INotify, name: str, timeout: float = 10.0) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for event in results.read(timeout=1000):
            if event.name == name:
                return time.perf_counter()
    raise TimeoutError(f"no {name} within {timeout}s")


def latency_run(directory: Path, count: int, workers: int, *, use_inotify: bool) -> list[float]:
    millis: list[float] = []
    with running(directory, use_inotify=use_inotify, workers=workers) as (_, transport, results):
        for i in range(count):
            name = f"OQSsiquc01req_{i:012d}.xml"
            data = request_bytes(i)
            temp = transport.req / f".{name}.part"
            temp.write_bytes(data)
            started = time.perf_counter()
            os.replace(temp, transport.req / name)
            done = wait_result(results, name.replace("req_", "res_", 1))
            millis.append((done - started) * 1000)
        last = (transport.res / f"OQSsiquc01res_{count - 1:012d}.xml").read_bytes()
        header = xmlcodec.parse(last).tree["MessageHeader"]
        if not isinstance(header, dict) or header["SegmentOfResult"] != "1":
            raise RuntimeError(f"unexpected result: {header}")
    return millis


def throughput_run(directory: Path, count: int, workers: int) -> float:
    with running(directory, use_inotify=True, workers=workers) as (_, transport, results):
        payloads = [(f"OQSsiquc01req_{i:012d}.xml", request_bytes(i)) for i in range(count)]
        started = time.perf_counter()
        for name, data in payloads:
            drop(transport.req, name, data)
        seen = 0
        while seen < count:
            events = results.read(timeout=10_000)
            if not events:
                raise TimeoutError(f"only {seen}/{count} results")
            seen += sum(1 for e in events if e.name.startswith("OQSsiquc01res_"))
        elapsed = time.perf_counter() - started
        transport.stop()  # lets the last requests finish moving to trash (result first, then request)
        if len(os.listdir(transport.trash)) != count:
            raise RuntimeError(f"{len(os.listdir(transport.trash))} requests in trash, expected {count}")
    return count / elapsed


def write_cost(directory: Path, count: int = 500) -> list[float]:
    """atomic_write alone (fsync file + folder): the floor under every latency above."""
    target = Path(tempfile.mkdtemp(prefix="bench-write-", dir=directory))
    data = request_bytes(0) * 2
    millis = []
    for i in range(count):
        started = time.perf_counter()
        atomic_write(target, f"f{i}.xml", data)
        millis.append((time.perf_counter() - started) * 1000)
    return millis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--polling-requests", type=int, default=50)
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary root goes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-folder-", dir=args.dir) as scratch:
        directory = Path(scratch)
        print(f"root under {directory} ({os.cpu_count()} CPUs, {args.workers} workers)")
        summary("atomic_write (fsync file + folder)", write_cost(directory))
        p99 = summary("latency, inotify", latency_run(directory, args.requests, args.workers, use_inotify=True))
        print(f"  target p99 <= {TARGET_P99_MS:.0f} ms: {'met' if p99 <= TARGET_P99_MS else 'MISSED'}")
        rate = throughput_run(directory, args.burst, args.workers)
        print(f"throughput, inotify, burst of {args.burst}: {rate:,.0f} files/s")
        if args.polling_requests:
            summary(
                "latency, polling every 0.2 s",
                latency_run(directory, args.polling_requests, args.workers, use_inotify=False),
            )


if __name__ == "__main__":
    main()
