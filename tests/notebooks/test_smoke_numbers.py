"""The numbers the smoke notebooks just wrote, against the ones committed with them.

nbval (run first, on the ``*.ipynb`` beside this file) compares every output's *text* with its
decimals masked (``tests/nbval_sanitize.cfg``): table shapes, row and column labels, counts,
checksums and prose must match exactly. The decimals are compared here, from the tables the
notebooks wrote to ``results/smoke/`` during that nbval run, against ``reference/`` (written by
``make smoke-notebooks`` together with the notebooks):

* the untrained model's numbers exactly (to 1e-9): inference gives the same scores on every
  kernel path measured;
* trained models' numbers within :data:`TOLERANCE`: training rounds differently on different
  CPU kernel paths (AVX-512 vs AVX2, MKL's branches), and eight optimizer steps carry those
  last-bit differences into the second decimal of a score. The tolerance is a few times the
  largest drift measured by ``benchmarks/kernel_paths.sh`` (``results/kernel-paths/``), which
  :func:`test_tolerance_covers_the_measured_drift` checks, and well below what eight steps of
  training move a score (:func:`test_tolerance_is_far_below_what_training_moves`), so a broken
  loss, loader or evaluation still fails.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gatelib.profiles import PROJECT_ROOT

REFERENCE = Path(__file__).parent / "reference"
PRODUCED = PROJECT_ROOT / "results" / "smoke"
KERNEL_PATHS = PROJECT_ROOT / "results" / "kernel-paths"
UNTRAINED = "zero-shot"
EXACT = 1e-9
#: Largest allowed |difference| of a trained model's score (Spearman/Pearson/recall × 100).
TOLERANCE = 0.25

#: table -> (key columns, compared columns); each is written by one smoke notebook.
TABLES = {
    "scores.csv": (["config", "seed", "task", "dim"], ["spearman_cosine", "pearson_cosine", "n_pairs"]),
    "truncation.csv": (["config", "seed", "task", "dim", "similarity", "renormalized"], ["spearman", "pearson"]),
    "retrieval.csv": (["config", "seed", "task", "dim"], ["recall@1", "recall@10", "mrr@10", "n_queries"]),
}


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        pytest.fail(f"{path.relative_to(PROJECT_ROOT)} is missing: run `make nbval` (it executes the smoke "
                    "notebooks, which write it), or `make smoke-notebooks` for the reference.")
    return pd.read_csv(path)


def _difference(name: str) -> pd.DataFrame:
    keys, columns = TABLES[name]
    ref, new = _read(REFERENCE, name), _read(PRODUCED, name)
    merged = ref.merge(new, on=keys, how="outer", suffixes=("_ref", "_new"), indicator=True)
    unmatched = merged[merged["_merge"] != "both"][keys + ["_merge"]]
    assert unmatched.empty, f"{name}: rows in one table only:\n{unmatched.to_string()}"
    rows = []
    for column in columns:
        diff = (merged[f"{column}_new"] - merged[f"{column}_ref"]).abs()
        rows.append(merged[keys].assign(column=column, diff=diff, ref=merged[f"{column}_ref"],
                                        new=merged[f"{column}_new"]))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_untrained_numbers_are_exact(name):
    diff = _difference(name)
    off = diff[(diff.config == UNTRAINED) & ~(diff["diff"] <= EXACT)]
    assert off.empty, f"{name}: the untrained model's numbers changed:\n{off.to_string()}"


@pytest.mark.parametrize("name", sorted(TABLES))
def test_trained_numbers_are_within_the_cross_cpu_tolerance(name):
    diff = _difference(name)
    off = diff[(diff.config != UNTRAINED) & ~(diff["diff"] <= TOLERANCE)]
    assert off.empty, (f"{name}: {len(off)} trained-model numbers moved by more than {TOLERANCE} "
                       f"(the cross-CPU tolerance):\n{off.sort_values('diff').tail(20).to_string()}")


def _kernel_path_drift() -> pd.DataFrame:
    """|number − default-path number| of every table a forced kernel path wrote."""
    frames = []
    for folder in sorted(p for p in KERNEL_PATHS.iterdir() if p.is_dir() and p.name != "default"):
        for name, (keys, columns) in TABLES.items():
            if not (folder / name).is_file():
                continue
            merged = pd.read_csv(folder / name).merge(pd.read_csv(KERNEL_PATHS / "default" / name),
                                                      on=keys, suffixes=("", "_default"))
            for column in columns:
                frames.append(merged[keys].assign(path=folder.name, table=name, column=column,
                                                  diff=(merged[column] - merged[f"{column}_default"]).abs()))
    assert frames, f"no forced kernel path measured in {KERNEL_PATHS.relative_to(PROJECT_ROOT)}"
    return pd.concat(frames, ignore_index=True)


def test_tolerance_covers_the_measured_drift():
    """Twice the largest drift measured between kernel paths stays inside the tolerances."""
    drift = _kernel_path_drift()
    untrained = drift.config == UNTRAINED
    assert drift[~untrained]["diff"].max() * 2 <= TOLERANCE, drift[~untrained].sort_values("diff").tail().to_string()
    assert drift[untrained]["diff"].max() * 2 <= UNTRAINED_TOLERANCE, drift[untrained].sort_values("diff").tail().to_string()


def test_tolerance_is_far_below_what_training_moves():
    """Eight steps move STS scores by far more than the tolerance: a no-op training would fail."""
    scores = _read(REFERENCE, "scores.csv")
    base = scores[scores.config == UNTRAINED].set_index(["task", "dim"])["spearman_cosine"]
    trained = scores[scores.config != UNTRAINED]
    moved = (trained.set_index(["task", "dim"])["spearman_cosine"] - base).abs()
    assert np.median(moved) >= 4 * TOLERANCE, moved.describe()
