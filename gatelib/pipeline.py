"""Run the study's notebooks with papermill under one profile (the README's main job).

``python -m gatelib.pipeline --profile offline --out book/offline`` executes
``notebooks/01_data … 04_benchmarks`` in order, each with the papermill parameter
``profile``. Unlike bare papermill, which only warns, an unknown profile or an unknown
parameter name stops the run before any notebook starts. ``--configs`` / ``--seeds`` train part
of a profile (``notebooks/02_training``'s parameters; the other notebooks read all its scores):

    python -m gatelib.pipeline --profile grid --only 02_training --configs mrl-mined --seeds 2 --out out

Each executed notebook is saved after every cell, so a run stopped by a time limit leaves what
it did so far.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
from traitlets.config import Config

from gatelib.profiles import PROJECT_ROOT, ProfileError, load_profile
from gatelib.provenance import git_commit, project_relative, set_labels, set_title, stamp_notebook, sync_tags

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
NOTEBOOKS = ("01_data", "02_training", "03_truncation", "04_benchmarks", "05_error_analysis")
#: Parameters given only to the notebooks whose parameters cell declares them.
PART_PARAMETERS = ("configs", "seeds")

logger = logging.getLogger(__name__)


def check_parameters(notebook: Path, parameters: dict) -> None:
    """Raise ProfileError if ``parameters`` names a variable the notebook's parameters cell lacks."""
    declared = set(papermill.inspect_notebook(str(notebook)))
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise ProfileError(
            f"{notebook.name}: unknown parameter(s) {unknown}; its parameters cell declares "
            f"{sorted(declared)}. Put other settings in params/<profile>.yaml."
        )


def run_notebooks(profile: str, out_dir: Path, notebooks=NOTEBOOKS, parameters: dict | None = None) -> list[Path]:
    """Execute ``notebooks`` in order under ``profile``; returns the executed notebook paths."""
    cfg = load_profile(profile)  # unknown profile or bad YAML: fail before anything runs
    parameters = {"profile": profile, **{k: v for k, v in (parameters or {}).items() if v is not None}}
    sources = [NOTEBOOK_DIR / f"{name}.ipynb" for name in notebooks]
    given = {}
    for source in sources:
        if not source.is_file():
            raise FileNotFoundError(f"No notebook {source.relative_to(PROJECT_ROOT)}; choose from {list(NOTEBOOKS)}.")
        declared = papermill.inspect_notebook(str(source))
        given[source] = {k: v for k, v in parameters.items() if k not in PART_PARAMETERS or k in declared}
        check_parameters(source, given[source])
    part = {k: parameters[k] for k in PART_PARAMETERS if parameters.get(k) is not None}
    if part:
        if not any(set(part) <= set(p) for p in given.values()):
            raise ProfileError(f"{sorted(part)} choose runs to train: add 02_training to the notebooks.")
        cfg.runs(part.get("configs"), part.get("seeds"))  # a bad part fails here
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    executed = []
    commit = git_commit()  # every notebook of one run is stamped with the commit it started from
    for source in sources:
        target = out_dir / source.name
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="gatelib-kernel-") as sockets:
            papermill.execute_notebook(
                str(source), str(target), parameters=given[source], kernel_name="python3",
                cwd=str(NOTEBOOK_DIR), progress_bar=False, request_save_on_cell_execute=True,
                config=_local_socket_kernel(sockets),
            )
        _relative_paths_in_metadata(target)
        sync_tags(target, source)  # the injected parameters off the page
        stamp_notebook(target, source, commit)
        set_title(target, cfg.title)
        set_labels(target)
        logger.info("%s done in %.0f s", source.name, time.perf_counter() - start)
        executed.append(target)
    return executed


def _local_socket_kernel(folder: str) -> Config:
    """Kernel settings: talk over Unix sockets in ``folder`` (IPC), not unencrypted TCP ports.

    With jupyter_client's default TCP transport every kernel warns that its traffic is plain
    text on localhost ports; IPC sockets are files only this user can open.
    """
    return Config({"KernelManager": {"transport": "ipc", "ip": str(Path(folder) / "kernel")}})


def _relative_paths_in_metadata(notebook: Path) -> None:
    """Papermill records absolute input/output paths: keep published notebooks machine-neutral."""
    nb = nbformat.read(notebook, as_version=4)
    meta = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if meta.get(key):
            meta[key] = project_relative(meta[key])
    nbformat.write(nb, notebook)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, help="a file name in params/ without .yaml")
    parser.add_argument("--out", required=True, type=Path, help="folder for the executed notebooks")
    parser.add_argument("--only", nargs="*", default=list(NOTEBOOKS), help="subset of notebooks")
    parser.add_argument("--configs", nargs="+", help="train only these of the profile's configs")
    parser.add_argument("--seeds", nargs="+", type=int, help="train only these of the profile's seeds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        run_notebooks(args.profile, args.out, args.only, {"configs": args.configs, "seeds": args.seeds})
    except ProfileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
