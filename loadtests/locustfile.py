"""Locust profiles for the mock オンライン資格確認 gateway (docs/loadtests.md).

    locust -f loadtests/locustfile.py --headless -H http://127.0.0.1:8080 \\
        --mg-db var/oqs/mockgateway.sqlite3 --mg-profile 2024-04 --mg-scale 1 -t 60s \\
        --csv reports/apr2024 --html reports/apr2024.html

One user class per facility type (病院, 医科診療所, 歯科診療所, 薬局), weighted by the chosen month's share
of tasks; each user is one reception desk of one 医療機関 and draws what it does next (マイナ保険証,
被保険者証 numbers, an 一括照会 file, a 医療情報 view) from that facility type's mix for the month and
the stage of the day. A LoadTestShape plays a reception day compressed into the run (opening burst,
morning peak, lunch lull, afternoon, evening bulk) or holds the peak (`--mg-shape peak`). Every
answer is checked against what the population says it must be; the thresholds set the exit code.
Everything that sizes the load is printed at start (`python -m loadtests.traffic` prints it too).
"""

from __future__ import annotations

import logging
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gevent  # noqa: E402
from locust import FastHttpUser, LoadTestShape, events, task  # noqa: E402
from locust.runners import MasterRunner, WorkerRunner  # noqa: E402

from loadtests import bodies, traffic  # noqa: E402
from loadtests.people import CardKeys, Patient, Sample, card_pool, load_sample  # noqa: E402

log = logging.getLogger("mockgateway.load")
STATE: dict[str, Any] = {}  # per process: model, sample, options, start time
CONVENIENCE = "/oqs/"
SEARCH = "/oqs-api-pro/MSA01030/ILI01030SV01/search"
AUTH = "/oqs-api-pro/MSA12020/ILI12020SV01/auth"
ROLE = {"hospital": "doctor", "clinic": "doctor", "dental": "dentist", "pharmacy": "pharmacist"}


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    g = parser.add_argument_group("mockgateway")
    g.add_argument("--mg-profile", choices=traffic.PROFILES, default="2024-04", help="month the mix and volume follow")
    g.add_argument("--mg-shape", choices=["day", "peak", "average"], default="day", help="compressed day or flat")
    g.add_argument("--mg-duration", type=float, default=0, help="seconds the shape lasts (default: -t, else 60)")
    g.add_argument("--mg-scale", type=float, default=1.0, help="1 = the whole country")
    g.add_argument("--mg-vendor-share", type=float, default=1.0, help="a vendor's share of facilities")
    g.add_argument("--mg-days", type=int, default=24, help="D: operating days a month")
    g.add_argument("--mg-hours", type=float, default=9.0, help="H: reception hours a day")
    g.add_argument("--mg-phf", type=float, default=2.0, help="PHF: peak-hour factor (assumption)")
    g.add_argument("--mg-bf", type=float, default=1.5, help="BF: burst factor (assumption)")
    g.add_argument("--mg-post-mynumber-share", type=float, default=0.30, help="post-2024-12 マイナ保険証 share")
    g.add_argument("--mg-db", default="var/oqs/mockgateway.sqlite3", help="the generated population (SQLite)")
    g.add_argument("--mg-sample", type=int, default=20_000, help="people sampled per load process")
    g.add_argument("--mg-user-rate", type=float, default=2.0, help="tasks a second per user (a reception desk)")
    g.add_argument("--mg-jitter", type=float, default=0.2,
                   help="each user's interval varies by ± this share (the mean rate stays --mg-user-rate)")  # fmt: skip
    g.add_argument("--mg-typo-share", type=float, default=0.005, help="checks with a mistyped 番号 (answer 4)")
    g.add_argument("--mg-old-card-share", type=float, default=0.01, help="checks with a card of a former insurer")
    g.add_argument("--mg-bulk-records", type=int, default=100, help="records a 一括照会 file")
    g.add_argument("--mg-bulk-poll", type=float, default=2.0, help="seconds between OQSmuquc02 polls")
    g.add_argument("--mg-bulk-timeout", type=float, default=120.0, help="give a bulk file up after this")
    g.add_argument("--mg-mynumber", choices=["reader", "standin", "off"], default="reader",
                   help="マイナ保険証: place the card on the gateway's reader (admin API), or stand in with a "
                        "number query, or leave it out")  # fmt: skip
    g.add_argument("--mg-card-pool", type=int, default=50, help="card holders the reader sees (keys are made once)")
    g.add_argument("--mg-admin-token", default=os.environ.get("MOCKGATEWAY_ADMIN_TOKEN", ""), help="admin token")
    g.add_argument("--mg-webapi-share", type=float, default=0.0, help="share of number checks sent to the Web API")
    g.add_argument("--mg-allow-remote", action="store_true", help="allow a target other than loopback")
    g.add_argument("--mg-max-fail-ratio", type=float, default=0.0, help="exit 1 above this failure ratio")
    g.add_argument("--mg-max-p99-ms", type=float, default=0.0, help="exit 1 above this p99 (0: not checked)")
    g.add_argument("--mg-min-rps-ratio", type=float, default=0.0, help="exit 1 below this × the planned rps")


