"""Server-rendered HTML of the console's pages. The browser script (static/console.js) fills in
what changes while the page is open; everything here is escaped, and no inline script exists
(the Content-Security-Policy forbids it)."""

from __future__ import annotations

from html import escape
from typing import Any

import orjson

from mockgateway.console.i18n import word, words

PAGES = ("reader", "journal", "controls", "runs")


def _t(key: str, lang: str) -> str:
    return escape(word(key, lang))


def layout(page: str, lang: str, csrf: str, now: str, body: str) -> str:
    other = "en" if lang == "ja" else "ja"
    nav = "".join(f'<a href="/console/{p}"{" class=on" if p == page else ""}>{_t("nav." + p, lang)}</a>' for p in PAGES)
    # Raw text inside <script>: entities are not decoded there, so only "</" needs guarding.
    data = orjson.dumps(words(lang)).decode().replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{escape(csrf)}">
<title>{_t("nav." + page, lang)} — {_t("title", lang)}</title>
<link rel="stylesheet" href="/console/static/console.css">
<script type="application/json" id="words">{data}</script>
<script src="/console/static/console.js" defer></script>
</head><body data-page="{page}" data-lang="{lang}">
<header><span class="brand">{_t("title", lang)}</span><nav>{nav}</nav>
<span class="clock">{_t("clock", lang)} <b id="now">{escape(_fmt(now))}</b></span>
<a class="lang" href="/console/lang?to={other}&amp;back=/console/{page}">{"English" if lang == "ja" else "日本語"}</a>
<form method="post" action="/console/logout" class="logout"><input type="hidden" name="csrf" value="{escape(csrf)}">
<button>{_t("logout", lang)}</button></form></header>
<main>{body}</main></body></html>"""


def _fmt(stamp: str) -> str:
    """20261123100000 → 2026-11-23 10:00:00 (JST)."""
    if len(stamp) < 14:
        return stamp
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[8:10]}:{stamp[10:12]}:{stamp[12:14]}"


def login(lang: str, error: str | None = None) -> str:
    other = "en" if lang == "ja" else "ja"
    problem = f'<p class="err">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{_t("login.title", lang)}</title>
<link rel="stylesheet" href="/console/static/console.css"></head>
<body class="login"><form method="post" action="/console/login" class="loginbox">
<h1>{_t("title", lang)}</h1><h2>{_t("login.title", lang)}</h2>{problem}
<label>{_t("login.token", lang)} <input type="password" name="token" id="token" autocomplete="current-password"
 autofocus required></label>
<p class="hint">{_t("login.hint", lang)}</p>
<button type="submit" id="login">{_t("login.submit", lang)}</button>
<a class="lang" href="/console/lang?to={other}&amp;back=/console/login">{"English" if lang == "ja" else "日本語"}</a>
</form></body></html>"""


def reader(lang: str, people: list[dict[str, Any]], mic: str) -> str:
    items = "".join(_person_item(p, lang) for p in people)
    return f"""
<div class="cols reader">
<section class="panel chooser"><h2>{_t("reader.choose", lang)}</h2>
<input id="q" type="search" placeholder="{_t("reader.search", lang)}" autocomplete="off">
<ul id="people" class="people">{items}</ul></section>
<section class="device-col">
<div class="device"><div class="bezel"><div class="camera"></div><div class="screen" id="screen"></div></div>
<div class="pad-area"></div></div>
<div class="opts"><label>{_t("reader.mic", lang)} <input id="mic" value="{escape(mic)}" size="10"
 inputmode="numeric"></label>
<label>{_t("reader.face_result", lang)} <select id="facematch"><option value="match">{_t("reader.face_match", lang)}
</option><option value="mismatch">{_t("reader.face_mismatch", lang)}</option></select></label></div>
<div id="cardinfo" class="cardinfo"></div></section>
<section class="panel result"><h2>{_t("reader.face_file", lang)}</h2><div id="facefile" class="facefile">—</div>
</section></div>"""


