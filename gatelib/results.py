"""The results store: the tidy CSV tables under ``results/<profile>/`` and their provenance.

Every number the book shows is a row of one of these tables, written here and read back here:
``scores.csv`` (one row per profile × config × seed × task × dim), ``predictions.csv.gz`` (the
per-pair cosines behind each score, which the bootstrap intervals and the error analysis read),
and the chapters' other tables through :func:`atomic_write_csv`. A write goes to a temporary
file and is renamed into place, so an interrupted run never leaves half a table; an upsert
replaces the rows of the same key, so a rerun never appends duplicates.

Each score row carries its provenance: the commit and data checksum it ran from, the hardware
(:func:`hardware`), and the arithmetic the model was trained in (``precision``: ``bf16`` or
``fp32`` as the run recorded it, ``untrained`` for a published model, ``unrecorded`` for rows
written before the column existed).

This module imports nothing from gatelib (a leaf).
"""

from __future__ import annotations

import gzip
import os
import platform
import tempfile
from pathlib import Path

import pandas as pd
import torch

__all__ = ["SCORE_KEY", "SCORE_COLUMNS", "PREDICTION_KEY", "PREDICTION_COLUMNS", "TEXT_COLUMNS",
           "UNTRAINED_PRECISION", "UNRECORDED", "mark_trained_precision", "trained_precision", "hardware",
           "atomic_write_csv", "read_results_csv", "record_scores", "record_predictions", "read_scores",
           "read_predictions", "DataVersionError"]

SCORE_KEY = ["profile", "config", "seed", "task", "dim", "model"]
SCORE_COLUMNS = [*SCORE_KEY[:5], "spearman_cosine", "pearson_cosine", "n_pairs", "n_truncated",
                 "model", "commit", "data_checksum", "max_seq_length", "hardware", "precision"]
PREDICTION_KEY = ["profile", "config", "seed", "task", "dim", "pair"]
PREDICTION_COLUMNS = [*PREDICTION_KEY, "gold", "cosine"]
#: ``precision`` of a model this study did not train (the base model, a published checkpoint).
UNTRAINED_PRECISION = "untrained"
#: ``precision`` of a row written before the column existed.
UNRECORDED = "unrecorded"
#: The attribute ``gatelib.training`` sets on a model it trained, or loaded from a finished run:
#: the arithmetic that run trained in, as its log history recorded it.
_PRECISION_ATTRIBUTE = "gate_trained_precision"


def mark_trained_precision(model, precision: str) -> None:
    """Record on ``model`` the arithmetic it was trained in (``bf16``, ``fp32``, or
    :data:`UNRECORDED` for a run that did not log it), for its score rows."""
    setattr(model, _PRECISION_ATTRIBUTE, precision)


def trained_precision(model) -> str:
    """What :func:`mark_trained_precision` recorded on ``model``; :data:`UNTRAINED_PRECISION` if nothing."""
    return getattr(model, _PRECISION_ATTRIBUTE, UNTRAINED_PRECISION)


def hardware() -> str:
    """The device that produced a number, e.g. ``cuda:NVIDIA H200`` or
    ``cpu:x86_64 2 cores AMD EPYC AVX512``: on a CPU the processor's name and the vector
    instruction set PyTorch's kernels use, since trained weights differ in the last bits
    between kernel paths (see the README's reproducibility section)."""
    if torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(0)}"
    return f"cpu:{platform.machine()} {os.cpu_count()} cores {_cpu_name()} {torch.backends.cpu.get_cpu_capability()}"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def atomic_write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write a CSV to a temp file in the same folder, then rename: never a half-written file.

    A ``.gz`` path is gzip-compressed with no name and time 0 in the header: equal tables, equal bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if path.suffix == ".gz":  # no file name, time 0 in the header
            with os.fdopen(fd, "wb") as handle:
                handle.write(gzip.compress(table.to_csv(index=False).encode("utf-8"), mtime=0))
                handle.flush()
                os.fsync(handle.fileno())
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                table.to_csv(handle, index=False)
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: Columns that are text even when they look like numbers: a commit such as ``4540097e89``
#: would otherwise be read back as the float 4.540097e+95.
TEXT_COLUMNS = {name: str for name in ("profile", "config", "task", "model", "commit", "data_checksum",
                                       "hardware", "similarity", "precision")}


