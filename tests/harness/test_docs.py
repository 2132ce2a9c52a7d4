"""The vendor guide and README say what the harness does: their options exist, their samples load."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

import pytest

from mockgateway.harness.orders import Action, Order, Report
from mockgateway.harness.settings import load

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "vendor-guide.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE, flags=re.S)


def test_every_option_the_docs_mention_exists(pytestconfig: pytest.Config) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"--mg-[a-z-]+", GUIDE + readme))
    assert mentioned
    for option in sorted(mentioned):
        pytestconfig.getoption(option)  # raises ValueError for an unknown option


def test_the_settings_sample_loads(tmp_path: Path) -> None:
    (sample,) = blocks("toml")
    path = tmp_path / "mockgateway-harness.toml"
    path.write_text(sample, encoding="utf-8")
    settings = load(path)
    assert settings.adapter == "command"
    assert settings.expected == tmp_path / "out/v1.1/summary.json"


def test_the_order_and_report_samples_follow_the_schema() -> None:
    order_text, report_text, bulk_order_text, bulk_report_text = blocks("json")
    order = Order.from_json(json.loads(order_text))
    assert order.card.insurer_number == "139998"
    report = Report.from_json(json.loads(report_text), order_id=order.order_id)
    assert report.results[0]["InsurerNumber"] == "  139998"
    bulk = Order.from_json(json.loads(bulk_order_text))
    assert (bulk.action, len(bulk.cards)) == ("bulk", 2)
    assert Order.from_json(bulk.as_json()) == bulk
    units = Report.from_json(json.loads(bulk_report_text), order_id=bulk.order_id).results
    assert [u["ProcessingResultStatus"] for u in units] == ["1", "2"]
    assert json.loads(units[0]["ResultOfQualificationConfirmation"])["Name"] == "保険　太郎"


def test_every_action_is_documented() -> None:
    for action in get_args(Action):
        assert f"| `{action}` |" in GUIDE, f"docs/vendor-guide.md does not describe action {action!r}"


def test_the_guide_shows_the_install_and_card_commands_that_exist() -> None:
    import shlex

    from mockgateway.cli import parser

    assert "pipx install 'mockgateway[harness]'" in GUIDE
    assert "pip install 'mockgateway[harness]'" in GUIDE
    commands = [
        line.split("#", 1)[0].strip()
        for block in blocks("sh")
        for line in block.splitlines()
        if line.startswith("mockgateway ") and "--version" not in line
    ]
    card = [c for c in commands if c.startswith("mockgateway card ")]
    assert {shlex.split(c)[2] for c in card} >= {"reader", "insert", "remove"}
    for command in commands:
        argv = shlex.split(command.removesuffix("&").strip())[1:]
        args = parser().parse_args(argv)  # exits (SystemExit) on an option that does not exist
        assert args.command == argv[0]