def _person_item(p: dict[str, Any], lang: str) -> str:
    numbers = " / ".join(p["numbers"][:2])
    return (
        f'<li><button class="person" data-id="{escape(p["id"])}"><b>{escape(p["name"])}</b> '
        f'<span class="kana">{escape(p["kana"])}</span> <span class="age">{p["age"]}{_t("reader.age", lang)}</span>'
        f'<br><code>{escape(p["id"])}</code> <span class="num">{escape(numbers)}</span></button></li>'
    )


def journal(lang: str, transports: list[str]) -> str:
    def options(values: list[str], prefix: str = "") -> str:
        return "".join(
            f'<option value="{escape(v)}">{_t(prefix + v, lang) if prefix else escape(v)}</option>' for v in values
        )

    outcomes = ["ok", "notfound", "invalid", "error", "fault"]
    return f"""
<form id="filters" class="filters">
<label>{_t("journal.transport", lang)} <select name="transport"><option value="">{_t("journal.all", lang)}</option>
{options(transports)}</select></label>
<label>{_t("journal.api", lang)} <input name="api_id" size="12" placeholder="OQSsiquc01"></label>
<label>{_t("journal.mic", lang)} <input name="mic" size="10"></label>
<label>{_t("journal.outcome", lang)} <select name="outcome"><option value="">{_t("journal.all", lang)}</option>
{options(outcomes, "o.")}</select></label>
<span id="live" class="live">●</span>
<button type="button" id="clearj" class="danger">{_t("journal.clear", lang)}</button>
</form>
<div class="cols journal">
<section class="panel list"><table class="grid"><thead><tr><th>#</th><th>{_t("journal.at", lang)}</th>
<th>{_t("journal.transport", lang)}</th><th>{_t("journal.api", lang)}</th><th>{_t("journal.mic", lang)}</th>
<th>{_t("journal.outcome", lang)}</th><th>{_t("journal.reason", lang)}</th></tr></thead>
<tbody id="rows"></tbody></table>
<button type="button" id="older">{_t("journal.older", lang)}</button></section>
<section class="panel detail" id="detail"><p class="hint">{_t("journal.pick", lang)}</p></section></div>"""


