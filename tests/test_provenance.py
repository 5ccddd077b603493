import re

from gatelib.provenance import git_commit, provenance_line


def test_commit_is_a_short_hash_or_explicit_unknown(monkeypatch):
    monkeypatch.delenv("GATE_COMMIT", raising=False)
    assert re.fullmatch(r"[0-9a-f]{10}(\+dirty)?|unknown", git_commit())


def test_explicit_commit_wins_over_a_stale_git_copy(monkeypatch):
    """The GPU job runs a copy of the tree whose .git may be older than the code it runs."""
    monkeypatch.setenv("GATE_COMMIT", "702d38eead")
    assert git_commit() == "702d38eead"


def test_no_git_means_unknown(monkeypatch):
    from gatelib import provenance

    def no_git(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.delenv("GATE_COMMIT", raising=False)
    monkeypatch.setattr(provenance.subprocess, "run", no_git)
    assert git_commit() == "unknown"


def test_provenance_line_format():
    line = provenance_line("offline", [0, 1, 2], "abcdef123456", commit="0123456789")
    assert line == "profile=offline seeds=0,1,2 commit=0123456789 data=sha256:abcdef123456"


def _notebook(path, *sources):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_every_rendered_and_smoke_notebook_is_current():
    """The book's chapters and the smoke notebooks ran from today's notebooks/, at a clean commit."""
    from gatelib.provenance import stale_notebooks

    assert stale_notebooks() == []


def test_a_changed_source_makes_its_executed_notebook_stale(tmp_path):
    import nbformat

    from gatelib.provenance import notebook_digest, stale_notebooks

    source = _notebook(tmp_path / "notebooks" / "01_data.ipynb", "x = 1", "print(x)")
    executed = _notebook(tmp_path / "book" / "offline" / "01_data.ipynb", "x = 1", "print(x)")
    # papermill's injected cell does not count
    nb = nbformat.read(executed, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell('profile = "offline"', metadata={"tags": ["injected-parameters", "remove-cell"]}))
    nb.metadata["gate"] = {"source": "notebooks/01_data.ipynb", "source_sha256": notebook_digest(nb),
                           "commit": "0123456789"}
    nbformat.write(nb, executed)
    assert stale_notebooks(tmp_path) == []

    _notebook(source, "x = 2", "print(x)")
    assert stale_notebooks(tmp_path) == [
        "book/offline/01_data.ipynb: notebooks/01_data.ipynb changed since it was executed (at 0123456789); re-execute it"]

    _notebook(source, "x = 1", "print(x)")
    nb.cells[0].source = "x = 3"  # edited by hand after execution
    nbformat.write(nb, executed)
    assert "differ from the source" in stale_notebooks(tmp_path)[0]

    nb.cells[0].source = "x = 1"
    nb.metadata["gate"]["commit"] = "0123456789+dirty"
    nbformat.write(nb, executed)
    assert "not a commit" in stale_notebooks(tmp_path)[0]

    del nb.metadata["gate"]
    nbformat.write(nb, executed)
    assert "no 'gate' provenance stamp" in stale_notebooks(tmp_path)[0]


def test_stamp_records_the_source_digest_and_commit(tmp_path):
    import nbformat

    from gatelib.provenance import notebook_digest, stamp_notebook

    source = _notebook(tmp_path / "src.ipynb", "a = 1")
    executed = _notebook(tmp_path / "out.ipynb", "a = 1")
    stamp = stamp_notebook(executed, source, commit="abcdef0123")
    assert stamp["commit"] == "abcdef0123"
    assert nbformat.read(executed, as_version=4).metadata["gate"]["source_sha256"] == notebook_digest(
        nbformat.read(source, as_version=4))


def test_tags_are_copied_without_re_execution_and_drift_is_reported(tmp_path):
    import nbformat
    import pytest

    from gatelib.provenance import notebook_digest, stale_notebooks, sync_tags

    source = _notebook(tmp_path / "notebooks" / "01_data.ipynb", "x = 1", "print(x)")
    executed = _notebook(tmp_path / "book" / "offline" / "01_data.ipynb", "x = 1", "print(x)")
    nb = nbformat.read(executed, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell('profile = "s"', metadata={"tags": ["injected-parameters"]}))
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.metadata["gate"] = {"source": "notebooks/01_data.ipynb", "source_sha256": notebook_digest(nb), "commit": "0123456789"}
    nbformat.write(nb, executed)
    src = nbformat.read(source, as_version=4)
    src.cells[1].metadata["tags"] = ["hide-input"]
    nbformat.write(src, source)
    assert "cell tags differ" in stale_notebooks(tmp_path)[0]
    assert sync_tags(executed, source) and not sync_tags(executed, source)
    synced = nbformat.read(executed, as_version=4)
    assert [c.metadata.get("tags") for c in synced.cells] == [None, ["injected-parameters", "remove-cell"], ["hide-input"]]
    assert synced.cells[2].outputs[0].text == "1\n"  # outputs untouched
    assert stale_notebooks(tmp_path) == []
    src.cells[0].source = "x = 2"
    nbformat.write(src, source)
    with pytest.raises(ValueError, match="re-execute"):
        sync_tags(executed, source)


def _stamp(executed, source):
    """Stamp ``executed`` as the pipeline does, with the stamp's source path relative to the test's root."""
    import nbformat

    from gatelib.provenance import stamp_notebook

    stamp_notebook(executed, source, commit="0123456789")
    nb = nbformat.read(executed, as_version=4)
    nb.metadata["gate"]["source"] = f"notebooks/{source.name}"
    nbformat.write(nb, executed)


def test_a_chapter_title_is_set_without_changing_the_digest(tmp_path):
    import nbformat

    from gatelib.provenance import notebook_digest, set_title, stale_notebooks

    source = _notebook(tmp_path / "notebooks" / "01_data.ipynb", "x = 1")
    src = nbformat.read(source, as_version=4)
    src.cells.insert(0, nbformat.v4.new_markdown_cell("# 1. Data: what runs offline\n\nText."))
    nbformat.write(src, source)
    executed = tmp_path / "book" / "offline" / "01_data.ipynb"
    executed.parent.mkdir(parents=True)
    nbformat.write(src, executed)
    _stamp(executed, source)
    assert set_title(executed, "the main job") and not set_title(executed, "the main job")
    titled = nbformat.read(executed, as_version=4)
    assert titled.cells[0].source == "# Data: what runs offline — the main job\n\nText."
    assert notebook_digest(titled) == notebook_digest(src)
    assert stale_notebooks(tmp_path) == []
    assert set_title(executed, "another name")  # retitled from the source's heading, not stacked
    assert nbformat.read(executed, as_version=4).cells[0].source.startswith("# Data: what runs offline — another name\n")
    _stamp(executed, source)  # re-stamping keeps the replaced heading
    assert notebook_digest(nbformat.read(executed, as_version=4)) == notebook_digest(src)
    titled = nbformat.read(executed, as_version=4)
    titled.cells[0].source = titled.cells[0].source.replace("Text.", "Edited.")
    nbformat.write(titled, executed)
    assert "cells differ" in stale_notebooks(tmp_path)[0]  # the rest of the cell still counts


def test_labels_carry_the_profile_without_changing_the_digest(tmp_path):
    import nbformat

    from gatelib.provenance import notebook_digest, set_labels, stale_notebooks

    source = _notebook(tmp_path / "notebooks" / "04_benchmarks.ipynb", "x = 1")
    src = nbformat.read(source, as_version=4)
    figure = "```{glue:figure} fig-forest\n:name: fig-forest\n\nCaption.\n```"
    src.cells += [nbformat.v4.new_markdown_cell(figure), nbformat.v4.new_markdown_cell("No label.")]
    nbformat.write(src, source)
    executed = tmp_path / "book" / "probes" / "04_benchmarks.ipynb"
    executed.parent.mkdir(parents=True)
    nbformat.write(src, executed)
    assert not set_labels(executed)  # no profile ran it: nothing to name
    src.metadata["papermill"] = {"parameters": {"profile": "probes/guided"}}
    nbformat.write(src, executed)
    _stamp(executed, source)
    assert set_labels(executed) and not set_labels(executed)  # once: never stacked
    labelled = nbformat.read(executed, as_version=4)
    assert labelled.cells[-2].source == figure.replace(":name: fig-forest", ":name: fig-forest-probes-guided")
    assert labelled.cells[-1].source == "No label."
    assert notebook_digest(labelled) == notebook_digest(nbformat.read(source, as_version=4))
    assert stale_notebooks(tmp_path) == []
    _stamp(executed, source)  # re-stamping keeps the suffix
    assert stale_notebooks(tmp_path) == []
    labelled.cells[-2].source = labelled.cells[-2].source.replace("Caption.", "Edited.")
    nbformat.write(labelled, executed)
    assert "cells differ" in stale_notebooks(tmp_path)[0]  # the rest of the cell still counts


def test_every_book_chapter_has_its_own_title():
    import nbformat

    from gatelib.profiles import PROJECT_ROOT

    titles = {}
    for path in sorted(PROJECT_ROOT.glob("book/**/*.ipynb")) + sorted(PROJECT_ROOT.glob("book/**/*.md")):
        text = (nbformat.read(path, as_version=4).cells[0].source if path.suffix == ".ipynb"
                else path.read_text(encoding="utf-8"))
        heading = next(line for line in text.splitlines() if line.startswith("# "))
        titles.setdefault(heading, []).append(str(path.relative_to(PROJECT_ROOT)))
    assert {t: p for t, p in titles.items() if len(p) > 1} == {}


def test_a_section_the_profile_has_nothing_for_is_kept_off_the_page(tmp_path):
    import nbformat

    from gatelib.provenance import notebook_digest, page_tags, stale_notebooks, sync_tags

    source = _notebook(tmp_path / "notebooks" / "04_benchmarks.ipynb", "x = 1", "print('probes')", "print('ok')")
    src = nbformat.read(source, as_version=4)
    src.cells[1].metadata["tags"] = ["hide-input", "only-if:probes"]
    nbformat.write(src, source)
    assert page_tags(src, "offline")[1] == ["hide-input", "only-if:probes", "remove-cell"]  # offline has no probes
    assert page_tags(src, "ideas")[1] == ["hide-input", "only-if:probes"]
    assert page_tags(src, None)[1] == ["hide-input", "only-if:probes"]  # not run by papermill: all shown
    executed = tmp_path / "book" / "offline" / "04_benchmarks.ipynb"
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    nb.metadata["papermill"] = {"parameters": {"profile": "offline"}}
    nb.metadata["gate"] = {"source": "notebooks/04_benchmarks.ipynb", "source_sha256": notebook_digest(nb), "commit": "0123456789"}
    executed.parent.mkdir(parents=True)
    nbformat.write(nb, executed)
    assert "cell tags differ" in stale_notebooks(tmp_path)[0]
    assert sync_tags(executed, source) and not sync_tags(executed, source)
    assert "remove-cell" in nbformat.read(executed, as_version=4).cells[1].metadata["tags"]
    assert stale_notebooks(tmp_path) == []
