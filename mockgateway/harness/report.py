"""The self-contained HTML report: a summary by area, then every scenario with its steps and evidence.

One file, no scripts, no external resources: it opens from a mail attachment or a CI artifact.
Failed and errored scenarios are expanded; the evidence (orders, the client's reports, the
request and result bodies from the gateway's journal) sits in collapsible blocks beneath.
"""

from __future__ import annotations

import hashlib
import json
import re
from html import escape
from pathlib import Path
from typing import Any

from mockgateway.harness.results import STATUSES, Change, EvidenceItem, RunSummary, ScenarioResult

LABELS = {
    "pass": "合格 pass",
    "fail": "不合格 fail",
    "error": "エラー error",
    "skip": "スキップ skip",
    "omit": "対象外 omit",
}

CSS = """
.total { margin-right: 18px; white-space: nowrap; }
.st { white-space: pre-wrap; }
/* A space that matters (leading, trailing, repeated, or next to a quote: a space-padded 保険者番号)
   is shown one box per space, so a reader can count them; the text itself is unchanged (copyable). */
.sp { white-space: pre; background: #fff3bf; border-bottom: 2px solid #9a6700; margin: 0 1px;
      font-family: ui-monospace, monospace; }
:root { --pass:#1a7f37; --fail:#cf222e; --error:#9a6700; --skip:#6e7781; --omit:#8250df; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", sans-serif; margin: 0; color: #1f2328;
       background: #f6f8fa; line-height: 1.5; }
header { background: #24292f; color: #fff; padding: 16px 28px; }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .meta { font-size: 13px; color: #d0d7de; }
main { padding: 16px 28px 40px; max-width: 1280px; }
h2 { font-size: 18px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 28px; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; font-size: 14px; vertical-align: top; }
th { background: #eaeef2; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; min-width: 92px; padding: 1px 8px; border-radius: 10px; color: #fff;
         font-size: 12px; font-weight: 600; text-align: center; }
.pass { background: var(--pass); } .fail { background: var(--fail); } .error { background: var(--error); }
.skip { background: var(--skip); } .omit { background: var(--omit); }
.totals .badge { font-size: 14px; margin-right: 6px; }
details.scenario { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; margin: 6px 0; }
details.scenario > summary { padding: 6px 10px; cursor: pointer; }
details.scenario[data-status="fail"] { border-left: 5px solid var(--fail); }
details.scenario[data-status="error"] { border-left: 5px solid var(--error); }
details.scenario[data-status="pass"] { border-left: 5px solid var(--pass); }
details.scenario[data-status="omit"], details.scenario[data-status="skip"] { border-left: 5px solid var(--omit); }
.sid { font-family: ui-monospace, monospace; font-weight: 600; margin: 0 8px; }
.body { padding: 4px 14px 12px; }
.tags code { background: #eaeef2; padding: 0 4px; border-radius: 4px; margin-right: 4px; font-size: 12px; }
ol.steps { padding-left: 22px; margin: 6px 0; }
ol.steps li.passed::marker { color: var(--pass); } ol.steps li.failed { color: var(--fail); font-weight: 600; }
ol.steps li.notrun { color: #8c959f; }
.kw { color: #0550ae; font-weight: 600; margin-right: 4px; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 8px; overflow-x: auto; font-size: 12px;
      white-space: pre-wrap; word-break: break-all; margin: 4px 0; }
pre.message { border-color: var(--fail); background: #fff8f8; }
details.evidence { margin: 4px 0 4px 8px; }
details.evidence > summary { cursor: pointer; font-size: 13px; }
.kv td:first-child { color: #57606a; white-space: nowrap; }
"""


# Spaces that matter: runs of 2 or more, at either end of a line, or at either end of a quoted value.
_SPACE_RUNS = re.compile(r"^ +| +$| {2,}", re.M)
_QUOTED = re.compile(r"\"([^\"\n]*)\"|'([^'\n]*)'|「([^」\n]*)」")
SPACE_MARK = '<span class="sp" title="半角スペース / space (U+0020)"> </span>'


