"""The traffic model behind the locust profiles: published volumes, the peak formula, the day.

Pure Python (no locust): `python -m loadtests.traffic [--profile 2024-04] [--scale 1]` prints every
profile's parameters and rates, so nothing about the load is buried in code.

    peak requests/s = M ÷ (D × H × 3600) × PHF × BF       (shared/docs/volumes.md)

M is the monthly volume of what is replayed (× scale × vendor share), D operating days, H reception
hours, PHF the peak-hour factor, BF the burst factor. PHF and BF are assumptions until hourly data
is found, and are parameters here.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
FACILITIES = ("hospital", "clinic", "dental", "pharmacy")
FACILITY_NAMES = {"hospital": "病院", "clinic": "医科診療所", "dental": "歯科診療所", "pharmacy": "薬局"}
# What a reception does: eligibility checks (マイナ保険証, 被保険者証/資格確認書 numbers, 一括照会 records)
# and medical-information views (特定健診, 薬剤, 診療).
CHECKS = ("mynumber", "insurance_card", "bulk")
VIEWS = ("checkup", "drug", "clinical")
KINDS = CHECKS + VIEWS
KIND_NAMES = {
    "mynumber": "マイナ保険証",
    "insurance_card": "被保険者証・資格確認書",
    "bulk": "一括照会 (records)",
    "checkup": "特定健診等情報",
    "drug": "薬剤情報",
    "clinical": "診療情報",
}


def _rows(name: str) -> Iterator[dict[str, str]]:
    text = (DATA / name).read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if line and not line.startswith("#"))
    yield from csv.DictReader(io.StringIO(body))


def _int(text: str) -> int | None:
    return int(text) if text.strip() else None


# -- the formula ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeakFormula:
    operating_days: int = 24  # D: Monday to Saturday
    reception_hours: float = 9.0  # H
    peak_hour_factor: float = 2.0  # PHF: the busiest hour ÷ the average hour (assumption)
    burst_factor: float = 1.5  # BF: the busiest minutes ÷ the busiest hour (assumption)
    scale: float = 1.0  # 1.0 = the whole country
    vendor_share: float = 1.0  # a vendor replaying its own share of facilities

    def average(self, monthly: float) -> float:
        """Events per second in an average reception hour."""
        return monthly * self.scale * self.vendor_share / (self.operating_days * self.reception_hours * 3600)

    def peak(self, monthly: float) -> float:
        return self.average(monthly) * self.peak_hour_factor * self.burst_factor

    def describe(self, monthly: float) -> str:
        return (
            f"{monthly:,.0f} × {self.scale:g} × {self.vendor_share:g} ÷ ({self.operating_days} × "
            f"{self.reception_hours:g} × 3600) × {self.peak_hour_factor:g} × {self.burst_factor:g} = "
            f"{self.peak(monthly):,.1f}/s at peak ({self.average(monthly):,.1f}/s on average)"
        )


# -- the volumes and the profiles ----------------------------------------------------------------

Volumes = dict[str, dict[str, float]]  # facility → kind → monthly events


def published() -> dict[str, dict[str, dict[str, int | None]]]:
    """volumes.csv as month → facility → column → value (None: not published)."""
    out: dict[str, dict[str, dict[str, int | None]]] = {}
    for row in _rows("volumes.csv"):
        cols = {k: _int(v) for k, v in row.items() if k not in ("month", "facility")}
        out.setdefault(row["month"], {})[row["facility"]] = cols
    return out


def national(basis: str) -> int:
    for row in _rows("national.csv"):
        if row["basis"] == basis:
            return int(row["monthly"])
    raise KeyError(basis)


@dataclass(frozen=True)
class Profile:
    key: str
    title: str
    source: str
    volumes: Volumes
    assumptions: tuple[str, ...] = ()

    def total(self, kinds: tuple[str, ...] = KINDS, facility: str | None = None) -> float:
        facilities = [facility] if facility else FACILITIES
        return sum(self.volumes[f].get(k, 0.0) for f in facilities for k in kinds)

    def share(self, facility: str) -> float:
        return self.total(facility=facility) / self.total()

    def mix(self, facility: str) -> dict[str, float]:
        """Each kind's share of the facility type's events (checks and views)."""
        total = self.total(facility=facility)
        return {k: self.volumes[facility].get(k, 0.0) / total for k in KINDS}


def _bulk_ratio(dec: Mapping[str, Mapping[str, int | None]]) -> dict[str, float]:
    """一括照会 ÷ (保険証 + 一括照会) per facility type, December 2021: the one month that breaks bulk out."""
    out = {}
    for f in FACILITIES:
        bulk, card = dec[f]["bulk"] or 0, dec[f]["insurance_card"] or 0
        out[f] = bulk / (bulk + card)
    return out


def build_profiles(post_mynumber_share: float = 0.30) -> dict[str, Profile]:
    pub = published()
    dec, apr, jul = pub["2021-12"], pub["2024-04"], pub["2024-07"]
    bulk_ratio = _bulk_ratio(dec)
    a1 = (
        "2024: 一括照会 is not published separately; the 保険証 column is split with December 2021's "
        "bulk ÷ (保険証 + bulk) per facility type: "
        + ", ".join(f"{FACILITY_NAMES[f]} {bulk_ratio[f]:.1%}" for f in FACILITIES)
    )

    def split_card(f: str, card: float) -> dict[str, float]:
        return {"insurance_card": card * (1 - bulk_ratio[f]), "bulk": card * bulk_ratio[f]}

    profiles: dict[str, Profile] = {}
    v: Volumes = {}
    for f in FACILITIES:
        r = dec[f]
        v[f] = {
            "mynumber": float(r["mynumber"] or 0),
            "insurance_card": float(r["insurance_card"] or 0),
            "bulk": float(r["bulk"] or 0),
            "checkup": float(r["checkup_views"] or 0),
            "drug": float(r["drug_views"] or 0),
            "clinical": 0.0,
        }
    profiles["2021-12"] = Profile(
        "2021-12", "December 2021: early operation, bulk pre-checks dominate hospitals", "004_… (volumes.csv)", v
    )
    v = {}
    for f in FACILITIES:
        r = apr[f]
        v[f] = {
            "mynumber": float(r["mynumber"] or 0),
            **split_card(f, float(r["insurance_card"] or 0)),
            "checkup": float(r["checkup_views"] or 0),
            "drug": float(r["drug_views"] or 0),
            "clinical": float(r["clinical_views"] or 0),
        }
    april = v
    profiles["2024-04"] = Profile(
        "2024-04", "April 2024: near full roll-out, マイナ保険証 6.56%", "002_… (volumes.csv)", v, (a1,)
    )
    v = {}
    for f in FACILITIES:
        r = jul[f]
        total, mnc = float(r["total"] or 0), float(r["mynumber"] or 0)
        per_mnc = {k: april[f][k] / april[f]["mynumber"] for k in VIEWS}
        v[f] = {"mynumber": mnc, **split_card(f, total - mnc), **{k: per_mnc[k] * mnc for k in VIEWS}}
    a2 = "2024-07: views are not published; April 2024's views per マイナ保険証 check, per facility type"
    profiles["2024-07"] = Profile(
        "2024-07", "July 2024: マイナ保険証 11.13%", "MHLW 医療保険部会 (volumes.csv)", v, (a1 + "", a2)
    )
    ceiling = national("all_checks_incl_paper_2023_06")
    jul_total = sum(float(jul[f]["total"] or 0) for f in FACILITIES)
    v = {}
    for f in FACILITIES:
        checks = ceiling * float(jul[f]["total"] or 0) / jul_total
        mnc = checks * post_mynumber_share
        per_mnc = {k: april[f][k] / april[f]["mynumber"] for k in VIEWS}
        v[f] = {"mynumber": mnc, **split_card(f, checks - mnc), **{k: per_mnc[k] * mnc for k in VIEWS}}
    profiles["post-2024-12"] = Profile(
        "post-2024-12",
        "after 2024-12-02: every check online (the June 2023 all-checks ceiling)",
        "volumes.md: 246 M checks a month incl. paper (June 2023)",
        v,
        (
            "246 M a month split over facility types like July 2024's totals",
            f"マイナ保険証 share {post_mynumber_share:.0%} (ASSUMPTION, --mg-post-mynumber-share); the rest are "
            "資格確認書 / 被保険者証 numbers",
            a1,
            "views: April 2024's views per マイナ保険証 check",
        ),
    )
    return profiles


PROFILES = ("2021-12", "2024-04", "2024-07", "post-2024-12")


# -- the day -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    name: str
    clock: str
    role: str
    hours: float
    intensity: float  # × the average hour
    bulk: float  # relative weight of 一括照会 (normalised over the day)


@dataclass(frozen=True)
class Day:
    stages: tuple[Stage, ...]

    @classmethod
    def load(cls, formula: PeakFormula) -> Day:
        raw = [
            Stage(r["stage"], r["clock"], r["role"], float(r["hours"]), float(r["intensity"]), float(r["bulk"]))
            for r in _rows("day.csv")
        ]
        hours = sum(s.hours for s in raw)
        phf, bf = formula.peak_hour_factor, formula.burst_factor
        burst = [s for s in raw if s.role == "burst"]
        peak = [s for s in raw if s.role == "peak"]
        rest = [s for s in raw if s.role == "rest"]
        burst_h, peak_h = sum(s.hours for s in burst), sum(s.hours for s in peak)
        rest_need = hours - phf * (burst_h + peak_h)
        rest_have = sum(s.hours * s.intensity for s in rest)
        peak_i = (phf * (burst_h + peak_h) - phf * bf * burst_h) / peak_h
        stages = [replace(s, intensity=phf * bf) for s in burst]
        stages += [replace(s, intensity=peak_i) for s in peak]
        stages += [replace(s, intensity=s.intensity * rest_need / rest_have) for s in rest]
        order = {s.name: i for i, s in enumerate(raw)}
        stages.sort(key=lambda s: order[s.name])
        weight = sum(s.hours * s.intensity * s.bulk for s in stages) / sum(s.hours * s.intensity for s in stages)
        return cls(tuple(replace(s, bulk=s.bulk / weight) for s in stages))

    @property
    def hours(self) -> float:
        return sum(s.hours for s in self.stages)

    def at(self, fraction: float) -> Stage:
        """The stage at `fraction` (0–1) of the day."""
        t = min(max(fraction, 0.0), 0.999999) * self.hours
        for s in self.stages:
            if t < s.hours:
                return s
            t -= s.hours
        return self.stages[-1]

    def boundaries(self, run_seconds: float) -> list[tuple[float, Stage]]:
        out, t = [], 0.0
        for s in self.stages:
            out.append((t, s))
            t += s.hours / self.hours * run_seconds
        return out


FLAT = Stage("flat", "-", "flat", 1.0, 1.0, 1.0)


# -- the model a locust run uses ------------------------------------------------------------------


@dataclass
class Model:
    """Rates for a profile under a formula: events, tasks and requests per second, by stage."""

    profile: Profile
    formula: PeakFormula = field(default_factory=PeakFormula)
    bulk_records: int = 100  # records per 一括照会 file (assumption: a day's reservations)
    bulk_polls: float = 2.0  # OQSmuquc02 requests per file (assumption: processing takes a few seconds)
    shape: str = "day"  # day / peak / average

    def __post_init__(self) -> None:
        self.day = Day.load(self.formula)

    @property
    def monthly(self) -> float:
        return self.profile.total()

    def stage(self, fraction: float) -> Stage:
        if self.shape == "day":
            return self.day.at(fraction)
        if self.shape == "peak":
            return replace(FLAT, name="peak", intensity=self.formula.peak_hour_factor * self.formula.burst_factor)
        return FLAT

    def events_per_second(self, stage: Stage) -> dict[str, dict[str, float]]:
        """facility → kind → events/s in `stage` (bulk counted in records)."""
        base = self.formula.average(1.0)  # per monthly event
        out: dict[str, dict[str, float]] = {}
        for f in FACILITIES:
            out[f] = {
                k: self.profile.volumes[f].get(k, 0.0) * base * stage.intensity * (stage.bulk if k == "bulk" else 1.0)
                for k in KINDS
            }
        return out

    def tasks_per_second(self, stage: Stage) -> dict[str, dict[str, float]]:
        """A task is one reception action: a check, a view, or one 一括照会 file of `bulk_records`."""
        events = self.events_per_second(stage)
        return {
            f: {k: v / (self.bulk_records if k == "bulk" else 1) for k, v in ks.items()} for f, ks in events.items()
        }

    def requests_per_task(self, kind: str) -> float:
        return 1 + self.bulk_polls if kind == "bulk" else 1.0

    def totals(self, stage: Stage) -> tuple[float, float, float]:
        """(events/s, tasks/s, requests/s) in `stage`."""
        events = sum(sum(v.values()) for v in self.events_per_second(stage).values())
        tasks = self.tasks_per_second(stage)
        t = sum(sum(v.values()) for v in tasks.values())
        r = sum(n * self.requests_per_task(k) for v in tasks.values() for k, n in v.items())
        return events, t, r

    def task_weights(self, facility: str, stage: Stage) -> dict[str, float]:
        return self.tasks_per_second(stage)[facility]

    def facility_weights(self, stage: Stage | None = None) -> dict[str, float]:
        """Share of tasks per facility type over the whole day (the locust user class weights)."""
        stages = [(s.hours, s) for s in self.day.stages] if self.shape == "day" else [(1.0, self.stage(0))]
        totals = dict.fromkeys(FACILITIES, 0.0)
        for hours, s in stages if stage is None else [(1.0, stage)]:
            for f, kinds in self.tasks_per_second(s).items():
                totals[f] += hours * sum(kinds.values())
        whole = sum(totals.values())
        return {f: v / whole for f, v in totals.items()}

    def report(self) -> str:
        p, fm = self.profile, self.formula
        lines = [f"profile {p.key}: {p.title} (source: {p.source})"]
        lines += [f"  assumption: {a}" for a in p.assumptions]
        lines.append(
            f"  formula: D {fm.operating_days}, H {fm.reception_hours:g}, PHF {fm.peak_hour_factor:g}, "
            f"BF {fm.burst_factor:g}, scale {fm.scale:g}, vendor share {fm.vendor_share:g}"
        )
        checks = p.total(CHECKS)
        lines.append(f"  eligibility checks: {fm.describe(checks)}")
        lines.append(f"  checks + views:     {fm.describe(p.total())}")
        lines.append(f"  {'facility':<10} {'share':>6}  " + "  ".join(f"{KIND_NAMES[k]}" for k in KINDS))
        for f in FACILITIES:
            mix = p.mix(f)
            cells = "  ".join(f"{mix[k]:>{len(KIND_NAMES[k])}.1%}" for k in KINDS)
            lines.append(f"  {FACILITY_NAMES[f]:<10} {p.share(f):6.1%}  {cells}")
        lines.append(f"  一括照会: {self.bulk_records} records a file, {self.bulk_polls:g} polls a file (assumptions)")
        lines.append(f"  shape {self.shape}:")
        stages = self.day.stages if self.shape == "day" else (self.stage(0),)
        for s in stages:
            e, t, r = self.totals(s)
            lines.append(
                f"    {s.name:<14} {s.clock:<12} ×{s.intensity:4.2f} bulk ×{s.bulk:4.2f}: "
                f"{e:8.1f} events/s  {t:8.1f} tasks/s  {r:8.1f} requests/s"
            )
        return "\n".join(lines)


def model(
    profile: str = "2024-04",
    *,
    formula: PeakFormula | None = None,
    shape: str = "day",
    bulk_records: int = 100,
    bulk_polls: float = 2.0,
    post_mynumber_share: float = 0.30,
) -> Model:
    profiles = build_profiles(post_mynumber_share)
    if profile not in profiles:
        raise ValueError(f"profile {profile!r}: one of {', '.join(PROFILES)}")
    return Model(profiles[profile], formula or PeakFormula(), bulk_records, bulk_polls, shape)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="print the load profiles and their rates")
    ap.add_argument("--profile", choices=[*PROFILES, "all"], default="all")
    ap.add_argument("--shape", choices=["day", "peak", "average"], default="day")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--vendor-share", type=float, default=1.0)
    ap.add_argument("--phf", type=float, default=2.0)
    ap.add_argument("--bf", type=float, default=1.5)
    args = ap.parse_args(argv)
    formula = PeakFormula(
        scale=args.scale, vendor_share=args.vendor_share, peak_hour_factor=args.phf, burst_factor=args.bf
    )
    for key in PROFILES if args.profile == "all" else [args.profile]:
        print(model(key, formula=formula, shape=args.shape).report())
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
