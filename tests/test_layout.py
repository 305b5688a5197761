"""The package layout: one package per pipeline stage, imports pointing down the pipeline
only, no import cycles, no module over 400 lines (DESIGN.md, "Package layout")."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "latentmap"
MAX_LINES = 400
UTILITIES = {"atomic", "cores", "errors", "extras", "images", "version"}
# What each stage may import besides itself and the utilities: the stages before it.
ALLOWED = {
    "data": set(),
    "models": set(),
    "train": {"data", "models"},
    "quality": {"data", "models", "train"},
    "embed": {"data", "models", "train"},
    "typefaces": {"data", "models", "train"},
    "spaces": {"data", "models", "train", "quality", "embed", "typefaces"},
    "web": {"data", "models", "train", "quality", "embed", "typefaces", "spaces"},
    "cli": {"data", "models", "train", "quality", "embed", "typefaces", "spaces", "web"},
}
FACADE = {"latentmap", "latentmap.__main__"}  # the package's public names and `python -m latentmap`


def module_name(path: Path, root: Path = SRC) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = SRC) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / "latentmap").rglob("*.py"))}


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every latentmap module that ``name`` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:  # `from pkg import module` imports the module
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {m for m in found if m in known and m != name}


def import_graph(root: Path = SRC) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imported(name, path, known) for name, path in known.items()}


def stage(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def wrong_way_imports(graph: dict[str, set[str]]) -> list[str]:
    problems = []
    for source, targets in sorted(graph.items()):
        if source in FACADE:
            continue
        here = stage(source)
        for target in sorted(targets):
            there = stage(target)
            if target in FACADE:
                problems.append(f"{source} imports {target}: stages must not import the package facade")
            elif here in UTILITIES and there not in UTILITIES:
                problems.append(f"{source} imports {target}: a utility may not import a stage")
            elif here not in UTILITIES and there not in (here, *UTILITIES) and there not in ALLOWED[here]:
                problems.append(f"{source} imports {target}: '{here}' may not import '{there}'")
    return problems


def import_cycles(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                cycles.append(f"{' -> '.join(cycle)} ({node} imports {target})")
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return cycles


def test_every_module_belongs_to_a_stage_or_the_utilities():
    for name in modules():
        if name not in FACADE:
            assert stage(name) in ALLOWED or stage(name) in UTILITIES, f"{name} is in no stage: move it into one"


def test_imports_point_down_the_pipeline():
    assert wrong_way_imports(import_graph()) == []


def test_no_import_cycles():
    assert import_cycles(import_graph()) == []


def test_no_module_over_400_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by what they do): {long}"


def test_every_stage_says_what_it_does():
    for name in ALLOWED:
        init = PACKAGE / name / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.splitlines()) >= 2, f"{init} needs a docstring: what the stage does, reads, produces"


def test_the_checks_catch_an_upward_import_and_a_cycle(tmp_path):
    pkg = tmp_path / "latentmap"
    (pkg / "data").mkdir(parents=True)
    (pkg / "train").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("")
    (pkg / "data" / "__init__.py").write_text("def f():\n    from ..train import loop\n")
    (pkg / "train" / "__init__.py").write_text("")
    (pkg / "train" / "loop.py").write_text("from ..data import x\nfrom .. import errors\n")
    graph = import_graph(tmp_path)
    assert graph["latentmap.data"] == {"latentmap.train.loop"}
    assert graph["latentmap.train.loop"] == {"latentmap.data", "latentmap.errors"}
    assert wrong_way_imports(graph) == ["latentmap.data imports latentmap.train.loop: 'data' may not import 'train'"]
    assert import_cycles(graph) == [
        "latentmap.data -> latentmap.train.loop -> latentmap.data (latentmap.train.loop imports latentmap.data)"
    ]


def test_the_test_table_lists_every_test_file_once_and_every_stage():
    """tests/README.md's module -> test table stays true to the tree."""
    import re

    tests = Path(__file__).resolve().parent
    table = (tests / "README.md").read_text().split("## Where each module is tested", 1)[1]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| ---")][1:]
    listed = [name for row in rows for name in re.findall(r"`([\w/]+\.py)`", row.split("|")[3])]
    present = sorted(p.relative_to(tests).as_posix() for p in tests.rglob("test_*.py"))
    assert sorted(listed) == present, "tests/README.md's table and the test files differ"
    stages = {row.split("|")[1].strip() for row in rows}
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("_")} <= stages


LONG_FUNCTIONS: set[tuple[str, str]] = set()  # none left: keep it so


def test_no_function_is_over_80_lines():
    """A function that long reads as several steps: it becomes them."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > 80:
                found.add((path.relative_to(PACKAGE).as_posix(), node.name))
    assert found <= LONG_FUNCTIONS, f"functions over 80 lines: {sorted(found - LONG_FUNCTIONS)}"


def test_the_package_names_are_plain_modules_and_functions():
    """No module swaps its class (a callable package hid an upward import): the explorer
    served from Python is a plain function, and the stage has a name of its own."""
    import inspect
    import types

    import latentmap

    for path in PACKAGE.rglob("*.py"):
        assert ".__class__ =" not in path.read_text(), f"{path} swaps a module's class"
    import latentmap.spaces

    assert inspect.isfunction(latentmap.explore) and type(latentmap.spaces) is types.ModuleType


def test_the_explorers_es_modules_keep_no_state_of_their_own():
    """Each startExplorer call holds its own state (two widget views share the modules and
    nothing else): no top-level `let` or `var` in the modules the explorer runs. The typeface
    mode and the clustering app are page scripts, one per document."""
    import re

    static = PACKAGE / "web" / "static" / "js"
    page_scripts = {"typefaces.js", "fonts.js", "explorer-page.js", "widget.js"}
    for path in sorted(static.glob("*.js")):
        if path.name not in page_scripts:
            found = re.findall(r"^(?:let|var)\s+\w+", path.read_text(), flags=re.M)
            assert not found, f"{path.name} keeps module-level state: {found}"
