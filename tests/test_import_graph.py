"""The project's modules import each other without cycles (function-level and typing-only imports count too),
and nothing outside tests/ imports the tests.

A cycle makes import order matter and hides which module owns what (issue 23 found three:
cli -> video_cli -> video_bench -> cli, overlay <-> pipeline, video <-> video_result).
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FER = REPO / "fer"
#: Every first-party tree besides the tests: the engine, the runtime helpers, the scripts, the UI and the pages.
TREES = ("fer", "serve", "scripts", "ui", "pages")


def module_name(path: Path) -> str:
    """``fer/cli/main.py`` -> ``cli.main``; a package's ``__init__.py`` -> the package (``cli``)."""
    parts = list(path.relative_to(FER).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "fer"


def fer_imports(path: Path, modules: set[str]) -> set[str]:
    """The ``fer`` modules a file imports anywhere in it (top level, in functions, under TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "fer":
            base = node.module.split(".", 1)[1] if "." in node.module else ""
            for alias in node.names:  # ``from fer.cli import video`` imports the module cli.video
                candidate = f"{base}.{alias.name}" if base else alias.name
                found.add(candidate if candidate in modules else base)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".", 1)[1] for a in node.names if a.name.startswith("fer."))
    return found - {module_name(path), ""}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep in graph and dep not in state and (cycle := visit(dep, path + [dep])):
                return cycle
        state[node] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module, [module])):
            return cycle
    return None


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_engine_has_no_import_cycle() -> None:
    paths = [p for p in FER.rglob("*.py") if "__pycache__" not in p.parts]
    modules = {module_name(p) for p in paths}
    graph = {module_name(p): fer_imports(p, modules) for p in paths}
    assert {"cli.main", "cli.video", "bench.video", "train.loop", "stream", "faces"} <= set(graph)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_only_the_command_line_and_benchmarks_reach_the_tensorflow_zone() -> None:
    """``fer.train`` (Keras, TensorFlow) is imported by no serving module: only by itself, the CLI's
    ``convert`` command and the Keras baseline of the benchmarks. The app never imports fer.cli or
    fer.bench either (tests/test_native_imports.py checks the running server)."""
    paths = [p for p in FER.rglob("*.py") if "__pycache__" not in p.parts]
    modules = {module_name(p) for p in paths}
    allowed = ("train", "cli", "bench")
    for path in paths:
        name = module_name(path)
        if name.split(".")[0] in allowed or name == "__main__":  # python -m fer is the CLI
            continue
        reached = {m for m in fer_imports(path, modules) if m.split(".")[0] in allowed}
        assert not reached, f"fer.{name} imports {sorted(reached)}"
    app = FER.parent
    for script in [app / "app.py", *sorted((app / "pages").glob("*.py")), *sorted((app / "ui").rglob("*.py"))]:
        text = script.read_text(encoding="utf-8")
        for zone in allowed:
            assert f"fer.{zone}" not in text.replace("python -m fer.train", ""), f"{script.name} names fer.{zone}"


def project_files() -> list[Path]:
    files = [REPO / "app.py"]
    for tree in TREES:
        files += [p for p in (REPO / tree).rglob("*.py") if "__pycache__" not in p.parts]
    return files


def dotted_name(path: Path) -> str:
    """``fer/cli/main.py`` -> ``fer.cli.main``; a package's ``__init__.py`` -> the package."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> set[str]:
    """Every absolute module name a file imports anywhere (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def project_graph() -> dict[str, set[str]]:
    """First-party module -> the first-party modules it imports (a name resolved to its longest known module)."""
    paths = project_files()
    modules = {dotted_name(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        deps = set()
        for name in imported_names(path):
            parts = name.split(".")
            known = next(
                (".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in modules), None
            )
            if known:
                deps.add(known)
        graph[dotted_name(path)] = deps - {dotted_name(path)}
    return graph


def test_the_whole_project_has_no_import_cycle() -> None:
    graph = project_graph()
    assert {"app", "serve.replicas", "scripts.load_live", "ui.common", "pages.live", "fer.cli.main"} <= set(graph)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_nothing_outside_the_tests_imports_them() -> None:
    """The tests use the project, never the other way round: ``tests`` and its ``support`` helpers stay private."""
    for path in project_files():
        reached = {n for n in imported_names(path) if n.split(".")[0] in {"tests", "support", "conftest"}}
        assert not reached, f"{path.relative_to(REPO)} imports {sorted(reached)}"


def test_the_engine_imports_no_other_tree() -> None:
    """``fer`` is the engine: it knows nothing of the UI, the pages, the scripts or the runtime helpers."""
    for path in (REPO / "fer").rglob("*.py"):
        reached = {n for n in imported_names(path) if n.split(".")[0] in set(TREES) - {"fer"} | {"app"}}
        assert not reached, f"{path.relative_to(REPO)} imports {sorted(reached)}"