def _formula(opts: Any) -> traffic.PeakFormula:
    return traffic.PeakFormula(
        operating_days=opts.mg_days,
        reception_hours=opts.mg_hours,
        peak_hour_factor=opts.mg_phf,
        burst_factor=opts.mg_bf,
        scale=opts.mg_scale,
        vendor_share=opts.mg_vendor_share,
    )


def _model(opts: Any) -> traffic.Model:
    return traffic.model(
        opts.mg_profile,
        formula=_formula(opts),
        shape=opts.mg_shape,
        bulk_records=opts.mg_bulk_records,
        bulk_polls=max(1.0, 3.5 / max(opts.mg_bulk_poll, 0.1)),
        post_mynumber_share=opts.mg_post_mynumber_share,
    )


def _duration(opts: Any) -> float:
    return float(opts.mg_duration or opts.run_time or 60)


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    opts = environment.parsed_options
    if opts is None:
        return
    host = (environment.host or opts.host or "").lower()
    if (
        host
        and not opts.mg_allow_remote
        and not any(
            host.startswith(f"{scheme}://{name}")
            for scheme in ("http", "https")
            for name in ("127.", "localhost", "[::1]")
        )
    ):
        raise SystemExit(f"refusing to load {host}: loopback targets only (--mg-allow-remote to override)")
    model = _model(opts)
    STATE.update(model=model, opts=opts)
    weights = model.facility_weights()
    for cls in RECEPTION_USERS:
        cls.weight = max(1, round(weights[cls.facility] * 1000))
        cls.wait_time = paced(opts.mg_user_rate, opts.mg_jitter)
    _prepare(environment, opts)
    if not isinstance(environment.runner, WorkerRunner):
        print(model.report(), flush=True)
        print(
            f"  users: {opts.mg_user_rate:g} tasks/s each; class weights "
            + ", ".join(f"{traffic.FACILITY_NAMES[c.facility]} {c.weight}" for c in RECEPTION_USERS),
            flush=True,
        )


def _sample(opts: Any) -> Sample:
    sample: Sample | None = STATE.get("sample")
    if sample is None:
        sample = STATE["sample"] = load_sample(opts.mg_db, opts.mg_sample)
    return sample


def _admin_headers(opts: Any) -> dict[str, str]:
    return {"X-Admin-Token": opts.mg_admin_token, "Content-Type": "application/json"}


@events.test_start.add_listener
def _start(environment: Any, **_: Any) -> None:
    STATE["started"] = time.monotonic()


def _prepare(environment: Any, opts: Any) -> None:
    """Before any user runs: the sample (in processes that run users) and the reader's cards."""
    if not isinstance(environment.runner, MasterRunner):
        _sample(opts)
    pool = card_pool(opts.mg_db, opts.mg_card_pool) if opts.mg_mynumber == "reader" else []
    STATE["card_pool"] = pool
    STATE["reader"] = opts.mg_mynumber == "reader" and bool(opts.mg_admin_token) and bool(pool)
    if opts.mg_mynumber == "reader" and not STATE["reader"]:
        log.warning("マイナ保険証 stands in as number queries: no --mg-admin-token or no registered card holder")
    if STATE["reader"] and not isinstance(environment.runner, WorkerRunner):
        _warm_cards(environment, opts, pool)


