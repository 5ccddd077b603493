"""How sure is a difference? Seeds and paired bootstrap confidence intervals over test pairs.

GATE reports one number per model (Tables 3–5) with no seeds and no intervals, so a gap of a
few tenths cannot be told from noise. Two sources of variation matter here:

* **training noise** — the same recipe with another seed: summarised as mean ± std over seeds
  (:func:`seed_summary`);
* **test-set sampling** — STS17 ar-ar has only 250 pairs: a *paired* bootstrap (Efron &
  Tibshirani 1993) resamples the pairs, scores both models on the same resample, and gives a
  95 % percentile interval for the difference of their (seed-averaged) Spearman correlations
  (:func:`paired_bootstrap`). The resampling is ``scipy.stats.bootstrap``'s.

Both read the per-pair cosine similarities that ``gatelib.evaluation.evaluate_model`` records
in ``results/<profile>/predictions.csv.gz``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from gatelib.recipes import COMPARED_WITH, UNTRAINED

RUN_KEY = ["config", "task", "dim"]


def seed_summary(scores: pd.DataFrame, metric: str = "spearman_cosine") -> pd.DataFrame:
    """Mean, standard deviation and number of seeds of ``metric`` per config, task and dim."""
    grouped = scores.groupby(RUN_KEY, sort=False)[metric]
    table = grouped.agg(mean="mean", std="std", seeds="count").reset_index()
    table["std"] = table["std"].fillna(0.0)
    return table


def _similarity_matrix(predictions: pd.DataFrame, config: str, task: str, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Gold scores (pairs) and cosines (seeds × pairs) of one config on one task at one dim."""
    rows = predictions[(predictions.config == config) & (predictions.task == task) & (predictions.dim == dim)]
    if rows.empty:
        raise KeyError(f"no predictions for config {config!r}, task {task!r}, dim {dim}")
    wide = rows.pivot_table(index="pair", columns="seed", values="cosine").sort_index()
    gold = rows.drop_duplicates("pair").set_index("pair")["gold"].sort_index()
    return gold.to_numpy(), wide.to_numpy().T


def _mean_spearman(gold: np.ndarray, cosines: np.ndarray) -> np.ndarray:
    """Seed-averaged Spearman of ``cosines`` (seeds × … × pairs) with ``gold`` (… × pairs).

    Vectorised over any leading resample axes: the Pearson correlation of average ranks, which
    is what ``scipy.stats.spearmanr`` computes for one pair of vectors.
    """
    def centred_ranks(x):
        ranks = stats.rankdata(x, axis=-1)
        return ranks - ranks.mean(axis=-1, keepdims=True)

    g, c = centred_ranks(gold), centred_ranks(cosines)
    rho = (g * c).sum(axis=-1) / np.sqrt((g * g).sum(axis=-1) * (c * c).sum(axis=-1))
    return rho.mean(axis=0)


def paired_bootstrap(predictions: pd.DataFrame, config_a: str, config_b: str, task: str, dim: int,
                     n_resamples: int = 1000, seed: int = 0) -> dict:
    """Difference ``A − B`` of seed-averaged Spearman × 100 with a 95 % paired-bootstrap CI.

    Each resample draws test pairs with replacement and scores both configs (all their seeds)
    on the same pairs, so pair difficulty cancels. ``excludes_zero`` is what a claim needs.
    """
    gold, a = _similarity_matrix(predictions, config_a, task, dim)
    gold_b, b = _similarity_matrix(predictions, config_b, task, dim)
    if not np.array_equal(gold, gold_b):
        raise ValueError(f"{config_a} and {config_b} were not scored on the same {task} pairs")

    def difference(index, axis=-1):
        index = np.asarray(index, dtype=int)  # (pairs,) or (resamples, pairs)
        return 100 * (_mean_spearman(gold[index], a[:, index]) - _mean_spearman(gold[index], b[:, index]))

    # vectorized: scipy draws the same resamples either way and scores them all in one call
    result = stats.bootstrap((np.arange(len(gold)),), difference, vectorized=True, paired=False,
                             n_resamples=n_resamples, method="percentile", confidence_level=0.95,
                             random_state=np.random.default_rng(seed))
    low, high = result.confidence_interval
    return {"a": config_a, "b": config_b, "task": task, "dim": dim,
            "difference": float(difference(np.arange(len(gold)))), "ci_low": low, "ci_high": high,
            "excludes_zero": bool(low > 0 or high < 0), "seeds_a": len(a), "seeds_b": len(b),
            "n_pairs": len(gold)}


COMPARISON_COLUMNS = ["a", "b", "task", "dim", "difference", "ci_low", "ci_high", "excludes_zero",
                      "seeds_a", "seeds_b", "n_pairs"]


def versus_profile(predictions: pd.DataFrame, reference: pd.DataFrame | None, tasks: Sequence[str],
                   dims: Sequence[int], n_resamples: int = 1000) -> pd.DataFrame:
    """Each config of ``predictions`` (one profile) that ``reference`` (another profile's
    predictions) also holds, all seeds against all seeds: ``config@profile − config@other`` by
    :func:`paired_bootstrap` on every task at every dim. ``reference=None``: an empty table."""
    if reference is None or predictions.empty or reference.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    ours, theirs = predictions.profile.iloc[0], reference.profile.iloc[0]
    if ours == theirs:
        raise ValueError(f"both sets of predictions are of profile {ours!r}")
    shared = [c for c in dict.fromkeys(predictions.config) if c in set(reference.config)]
    both = pd.concat([predictions, reference])
    both = both[both.config.isin(shared)].assign(config=lambda f: f.config + "@" + f.profile)
    pairs = [(f"{c}@{ours}", f"{c}@{theirs}") for c in shared]
    tasks = [t for t in tasks if t in set(predictions.task) & set(reference.task)]
    return comparison_table(both, pairs, tasks, dims, n_resamples)


def comparisons_for(configs: Sequence[str]) -> list[tuple[str, str]]:
    """The differences the book measures among ``configs``: every trained config against
    zero-shot, then each against the model its one change is a change to
    (``gatelib.recipes.COMPARED_WITH``: a Matryoshka recipe against its no-Matryoshka control, the
    rest against MRL)."""
    pairs = [(c, UNTRAINED) for c in configs if c != UNTRAINED and UNTRAINED in configs]
    return pairs + [(c, b) for c in configs for b in COMPARED_WITH.get(c, ()) if b in configs]


def comparison_table(predictions: pd.DataFrame, pairs: Sequence[tuple[str, str]], tasks: str | Sequence[str],
                     dims: Sequence[int], n_resamples: int = 1000) -> pd.DataFrame:
    """:func:`paired_bootstrap` for every ``(A, B)`` in ``pairs`` on every task at every dim
    (configs absent are skipped)."""
    present = set(predictions.config)
    tasks = (tasks,) if isinstance(tasks, str) else tuple(tasks)
    rows = [paired_bootstrap(predictions, a, b, task, dim, n_resamples)
            for task in tasks for a, b in pairs if a in present and b in present for dim in dims]
    return pd.DataFrame(rows)
