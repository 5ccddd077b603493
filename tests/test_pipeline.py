import pytest

from gatelib.pipeline import NOTEBOOK_DIR, NOTEBOOKS, PART_PARAMETERS, check_parameters, main, run_notebooks
from gatelib.profiles import ProfileError


def test_every_notebook_declares_the_profile_and_only_training_chooses_runs():
    import papermill

    declared = {name: list(papermill.inspect_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"))) for name in NOTEBOOKS}
    assert declared.pop("02_training") == ["profile", *PART_PARAMETERS]
    assert set(map(tuple, declared.values())) == {("profile",)}


def test_part_of_a_profile_is_checked_before_running(tmp_path):
    with pytest.raises(ProfileError, match="add 02_training"):
        run_notebooks("smoke", tmp_path, ["01_data", "04_benchmarks"], {"configs": ["mrl"]})
    with pytest.raises(ProfileError, match=r"configs \['mrl-typo'\] must be a non-empty part"):
        run_notebooks("smoke", tmp_path, ["01_data", "02_training"], {"configs": ["mrl-typo"]})
    assert main(["--profile", "smoke", "--out", str(tmp_path), "--seeds", "5"]) == 2
    assert list(tmp_path.iterdir()) == []


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


def test_every_source_cell_says_how_the_book_shows_it():
    """Plumbing is folded away on the page: each code cell is hidden (``hide-input``) or removed
    (the parameters), never shown by default."""
    import nbformat

    from gatelib.pipeline import NOTEBOOK_DIR

    shown = [(p.name, i) for p in sorted(NOTEBOOK_DIR.glob("*.ipynb"))
             for i, c in enumerate(nbformat.read(p, as_version=4).cells)
             if c.cell_type == "code" and not {"hide-input", "remove-cell", "remove-input"} & set(c.metadata.get("tags", []))]
    assert shown == []
