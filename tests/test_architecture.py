"""The package reads as its pipeline: no import cycle among mixassist's modules, and each stage
imports only the stages below it (docs/architecture.md).

Imports are read with :mod:`ast`, every one of them: at module level, inside functions (a lazy
import still runs) and the names of the lazy ``_LAZY`` tables of the packages' ``__init__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mixassist"

#: Stages bottom-up: a module may import its own stage and the stages before it.
STAGES = (
    ("base", ("mixassist.errors", "mixassist.vocab", "mixassist.utils", "mixassist.resources",
              "mixassist._version", "mixassist.testing")),
    ("audio", ("mixassist.audio", "mixassist.loudness")),
    ("separation", ("mixassist.separation",)),
    ("analysis", ("mixassist.analysis",)),
    ("planning", ("mixassist.planning",)),
    ("rendering", ("mixassist.rendering",)),
    ("report", ("mixassist.report",)),
    ("export", ("mixassist.export",)),
    ("entry", ("mixassist.cache", "mixassist.assistant", "mixassist.batch", "mixassist.server",
               "mixassist.cli", "mixassist.__main__", "mixassist")),
)
#: Side trees: they may import any stage; no stage imports them (entry points may).
SIDE = ("mixassist.datasets",)
#: Training and evaluation tools inside their stage: they read datasets (a side tree); no module
#: of the pipeline imports them.
TOOLS = ("mixassist.analysis.train", "mixassist.analysis.evaluate", "mixassist.separation.train",
         "mixassist.separation.evaluate", "mixassist.separation.pack")
ENTRY = len(STAGES) - 1


def _within(module: str, prefixes) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module ``name`` loads: itself, else its longest known parent."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """mixassist modules that ``module`` imports, anywhere in it."""
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                stem = base[:len(base) - node.level + 1]
                origin = ".".join(stem + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # ``from pkg import sub`` loads the submodule; ``from pkg import name`` the package
            subs = [f"{origin}.{a.name}" for a in node.names if f"{origin}.{a.name}" in known]
            targets = subs + ([origin] if len(subs) < len(node.names) else [])
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets) \
                and isinstance(node.value, ast.Dict):
            targets = [v.value for v in node.value.values
                       if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        for target in targets:
            if target.split(".")[0] == "mixassist":
                resolved = _resolve(target, known)
                if resolved and resolved != module:
                    found.add(resolved)
    return found


def import_graph() -> dict[str, set[str]]:
    known = _modules()
    return {m: imports_of(m, p, known) for m, p in known.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _stage(module: str) -> int | None:
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(STAGES):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    return rank


def test_no_import_cycles():
    cycles = _cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_walker_sees_every_kind_of_import(tmp_path):
    pkg = tmp_path / "mixassist"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text('_LAZY = {"x": "mixassist.a.m"}\n')
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "m.py").write_text("def f():\n    from ..b import g\n")
    (pkg / "b.py").write_text("from .a import m\n")
    known = {"mixassist": pkg / "__init__.py", "mixassist.a": pkg / "a" / "__init__.py",
             "mixassist.a.m": pkg / "a" / "m.py", "mixassist.b": pkg / "b.py"}
    graph = {m: imports_of(m, p, known) for m, p in known.items()}
    assert graph["mixassist"] == {"mixassist.a.m"}
    assert graph["mixassist.a.m"] == {"mixassist.b"}
    assert graph["mixassist.b"] == {"mixassist.a.m"}
    assert _cycles(graph) == [["mixassist.a.m", "mixassist.b"]]


def test_every_module_belongs_to_a_stage():
    loose = [m for m in _modules() if _stage(m) is None and not _within(m, SIDE)]
    assert not loose, f"modules in no stage of docs/architecture.md: {loose}"


def test_stages_import_only_the_stages_below():
    upward = []
    for module, targets in import_graph().items():
        if _within(module, SIDE):
            continue
        rank = _stage(module)
        for target in targets:
            if _within(target, SIDE + TOOLS) and rank != ENTRY and not _within(module, TOOLS):
                upward.append(f"{module} -> {target} (a side tree or a training tool)")
            elif _within(target, SIDE):
                continue
            elif (t := _stage(target)) is not None and rank is not None and t > rank:
                upward.append(f"{module} ({STAGES[rank][0]}) -> {target} ({STAGES[t][0]})")
    assert not upward, "imports against the pipeline:\n" + "\n".join(sorted(upward))


@pytest.mark.parametrize("stage", [name for name, _ in STAGES])
def test_stage_names_are_documented(stage):
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert stage in doc
