"""control/answer_memo.py and the engine's use of it: whole answers remembered per exact request."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import pytest

from mockgateway.config import DEFAULT_FIXTURES
from mockgateway.control.answer_memo import AnswerMemo, Stamp
from mockgateway.control.faults import FaultRule
from mockgateway.domain.model import CardKey
from mockgateway.engine import Format, Gateway, Response
from mockgateway.fixtures import load_paths
from mockgateway.services.eligibility import API_ID
from mockgateway.services.reference_numbers import ReferenceNumberRegistry
from tests.conftest import GatewayFactory, eligibility_request, header_of, reply_tree, results_of

STAMP = Stamp(object(), 0, ())


def ask(gateway: Gateway, raw: bytes, *, fmt: Format = Format.XML, transport: str = "http") -> Response:
    return gateway.process(API_ID, raw, fmt=fmt, transport=transport)


@pytest.fixture
def fast(make_gateway: GatewayFactory) -> Gateway:
    """A gateway whose memo answers hits without recomputing them (as in production)."""
    gateway = make_gateway()
    gateway.memo = AnswerMemo(verify=False)
    return gateway


def test_an_entry_is_joined_with_the_current_timestamp() -> None:
    memo = AnswerMemo(4, verify=False)
    body = b"<T>20250618103000</T><C>20250618103000</C><N>1</N>"
    kept = memo.put("k", b"request", body, b"20250618103000", stamp=STAMP, media_type="x", extension=".xml",
                    mic=None, segment="1", validity="1", reason=None)  # fmt: skip
    assert kept
    found = memo.get("k", STAMP)
    assert found is not None
    assert found.body(b"20250618103001") == b"<T>20250618103001</T><C>20250618103001</C><N>1</N>"
    assert memo.get("k", Stamp(STAMP.index, 1, ())) is None  # any write since: not used
    assert memo.get("k", Stamp(object(), 0, ())) is None  # another index
    assert memo.get("k", Stamp(STAMP.index, 0, ("UTF-8",))) is None  # other settings
    assert (memo.hits, memo.misses) == (1, 3)


def test_nothing_is_kept_that_cannot_be_templated_safely() -> None:
    memo = AnswerMemo(4, verify=False)
    facts = {"stamp": STAMP, "media_type": "x", "extension": ".xml", "mic": None, "segment": "1", "validity": None,
             "reason": None}  # fmt: skip
    # the request carries the timestamp (an identifier made of it): its echo must not follow the clock
    assert not memo.put("a", b"<Id>20250618103000</Id>", b"<Id>20250618103000</Id>", b"20250618103000", **facts)
    assert not memo.put("b", b"r", b"<no-time/>", b"20250618103000", **facts)
    assert len(memo) == 0
    assert not AnswerMemo(0).put("c", b"r", b"20250618103000", b"20250618103000", **facts)


def test_the_oldest_entry_goes_first() -> None:
    memo = AnswerMemo(2, verify=False)
    facts = {"stamp": STAMP, "media_type": "x", "extension": ".xml", "mic": None, "segment": "1", "validity": None,
             "reason": None}  # fmt: skip
    for key in ("a", "b", "c"):
        memo.put(key, b"r", b"t=1", b"1", **facts)
    assert len(memo) == 2
    assert memo.get("a", STAMP) is None
    assert memo.get("b", STAMP) is not None
    assert memo.get("c", STAMP) is not None


def test_a_second_request_is_answered_from_the_memo_and_journaled(fast: Gateway) -> None:
    raw = eligibility_request(consent="1")
    first = ask(fast, raw)
    assert fast.memo is not None
    assert (fast.memo.hits, len(fast.memo)) == (0, 1)
    fast.clock.advance(dt.timedelta(seconds=61))
    second = ask(fast, raw)
    assert fast.memo.hits == 1
    before, after = reply_tree(first), reply_tree(second)
    assert header_of(after)["ProcessExecutionTime"] == "20250618103101"
    assert results_of(after)[0]["LimitApplicationCertificateRelatedConsTime"] == "20250618103101"
    # nothing else moved: both consent times and the processing time are the one instant
    for tree in (before, after):
        header_of(tree)["ProcessExecutionTime"] = "T"
        for key in ("LimitApplicationCertificateRelatedConsTime", "SpecificDiseasesCertificateRelatedConsTime"):
            results_of(tree)[0][key] = "T"
    assert before == after
    entries = fast.journal.entries()
    assert len(entries) == 2
    assert entries[-1].request == raw
    assert entries[-1].response == second.body
    assert (entries[-1].segment, entries[-1].validity, entries[-1].medical_institution) == ("1", "1", "1311234569")


def test_keys_keep_format_transport_and_institution_apart(fast: Gateway) -> None:
    raw = eligibility_request()
    xml = ask(fast, raw).body
    folder = ask(fast, raw, transport="folder").body
    assert folder != xml
    assert b"\n    " in folder
    assert ask(fast, raw).body == xml
    assert ask(fast, raw, transport="folder").body == folder
    assert fast.memo is not None
    assert fast.memo.hits == 2


def test_faults_apply_to_remembered_answers(fast: Gateway) -> None:
    raw = eligibility_request()
    ask(fast, raw)
    fast.faults.add(FaultRule(kind="error", api_id=API_ID, times=1, error_code="EQ9999"))
    faulted = header_of(reply_tree(ask(fast, raw)))
    assert (faulted["SegmentOfResult"], faulted["ErrorCode"]) == ("9", "EQ9999")
    assert header_of(reply_tree(ask(fast, raw)))["SegmentOfResult"] == "1"  # the rule fired once, as before
    assert [e.fault for e in fast.journal.entries()] == [None, "error", None]


def test_fixture_setting_and_registry_changes_are_seen_at_once(fast: Gateway) -> None:
    raw = eligibility_request()
    assert results_of(reply_tree(ask(fast, raw)))[0]["Name"] == "髙﨑　咲子"
    data = load_paths([DEFAULT_FIXTURES], fast.clock.today())
    data.documents = {"takasaki-sakiko": copy.deepcopy(data.documents["takasaki-sakiko"])}
    data.documents["takasaki-sakiko"]["Name"] = "高崎　咲子"
    fast.load(data, replace=False)
    assert results_of(reply_tree(ask(fast, raw)))[0]["Name"] == "高崎　咲子"

    fast.settings.diseases_layout_xml = "flat"
    fast.settings.output_encoding = "UTF-8"
    assert ask(fast, raw).body.startswith(b'<?xml version="1.0" encoding="UTF-8"')

    hits = fast.memo.hits if fast.memo else 0
    fast.store.set_state("anything", 1)  # any committed write
    ask(fast, raw)
    assert fast.memo is not None
    assert fast.memo.hits == hits

    registry = ReferenceNumberRegistry(fast.store)
    fast.services[API_ID].reference_numbers = registry.lookup  # type: ignore[attr-defined]
    ask(fast, raw)
    hits = fast.memo.hits
    assert "ReferenceNumber" not in results_of(reply_tree(ask(fast, raw)))[0]
    assert fast.memo.hits == hits + 1
    registry.remember("1311234569", CardKey("06139992", "7001", "42", "00"), "1234567890")  # the dict, then touch
    assert results_of(reply_tree(ask(fast, raw)))[0]["ReferenceNumber"] == "1234567890"
    assert fast.memo.hits == hits + 1  # built afresh


def test_verify_mode_turns_a_stale_entry_into_an_internal_error(make_gateway: GatewayFactory) -> None:
    """What the suite runs with: a state change that does not reach the stamp is caught."""
    gateway = make_gateway()
    gateway.memo = AnswerMemo(verify=True)
    raw = eligibility_request()
    ask(gateway, raw)
    assert header_of(reply_tree(ask(gateway, raw)))["SegmentOfResult"] == "1"  # verified, equal
    # an entry that no longer says what a fresh answer says (as a missed state change would leave it)
    ((key, entry),) = gateway.memo._memo.items()
    gateway.memo._memo[key] = dataclasses.replace(entry, parts=tuple(p.replace(b"42", b"43") for p in entry.parts))
    stale = header_of(reply_tree(ask(gateway, raw)))
    assert (stale["SegmentOfResult"], stale["ErrorCode"]) == ("9", gateway.codes.get("internal").code)


def test_bulk_bookkeeping_writes_keep_remembered_answers(fast: Gateway) -> None:
    """A bulk job commits a chunk every few thousand records: those writes change no single answer."""
    raw = eligibility_request()
    ask(fast, raw)
    with fast.store.transaction(answers=False) as db:
        db.execute("INSERT OR REPLACE INTO state VALUES ('bulk-bookkeeping', '1')")
    ask(fast, raw)
    assert fast.memo is not None
    assert fast.memo.hits == 1
    with fast.store.transaction() as db:  # any other write does count
        db.execute("INSERT OR REPLACE INTO state VALUES ('other', '1')")
    ask(fast, raw)
    assert fast.memo.hits == 1
