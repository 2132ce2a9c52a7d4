"""The scenario catalogue: Japanese Gherkin in `features/<area>/*.feature`, read as data.

Conventions (checked by `check`, written out by `render_index`):

- one folder per area (AREAS); the folder names the area, nothing else does;
- every scenario carries exactly one stable id tag `@OQS-<GROUP>-<NNN>`, unique across the
  catalogue and never reused: retired ids are listed in `features/retired-ids.txt`;
- every scenario names at least one interface rule or document it checks: `@rule:…` or `@doc:…`;
- `@capability:<name>` (on the feature or the scenario) says what the client under test must
  claim for the scenario to run; without one, the area's default applies (AREA_CAPABILITIES).
  A scenario whose capability the client does not claim is *omitted*, not failed.

Inferno keeps a map of stable test ids and links each test to the requirement it verifies; this
is that map for our catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ID_TAG = re.compile(r"^OQS-[A-Z]+-\d{3}$")
RULE_PREFIXES = ("rule:", "doc:")
CAPABILITY_PREFIX = "capability:"

# The areas, in the order the index and the report list them.
AREAS: tuple[str, ...] = (
    "資格確認（被保険者証・資格確認書）",
    "資格確認（Web API）",
    "マイナ保険証",
    "一括照会",
    "照会番号",
    "医療情報",
    "災害時",
    "電子証明書",
    "資格喪失・保険者異動",
    "障害・異常系",
    "居宅同意取得型",
    "資格確認限定型",
)

# What a client can claim. The reference client claims all of them.
CAPABILITIES: dict[str, str] = {
    "eligibility": "被保険者証・資格確認書の記号番号で資格確認する (OQSsiquc01)",
    "face": "マイナ保険証: 顔認証付きカードリーダーの結果 (face フォルダ) を読む",
    "bulk": "資格確認一括照会 (OQSmuquc01/02) を送り、結果を取りに行く",
    "reference-number": "照会番号の登録と照会番号での資格確認 (OQSsiimm)",
    "medical-info": "薬剤情報・特定健診情報などの医療情報を取得する (YZK/TKK)",
    "disaster": "災害時医療情報閲覧",
    "certificate": "マイナンバーカードの電子証明書を扱う",
    "card-reader": "PC/SC カードリーダーでマイナンバーカードを読む",
    "raw-request": "指定されたバイト列をそのまま要求ファイルとして送る (参照クライアントのみ)",
    "folder": "資格確認端末経由方式: req/res フォルダでやり取りする (フォルダ方式のアダプタでは自動)",
    "webapi": "Web API 通信方式: 医療機関のクライアント証明書 (TLS) でログインし、JSON で資格確認する",
    "home-visit": "居宅同意取得型: 再照会・同意済資格情報一括取得 (OQSmuhvq/OQSmuonq)・閲覧同意取り消し",
    "limited": "資格確認限定型: 施術所・健診実施機関・助産所として資格確認する (医療情報は使わない)",
}

AREA_CAPABILITIES: dict[str, str] = {
    "資格確認（被保険者証・資格確認書）": "eligibility",
    "資格確認（Web API）": "webapi",
    "マイナ保険証": "face",
    "一括照会": "bulk",
    "照会番号": "reference-number",
    "医療情報": "medical-info",
    "災害時": "disaster",
    "電子証明書": "certificate",
    "資格喪失・保険者異動": "eligibility",
    "障害・異常系": "eligibility",
    "居宅同意取得型": "home-visit",
    "資格確認限定型": "limited",
}

# Capabilities the gateway must serve for a scenario to make sense: capability → API ids. A
# scenario whose API the gateway does not serve yet is omitted too (the feature has not landed).
GATEWAY_APIS: dict[str, tuple[str, ...]] = {
    "eligibility": ("OQSsiquc01",),
    "webapi": ("OQSsiquc01",),  # the Web API search answers with the 資格確認 service
    "bulk": ("OQSmuquc01", "OQSmuquc02"),
    "reference-number": ("OQSsiimm01",),
    "medical-info": ("YZKsiquc01",),
    "home-visit": ("OQSsihvq01", "OQSmuhvq01"),
    "limited": ("OQSsiquc01",),
}


@dataclass(frozen=True, slots=True)
class Step:
    keyword: str
    text: str
    kind: str  # given / when / then


@dataclass(frozen=True, slots=True)
class Entry:
    """One scenario of the catalogue."""

    id: str | None
    title: str
    area: str
    feature: str
    path: str  # relative to the catalogue root, POSIX
    line: int
    tags: tuple[str, ...]
    rules: tuple[str, ...]
    capabilities: tuple[str, ...]
    steps: tuple[Step, ...] = field(default=())

    @property
    def verifies(self) -> list[str]:
        """What the scenario checks: its Then-steps, as written."""
        return [s.text for s in self.steps if s.kind == "then"]


@dataclass(frozen=True, slots=True)
class Catalogue:
    root: Path
    entries: tuple[Entry, ...]
    retired: dict[str, str]

    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries if e.id}

    def areas(self) -> list[str]:
        present = {e.area for e in self.entries}
        return [a for a in AREAS if a in present] + sorted(present - set(AREAS))


def tags_of(tags: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
    """Split tags (without '@') into (ids, rule/doc references, capabilities)."""
    ids, rules, caps = [], [], []
    for tag in sorted(tags):
        if tag.startswith("OQS-"):
            ids.append(tag)
        elif tag.startswith(RULE_PREFIXES):
            rules.append(tag)
        elif tag.startswith(CAPABILITY_PREFIX):
            caps.append(tag.removeprefix(CAPABILITY_PREFIX))
        else:
            continue
    return ids, rules, caps


def required_capabilities(area: str, tags: Iterable[str]) -> tuple[str, ...]:
    """The scenario's explicit capabilities, or its area's default."""
    _, _, caps = tags_of(tags)
    if caps:
        return tuple(sorted(set(caps)))
    return (AREA_CAPABILITIES.get(area, "eligibility"),)


def area_of(path: Path, root: Path) -> str:
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else "(フォルダなし)"


def load(root: Path) -> Catalogue:
    """Parse every `*.feature` under root (with pytest-bdd's own parser, so we read what it runs)."""
    from pytest_bdd.parser import FeatureParser

    entries: list[Entry] = []
    for path in sorted(root.rglob("*.feature")):
        feature = FeatureParser(str(path.parent), path.name).parse()
        area = area_of(path, root)
        for template in feature.scenarios.values():
            tags = set(template.tags) | set(feature.tags)
            ids, rules, _ = tags_of(tags)
            steps = tuple(Step(s.keyword.strip(), s.name, s.type) for s in template.steps)
            entries.append(
                Entry(
                    id=ids[0] if len(ids) == 1 else None,
                    title=template.name,
                    area=area,
                    feature=feature.name,
                    path=path.relative_to(root).as_posix(),
                    line=template.line_number,
                    tags=tuple(sorted(tags)),
                    rules=tuple(rules),
                    capabilities=required_capabilities(area, tags),
                    steps=steps,
                )
            )
    return Catalogue(root, tuple(entries), read_retired(root / "retired-ids.txt"))


def read_retired(path: Path) -> dict[str, str]:
    """`features/retired-ids.txt`: one `ID  why` per line; '#' starts a comment."""
    retired: dict[str, str] = {}
    if not path.exists():
        return retired
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            tag, _, why = line.partition(" ")
            retired[tag.strip()] = why.strip()
    return retired


def check(catalogue: Catalogue) -> list[str]:
    """Every broken convention, each naming the file, line and scenario."""
    problems: list[str] = []
    seen: dict[str, Entry] = {}
    for e in catalogue.entries:
        where = f"{e.path}:{e.line} 「{e.title}」"
        ids, rules, caps = tags_of(e.tags)
        if not ids:
            problems.append(f"{where}: no id tag (@OQS-<GROUP>-<NNN>)")
        elif len(ids) > 1:
            problems.append(f"{where}: more than one id tag {ids}")
        for tag in ids:
            if not ID_TAG.match(tag):
                problems.append(f"{where}: id tag @{tag} is not of the form @OQS-<GROUP>-<NNN>")
            if tag in seen:
                first = seen[tag]
                problems.append(f"{where}: id @{tag} already used by {first.path}:{first.line} 「{first.title}」")
            seen.setdefault(tag, e)
            if tag in catalogue.retired:
                problems.append(f"{where}: id @{tag} is retired ({catalogue.retired[tag]}); ids are never reused")
        if not rules:
            problems.append(f"{where}: no @rule:… or @doc:… tag naming what it checks")
        for cap in caps:
            if cap not in CAPABILITIES:
                problems.append(f"{where}: unknown capability {cap!r}; known: {sorted(CAPABILITIES)}")
        if e.area not in AREAS:
            problems.append(f"{where}: folder {e.area!r} is not an area; areas: {list(AREAS)}")
    return problems


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_index(catalogue: Catalogue, *, source: str = "mockgateway/harness/features/") -> str:
    """docs/catalogue.md: ids, titles, areas, rules, capabilities and what each scenario verifies.

    No line numbers: they move whenever a scenario above is edited, and the index would go stale
    for nothing (the id finds the scenario)."""
    out = [
        "# シナリオカタログ / Scenario catalogue",
        "",
        f"<!-- generated by `python -m mockgateway.harness index` from {source}; do not edit by hand -->",
        "",
        "Every scenario has a stable id that is never reused, names the interface rule or document it",
        "checks, and says which capability the client under test must claim (unclaimed → *omitted*).",
        "各シナリオには再利用しない固定 ID、検証するインターフェイス規則・文書、必要な機能 (capability) がある。",
        "",
        f"{len(catalogue.entries)} scenarios in {len(catalogue.areas())} areas.",
        "",
        "| area | scenarios |",
        "|---|---|",
    ]
    for area in catalogue.areas():
        count = sum(1 for e in catalogue.entries if e.area == area)
        out.append(f"| [{area}](#{_anchor(area)}) | {count} |")
    out.append("")
    for area in catalogue.areas():
        out += [f"## {area}", ""]
        out += ["| id | title | rule / document | capability | verifies | file |", "|---|---|---|---|---|---|"]
        for e in sorted((e for e in catalogue.entries if e.area == area), key=lambda e: e.id or ""):
            verifies = "<br>".join(_cell(v) for v in e.verifies) or "—"
            out.append(
                f"| `{e.id or '—'}` | {_cell(e.title)} | {', '.join(f'`{r}`' for r in e.rules) or '—'} "
                f"| {', '.join(e.capabilities)} | {verifies} | [{e.path}](../{source}{e.path}) |"
            )
        out.append("")
    out += ["## Capabilities", "", "| capability | meaning |", "|---|---|"]
    out += [f"| `{name}` | {_cell(text)} |" for name, text in CAPABILITIES.items()]
    out.append("")
    out += ["## Retired ids", ""]
    if catalogue.retired:
        out += ["| id | why |", "|---|---|"]
        out += [f"| `{k}` | {_cell(v)} |" for k, v in sorted(catalogue.retired.items())]
    else:
        out.append("None yet. A removed scenario's id goes into `features/retired-ids.txt` and is never reused.")
    out.append("")
    return "\n".join(out)


def _anchor(text: str) -> str:
    # GitHub's heading anchors: lower-case, spaces → '-', most punctuation dropped.
    return re.sub(r"[^\w\- ]", "", text).strip().lower().replace(" ", "-")


def find_root(start: Path | None = None, candidates: Sequence[Path] = ()) -> Path | None:
    """The catalogue folder: given candidates, then ./features, then the one shipped in the package."""
    from mockgateway.resources import catalogue_features

    for path in [*candidates, (start or Path.cwd()) / "features", catalogue_features()]:
        if path.is_dir() and any(path.rglob("*.feature")):
            return path
    return None
