"""Provenance tags carried by every results row, figure and executed notebook.

Rows and figures carry profile, seed, commit and data checksum. An executed notebook carries,
in its metadata under ``gate``, the digest of the source notebook it ran from and the commit:
``python -m gatelib.provenance`` (and the test suite) refuse a rendered chapter whose source
in ``notebooks/`` has changed since it was executed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from gatelib.profiles import PROJECT_ROOT, available_profiles, load_profile

#: Notebook metadata key of the provenance stamp.
NOTEBOOK_KEY = "gate"
#: Where the executed notebooks live: the book's chapters and the smoke notebooks nbval runs.
EXECUTED_NOTEBOOKS = ("book/*/*.ipynb", "tests/notebooks/*.ipynb")
#: Stamp key of the source heading a chapter title replaced (:func:`set_title`).
TITLE_KEY = "source_title"
#: Stamp key of the suffix :func:`set_labels` gave the chapter's labels (its profile).
LABELS_KEY = "label_suffix"
#: A label line of a MyST directive (``:name: fig-forest-sts17``).
_LABEL = re.compile(r"^(:name:[ \t]+)(\S+)[ \t]*$", re.M)
#: A cell tagged ``only-if:<section>`` belongs to a section some profiles have nothing for.
ONLY_IF = "only-if:"
#: Folders whose uncommitted changes make a result ``+dirty``.
TRACKED_SOURCES = ("gatelib", "params", "data", "notebooks")


def git_commit() -> str:
    """Short commit of the project (``+dirty`` if the tree has uncommitted changes).

    ``$GATE_COMMIT``, when set, wins: a copy of the tree run elsewhere (the GPU job) may carry a
    stale ``.git``. Without git the answer is ``unknown``.
    """
    if os.environ.get("GATE_COMMIT"):
        return os.environ["GATE_COMMIT"]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=10", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
            text=True, check=True, timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", *TRACKED_SOURCES],
            cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance_line(profile: str, seeds, data_checksum: str, commit: str | None = None) -> str:
    """One line for captions: ``profile=… seeds=… commit=… data=sha256:…``."""
    seeds = ",".join(str(s) for s in seeds) if not isinstance(seeds, (int, str)) else seeds
    return f"profile={profile} seeds={seeds} commit={commit or git_commit()} data=sha256:{data_checksum}"


def notebook_digest(nb: nbformat.NotebookNode) -> str:
    """sha256 of a notebook's cells (type and source), without papermill's injected parameters.

    Outputs, execution counts and metadata are left out, so a source notebook and the notebook
    papermill executed from it have the same digest exactly when their cells are the same. A
    chapter title set by :func:`set_title` counts as the source's title it replaced, and a label
    :func:`set_labels` renamed as the source's label.
    """
    cells = [[cell.cell_type, cell.source] for cell in _own_cells(nb)]
    suffix = nb.metadata.get(NOTEBOOK_KEY, {}).get(LABELS_KEY)
    if suffix:
        cells = [[kind, _LABEL.sub(lambda m: m[1] + m[2].removesuffix(f"-{suffix}"), text) if kind == "markdown" else text]
                 for kind, text in cells]
    replaced = nb.metadata.get(NOTEBOOK_KEY, {}).get(TITLE_KEY)
    if replaced is not None and cells:
        cells[0][1] = replaced + cells[0][1][len(cells[0][1].split("\n", 1)[0]):]
    return hashlib.sha256(json.dumps([tuple(c) for c in cells], ensure_ascii=False).encode()).hexdigest()


def set_title(executed: Path, title: str) -> bool:
    """Give the executed chapter ``executed`` its own title: the source's heading without its
    number, a dash and ``title`` (the profile's, e.g. «Benchmarks: our numbers beside the paper's
    — three seeds»), so that every chapter of the book is named once. The source's heading is kept
    in the stamp (:data:`TITLE_KEY`), so the digest is unchanged and no re-execution is needed.
    True if the heading changed."""
    nb = nbformat.read(executed, as_version=4)
    first = _own_cells(nb)[0]
    heading, _, rest = first.source.partition("\n")
    original = nb.metadata.get(NOTEBOOK_KEY, {}).get(TITLE_KEY, heading)
    if not original.startswith("# "):
        raise ValueError(f"{project_relative(executed)}: its first cell does not open with a '# ' title")
    topic = re.sub(r"^# (\d+\.\s*)?", "", original)
    new = f"# {topic} — {title}" if title else original
    if new == heading:
        return False
    first.source = new + ("\n" + rest if rest or first.source.endswith("\n") else "")
    nb.metadata.setdefault(NOTEBOOK_KEY, {})[TITLE_KEY] = original
    nbformat.write(nb, executed)
    return True


def label_suffix(profile: str) -> str:
    """What a chapter executed under ``profile`` appends to each of its labels: the profile, with
    ``/`` as ``-`` (``fig-forest-sts17`` of the large profile is ``fig-forest-sts17-large``)."""
    return profile.replace("/", "-")


def set_labels(executed: Path) -> bool:
    """Give each label (``:name:``) of the executed chapter ``executed`` its profile's suffix
    (:func:`label_suffix`): a notebook is rendered once per profile, and a label must be defined
    once in the book, so that ``{numref}`` can point at one profile's figure or table. The suffix
    is kept in the stamp (:data:`LABELS_KEY`), so the digest is unchanged and no re-execution is
    needed. True if a label changed; a notebook without a profile is left as it is."""
    nb = nbformat.read(executed, as_version=4)
    profile = executed_profile(nb)
    if profile is None or nb.metadata.get(NOTEBOOK_KEY, {}).get(LABELS_KEY):
        return False
    suffix, changed = label_suffix(profile), False
    for cell in _own_cells(nb):
        if cell.cell_type == "markdown" and _LABEL.search(cell.source):
            cell.source = _LABEL.sub(lambda m: f"{m[1]}{m[2]}-{suffix}", cell.source)
            changed = True
    if changed:
        nb.metadata.setdefault(NOTEBOOK_KEY, {})[LABELS_KEY] = suffix
        nbformat.write(nb, executed)
    return changed


def _own_cells(nb: nbformat.NotebookNode) -> list:
    """The notebook's cells without papermill's injected parameters."""
    return [cell for cell in nb.cells if "injected-parameters" not in cell.metadata.get("tags", [])]


def _tags(nb: nbformat.NotebookNode) -> list[list[str]]:
    return [list(cell.metadata.get("tags", [])) for cell in _own_cells(nb)]


def _injected_on_page(nb: nbformat.NotebookNode) -> list:
    """Papermill's injected-parameters cells not yet kept off the book's page."""
    return [cell for cell in nb.cells if "injected-parameters" in cell.metadata.get("tags", [])
            and "remove-cell" not in cell.metadata["tags"]]


def sync_tags(executed: Path, source: Path) -> bool:
    """Copy the cell tags of ``source`` (how the book shows each cell: ``hide-input``,
    ``remove-cell``…) into ``executed``, cell for cell, and keep papermill's injected-parameters
    cell off the page (``remove-cell``; nbval and Colab still run it, and the provenance line says
    which profile ran); True if anything changed. A cell tagged ``only-if:<section>`` is kept off
    the page too where the profile that ran has nothing for that section (``Profile.shows``: no
    empty tables). Tags are not part of the digest, so a presentation change needs no
    re-execution; different cells refuse."""
    nb, src = nbformat.read(executed, as_version=4), nbformat.read(source, as_version=4)
    if notebook_digest(nb) != notebook_digest(src):
        raise ValueError(f"{project_relative(executed)}: its cells differ from {project_relative(source)}; re-execute it")
    injected = _injected_on_page(nb)
    wanted = page_tags(src, executed_profile(nb))
    if _tags(nb) == wanted and not injected:
        return False
    for cell in injected:
        cell.metadata["tags"] = [*cell.metadata["tags"], "remove-cell"]
    for cell, tags in zip(_own_cells(nb), wanted):
        cell.metadata["tags"] = tags
        if not tags:
            del cell.metadata["tags"]
    nbformat.write(nb, executed)
    return True


def executed_profile(nb: nbformat.NotebookNode) -> str | None:
    """The profile papermill ran ``nb`` under (its injected parameter), or None."""
    return nb.metadata.get("papermill", {}).get("parameters", {}).get("profile")


def page_tags(source: nbformat.NotebookNode, profile: str | None) -> list[list[str]]:
    """The tags of ``source``'s cells as an executed copy under ``profile`` carries them: the
    source's own, plus ``remove-cell`` on each ``only-if:<section>`` cell the profile does not show."""
    cfg = load_profile(profile) if profile in available_profiles() else None
    tags = _tags(source)
    for cell_tags in tags:
        hidden = [t for t in cell_tags if t.startswith(ONLY_IF) and cfg is not None and not cfg.shows(t[len(ONLY_IF):])]
        if hidden and "remove-cell" not in cell_tags:
            cell_tags.append("remove-cell")
    return tags


