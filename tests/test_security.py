"""Security rules of the project: safetensors/CSV/JSON only, no remote code, tokens from env."""

import ast
import json
import re

from gatelib.profiles import PROJECT_ROOT

LIBRARY = sorted((PROJECT_ROOT / "gatelib").glob("*.py"))
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def _sources():
    for path in LIBRARY:
        yield path.name, path.read_text()
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        yield path.name, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            found += [f"import {n}" for n in names if n in ("pickle", "dill", "cloudpickle", "joblib")]
        if isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            if func.endswith(("pickle.load", "pickle.loads", "torch.load", "read_pickle", "joblib.load")):
                found.append(func)
            for kw in node.keywords:
                if kw.arg == "trust_remote_code" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    found.append("trust_remote_code not False")
                if kw.arg == "safe_serialization" and isinstance(kw.value, ast.Constant) and kw.value.value is False:
                    found.append("safe_serialization=False")
    return found


def test_no_pickle_loading_or_remote_code():
    assert {name: v for name, src in _sources() if (v := _violations(src))} == {}


def test_the_check_catches_violations():
    bad = "import pickle\nx = pickle.load(f)\nm = AutoModel.from_pretrained(n, trust_remote_code=True)\n"
    assert _violations(bad) == ["import pickle", "pickle.load", "trust_remote_code not False"]


def test_no_hard_coded_tokens():
    token = re.compile(r"hf_[A-Za-z0-9]{30,}")
    assert [name for name, src in _sources() if token.search(src)] == []
