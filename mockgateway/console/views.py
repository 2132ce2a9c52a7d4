"""Read-only views the console's pages need and the admin API does not offer in that shape: people
search, one person as of the clock, the reader's screens for a person, journal pages and entries,
harness reports. Nothing here changes state (state changes go through the admin API's handlers).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import orjson

from mockgateway.control.journal import JournalEntry
from mockgateway.domain.kana import to_half_width_kana
from mockgateway.domain.model import Person
from mockgateway.engine import Gateway

SEARCH_LIMIT = 50
PAGE_LIMIT = 200  # journal rows per page: the browser keeps at most a few pages in the DOM


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def person_summary(person: Person, today: dt.date) -> dict[str, Any]:
    numbers = sorted({_number(q.insurer.number.padded, q.key.symbol, q.key.number, q.key.branch)
                      for q in person.qualifications})  # fmt: skip
    return {
        "id": person.id,
        "name": person.name,
        "kana": person.name_kana,
        "birthdate": f"{person.birthdate:%Y%m%d}",
        "age": _age(person.birthdate, today),
        "numbers": numbers,
    }


def _number(insurer: str, symbol: str, number: str, branch: str | None) -> str:
    return f"{insurer.strip()} {symbol}・{number}" + (f"・{branch}" if branch else "")


def _fold(text: str) -> str:
    """For matching: half-width kana, no spaces of either width, lower case."""
    return re.sub(r"[\s\u3000]", "", to_half_width_kana(text)).lower()


def search_people(gateway: Gateway, query: str, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """By id, name, kana (full- or half-width) or any 保険者番号 / 記号 / 番号; empty: the first `limit`."""
    today = gateway.clock.today()
    wanted = _fold(query)
    out: list[dict[str, Any]] = []
    for person_id in sorted(gateway.index.people):
        person = gateway.index.people[person_id]
        if wanted:
            haystack = [person.id, person.name, person.name_kana, person.name_of_other or ""]
            for q in person.qualifications:
                haystack += [q.insurer.number.padded, q.key.symbol, q.key.number]
            if not any(wanted in _fold(h) for h in haystack):
                continue
        out.append(person_summary(person, today))
        if len(out) >= limit:
            break
    return out


def person_detail(gateway: Gateway, person: Person) -> dict[str, Any]:
    today = gateway.clock.today()
    out = person_summary(person, today)
    out["qualifications"] = [
        {
            "insurer": q.insurer.number.padded,
            "insurer_name": q.insurer.name,
            "symbol": q.key.symbol,
            "number": q.key.number,
            "branch": q.key.branch,
            "from": f"{q.qualification_date:%Y%m%d}",
            "until": f"{q.disqualification_date:%Y%m%d}" if q.disqualification_date else None,
            "in_force": q.in_force(today),
        }
        for q in person.qualifications
    ]
    out["as_of"] = f"{today:%Y%m%d}"
    return out


# -- journal -------------------------------------------------------------------------------------


def outcome(entry: JournalEntry) -> str:
    """One word a tester filters on: ok, notfound, invalid, error, fault."""
    face = entry.extra.get("face") if isinstance(entry.extra, dict) else None
    if entry.fault:
        return "fault"
    if entry.segment == "9" or (isinstance(face, dict) and face.get("error")):
        return "error"
    if entry.validity in ("4", "5"):
        return "notfound"
    if entry.validity in ("2", "3"):
        return "invalid"
    return "ok"


def row(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "transport": entry.transport,
        "api_id": entry.api_id,
        "name": entry.name,
        "mic": entry.medical_institution,
        "segment": entry.segment,
        "validity": entry.validity,
        "reason": entry.reason,
        "fault": entry.fault,
        "ms": round(entry.duration_ms, 1),
        "outcome": outcome(entry),
    }


def matches(entry: JournalEntry, filters: dict[str, str]) -> bool:
    return (
        (not filters.get("transport") or entry.transport == filters["transport"])
        and (not filters.get("api_id") or entry.api_id.startswith(filters["api_id"]))
        and (not filters.get("mic") or (entry.medical_institution or "") == filters["mic"])
        and (not filters.get("outcome") or outcome(entry) == filters["outcome"])
    )


def journal_page(gateway: Gateway, filters: dict[str, str], before: int | None, limit: int) -> dict[str, Any]:
    """Newest first, at most `limit` rows older than `before` (None: the newest)."""
    limit = max(1, min(limit, PAGE_LIMIT))
    picked: list[JournalEntry] = []
    for entry in reversed(gateway.journal.entries()):
        if before is not None and entry.id >= before:
            continue
        if matches(entry, filters):
            picked.append(entry)
            if len(picked) > limit:
                break
    return {"rows": [row(e) for e in picked[:limit]], "more": len(picked) > limit}


def journal_entry(gateway: Gateway, entry_id: int) -> dict[str, Any] | None:
    for entry in gateway.journal.entries(since=entry_id - 1):
        if entry.id == entry_id:
            out = entry.as_dict()
            out["outcome"] = outcome(entry)
            return orjson.loads(orjson.dumps(out, default=str))  # type: ignore[no-any-return]
        break
    return None


# -- harness reports -----------------------------------------------------------------------------

_REPORT_NAME = re.compile(r"^[A-Za-z0-9._\-]+(/[A-Za-z0-9._\-]+)*$")


def reports(folder: Path) -> list[dict[str, Any]]:
    """Every run under `folder` (any depth up to 3) that left a summary.json, newest first."""
    out: list[dict[str, Any]] = []
    if not folder.is_dir():
        return out
    found = [*folder.glob("summary.json"), *folder.glob("*/summary.json"), *folder.glob("*/*/summary.json")]
    for summary in found:
        run = summary.parent
        name = run.relative_to(folder).as_posix() if run != folder else "."
        item: dict[str, Any] = {
            "name": name,
            "modified": dt.datetime.fromtimestamp(summary.stat().st_mtime).astimezone().isoformat(timespec="seconds"),
            "html": (run / "report.html").is_file(),
        }
        try:
            doc = orjson.loads(summary.read_bytes())
            item["counts"] = doc.get("counts") or {}
            item["capabilities"] = doc.get("capabilities") or []
            item["started"] = doc.get("started")
            item["adapter"] = doc.get("adapter")
        except (orjson.JSONDecodeError, OSError, AttributeError) as exc:
            item["problem"] = f"summary.json unreadable: {exc}"
        out.append(item)
    out.sort(key=lambda i: str(i["modified"]), reverse=True)
    return out


def report_file(folder: Path, name: str) -> Path | None:
    """The report.html of run `name`, only if it lies inside `folder` (no ../ escapes)."""
    if name != "." and not _REPORT_NAME.match(name):
        return None
    if ".." in name.split("/"):
        return None
    path = (folder / name / "report.html").resolve()
    try:
        path.relative_to(folder.resolve())
    except ValueError:
        return None
    return path if path.is_file() else None