def read_results_csv(path: Path) -> pd.DataFrame:
    """Read a results CSV with its text columns as text (:data:`TEXT_COLUMNS`)."""
    return pd.read_csv(path, dtype=TEXT_COLUMNS)


def record_scores(new: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Upsert ``new`` rows into the CSV at ``path`` (same key → replaced) and return the table.
    Old rows without a ``precision`` get :data:`UNRECORDED`."""
    old = read_results_csv(path) if path.is_file() else pd.DataFrame(columns=SCORE_COLUMNS)
    if "precision" not in old.columns:
        old = old.assign(precision=UNRECORDED)
    merged = pd.concat([old.astype(new.dtypes.to_dict(), errors="ignore"), new], ignore_index=True)
    merged = merged.drop_duplicates(SCORE_KEY, keep="last")
    merged = merged.sort_values(SCORE_KEY, kind="stable").reset_index(drop=True)
    atomic_write_csv(merged[SCORE_COLUMNS], path)
    return merged


def record_predictions(new: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Upsert per-pair cosines (one run × task × dim replaces its old rows) into ``path``."""
    new = new[PREDICTION_COLUMNS]  # full precision: rounding would create or break rank ties
    if Path(path).is_file():
        old = read_results_csv(path)
        runs = new[PREDICTION_KEY[:5]].drop_duplicates()
        stale = old.merge(runs.astype(old[PREDICTION_KEY[:5]].dtypes.to_dict()), how="left",
                          on=PREDICTION_KEY[:5], indicator=True)["_merge"] == "both"
        new = pd.concat([old[~stale.to_numpy()], new], ignore_index=True)
    merged = new.sort_values(PREDICTION_KEY, kind="stable").reset_index(drop=True)
    atomic_write_csv(merged, Path(path))
    return merged


def read_predictions(results_dir: Path) -> pd.DataFrame:
    """Per-pair cosines of one profile (``predictions.csv.gz``)."""
    path = Path(results_dir) / "predictions.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run notebooks/02_training.ipynb for this profile first.")
    return read_results_csv(path)


class DataVersionError(ValueError):
    """A profile's scores come from more than one version of its data (``data_checksum``)."""


def _check_one_data_version(scores: pd.DataFrame, where: str) -> pd.DataFrame:
    """``scores`` unchanged if each profile's rows share one data checksum; else a
    :class:`DataVersionError` naming the runs of each version, so that no table mixes models
    trained on different data (a profile whose data changed is retrained as a whole)."""
    for profile, rows in scores.groupby("profile", sort=False):
        versions = rows.drop_duplicates(["config", "seed"]).groupby("data_checksum", sort=False)
        if versions.ngroups > 1:
            runs = "; ".join(f"{checksum}: " + ", ".join(f"{c} seed {s}" for c, s in zip(g.config, g.seed))
                             for checksum, g in versions)
            raise DataVersionError(f"{where}: profile {profile} holds runs of {versions.ngroups} data versions "
                                   f"({runs}). Retrain the runs of the old version (python -m gatelib.train "
                                   f"--profile {profile} --config … --seed …) before reading them together.")
    return scores


def read_scores(results_dir: Path) -> pd.DataFrame:
    """The tidy scores table of one profile (one data version: :func:`_check_one_data_version`)."""
    path = Path(results_dir) / "scores.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run notebooks/02_training.ipynb for this profile first.")
    return _check_one_data_version(read_results_csv(path), str(path))