def _warm_cards(environment: Any, opts: Any, pool: list[Patient]) -> None:
    """Issue each pool card once before the measured run (a card's keys take ~0.1–0.4 s to make)."""
    import urllib.request

    import orjson

    host = (environment.host or "").rstrip("/")
    started = time.monotonic()
    for patient in pool:
        body = orjson.dumps({"person_id": patient.id, "mode": "face"})
        request = urllib.request.Request(
            f"{host}/admin/reader/place", data=body, method="POST", headers=_admin_headers(opts)
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
        except OSError as exc:
            log.warning("card warm-up failed (%s): is the face reader installed on %s?", exc, host)
            return
    log.info("%d cards issued in %.1f s", len(pool), time.monotonic() - started)


@events.quitting.add_listener
def _thresholds(environment: Any, **_: Any) -> None:
    """The exit code: failures, p99 and achieved throughput against the options' thresholds."""
    opts = environment.parsed_options
    if opts is None or isinstance(environment.runner, WorkerRunner):
        return
    total = environment.stats.total
    problems = []
    if total.num_requests == 0:
        problems.append("no requests were made")
    elif total.fail_ratio > opts.mg_max_fail_ratio:
        problems.append(f"failure ratio {total.fail_ratio:.4f} > {opts.mg_max_fail_ratio}")
    p99 = total.get_response_time_percentile(0.99) if total.num_requests else 0
    if opts.mg_max_p99_ms and p99 > opts.mg_max_p99_ms:
        problems.append(f"p99 {p99:.0f} ms > {opts.mg_max_p99_ms:g} ms")
    if opts.mg_min_rps_ratio:
        model: traffic.Model = STATE["model"]
        duration = _duration(opts)
        planned = _planned_requests(model, duration) / duration
        achieved = total.num_requests / max(total.last_request_timestamp - total.start_time, 1e-9)
        if achieved < opts.mg_min_rps_ratio * planned:
            problems.append(f"{achieved:.0f} requests/s < {opts.mg_min_rps_ratio:g} × planned {planned:.0f}")
    summary = (
        f"mockgateway load: {total.num_requests:,} requests, {total.num_failures:,} failures, "
        f"p50 {total.get_response_time_percentile(0.5) or 0:.0f} ms, p99 {p99 or 0:.0f} ms, "
        f"{total.total_rps:.1f} requests/s"
    )
    print(summary, flush=True)
    if problems:
        print("thresholds not met: " + "; ".join(problems), flush=True)
        environment.process_exit_code = 1
    else:
        environment.process_exit_code = 0


def paced(rate: float, jitter: float) -> Any:
    """A locust wait_time: constant pacing at `rate` tasks/s per user, each interval drawn within
    ± `jitter` of 1/rate (the mean rate is kept). With the random phase every user starts with
    (`Reception.on_start`), users spawned in the same second do not fire in the same instant;
    locust's constant_throughput keeps them in step, which measured as synchronised bursts (p99 of
    hundreds of ms at a rate where wrk sees a few ms). A user that falls behind does not burst to
    catch up: it starts a new interval from now."""
    period = 1.0 / rate

    def wait_time(user: Any) -> float:
        now = time.monotonic()
        due = getattr(user, "_mg_due", now) + period * user.rng.uniform(1.0 - jitter, 1.0 + jitter)
        due = max(due, now)
        user._mg_due = due
        return due - now

    return wait_time


def _planned_requests(model: traffic.Model, duration: float) -> float:
    if model.shape != "day":
        return model.totals(model.stage(0))[2] * duration
    return sum(model.totals(s)[2] * s.hours / model.day.hours * duration for s in model.day.stages)


def _stage(opts: Any) -> traffic.Stage:
    model: traffic.Model = STATE["model"]
    elapsed = time.monotonic() - STATE.get("started", time.monotonic())
    return model.stage(elapsed / _duration(opts))


class ReceptionDay(LoadTestShape):
    """Users follow the day: tasks/s of the stage ÷ tasks/s a user does."""

    def tick(self) -> tuple[int, float] | None:
        opts = self.runner.environment.parsed_options
        duration = _duration(opts)
        elapsed = self.get_run_time()
        if elapsed >= duration:
            return None
        model: traffic.Model = STATE.get("model") or _model(opts)
        stage = model.stage(elapsed / duration)
        tasks = model.totals(stage)[1]
        users = max(1, math.ceil(tasks / opts.mg_user_rate))
        return users, max(100.0, float(users))


class Reception(FastHttpUser):
    """One reception desk of one 医療機関 of `facility`'s type."""

    abstract = True
    facility = "hospital"
    connection_timeout = 30.0
    network_timeout = 60.0

    def on_start(self) -> None:
        opts = STATE["opts"]
        self.opts = opts
        self.sample = _sample(opts)
        self.rng = random.Random()
        codes = self.sample.facilities.get(self.facility) or ["1311234569"]
        self.mic = self.rng.choice(codes)
        self.token: str | None = None
        # A random phase within one interval: users spawned together do not fire together.
        phase = self.rng.uniform(0.0, 1.0 / opts.mg_user_rate)
        self._mg_due = time.monotonic() + phase
        gevent.sleep(phase)

    # -- choosing -----------------------------------------------------------------------------

    @task
    def reception(self) -> None:
        model: traffic.Model = STATE["model"]
        weights = model.task_weights(self.facility, _stage(self.opts))
        kinds = [k for k, w in weights.items() if w > 0]
        kind = self.rng.choices(kinds, [weights[k] for k in kinds])[0]
        if kind == "mynumber":
            self.mynumber()
        elif kind == "insurance_card":
            self.insurance_card()
        elif kind == "bulk":
            self.bulk()
        else:
            self.view(kind)

    def patient(self) -> Patient:
        return self.rng.choice(self.sample.patients)

    # -- 被保険者証 / 資格確認書 numbers ------------------------------------------------------------

    def insurance_card(self, label: str = "OQSsiquc01 被保険者証") -> None:
        opts, rng = self.opts, self.rng
        roll = rng.random()
        p = self.patient()
        keys, expect = p.keys, p.validity
        if roll < opts.mg_typo_share:
            keys, expect, label = bodies.typo(p.keys), "4", label + " (typo)"
        elif roll < opts.mg_typo_share + opts.mg_old_card_share and self.sample.changed:
            p = rng.choice(self.sample.changed)
            assert p.old_keys is not None
            keys, expect, label = p.old_keys, "3", label + " (former insurer)"
        if rng.random() < opts.mg_webapi_share and self._token():
            self._webapi(keys, p.birthdate, expect)
            return
        body = bodies.eligibility_xml(self.mic, self.sample.as_of, keys, p.birthdate)
        headers = {"Content-Type": "application/xml"}
        with self.client.post(
            CONVENIENCE + "OQSsiquc01", data=body, headers=headers, name=label, catch_response=True
        ) as response:
            got = bodies.validity(response.content or b"")
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif got != expect:
                code = bodies.error_code(response.content or b"")
                response.failure(f"{p.id}: QualificationValidity {got} (error {code}), expected {expect}")

    def _token(self) -> str | None:
        if self.token is None:
            body = b'{"MedicalInstitutionCode": "' + self.mic.encode() + b'"}'
            with self.client.post(AUTH, data=body, name="Web API auth", catch_response=True) as response:
                if response.status_code != 200:
                    response.failure(f"HTTP {response.status_code}: is the Web API on this port (--webapi-plain)?")
                    return None
                self.token = str(response.json()["result"]["idToken"])
        return self.token

    def _webapi(self, keys: CardKeys, birthdate: str, expect: str) -> None:
        body = bodies.eligibility_json(self.mic, self.sample.as_of, keys, birthdate)
        headers = {"Content-Type": "application/json;charset=UTF-8", "Authorization": self.token or ""}
        with self.client.post(SEARCH, data=body, headers=headers, name="Web API search", catch_response=True) as r:
            if r.status_code == 401:
                self.token = None
                r.failure("token refused")
                return
            doc = r.json() if r.status_code == 200 else {}
            got = doc.get("XmlMsg", {}).get("MessageBody", {}).get("QualificationValidity")
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
            elif got != expect:
                r.failure(f"QualificationValidity {got}, expected {expect}")

    # -- マイナ保険証 ----------------------------------------------------------------------------------

    def mynumber(self) -> None:
        opts = self.opts
        pool: list[Patient] = STATE.get("card_pool") or []
        if opts.mg_mynumber == "off":
            return
        if not STATE.get("reader"):
            self.insurance_card("マイナ保険証 (stand-in: OQSsiquc01)")
            return
        import orjson

        p = self.rng.choice(pool)
        body = orjson.dumps({"person_id": p.id, "mode": "face", "medical_institution": self.mic})
        with self.client.post(
            "/admin/reader/place", data=body, headers=_admin_headers(opts), name="マイナ保険証 (reader)",
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")
                return
            outcome = response.json().get("outcome")
            if outcome != "confirmed":
                response.failure(f"{p.id}: reader outcome {outcome}, expected confirmed")

    # -- 一括照会 ---------------------------------------------------------------------------------------

    def bulk(self) -> None:
        opts, rng = self.opts, self.rng
        records = [self.patient() for _ in range(opts.mg_bulk_records)]
        body = bodies.bulk_upload(self.mic, self.sample.as_of, records, file_id=f"load{rng.randrange(10**8):08d}")
        headers = {"Content-Type": "application/xml"}
        with self.client.post(
            CONVENIENCE + "OQSmuquc01", data=body, headers=headers, name="OQSmuquc01 一括照会 upload",
            catch_response=True,
        ) as response:  # fmt: skip
            number = bodies.reception_number(response.content or b"")
            if response.status_code != 200 or number is None:
                response.failure(f"HTTP {response.status_code}, ReceptionNumber {number}")
                return
        deadline = time.monotonic() + opts.mg_bulk_timeout
        poll = bodies.bulk_download(self.mic, number)
        while True:
            time.sleep(opts.mg_bulk_poll)  # gevent-patched: this desk waits, the others go on
            with self.client.post(
                CONVENIENCE + "OQSmuquc02", data=poll, headers=headers, name="OQSmuquc02 一括照会 poll",
                catch_response=True,
            ) as response:  # fmt: skip
                segment = bodies.segment(response.content or b"")
                if response.status_code != 200 or segment not in ("1", "2"):
                    response.failure(f"HTTP {response.status_code}, SegmentOfResult {segment}")
                    return
                if segment == "1":
                    return
                if time.monotonic() > deadline:
                    response.failure(f"一括照会 {number} still 処理中 after {opts.mg_bulk_timeout:g} s")
                    return

    # -- 医療情報 ---------------------------------------------------------------------------------------

    def view(self, kind: str) -> None:
        api = "TKKsiquc01" if kind == "checkup" else "YZKsiquc01"
        label = {"checkup": "TKKsiquc01 特定健診", "drug": "YZKsiquc01 薬剤", "clinical": "YZKsiquc01 診療"}[kind]
        p = self.rng.choice(STATE.get("card_pool") or self.sample.patients)
        body = bodies.medical(self.mic, p.keys, ROLE[self.facility])
        headers = {"Content-Type": "application/xml"}
        with self.client.post(CONVENIENCE + api, data=body, headers=headers, name=label, catch_response=True) as r:
            content = r.content or b""
            # without a consent given on this 医療機関's reader the gateway refuses in the interface's
            # terms: that is an answer, not a failure; a broken one (no XML, no PDF) is.
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
            elif not (content.startswith(b"%PDF") or b"<XmlMsg>" in content):
                r.failure("neither XML nor PDF")


class Hospital(Reception):
    facility = "hospital"


class Clinic(Reception):
    facility = "clinic"


class DentalClinic(Reception):
    facility = "dental"


class Pharmacy(Reception):
    facility = "pharmacy"


RECEPTION_USERS: tuple[type[Reception], ...] = (Hospital, Clinic, DentalClinic, Pharmacy)
