"""The traffic model: published volumes as data, the peak formula, the profiles and the day."""

from __future__ import annotations

import pytest

from loadtests import traffic
from loadtests.traffic import FACILITIES, KINDS, PeakFormula, build_profiles, published


def test_the_volumes_table_matches_the_published_totals() -> None:
    pub = published()
    assert sum(pub["2021-12"][f]["total"] or 0 for f in FACILITIES) == 19_741_726
    assert sum(pub["2021-12"][f]["bulk"] or 0 for f in FACILITIES) == 4_083_274
    assert sum(pub["2024-04"][f]["total"] or 0 for f in FACILITIES) == 184_386_109
    assert sum(pub["2024-04"][f]["mynumber"] or 0 for f in FACILITIES) == 12_102_711
    assert sum(pub["2024-04"][f]["operating_facilities"] or 0 for f in FACILITIES) == 211_052
    assert sum(pub["2024-07"][f]["total"] or 0 for f in FACILITIES) == 204_975_295
    for f in FACILITIES:
        row = pub["2021-12"][f]
        assert row["total"] == (row["mynumber"] or 0) + (row["insurance_card"] or 0) + (row["bulk"] or 0)
    assert traffic.national("all_checks_incl_paper_2023_06") == 246_000_000


@pytest.mark.parametrize(
    ("monthly", "average", "peak"),
    [  # shared/docs/volumes.md, "From a monthly volume to a peak rate"
        (19_741_726, 25, 76),
        (184_386_109, 237, 711),
        (197_510_904, 254, 762),
        (204_975_295, 264, 791),
        (246_000_000, 316, 949),
    ],
)
def test_the_formula_gives_the_documented_rates(monthly: int, average: int, peak: int) -> None:
    formula = PeakFormula()
    assert round(formula.average(monthly)) == average
    assert round(formula.peak(monthly)) == peak
    assert "× 2 × 1.5" in formula.describe(monthly)


def test_scale_and_vendor_share_scale_the_rate() -> None:
    vendor = PeakFormula(vendor_share=0.05)  # volumes.md: 5% of pharmacies (July 2024): ~6 rps, ~18 at peak
    assert vendor.average(92_599_343) == pytest.approx(6.0, abs=0.1)
    assert vendor.peak(92_599_343) == pytest.approx(17.9, abs=0.1)
    assert PeakFormula(scale=10).peak(184_386_109) == pytest.approx(7114, abs=1)


def test_profiles_keep_the_published_figures_and_say_what_they_assume() -> None:
    profiles = build_profiles()
    assert tuple(profiles) == traffic.PROFILES
    april = profiles["2024-04"]
    assert april.total(("mynumber", "insurance_card", "bulk")) == pytest.approx(184_386_109)
    assert april.total(("checkup", "drug", "clinical")) == pytest.approx(3_444_741 + 3_713_835 + 5_966_219)
    assert april.total(("mynumber",)) == 12_102_711
    assert any("December 2021" in a for a in april.assumptions)
    assert profiles["2021-12"].total(("bulk",)) == 4_083_274
    assert profiles["2024-07"].total(("mynumber", "insurance_card", "bulk")) == pytest.approx(204_975_295)
    post = profiles["post-2024-12"]
    assert post.total(("mynumber", "insurance_card", "bulk")) == pytest.approx(246_000_000)
    assert post.total(("mynumber",)) == pytest.approx(246_000_000 * 0.30)
    assert any("ASSUMPTION" in a for a in post.assumptions)
    for profile in profiles.values():
        for f in FACILITIES:
            assert sum(profile.mix(f).values()) == pytest.approx(1.0)
        assert sum(profile.share(f) for f in FACILITIES) == pytest.approx(1.0)
    hospital = profiles["2021-12"].mix("hospital")
    assert hospital["bulk"] == pytest.approx(3_346_906 / (4_685_427 + 1_328 + 3_085))


@pytest.mark.parametrize(("phf", "bf"), [(2.0, 1.5), (1.6, 1.2), (2.5, 2.0)])
def test_the_day_has_the_formula_s_peak_and_the_month_s_volume(phf: float, bf: float) -> None:
    formula = PeakFormula(peak_hour_factor=phf, burst_factor=bf)
    day = traffic.Day.load(formula)
    assert day.hours == pytest.approx(9.0)
    assert sum(s.hours * s.intensity for s in day.stages) == pytest.approx(9.0)  # the day's volume is M ÷ D
    busiest = [s for s in day.stages if s.role in ("burst", "peak")]
    assert sum(s.hours * s.intensity for s in busiest) == pytest.approx(phf)  # the busiest hour is PHF
    assert max(s.intensity for s in day.stages) == pytest.approx(phf * bf)
    bulk_weight = sum(s.hours * s.intensity * s.bulk for s in day.stages) / 9.0
    assert bulk_weight == pytest.approx(1.0)  # the day keeps the month's bulk share
    assert day.stages[-1].bulk > 1 > day.stages[0].bulk  # evening bulk, not at opening
    assert day.at(0.0).role == "burst"
    assert day.at(0.999).name == day.stages[-1].name


def test_the_model_turns_events_into_tasks_and_requests() -> None:
    model = traffic.model("2024-04", shape="peak", bulk_records=100, bulk_polls=2.0)
    stage = model.stage(0.5)
    events, tasks, requests = model.totals(stage)
    assert events == pytest.approx(762.0, abs=0.5)  # checks and views at the national peak
    bulk_events = sum(model.events_per_second(stage)[f]["bulk"] for f in FACILITIES)
    assert tasks == pytest.approx(events - bulk_events + bulk_events / 100)
    assert requests == pytest.approx(tasks + 2 * bulk_events / 100)
    weights = model.facility_weights()
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["pharmacy"] > weights["hospital"]
    assert set(model.task_weights("hospital", stage)) == set(KINDS)
    text = model.report()
    for needed in ("PHF 2", "BF 1.5", "D 24", "H 9", "scale 1", "vendor share 1", "711.4/s", "assumption"):
        assert needed in text


def test_an_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="2024-04"):
        traffic.model("1999-01")


def test_the_cli_prints_every_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert traffic.main(["--scale", "0.5"]) == 0
    out = capsys.readouterr().out
    for key in traffic.PROFILES:
        assert f"profile {key}" in out
