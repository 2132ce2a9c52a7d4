"""Bulk settings and the processing pace."""

from __future__ import annotations

import pytest

from mockgateway.services.bulk.settings import BulkSettings, Pace, SettingsError


@pytest.mark.parametrize(
    ("text", "delay", "rate"),
    [
        ("instant", 0.0, None),
        ("0", 0.0, None),
        ("", 0.0, None),
        ("250ms", 0.25, None),
        ("3s", 3.0, None),
        ("2m", 120.0, None),
        ("1h", 3600.0, None),
        ("200/s", 0.0, 200.0),
        ("3s+200/s", 3.0, 200.0),
        ("1m + 30s + 0.5/s", 90.0, 0.5),
    ],
)
def test_pace_parse(text: str, delay: float, rate: float | None) -> None:
    pace = Pace.parse(text)
    assert (pace.delay, pace.per_second) == (delay, rate)
    assert Pace.parse(str(pace)) == pace


@pytest.mark.parametrize("text", ["fast", "3", "3x", "-1s", "0/s", "1/s+2/s", "/s"])
def test_pace_parse_rejects_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(SettingsError, match=r"'instant', a delay"):
        Pace.parse(text)


def test_pace_numbers_are_seconds_of_delay() -> None:
    assert Pace.parse(1.5) == Pace(delay=1.5)
    with pytest.raises(SettingsError):
        Pace.parse(-1)


def test_pace_schedule_counts_from_the_upload() -> None:
    pace = Pace(delay=2.0, per_second=10.0)
    assert [pace.allowed(t, 100) for t in (0.0, 1.99, 2.0, 2.1, 3.0, 100.0)] == [0, 0, 0, 1, 10, 100]
    assert pace.due(0) == pytest.approx(2.1)
    assert pace.due(9) == pytest.approx(3.0)
    instant = Pace()
    assert instant.allowed(0.0, 7) == 7
    assert instant.due(5) == 0.0
    fixed = Pace(delay=5.0)
    assert (fixed.allowed(4.9, 1_000), fixed.allowed(5.0, 1_000)) == (0, 1_000)


def test_settings_from_strings_as_yaml_or_cli_give_them() -> None:
    settings = BulkSettings().with_changes(
        {"pace": "1s+50/s", "max_records": "20", "redownload": "false", "retention_seconds": "60", "chunk": 5}
    )
    assert settings.pace == Pace(1.0, 50.0)
    assert (settings.max_records, settings.redownload, settings.retention_seconds, settings.chunk) == (
        20, False, 60.0, 5,
    )  # fmt: skip
    assert settings.as_dict()["pace"] == "1s+50/s"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"speed": 1}, "unknown bulk setting 'speed'; known: chunk, max_file_bytes"),
        ({"max_records": 0}, "max_records 0: 1 or more"),
        ({"max_records": "many"}, "bulk setting max_records: cannot use 'many'"),
        ({"result_format": "pdf"}, "result_format 'pdf': one of xml, zip"),
        ({"retention_seconds": 0}, "retention_seconds 0.0: more than 0"),
        ({"redownload": "perhaps"}, "bulk setting redownload: cannot use 'perhaps'"),
        ({"pace": "soon"}, "pace 'soon'"),
    ],
)
def test_settings_errors_say_what_is_accepted(changes: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as info:
        BulkSettings().with_changes(changes)
    assert message in str(info.value)


def test_defaults() -> None:
    settings = BulkSettings()
    assert settings.pace == Pace(3.0, 200.0)
    assert settings.max_records == 10_000
    assert settings.max_file_bytes == 16 * 1024 * 1024
    assert settings.result_format == "xml"
    assert settings.retention_seconds == 7 * 86_400
    assert settings.redownload is True