def stamp_notebook(executed: Path, source: Path, commit: str | None = None) -> dict:
    """Record in ``executed`` the digest of ``source`` and the commit it ran from; returns the stamp."""
    nb = nbformat.read(executed, as_version=4)
    stamp = {
        "source": project_relative(source),
        "source_sha256": notebook_digest(nbformat.read(source, as_version=4)),
        "commit": commit or git_commit(),
    }
    for key in (TITLE_KEY, LABELS_KEY):
        if key in nb.metadata.get(NOTEBOOK_KEY, {}):
            stamp[key] = nb.metadata[NOTEBOOK_KEY][key]
    nb.metadata[NOTEBOOK_KEY] = stamp
    nbformat.write(nb, executed)
    return stamp


def stale_notebooks(root: Path = PROJECT_ROOT, patterns=EXECUTED_NOTEBOOKS, committed: bool = True) -> list[str]:
    """One line per executed notebook that is unstamped, stale or edited by hand.

    An executed notebook is current when its stamp's source digest equals both today's
    ``notebooks/<name>`` and the executed notebook's own cells; with ``committed`` (what the
    published notebooks must meet) it must also have run from a commit, not a ``+dirty`` tree.
    """
    problems = []
    for path in sorted(p for pattern in patterns for p in Path(root).glob(pattern)):
        name = path.relative_to(root)
        nb = nbformat.read(path, as_version=4)
        stamp = nb.metadata.get(NOTEBOOK_KEY)
        if not stamp:
            problems.append(f"{name}: no '{NOTEBOOK_KEY}' provenance stamp; re-execute it with gatelib.pipeline")
            continue
        source = Path(root) / stamp["source"]
        if not source.is_file():
            problems.append(f"{name}: its source {stamp['source']} does not exist")
            continue
        if notebook_digest(nbformat.read(source, as_version=4)) != stamp["source_sha256"]:
            problems.append(f"{name}: {stamp['source']} changed since it was executed "
                            f"(at {stamp['commit']}); re-execute it")
        elif notebook_digest(nb) != stamp["source_sha256"]:
            problems.append(f"{name}: its cells differ from the source it was executed from")
        elif _tags(nb) != page_tags(nbformat.read(source, as_version=4), executed_profile(nb)) or _injected_on_page(nb):
            problems.append(f"{name}: its cell tags differ from {stamp['source']}'s; "
                            "copy them with python -m gatelib.provenance --sync-tags")
        elif committed and not _is_commit(stamp.get("commit", "")):
            problems.append(f"{name}: ran from {stamp.get('commit')!r}, not a commit; "
                            "commit the source and re-execute it")
    return problems


