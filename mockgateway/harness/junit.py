"""junit.xml as CI systems read it, made to agree with summary.json.

pytest's junitxml writes what pytest saw: every exception in a test's call is a `<failure>`, a
scenario the harness omits after it passed (the client never acted) is a pass, and a testcase is
named after the generated test function. After the run, each catalogue testcase is rewritten from
the scenario's result: `fail` → `<failure>`, `error` (the client could not be run, a timeout) →
`<error>`, `omit`/`skip` → `<skipped>`, `pass` → nothing; its name becomes `<scenario id> <title>`
(`OQS-ELIG-003 6桁の市町村国保は…`), stable and searchable on GitLab, Jenkins or GitHub test
reporters. The suite's counts are recounted, so junit.xml's tests/failures/errors/skipped equal
summary.json's counts. Testcases that are not catalogue scenarios are left as pytest wrote them.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from mockgateway.harness.results import RunSummary, ScenarioResult

_OUTCOME_TAGS = ("failure", "error", "skipped")
_TAG = {"fail": "failure", "error": "error", "omit": "skipped", "skip": "skipped"}


def _address(nodeid: str) -> tuple[str, str]:
    """(classname, name) as pytest's junitxml derives them from a node id."""
    from _pytest.junitxml import mangle_test_address

    names = mangle_test_address(nodeid)
    return ".".join(names[:-1]), names[-1]


def testcase_name(result: ScenarioResult) -> str:
    return f"{result.key} {result.title}" if result.id else result.title


def rewrite(path: Path, summary: RunSummary) -> int:
    """Rewrite `path` in place; returns how many testcases were catalogue scenarios."""
    by_address = {_address(s.nodeid): s for s in summary.scenarios}
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    tree = etree.parse(str(path), parser)
    matched = 0
    for suite in tree.iter("testsuite"):
        for case in suite.iter("testcase"):
            result = by_address.get((case.get("classname", ""), case.get("name", "")))
            if result is None:
                continue
            matched += 1
            _apply(case, result)
        _recount(suite)
    tree.write(str(path), encoding="utf-8", xml_declaration=True)
    return matched


def _apply(case: etree._Element, result: ScenarioResult) -> None:
    old = [child for child in case if child.tag in _OUTCOME_TAGS]
    detail = "\n".join(child.text or "" for child in old if child.text).strip()
    for child in old:
        case.remove(child)
    case.set("name", testcase_name(result))
    tag = _TAG.get(result.status)
    if tag is not None:
        first_line = (result.message.splitlines() or [result.status])[0][:500]
        outcome = etree.Element(tag, message=first_line)
        if tag == "skipped":
            outcome.set("type", "pytest.skip")
        outcome.text = detail or result.message or None
        case.insert(0, outcome)


def _recount(suite: etree._Element) -> None:
    cases = list(suite.iter("testcase"))
    counts = dict.fromkeys(_OUTCOME_TAGS, 0)
    for case in cases:
        # pytest may put an <error> for a teardown beside the call's outcome: count a case once, by
        # its worst outcome, as summary.json does.
        tags = {child.tag for child in case}
        for tag in ("error", "failure", "skipped"):
            if tag in tags:
                counts[tag] += 1
                break
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(counts["failure"]))
    suite.set("errors", str(counts["error"]))
    suite.set("skipped", str(counts["skipped"]))
