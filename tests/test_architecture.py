"""The import rules of docs/ARCHITECTURE.md, checked on the source (every import, module level or not)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (app/ and nlp/, migrations left out)."""
    files = {}
    for path in [*ROOT.glob("app/**/*.py"), *ROOT.glob("nlp/**/*.py")]:
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target in files:
                    graph[name].add(target)
                    break
    return graph


def test_nlp_never_imports_app() -> None:
    offending = {
        m: sorted(t for t in ts if t.startswith("app")) for m, ts in import_graph().items() if m.startswith("nlp")
    }
    assert {m: ts for m, ts in offending.items() if ts} == {}


def test_core_imports_only_core_and_nlp() -> None:
    graph = import_graph()
    offending = {
        m: sorted(t for t in ts if t.startswith("app.") and not t.startswith("app.core"))
        for m, ts in graph.items()
        if m.startswith("app.core")
    }
    assert {m: ts for m, ts in offending.items() if ts} == {}


ROUTE_MODULES = ("app.api.routes.", "app.feedback.routes", "app.feedback.analyze", "app.journey.routes")
ROUTE_MODULES += ("app.uploads.routes", "app.workspaces.routes")
ROUTE_MODULES += ("app.taxonomy.routes", "app.corrections.routes", "app.reanalysis.routes")


def test_routes_are_imported_by_the_application_alone() -> None:
    graph = import_graph()
    importers = {m for m, ts in graph.items() for t in ts if t.startswith(ROUTE_MODULES) and m != t}
    assert importers <= {"app.main"}, importers


def test_there_is_no_import_cycle() -> None:
    graph = import_graph()
    cycles: set[tuple[str, ...]] = set()

    def visit(module: str, path: list[str]) -> None:
        for target in graph.get(module, ()):
            if target in path:
                cycles.add(tuple(sorted(path[path.index(target) :])))
            elif len(path) < 30:
                visit(target, [*path, target])

    for module in list(graph):
        visit(module, [module])
    assert cycles == set()


def test_the_layers_below_the_api_never_import_it() -> None:
    below = ("app.journey.figures", "app.journey.alerts", "app.journey.queries", "app.journey.stats")
    below += ("app.journey.themes",)
    below += ("app.journey.topics", "app.feedback.store", "app.crud", "app.uploads.mapping", "app.jobs")
    below += ("app.models", "app.schemas")
    below += ("app.taxonomy.service", "app.taxonomy.analysis", "app.corrections.apply", "app.corrections.service")
    below += ("app.reanalysis.service", "app.learning.service")
    api = ("app.api", "app.workspaces.auth", "app.journey.cache", "app.journey.polling", "app.journey.scope")
    graph = import_graph()
    offending = {
        m: sorted(t for t in ts if t.startswith(api + ROUTE_MODULES)) for m, ts in graph.items() if m.startswith(below)
    }
    assert {m: ts for m, ts in offending.items() if ts} == {}
