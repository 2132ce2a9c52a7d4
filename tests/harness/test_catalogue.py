"""The catalogue's conventions: stable unique ids, rule/document tags, areas, and an index that is
up to date with features/."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockgateway.harness import catalogue

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ROOT / "mockgateway" / "harness" / "features"


@pytest.fixture(scope="module")
def real() -> catalogue.Catalogue:
    return catalogue.load(FEATURES)


def test_the_catalogue_follows_its_conventions(real: catalogue.Catalogue) -> None:
    assert catalogue.check(real) == []


def test_ids_are_unique_and_every_scenario_has_an_id_and_a_rule(real: catalogue.Catalogue) -> None:
    ids = [e.id for e in real.entries]
    assert None not in ids
    assert len(ids) == len(set(ids))
    assert all(e.rules for e in real.entries)


def test_every_folder_is_an_area(real: catalogue.Catalogue) -> None:
    assert {e.area for e in real.entries} <= set(catalogue.AREAS)
    assert "障害・異常系" in {e.area for e in real.entries}


def test_docs_catalogue_is_up_to_date(real: catalogue.Catalogue) -> None:
    current = (ROOT / "docs" / "catalogue.md").read_text(encoding="utf-8")
    assert current == catalogue.render_index(real), (
        "docs/catalogue.md is stale: run `python -m mockgateway.harness index` and commit it"
    )


def _feature(tmp: Path, area: str, name: str, body: str) -> None:
    folder = tmp / area
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("# language: ja\n機能: 試験\n\n" + body, encoding="utf-8")


SCENARIO = """  {tags}
  シナリオ: {title}
    もし レセコンが "hoken-taro" の被保険者証で資格確認する
    ならば 資格有効性は "1" である

"""


def test_check_names_each_broken_convention(tmp_path: Path) -> None:
    area = catalogue.AREAS[0]
    body = "".join(
        SCENARIO.format(tags=t, title=title)
        for t, title in [
            ("@OQS-ELIG-001 @rule:x", "一つ目"),
            ("@OQS-ELIG-001 @rule:x", "同じ id"),
            ("@rule:x", "id なし"),
            ("@OQS-ELIG-003", "規則なし"),
            ("@OQS-elig-4 @rule:x", "形式違い"),
            ("@OQS-ELIG-009 @rule:x", "退役済み"),
            ("@OQS-ELIG-010 @rule:x @capability:teleport", "未知の機能"),
        ]
    )
    _feature(tmp_path, area, "a.feature", body)
    _feature(tmp_path, "その他", "b.feature", SCENARIO.format(tags="@OQS-X-001 @doc:y", title="領域外"))
    (tmp_path / "retired-ids.txt").write_text("OQS-ELIG-009  消した (2026-11)\n# comment\n", encoding="utf-8")
    problems = "\n".join(catalogue.check(catalogue.load(tmp_path)))
    assert "「同じ id」: id @OQS-ELIG-001 already used by" in problems
    assert "「id なし」: no id tag" in problems
    assert "「規則なし」: no @rule:… or @doc:… tag" in problems
    assert "「形式違い」: id tag @OQS-elig-4 is not of the form" in problems
    assert "「退役済み」: id @OQS-ELIG-009 is retired (消した (2026-11))" in problems
    assert "「未知の機能」: unknown capability 'teleport'" in problems
    assert "「領域外」: folder 'その他' is not an area" in problems
    assert "「一つ目」: " not in problems


def test_capabilities_default_to_the_area_and_tags_override(tmp_path: Path) -> None:
    _feature(tmp_path, "一括照会", "a.feature", SCENARIO.format(tags="@OQS-BULK-001 @rule:x", title="既定"))
    _feature(
        tmp_path,
        "資格喪失・保険者異動",
        "b.feature",
        SCENARIO.format(tags="@OQS-LOSS-001 @rule:x @capability:face", title="指定"),
    )
    by_id = catalogue.load(tmp_path).by_id()
    assert by_id["OQS-BULK-001"].capabilities == ("bulk",)
    assert by_id["OQS-LOSS-001"].capabilities == ("face",)


def test_index_lists_ids_titles_rules_and_what_each_verifies(tmp_path: Path) -> None:
    _feature(tmp_path, "障害・異常系", "a.feature", SCENARIO.format(tags="@OQS-FAULT-001 @rule:r1", title="題名"))
    text = catalogue.render_index(catalogue.load(tmp_path))
    row = next(line for line in text.splitlines() if "OQS-FAULT-001" in line)
    assert "題名" in row
    assert "`rule:r1`" in row
    assert '資格有効性は "1" である' in row
    assert "| eligibility |" in row