def _significant_spaces(text: str) -> set[int]:
    marked = {i for m in _SPACE_RUNS.finditer(text) for i in range(m.start(), m.end())}
    for m in _QUOTED.finditer(text):
        group = next(g for g in range(1, 4) if m.group(g) is not None)
        value, begin = m.group(group), m.start(group)
        lead = len(value) - len(value.lstrip(" "))
        trail = len(value) - len(value.rstrip(" ")) if value.strip(" ") else 0
        marked.update(range(begin, begin + lead))
        marked.update(range(begin + len(value) - trail, begin + len(value)))
    return marked


def spaced(text: str) -> str:
    """`text` as HTML with every significant space marked (class "sp"), the rest escaped."""
    marked = _significant_spaces(text)
    if not marked:
        return escape(text)
    return "".join(SPACE_MARK if i in marked else escape(ch) for i, ch in enumerate(text))


def _badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(LABELS.get(status, status))}</span>'


def _evidence(item: EvidenceItem, *, opened: bool = False) -> str:
    data = item.data
    rows = []
    bodies = []
    for key, value in data.items():
        if key in ("request", "response", "order", "report") and value not in (None, ""):
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
            bodies.append(f"<div><b>{escape(key)}</b><pre>{escape(text)}</pre></div>")
        elif value not in (None, "", {}, []):
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            rows.append(f"<tr><td>{escape(key)}</td><td>{spaced(str(shown))}</td></tr>")
    table = f'<table class="kv">{"".join(rows)}</table>' if rows else ""
    return (
        f'<details class="evidence" data-kind="{escape(item.kind)}"{" open" if opened else ""}>'
        f"<summary>{escape(item.kind)}: "
        f"{escape(item.title)}</summary>{table}{''.join(bodies)}</details>"
    )


def _scenario(s: ScenarioResult) -> str:
    opened = " open" if s.status in ("fail", "error") else ""
    tags = "".join(f"<code>{escape(r)}</code>" for r in s.rules)
    caps = "".join(f"<code>capability:{escape(c)}</code>" for c in s.capabilities)
    steps = []
    for step in s.steps:
        cls = {"passed": "passed", "failed": "failed"}.get(step.status, "notrun")
        steps.append(
            f'<li class="{cls}"><span class="kw">{escape(step.keyword)}</span>'
            f'<span class="st">{spaced(step.text)}</span></li>'
        )
    message = f'<pre class="message">{spaced(s.message)}</pre>' if s.message else ""
    failed = s.status in ("fail", "error")
    evidence = "".join(_evidence(e, opened=failed and e.kind == "exchange") for e in s.evidence)
    evidence = evidence or "<p><i>no exchanges recorded</i></p>"
    anchor = escape(s.id or s.nodeid)
    return (
        f'<details class="scenario" id="{anchor}" data-status="{escape(s.status)}"{opened}>'
        f'<summary>{_badge(s.status)}<span class="sid">{escape(s.id or "—")}</span>{escape(s.title)}</summary>'
        f'<div class="body"><div class="tags">{tags}{caps}</div>{message}'
        f'<ol class="steps">{"".join(steps)}</ol><h4>証跡 / evidence</h4>{evidence}</div></details>'
    )


KIND_ORDER = ("regression", "fixed", "changed", "new", "removed")


def _change_rows(changes: list[Change]) -> str:
    return "".join(
        f'<tr><td>{escape(c.kind)}</td><td><a href="#{escape(c.id)}">{escape(c.id)}</a></td>'
        f"<td>{escape(c.title)}</td><td>{escape(c.expected)}</td><td>{escape(c.actual)}</td></tr>"
        for c in changes
    )


def _changes(summary: RunSummary) -> str:
    """Regressions first; scenarios only new to (or gone from) the catalogue folded away below."""
    ordered = sorted(summary.changes, key=lambda c: (KIND_ORDER.index(c.kind), c.id))
    head = "<tr><th>kind</th><th>id</th><th>title</th><th>expected</th><th>actual</th></tr>"
    main = [c for c in ordered if c.kind in ("regression", "fixed", "changed")]
    other = [c for c in ordered if c.kind in ("new", "removed")]
    out = f'<table class="changes">{head}{_change_rows(main)}</table>' if main else "<p>No status changed.</p>"
    if other:
        counts = ", ".join(f"{sum(1 for c in other if c.kind == k)} {k}" for k in ("new", "removed"))
        out += (
            f'<details class="catalogue-changes"><summary>catalogue changes: {counts}</summary>'
            f'<table class="changes-catalogue">{head}{_change_rows(other)}</table></details>'
        )
    return out


