"""The package's shape, checked from the source: no import circle, no oversized module, services
below transports (docs/design.md). Every import counts, also those inside functions and under
TYPE_CHECKING: a circle that only a lazy import keeps from failing is still a circle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mockgateway"
MAX_LINES = 400
# Modules allowed past MAX_LINES, each with the reason it is kept whole. Keep this list short: a
# module that grows past the limit is split along its concepts, not added here.
LONG_MODULES = {
    "mockgateway.card.faceauth": "one state machine: the reader's placement steps read best in one place",
    "mockgateway.certs.institution_pki": "one class (TestPKI): CA, server, client certificates and CRL share files",
    "mockgateway.population.people": "the people generator's inner loop, kept together for speed",
    "mockgateway.pytest_plugin": "the plugin's fixtures and hooks: one module is what pytest loads",
    "mockgateway.scaleout": "the replica supervisor and its relay: one lifecycle",
    "mockgateway.transports.folder": "the watcher: inotify, polling fallback and the request lifecycle",
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The package's modules that `name` imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            # `from package import module` imports the submodule; `from module import name` the module
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in known else source for a in node.names]
        else:
            continue
        for target in targets:
            module = target
            while module and module not in known:  # `import a.b.c` with c a name: the nearest module
                module = module.rpartition(".")[0]
            if module.startswith("mockgateway") and module != name:
                yield module


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: set(imported(name, path, known)) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One circle per strongly connected component of more than one module (Tarjan), as a path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return [_circle(edges, component) for component in components]


def _circle(edges: dict[str, set[str]], component: set[str]) -> list[str]:
    """A path start → … → start inside one component (breadth-first, so the shortest from start)."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(edges[node] & component):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no circle in {component}")  # pragma: no cover - Tarjan found one


def test_cycle_finder_reports_the_circle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(edges) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_read_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from mockgateway.engine import Gateway\n"
        "def f():\n    from mockgateway.wire import xmlcodec\n    import mockgateway.domain.clock\n"
    )
    known = set(modules())
    assert set(imported("mockgateway.x", source, known)) == {
        "mockgateway.engine",
        "mockgateway.wire.xmlcodec",
        "mockgateway.domain.clock",
    }


def test_no_import_circle() -> None:
    found = cycles(graph())
    assert not found, "import circles:\n" + "\n".join(" → ".join(c) for c in found)


def test_no_module_past_the_line_limit() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES and name not in LONG_MODULES}
    assert not too_long, f"modules past {MAX_LINES} lines (split them along their concepts): {too_long}"
    stale = {name for name in LONG_MODULES if sizes.get(name, 0) <= MAX_LINES}
    assert not stale, f"allow-listed but gone or short enough now (drop them from LONG_MODULES): {stale}"


def test_no_service_imports_a_transport() -> None:
    leaks = {
        name: sorted(t for t in targets if t.startswith("mockgateway.transports"))
        for name, targets in graph().items()
        if name.startswith("mockgateway.services")
    }
    leaks = {name: targets for name, targets in leaks.items() if targets}
    assert not leaks, f"services import transports (use mockgateway.control / mockgateway.store): {leaks}"


def test_public_import_paths_still_work() -> None:
    """Paths the vendor docs give (docs/pki.md, docs/vendor-guide.md) outlive the module moves."""
    from mockgateway import pki
    from mockgateway.certs import institution_pki
    from mockgateway.transports import inprocess

    assert pki.TestPKI is institution_pki.TestPKI
    assert pki.medical_institution_code is institution_pki.medical_institution_code
    assert callable(inprocess.serve)
    __import__("mockgateway.pytest_plugin")
