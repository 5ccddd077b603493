import pytest

from gatelib.pipeline import NOTEBOOK_DIR, NOTEBOOKS, check_parameters, main, run_notebooks
from gatelib.profiles import ProfileError


def test_every_notebook_declares_only_profile():
    import papermill

    for name in NOTEBOOKS:
        assert list(papermill.inspect_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"))) == ["profile"]


def test_unknown_parameter_stops_before_running(tmp_path):
    with pytest.raises(ProfileError, match=r"unknown parameter\(s\) \['seeds'\]"):
        check_parameters(NOTEBOOK_DIR / "01_data.ipynb", {"profile": "smoke", "seeds": "3"})
    with pytest.raises(ProfileError, match="unknown parameter"):
        run_notebooks("smoke", tmp_path, parameters={"lr": 1})
    assert list(tmp_path.iterdir()) == []


def test_unknown_profile_exit_code(capsys, tmp_path):
    assert main(["--profile", "nope", "--out", str(tmp_path)]) == 2
    assert "Available profiles" in capsys.readouterr().err


def test_published_notebooks_leak_no_local_paths():
    import re

    from gatelib.profiles import PROJECT_ROOT

    leak = re.compile(r"/(work|root|home|tmp|Users)/[A-Za-z]")
    published = [*PROJECT_ROOT.glob("tests/notebooks/*.ipynb"), *PROJECT_ROOT.glob("book/*/*.ipynb")]
    assert published, "no executed notebooks found"
    offenders = [str(p.relative_to(PROJECT_ROOT)) for p in published if leak.search(p.read_text())]
    assert offenders == []
