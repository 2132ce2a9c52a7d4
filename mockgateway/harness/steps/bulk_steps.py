"""Steps about 資格確認一括照会 (OQSmuquc01/02): reserved patients, the client's upload and polls,
the results unit by unit, the polling pattern, a result fetched by 受付番号, and a terminal that
restarts in the middle of a job.

Every step where the レセコン acts is an order (`bulk`: upload then poll until done; `bulk-download`:
one download for a given 受付番号). Then-steps assert twice: on what the client reports (one
object per BulkConfirmUnit, in the order received, groups as objects) and on what the terminal
holds for the 受付番号 (its job store: the stored units, not the journal's clipped copy), after
checking what the client sent (`reported`: 医療機関コード, 資格確認日, every card as ordered, and
every poll naming the 受付番号 it was given).
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from pytest_bdd import given, parsers, when

from mockgateway.app import build_gateway
from mockgateway.config import Config
from mockgateway.fixtures import load_documents
from mockgateway.harness.orders import BULK_ACTIONS, Card, Report
from mockgateway.harness.outcome import Outcome, report_problems
from mockgateway.harness.steps.client_steps import card_of
from mockgateway.harness.steps.world import World
from mockgateway.services.bulk import render as bulk_render
from mockgateway.services.bulk import service as bulk
from mockgateway.services.bulk.jobs import Job
from mockgateway.services.bulk.layout import CONFIRM, REGISTRATION
from mockgateway.transports.folder import FolderTransport
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Node, Tree

PATIENTS = "bulk.patients"
RESTART = "bulk.restart"

# 内訳 of reserved patients → how the qualification history looks and which card the patient brings.
_CARD_KINDS: dict[str, str] = {
    "有効": "valid",  # 資格有効性 1
    "資格喪失": "lost",  # 2: lost ten days ago, nothing since
    "保険者異動 (旧証)": "moved",  # 3: brings the old card; a newer qualification exists
    "資格取得前": "future",  # 4: the qualification starts in ten days
}
ERRORS: dict[str, str] = {"保険者番号": "insurer_number", "番号": "number", "生年月日": "birthdate", "枝番": "branch"}


# -- given ------------------------------------------------------------------------------------------


@given("一括照会はすぐに処理される")
def bulk_instant(world: World) -> None:
    bulk.configure(world.gateway, pace="instant")


@given("一括照会の結果は ZIP で返される")
def bulk_zip(world: World) -> None:
    bulk.configure(world.gateway, result_format="zip")


def _zen(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _patient(index: int, kind: str) -> dict[str, Any]:
    name = f"予約　{_zen(index)}"
    old: dict[str, Any] = {
        "InsurerNumber": "06139992",
        "InsuredCardSymbol": "9100",
        "InsuredIdentificationNumber": str(10000 + index),
        "InsuredBranchNumber": "00",
        "PersonalFamilyClassification": "1",
        "InsuredName": name,
        "QualificationDate": "20100401",
    }
    qualifications = [old]
    if kind == "lost":
        old.update(DisqualificationDate="today-10d", ReasonOfLoss="99")
    elif kind == "moved":
        old.update(DisqualificationDate="month_start-1m+15d", ReasonOfLoss="03")
        new = {
            "InsurerNumber": "01139997",
            "InsuredCardSymbol": "91-00",
            "InsuredIdentificationNumber": str(50000 + index),
            "InsuredBranchNumber": "00",
            "PersonalFamilyClassification": "1",
            "InsuredName": name,
            "QualificationDate": "month_start-1m+15d",
        }
        qualifications.append(new)
    elif kind == "future":
        old["QualificationDate"] = "today+10d"
    return {
        "id": f"yoyaku-{index:03d}",
        "Name": name,
        "NameKana": "ヨヤク　カンジャ",
        "Sex1": "1" if index % 2 else "2",
        "Birthdate": f"{1940 + index % 60}{index % 12 + 1:02d}{index % 28 + 1:02d}",
        "qualifications": qualifications,
    }


@given(parsers.parse("予約患者 {count:d} 人が次の内訳で登録されている:"))
def reserved_patients(world: World, count: int, datatable: list[list[str]]) -> None:
    """Synthetic patients (ids yoyaku-001…), taken round-robin from the rows in table order, so every
    kind appears throughout the file: with 有効 / 資格喪失 / …, patient 1 is 有効, 2 資格喪失, and so on."""
    queues: list[list[str]] = []
    for row in datatable[1:]:
        label, how_many = row[0].strip(), int(row[1])
        assert label in _CARD_KINDS, f"unknown 内訳 {label!r}; use one of {list(_CARD_KINDS)}"
        queues.append([_CARD_KINDS[label]] * how_many)
    order: list[str] = []
    while any(queues):
        order += [queue.pop() for queue in queues if queue]
    assert len(order) == count, f"the 内訳 adds up to {len(order)}, not {count}"
    docs = [_patient(i, kind) for i, kind in enumerate(order, 1)]
    insurers = [{"InsurerNumber": n, "InsurerName": name} for n, name in world.gateway.store.insurers().items()]
    data = load_documents([("scenario", {"insurers": insurers, "persons": docs})], world.gateway.clock.today())
    world.gateway.load(data, replace=False)
    world.notes[PATIENTS] = [(doc["id"], kind == "moved") for doc, kind in zip(docs, order, strict=True)]


# -- when: the client uploads and polls ---------------------------------------------------------------


def _reserved_cards(world: World, count: int) -> tuple[Card, ...]:
    patients = world.notes.get(PATIENTS)
    assert isinstance(patients, list), "no reserved patients: a 前提 step must register them first"
    assert len(patients) == count, f"{len(patients)} reserved patients are registered, not {count}"
    return tuple(card_of(world, pid, previous=previous) for pid, previous in patients)


@when(parsers.parse("レセコンが予約患者 {count:d} 人の一括照会を送り、{seconds:d} 秒待って終わらなければ諦める"))
def bulk_reserved(world: World, count: int, seconds: int) -> None:
    cards = _reserved_cards(world, count)
    world.act(world.order("bulk", cards=cards, api_id="OQSmuquc01", timeout=float(seconds)))


@when(
    parsers.parse(
        'レセコンが予約患者 {count:d} 人の一括照会を資格確認日 "{on}" として送り、'
        "{seconds:d} 秒待って終わらなければ諦める"
    )
)
def bulk_reserved_on(world: World, count: int, on: str, seconds: int) -> None:
    cards = _reserved_cards(world, count)
    day = on.replace("-", "")
    world.act(world.order("bulk", cards=cards, api_id="OQSmuquc01", on=day, timeout=float(seconds)))


def _with_error(shown: Card, error: str) -> Card:
    """`保険者番号 "01139998"`: the card as the clerk (mis)typed it; the client sends it as typed."""
    m = re.fullmatch(r'(?P<field>\S+) "(?P<value>[^"]*)"', error.strip())
    usage = f'unknown mistake {error!r}: use 保険者番号 "…", 番号 "", 生年月日 "…", 枝番 "…"'
    assert m is not None, usage
    assert m["field"] in ERRORS, usage
    fields = shown.as_json()
    fields[ERRORS[m["field"]]] = m["value"]
    return Card.from_json(fields)


@when(parsers.parse("レセコンが次の患者を一括照会し、{seconds:d} 秒待って終わらなければ諦める:"))
def bulk_listed(world: World, seconds: int, datatable: list[list[str]]) -> None:
    cards = []
    for row in datatable[1:]:
        shown = card_of(world, row[0].strip())
        mistake = row[1].strip() if len(row) > 1 else ""
        cards.append(_with_error(shown, mistake) if mistake else shown)
    world.act(world.order("bulk", cards=tuple(cards), api_id="OQSmuquc01", timeout=float(seconds)))


@when(parsers.parse('レセコンが受付番号 "{number}" の一括照会結果を取りに行く'))
def fetch_by_number(world: World, number: str) -> None:
    world.act(world.order("bulk-download", api_id="OQSmuquc02", reception_number=number))


@when(parsers.parse('医療機関コード "{code}" のレセコンが、その受付番号で一括照会結果を取りに行く'))
def fetch_as_another_institution(world: World, code: str) -> None:
    number = reception_number(bulk_outcome(world))
    assert number is not None, "the earlier 一括照会 got no 受付番号"
    order = world.order("bulk-download", api_id="OQSmuquc02", reception_number=number, medical_institution=code)
    world.act(order)


# -- the terminal restarts mid-job -----------------------------------------------------------------------


def restart_gateway(world: World, downtime: float) -> dict[str, Any]:
    """Stop the gateway (folder transport, workers, store), stay down `downtime` seconds, then build a
    new one on the same SQLite file and folder root, as `mockgateway serve` does after a crash. The
    journal is carried over: it is the harness's record of what the client sent, across the restart
    (a real terminal's log would survive too)."""
    old, folder = world.gateway, world.folder
    folder.stop()
    for worker in old.workers:
        worker.stop()
    old.save_clock()  # the scenario's clock, as the admin API keeps it
    feature = bulk.feature(old)
    jobs = [(j.reception_number, j.processed, j.total) for j in (feature.jobs.jobs() if feature else [])]
    old.store.close()
    time.sleep(downtime)
    config = Config(root=world.root, db=old.store.path, fixtures=[], tls_port=None)
    new = build_gateway(config)
    new.journal = old.journal
    transport = FolderTransport(new, config.root)
    transport.start()
    for worker in new.workers:
        worker.start()
    world.gateway, world.folder = new, transport
    if world.listener is not None:
        world.listener.switch(new)
    return {"jobs": jobs, "downtime": downtime}


@given(
    parsers.parse("一括照会の受付後 {count:d} 件を処理したところで、資格確認端末が {seconds:g} 秒止まって再起動する")
)
def restart_mid_job(world: World, count: int, seconds: float) -> None:
    """A stage hand: once a 一括照会 job has `count` records done (and is not finished), restart."""
    stop = threading.Event()

    def watch() -> None:
        try:
            while not stop.wait(0.01):
                feature = bulk.feature(world.gateway)
                open_jobs = feature.jobs.open_jobs() if feature is not None else []
                due = [j for j in open_jobs if j.family == CONFIRM.family and j.processed >= count]
                if due:
                    job = due[0]
                    world.notes[RESTART] = {
                        "reception_number": job.reception_number,
                        **restart_gateway(world, seconds),
                    }
                    return
        except Exception as exc:  # reported by the Then-step, never lost in a thread
            world.notes[RESTART] = {"error": repr(exc)}
        finally:
            world.gateway.store.close()  # this thread's connection (the store closes per thread)

    thread = threading.Thread(target=watch, daemon=True, name="restart-stagehand")
    thread.start()

    def finish() -> None:
        stop.set()
        thread.join(30)

    world.cleanups.append(finish)


# -- reading outcomes ------------------------------------------------------------------------------------


def bulk_outcome(world: World) -> Outcome:
    for found in reversed(world.outcomes):
        if found.order.action in (*BULK_ACTIONS, "bulk-download", "consented-bulk"):
            return found
    raise AssertionError("no 一括 order yet: a もし step must have the client upload one")


def reception_number(outcome: Outcome) -> str | None:
    """The 受付番号 the terminal answered the client's (last) upload with, from the journal."""
    numbers = [
        e.extra.get("reception_number")
        for e in outcome.entries
        if e.api_id == outcome.order.api_id and e.extra.get("bulk") == "upload"
    ]
    found = [n for n in numbers if isinstance(n, str)]
    return found[-1] if found else None


def terminal_job(world: World, outcome: Outcome) -> Job:
    number = reception_number(outcome)
    assert number is not None, f"the terminal accepted no upload for order {outcome.order.order_id}"
    feature = bulk.feature(world.gateway)
    assert feature is not None, "the bulk feature is not installed"
    job = feature.jobs.get(number)
    assert job is not None, f"the terminal has no job {number}"
    return job


def terminal_units(world: World, outcome: Outcome) -> list[Tree]:
    """The units the terminal holds for the order's 受付番号 (complete: the journal clips large bodies)."""
    job = terminal_job(world, outcome)
    assert job.done, f"the terminal's job {job.reception_number} is not finished ({job.processed}/{job.total})"
    unit = REGISTRATION.unit if job.family == REGISTRATION.family else CONFIRM.unit
    feature = bulk.feature(world.gateway)
    assert feature is not None
    xml = bulk_render.document({"ReceptionNumber": job.reception_number}, feature.jobs.results(job), "UTF-8")
    body = xmlcodec.parse(xml).tree.get("MessageBody")
    node: Node = body.get(unit) if isinstance(body, dict) else None
    items = node if isinstance(node, list) else [node] if node is not None else []
    return [i for i in items if isinstance(i, dict)]


def _group(value: str) -> Node:
    """A reported group (JSON text, as the report normalises objects) back into a tree."""
    if value[:1] in ("{", "["):
        try:
            loaded = json.loads(value)
        except json.JSONDecodeError:
            return value
        return loaded if isinstance(loaded, dict | list) else value
    return value


def client_units(report: Report) -> list[Tree]:
    return [{k: _group(v) for k, v in unit.items()} for unit in report.results]


def lookup(unit: Node, element: str) -> str | None:
    """An element of a unit: its own, else inside ResultOfQualificationConfirmation (the first one),
    else inside any other group (e.g. the echoed QualificationConfirmSearchInfo)."""
    if not isinstance(unit, dict):
        return None
    value = unit.get(element)
    if isinstance(value, str):
        return value
    groups = sorted(
        (k for k, v in unit.items() if isinstance(v, dict | list)),
        key=lambda k: k != "ResultOfQualificationConfirmation",
    )
    for key in groups:
        node = unit[key]
        for item in node if isinstance(node, list) else [node]:
            found = lookup(item, element)
            if found is not None:
                return found
    return None


def checked(found: Outcome) -> Report:
    """The client's report, after checking it answered and sent what the order said."""
    problems = found.sent_problems()
    assert not problems, "what the client sent differs from the order:\n  " + "\n  ".join(problems)
    problems = report_problems(found.report)
    assert not problems, "\n".join(problems)
    return found.report


def both(world: World) -> tuple[list[Tree], list[Tree]]:
    """(what the client reports, what the terminal holds), after checking what the client sent and
    that it received the result normally (SegmentOfResult 1)."""
    found = bulk_outcome(world)
    report = checked(found)
    assert report.segment == "1", (
        f"the client reports SegmentOfResult {report.segment!r} ({report.message!r}); the result (1) was expected"
    )
    shown, held = client_units(report), terminal_units(world, found)
    return shown, held


def _unit(units: list[Tree], k: int, who: str) -> Tree:
    assert 1 <= k <= len(units), f"{who} has {len(units)} units, no {k}件目"
    return units[k - 1]
