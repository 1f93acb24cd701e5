"""The import graph of src/inductive, read from the source (every import statement, those inside functions too):
no cycle, config checking apart from the run machinery, only Hydra's public API; and no module over 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
RUN_MACHINERY = ("inductive.training.train", "inductive.training.sweep", "inductive.training.folders")


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / "inductive").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported_names(name: str, path: Path) -> set[str]:
    """Every module name an import statement in `path` names (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return names


def graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (a name is resolved to the longest module it starts with)."""
    ours = modules()
    edges = {}
    for name, path in ours.items():
        targets = set()
        for imported in imported_names(name, path):
            while imported and imported not in ours:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        edges[name] = targets
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path of module names (first == last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node], _ = "open", stack.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node], _ = "done", stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in edges[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_walker_finds_a_planted_cycle():
    """Would catch: a walker that never reports a cycle (the tests below would then pass on any code)."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    edges = graph()
    assert "inductive.training.matching" in edges["inductive.training.config"]  # function-level imports count


def test_no_import_cycle_in_src():
    """Would catch: a module importing one that (directly or not) imports it back, e.g. a claim module and the
    claims package, or the config checks and the parameter sizing."""
    cycle = find_cycle(graph())
    assert cycle is None, " -> ".join(cycle)


@pytest.mark.parametrize("module", ["inductive.training.config", "inductive.training.config_folder"])
def test_config_checking_imports_none_of_the_run_machinery(module):
    """Would catch: the checks reaching into a run (train, sweep, folders), so that checking a config loads them."""
    assert not reachable(graph(), module) & set(RUN_MACHINERY)


def test_only_hydras_public_api():
    """Would catch: an import of hydra._internal, a private API any Hydra release may change."""
    private = [f"{name}: {imported}" for name, path in modules().items() for imported in imported_names(name, path)
               if imported.startswith("hydra._internal")]
    assert not private


def test_no_source_module_over_400_lines():
    """Would catch: a module grown past what a reader takes in at one sitting (split it by concept instead)."""
    long = {name: lines for name, path in modules().items() if (lines := len(path.read_text().splitlines())) > 400}
    assert not long
