"""Benchmark: one 資格確認一括照会 file of N records end to end through `Gateway.process`.

    .venv/bin/python benchmarks/bench_bulk.py [--records 100000] [--people 100000] [--zip] [--utf8]

Upload (parse the file, validate the envelope, commit job + records) → background processing
(run synchronously here, at pace "instant" = test pace) → download (load results, render the
02res). `--people` distinct synthetic people are loaded first (setup, not timed), so every record
is a different person; about 4% of records are deliberately invalid or unknown. The bulk worker's
processes (setting `processes`, default one per core) are started during setup, as a running
gateway has them. Prints the wall time, records/s and CPU (this process + the worker processes,
per record: the figure that stays comparable on a busy machine) of each phase and the whole file,
and the peak RSS of the process tree (sampled) beside this process's own peak.
Targets (issue 4): processing ≥ 50,000 records/s; whole file < 5 s.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import itertools
import multiprocessing
import os
import pstats
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mockgateway.app import build_gateway
from mockgateway.config import Config
from mockgateway.domain.eligibility import SearchKey, confirm
from mockgateway.domain.numbers import with_check_digit
from mockgateway.engine import Format, Gateway
from mockgateway.fixtures import Dataset, load_documents
from mockgateway.services.bulk import service as bulk
from mockgateway.services.bulk.layout import CONFIRM, download_tree, upload_tree
from mockgateway.store.index import PeopleIndex
from mockgateway.wire import xmlcodec
from mockgateway.wire.messages import RequestError, parse_search_info

MIC = "1311234569"
INSURER = "06139992"  # 模擬商事健康保険組合 in the default personas
SYMBOL = "9001"


def synthetic_people(count: int, today: Any) -> Dataset:
    persons = [
        {
            "id": f"bench-{i}",
            "Name": "試験　太郎",
            "NameKana": "シケン　タロウ",
            "Sex1": "1" if i % 2 else "2",
            "Birthdate": f"{1940 + i % 70}{1 + i % 12:02d}{1 + i % 28:02d}",
            "Address": "東京都千代田区霞が関一丁目",
            "qualifications": [
                {
                    "InsurerNumber": INSURER,
                    "InsuredCardSymbol": SYMBOL,
                    "InsuredIdentificationNumber": str(100000 + i),
                    "InsuredBranchNumber": "00",
                    "InsuredCardClassification": "01",
                    "PersonalFamilyClassification": "1",
                    "InsuredName": "試験　太郎",
                    "QualificationDate": "20200401",
                    "InsuredPartialContributionRatio": "030",
                }
            ],
        }
        for i in range(count)
    ]
    doc = {"insurers": [{"InsurerNumber": INSURER, "InsurerName": "模擬商事健康保険組合"}], "persons": persons}
    return load_documents([("bench", doc)], today)


def records(count: int, people: int) -> list[dict[str, str]]:
    out = []
    bad_insurer = INSURER[:-1] + str((int(INSURER[-1]) + 1) % 10)
    assert with_check_digit(INSURER[:-1]) == INSURER
    for i in range(count):
        n = i % max(people, 1)
        record = {
            "InsurerNumber": INSURER,
            "InsuredCardSymbol": SYMBOL,
            "InsuredIdentificationNumber": str(100000 + n),
            "InsuredBranchNumber": "00",
            "Birthdate": f"{1940 + n % 70}{1 + n % 12:02d}{1 + n % 28:02d}",
            "LimitApplicationCertificateRelatedConsFlg": "0",
            "ArbitraryIdentifier": f"K{i:08d}",
        }
        if i % 50 == 7:
            record["InsurerNumber"] = bad_insurer  # check digit error → per-record error
        elif i % 50 == 21:
            record["Birthdate"] = "19991399"  # bad date → per-record error
        elif i % 100 == 42:
            record["InsuredIdentificationNumber"] = "99999999"  # nobody → validity 4
        out.append(record)
    return out


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeRss:
    """Peak RSS of this process and its worker processes together, sampled every 10 ms (the
    kernel keeps a peak per process only; the tree's peak is the peak of the sum)."""

    def __init__(self, children: Callable[[], list[int]]) -> None:
        self.children = children
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.01):
            total = _rss_kib(me) + sum(_rss_kib(pid) for pid in self.children())
            self.peak_kib = max(self.peak_kib, total)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kib / 1024