def controls(lang: str, people: list[str]) -> str:
    person_options = "".join(f'<option value="{escape(p)}">' for p in people)
    kinds = ["http503", "error", "latency", "drop", "maintenance"]
    kind_options = "".join(f'<option value="{k}">{_t("c.t." + k, lang)}</option>' for k in kinds)
    return f"""
<div class="grid2">
<section class="panel" id="clockpanel"><h2>{_t("c.clock", lang)}</h2>
<p class="big"><b id="clocknow">—</b> <span id="clockstate" class="tag"></span></p>
<p><input type="datetime-local" id="clockset" step="1"> <button id="clockgo">{_t("c.set", lang)}</button></p>
<p class="row"><button data-adv="days:-1">−1日</button><button data-adv="hours:-1">−1h</button>
<button data-adv="hours:1">+1h</button><button data-adv="days:1">+1日</button><button data-adv="days:30">+30日</button>
<button data-adv="days:365">+365日</button></p>
<p class="row"><button id="freeze">{_t("c.freeze", lang)}</button><button id="run">{_t("c.run", lang)}</button>
<button id="realtime">{_t("c.real", lang)}</button></p></section>

<section class="panel" id="faultpanel"><h2>{_t("c.faults", lang)}</h2>
<form id="faultform" class="stack">
<label>{_t("c.kind", lang)} <select name="kind" id="faultkind">{kind_options}</select></label>
<label>{_t("c.api_filter", lang)} <input name="api_id" size="12"></label>
<label>{_t("c.times", lang)} <input name="times" type="number" min="1" size="4"></label>
<label class="k-latency">{_t("c.latency_ms", lang)} <input name="latency_ms" type="number" min="0" value="2000"></label>
<label class="k-error">{_t("c.error_code", lang)} <input name="error_code" value="MGW9001" size="10"></label>
<label class="k-maintenance">{_t("c.start", lang)} <input name="start" size="14" placeholder="YYYYMMDDHHmmss"></label>
<label class="k-maintenance">{_t("c.end", lang)} <input name="end" size="14" placeholder="YYYYMMDDHHmmss"></label>
<button id="faultadd">{_t("c.add", lang)}</button></form>
<table class="grid"><tbody id="faults"></tbody></table>
<button id="faultclear" class="danger">{_t("c.remove_all", lang)}</button></section>

<section class="panel" id="disasterpanel"><h2>{_t("c.disasters", lang)}</h2>
<form id="disasterform" class="stack">
<label>{_t("c.d.name", lang)} <input name="name" value="令和8年 試験災害"></label>
<label>{_t("c.d.prefectures", lang)} <input name="prefectures" value="13" size="10"></label>
<label>{_t("c.end", lang)} <input name="end" size="14" placeholder="YYYYMMDD"></label>
<button id="declare">{_t("c.declare", lang)}</button></form>
<table class="grid"><tbody id="disasters"></tbody></table></section>

<section class="panel" id="bulkpanel"><h2>{_t("c.bulk", lang)}</h2>
<table class="grid"><tbody id="bulk"></tbody></table></section>

<section class="panel" id="fixturepanel"><h2>{_t("c.fixtures", lang)}</h2>
<textarea id="yaml" rows="6" placeholder="persons: …"></textarea>
<p class="row"><label><input type="checkbox" id="replace" checked> {_t("c.replace", lang)}</label>
<button id="loadyaml">{_t("c.load", lang)}</button><button id="reset" class="danger">{_t("c.reset", lang)}</button></p>
</section>

<section class="panel" id="personpanel"><h2>{_t("c.people", lang)}</h2>
<p><input id="pid" list="pids" placeholder="hoken-taro"><datalist id="pids">{person_options}</datalist>
<button id="pshow">{_t("c.show", lang)}</button></p><div id="person"></div></section>
</div>
<p id="msg" class="msg" role="status"></p>"""


def runs(lang: str, folder: str, items: list[dict[str, Any]], capabilities: list[str]) -> str:
    rows = "".join(_run_row(i, lang) for i in items) or f'<tr><td colspan="4">{_t("r.none", lang)}</td></tr>'
    caps = "".join(f'<option value="{escape(c)}">{escape(c)}</option>' for c in capabilities)
    return f"""
<section class="panel" id="runpanel"><h2>{_t("r.start", lang)}</h2>
<form id="runform" class="stack"><label>{_t("r.area", lang)} <select name="capability" id="capability">{caps}</select>
</label><button id="runstart">{_t("r.start", lang)}</button> <span id="runstate" class="tag"></span></form>
<div id="runcounts"></div><table class="grid"><tbody id="runresults"></tbody></table>
<details><summary>log</summary><pre id="runlog" class="log"></pre></details></section>
<section class="panel"><h2>{_t("r.reports", lang)}</h2>
<p class="hint">{_t("r.folder", lang)}: <code>{escape(folder)}</code></p>
<table class="grid" id="reports"><thead><tr><th>{_t("r.name", lang)}</th><th>{_t("r.when", lang)}</th>
<th>{_t("r.counts", lang)}</th><th></th></tr></thead><tbody>{rows}</tbody></table></section>"""


def _run_row(item: dict[str, Any], lang: str) -> str:
    counts = item.get("counts") or {}
    badges = " ".join(
        f'<span class="badge {escape(k)}">{escape(k)} {int(v)}</span>' for k, v in counts.items() if v
    ) or escape(item.get("problem", ""))
    name = escape(item["name"])
    link = (
        f'<a class="open" href="/console/reports/{name}/report.html" target="_blank" rel="noopener">'
        f"{_t('r.open', lang)}</a>"
        if item.get("html")
        else ""
    )
    return f"<tr><td><code>{name}</code></td><td>{escape(item['modified'])}</td><td>{badges}</td><td>{link}</td></tr>"
