"""`python -m mockgateway.harness …` (also `mockgateway-harness …`): the certification harness's CLI.

index [--check]            write docs/catalogue.md from the catalogue (--check: fail if it is stale)
lint                       check the catalogue's conventions (ids, rule tags, areas)
run [--mg-… options] [pytest options…]
                           run the catalogue shipped in the package against your client (pytest
                           with the harness's configuration; see docs/vendor-guide.md)
compare OLD NEW            what changed between two summary.json files (exit 1 on a regression)
report SUMMARY [HTML]      (re)render the HTML report from a summary.json
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from mockgateway.harness import catalogue
from mockgateway.harness.options import add_to as add_options
from mockgateway.harness.results import RunSummary, compare, read_expected


def _catalogue_root(given: str | None) -> Path:
    root = catalogue.find_root(candidates=[Path(given)] if given else [])
    if root is None:
        raise SystemExit("no catalogue found: pass --features DIR (a folder of <area>/*.feature)")
    return root


def cmd_index(args: argparse.Namespace) -> int:
    root = _catalogue_root(args.features)
    cat = catalogue.load(root)
    problems = catalogue.check(cat)
    text = catalogue.render_index(cat)
    # Beside a given catalogue folder (<folder>/../docs), else the current folder's docs/.
    base = root.parent if args.features else Path()
    out = Path(args.output) if args.output else base / "docs" / "catalogue.md"
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out} is out of date: run `python -m mockgateway.harness index`", file=sys.stderr)
            return 1
        print(f"{out} is up to date ({len(cat.entries)} scenarios)")
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out} ({len(cat.entries)} scenarios in {len(cat.areas())} areas)")
    for problem in problems:
        print(f"catalogue: {problem}", file=sys.stderr)
    return 1 if problems else 0


def cmd_lint(args: argparse.Namespace) -> int:
    cat = catalogue.load(_catalogue_root(args.features))
    problems = catalogue.check(cat)
    for problem in problems:
        print(problem)
    print(f"{len(cat.entries)} scenarios, {len(problems)} problems")
    return 1 if problems else 0


def cmd_run(args: argparse.Namespace, rest: list[str]) -> int:
    import os

    from mockgateway.harness.options import as_pytest_args
    from mockgateway.resources import catalogue_suite

    suite = catalogue_suite()
    env = dict(os.environ)
    if args.features:
        env["MOCKGATEWAY_FEATURES"] = str(Path(args.features).resolve())
    # The suite's own pytest.ini (-c) and rootdir: the caller's folder may hold a pytest
    # configuration or conftest.py of its own, which must not change how the catalogue runs.
    argv = [sys.executable, "-m", "pytest", str(suite), "-c", str(suite / "pytest.ini"), "--rootdir", str(suite)]
    argv += ["-p", "no:cacheprovider", *as_pytest_args(args), *rest]
    print("running:", " ".join(argv), flush=True)
    return subprocess.call(argv, env=env)  # from your folder: relative --mg-… paths are yours


def cmd_compare(args: argparse.Namespace) -> int:
    new = RunSummary.read(Path(args.new))
    order = ("regression", "fixed", "changed", "new", "removed")
    changes = sorted(compare(read_expected(Path(args.old)), new.scenarios), key=lambda c: (order.index(c.kind), c.id))
    for c in changes:
        print(f"{c.kind:10} {c.id:16} {c.expected:>9} → {c.actual:<9} {c.title}")
    print(f"{len(changes)} changes")
    return 1 if any(c.kind == "regression" for c in changes) else 0


def cmd_report(args: argparse.Namespace) -> int:
    from mockgateway.harness import report

    summary = RunSummary.read(Path(args.summary))
    out = Path(args.html) if args.html else Path(args.summary).with_name("report.html")
    report.write(summary, out)
    print(f"wrote {out}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mockgateway-harness", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    index = sub.add_parser("index", help="write docs/catalogue.md")
    index.add_argument("--features", help="the catalogue folder (default: ./features or the shipped one)")
    index.add_argument("--output", help="default: FEATURES/../docs/catalogue.md, or ./docs/catalogue.md")
    index.add_argument("--check", action="store_true", help="only check that it is up to date")
    lint = sub.add_parser("lint", help="check ids, rule tags and areas")
    lint.add_argument("--features")
    run = sub.add_parser(
        "run",
        help="run the catalogue against your client (other options go to pytest, e.g. -x, -k)",
        description="Runs the catalogue shipped in the package with pytest. The --mg-… options below go to "
        "the harness (docs/vendor-guide.md); any other option goes to pytest unchanged.",
    )
    run.add_argument("--features", help="run this catalogue folder instead of the shipped one")
    add_options(run.add_argument_group("the client under test and the report (--mg-…)"))
    cmp_ = sub.add_parser("compare", help="compare two summary.json files")
    cmp_.add_argument("old", help="expected: a summary.json or {id: status}")
    cmp_.add_argument("new", help="this run's summary.json")
    rep = sub.add_parser("report", help="render report.html from a summary.json")
    rep.add_argument("summary")
    rep.add_argument("html", nargs="?")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args, rest = parser().parse_known_args(argv)
    if args.command == "run":
        return cmd_run(args, rest)
    if rest:
        parser().error(f"unrecognized arguments: {' '.join(rest)}")
    handlers = {"index": cmd_index, "lint": cmd_lint, "compare": cmd_compare, "report": cmd_report}
    return handlers[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