def _populate(root: Path, people: int, count: int, encoding: str) -> None:
    """Write the people into the gateway's store and the request file beside it, in a process of
    its own: the measured process starts on a populated store as a restarted gateway does, and
    holds the request as the bytes it receives — neither the loading's nor the client's garbage."""
    gateway = build_gateway(Config(root=root, tls_port=None, folder=False))
    gateway.load(synthetic_people(people, gateway.clock.today()), replace=False)
    gateway.store.close()
    raw = xmlcodec.render("XmlMsg", upload_tree(CONFIRM, MIC, records(count, people)), encoding)
    (root / "request.xml").write_bytes(raw)


def run(args: argparse.Namespace) -> int:
    root = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    encoding = "UTF-8" if args.utf8 else "Shift_JIS"
    t = time.perf_counter()
    loader = multiprocessing.get_context("spawn").Process(
        target=_populate, args=(root, args.people, args.records, encoding)
    )
    loader.start()
    loader.join()
    assert loader.exitcode == 0, loader.exitcode
    gateway = build_gateway(Config(root=root, tls_port=None, folder=False))
    assert len(gateway.index) >= args.people, len(gateway.index)
    gateway.settings.output_encoding = encoding
    if args.memory_index:  # every person parsed up front, as the in-memory PeopleIndex does
        store = gateway.store
        gateway.index = PeopleIndex.build(store.insurers(), store.documents(), gateway.clock.today())
    setup = time.perf_counter() - t
    bulk.configure(
        gateway,
        pace="instant",
        max_records=args.records,
        max_file_bytes=1 << 30,
        result_format="zip" if args.zip else "xml",
        chunk=args.chunk,
        **({} if args.processes is None else {"processes": args.processes}),
    )
    feature = bulk.feature(gateway)
    assert feature is not None
    processes = feature.settings.processes
    feature.worker.warm()  # a running gateway starts its worker processes once, not per file
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    raw = (root / "request.xml").read_bytes()
    print(
        f"setup: {args.people:,} people loaded in {setup:.1f} s ({type(gateway.index).__name__}); "
        f"request file {len(raw) / 1e6:.1f} MB ({encoding})"
    )

    tree_rss = TreeRss(feature.worker.worker_pids)
    children_cpu = _children_cpu(feature.worker.worker_pids())
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    marks = [(time.perf_counter(), time.process_time())]
    rss = [peak_rss_mib()]
    up = gateway.process("OQSmuquc01", raw, fmt=Format.XML, transport="bench", name="OQSmuquc01req_bench.xml")
    marks.append((time.perf_counter(), time.process_time()))
    workers_cpu = [_children_cpu(feature.worker.worker_pids()) - children_cpu]
    rss.append(peak_rss_mib())
    number = _text(up.body, "ReceptionNumber")
    if number is None:
        print(up.body.decode("cp932", "replace")[:600])
        return 1
    feature.worker.run_once()
    marks.append((time.perf_counter(), time.process_time()))
    workers_cpu.append(_children_cpu(feature.worker.worker_pids()) - children_cpu)
    rss.append(peak_rss_mib())
    down_req = xmlcodec.render("XmlMsg", download_tree(MIC, number), encoding)
    down = gateway.process("OQSmuquc02", down_req, fmt=Format.XML, transport="bench", name="OQSmuquc02req_bench.xml")
    marks.append((time.perf_counter(), time.process_time()))
    if profiler:
        profiler.disable()
    workers_cpu.append(_children_cpu(feature.worker.worker_pids()) - children_cpu)
    tree_peak = tree_rss.stop()
    rss.append(peak_rss_mib())
    status = feature.status(number)
    assert status is not None
    assert status["done"], status
    n = args.records
    phases = [
        "upload   (XML parse + envelope + commit)",
        "process  (validate + judge + store)",
        f"download (load + render{' + zip' if args.zip else ''})",
    ]
    # cpu s: this process plus its worker processes (CPU seconds, comparable under contention)
    workers = [0.0, *workers_cpu]
    spread = workers[2] - workers[1] > 0
    print(f"processes: {processes} ({'chunks judged in worker processes' if spread else 'in the worker thread'})")
    if spread:
        own = marks[2][1] - marks[1][1]
        print(f"processing cpu: this process {own:.2f} s, worker processes {workers[2] - workers[1]:.2f} s")
    print(f"{'phase':42} {'wall s':>7} {'cpu s':>7} {'records/s (wall)':>17} {'cpu µs/record':>14}")
    for i, (name, ((w0, c0), (w1, c1))) in enumerate(zip(phases, itertools.pairwise(marks), strict=True)):
        cpu = c1 - c0 + workers[i + 1] - workers[i]
        print(f"{name:42} {w1 - w0:7.2f} {cpu:7.2f} {n / (w1 - w0):>17,.0f} {cpu / n * 1e6:14.1f}")
    (w0, c0), (w1, c1) = marks[0], marks[-1]
    cpu = c1 - c0 + workers[-1]
    print(f"{'whole file end to end':42} {w1 - w0:7.2f} {cpu:7.2f} {n / (w1 - w0):>17,.0f} {cpu / n * 1e6:14.1f}")
    print(
        f"result {len(down.body) / 1e6:.1f} MB{' (zip)' if args.zip else ''}; errors {status['errors']:,}; "
        f"peak RSS {tree_peak:,.0f} MiB (this process and its workers, sampled); "
        f"this process alone {peak_rss_mib():,.0f} MiB "
        f"(its peak after setup / upload / processing / download: {' / '.join(f'{r:,.0f}' for r in rss)})"
    )
    _check(down.body, args)
    if args.breakdown:
        _breakdown(gateway, raw, n)
    if profiler:
        pstats.Stats(profiler).sort_stats(args.profile_sort).print_stats(30)
    return 0