def _is_commit(commit: str) -> bool:
    return len(commit) >= 7 and all(c in "0123456789abcdef" for c in commit)


def project_relative(path: Path) -> str:
    """``path`` relative to the project, or its bare name outside it: no machine's paths in
    published files."""
    path = Path(path).resolve()
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else path.name


def main(argv=None) -> int:
    """``python -m gatelib.provenance``: exit 1, naming them, if any executed notebook is stale."""
    parser = argparse.ArgumentParser(description="Check that every executed notebook is current.")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT)
    parser.add_argument("--committed", action="store_true",
                        help="also require that each ran from a commit, not from uncommitted changes")
    parser.add_argument("--sync-tags", action="store_true",
                        help="first copy each source notebook's cell tags into its executed copies, and "
                             "give each chapter of book/<profile>/ its profile's title and labels")
    args = parser.parse_args(argv)
    if args.sync_tags:
        for path in sorted(p for pattern in EXECUTED_NOTEBOOKS for p in Path(args.root).glob(pattern)):
            stamp = nbformat.read(path, as_version=4).metadata.get(NOTEBOOK_KEY)
            source = Path(args.root) / stamp["source"] if stamp else None
            try:
                if source and source.is_file() and sync_tags(path, source):
                    print(f"tags copied: {path.relative_to(args.root)}")
            except ValueError:  # other cells: stale, named by the check below
                pass
            profile = path.parent.name
            if stamp and path.parent.parent.name == "book" and profile in available_profiles():
                if set_title(path, load_profile(profile).title):
                    print(f"title set: {path.relative_to(args.root)}")
            if stamp and set_labels(path):
                print(f"labels set: {path.relative_to(args.root)}")
    problems = stale_notebooks(args.root, committed=args.committed)
    for line in problems:
        print(f"stale: {line}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