def render(summary: RunSummary, *, title: str = "mockgateway 接続試験レポート / certification report") -> str:
    counts = summary.counts()
    totals = "".join(f'<span class="total">{_badge(st)} <b>{counts[st]}</b></span>' for st in STATUSES)
    head = "".join(f"<th>{escape(LABELS[st])}</th>" for st in STATUSES)
    area_rows = []
    for area in summary.areas():
        c = summary.counts(area)
        cells = "".join(f'<td class="n {st}-n">{c[st]}</td>' for st in STATUSES)
        area_rows.append(f'<tr><td><a href="#area-{escape(area)}">{escape(area)}</a></td>{cells}</tr>')
    changes = ""
    if summary.expected_file is not None:
        if summary.changes:
            changes = f"<h2>前回との差分 / changes since {escape(summary.expected_file)}</h2>" + _changes(summary)
        else:
            changes = f"<h2>前回との差分 / changes</h2><p>No change from {escape(summary.expected_file)}.</p>"
    sections = []
    for area in summary.areas():
        items = sorted((s for s in summary.scenarios if s.area == area), key=lambda s: s.key)
        sections.append(f'<h2 id="area-{escape(area)}">{escape(area)}</h2>' + "".join(_scenario(s) for s in items))
    caps = ", ".join(summary.capabilities) or "—"
    meta = "".join(f" · {escape(str(k))}: {escape(str(v))}" for k, v in summary.meta.items())
    return (
        '<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{escape(title)}</h1><div class="meta">adapter: <b>{escape(summary.adapter)}</b> · '
        f"capabilities: {escape(caps)} · started {escape(summary.started)} · {summary.duration:.1f} s{meta}</div>"
        "</header><main>"
        f'<p class="totals">{totals}</p>'
        f'<h2>領域別の結果 / results by area</h2><table class="areas"><tr><th>領域 area</th>{head}</tr>'
        f"{''.join(area_rows)}</table>{changes}{''.join(sections)}</main></body></html>"
    )


def write(summary: RunSummary, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(summary), encoding="utf-8")
    return path


MAX_BODY_CHARS = 20_000  # per request or response in the report; the journal has its own bound


def body_text(raw: bytes | str) -> str:
    """A journaled body as readable text: binary results (PDF, ZIP) are described, long ones clipped."""
    if isinstance(raw, bytes):
        kind = "PDF" if raw.startswith(b"%PDF") else "ZIP" if raw.startswith(b"PK\x03\x04") else None
        if kind is None and b"\x00" in raw[:1024]:
            kind = "binary"
        if kind is not None:
            digest = hashlib.sha256(raw).hexdigest()[:16]
            return f"({kind}, {len(raw):,} bytes, sha256 {digest}…)"
        from mockgateway.control.journal import JournalEntry

        text = str(JournalEntry(0, "", 0.0, "", "", None, None, raw).as_dict()["request"])
    else:
        text = raw
    if len(text) > MAX_BODY_CHARS:
        return text[:MAX_BODY_CHARS] + f"\n… ({len(text) - MAX_BODY_CHARS:,} more characters clipped)"
    return str(text)


def evidence_from_entry(entry: Any) -> EvidenceItem:
    """A journal entry (JournalEntry or its dict) as evidence: what went over the wire, both ways."""
    doc = entry.as_dict() if hasattr(entry, "as_dict") else dict(entry)
    keep = ("id", "at", "transport", "api_id", "name", "medical_institution", "segment", "validity", "reason", "fault")
    data = {k: doc.get(k) for k in keep}
    data["request"] = body_text(getattr(entry, "request", None) or doc.get("request", ""))
    data["response"] = body_text(getattr(entry, "response", None) or doc.get("response", ""))
    title = f"#{doc.get('id')} {doc.get('transport')} {doc.get('api_id')} {doc.get('name') or ''}".strip()
    return EvidenceItem("exchange", title, data)