def _breakdown(gateway: Gateway, raw: bytes, n: int) -> None:
    """Shared code inside the phases above, timed alone (CPU seconds)."""
    started = time.process_time()
    tree = xmlcodec.parse(raw).tree
    parsed = time.process_time()
    body = tree["MessageBody"]
    assert isinstance(body, dict)
    items = body["QualificationConfirmSearchInfo"]
    assert isinstance(items, list)
    infos = []
    for item in items:
        assert isinstance(item, dict)
        with contextlib.suppress(RequestError):
            infos.append(parse_search_info(item, "x"))
    validated = time.process_time()
    on = gateway.clock.today()
    for info in infos:
        confirm(gateway.index.candidates(info.card.number), SearchKey(info.card, info.birthdate), on)
    judged = time.process_time()
    print(f"  of which xmlcodec.parse            {parsed - started:6.2f} s cpu ({n / (parsed - started):,.0f}/s)")
    print(f"  of which messages.parse_search_info {validated - parsed:5.2f} s cpu ({n / (validated - parsed):,.0f}/s)")
    print(f"  of which domain.eligibility.confirm {judged - validated:5.2f} s cpu ({n / (judged - validated):,.0f}/s)")


def _children_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the worker processes have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


def _text(body: bytes, name: str) -> str | None:
    tree = xmlcodec.parse(body).tree
    value = xmlcodec.text_at(tree, "MessageBody", name)
    return value


def _check(body: bytes, args: argparse.Namespace) -> None:
    if args.zip:
        return
    header = xmlcodec.parse(body).tree["MessageHeader"]
    assert isinstance(header, dict)
    assert header["NumberOfProcessingResult"] == str(args.records), header


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=100_000, help="distinct synthetic people to load")
    parser.add_argument("--chunk", type=int, default=5_000, help="records per processing transaction")
    parser.add_argument(
        "--processes", type=int, default=None, help="worker processes (the bulk setting; default: one per core)"
    )
    parser.add_argument("--zip", action="store_true", help="download the result as a ZIP")
    parser.add_argument("--utf8", action="store_true", help="UTF-8 files instead of Shift_JIS")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after setup (the index is long-lived)")
    parser.add_argument(
        "--memory-index", action="store_true", help="answer from an in-memory PeopleIndex instead of the gateway's"
    )
    parser.add_argument("--breakdown", action="store_true", help="also time the shared parse/validate/judge code alone")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the timed part (this process)")
    parser.add_argument("--profile-sort", default="cumulative", help="pstats sort key (cumulative, tottime, …)")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
