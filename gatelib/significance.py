"""How sure is a difference? Seeds, a hierarchical bootstrap over seeds and test pairs, and a
false-discovery-rate control within each family of comparisons.

GATE reports one number per model (Tables 3–5) with no seeds and no intervals, so a gap of a
few tenths cannot be told from noise. Two sources of variation matter here:

* **training noise** — the same recipe with another seed: summarised as mean ± std over seeds
  (:func:`seed_summary`);
* **test-set sampling** — STS17 ar-ar has only 250 pairs.

:func:`paired_bootstrap` puts both into one 95 % percentile interval for the difference of two
configs' seed-averaged Spearman correlations (Efron & Tibshirani 1993): each resample draws the
test pairs with replacement (the same pairs for both configs, so pair difficulty cancels) *and*
each config's seeds with replacement — a two-level (hierarchical) bootstrap, so an interval also
says how much another draw of training seeds could move the difference. Two configs trained on
the same seeds (same data order) are resampled seed for seed; with one seed per config the seed
level is degenerate and the interval covers test-set sampling only (``seeds_a``/``seeds_b`` say so).

Each profile measures dozens of differences (comparisons × dimensions × test sets), so some
intervals exclude zero by chance. :func:`adjust_within_families` controls the false discovery rate
within each family of comparisons on each test set (Benjamini & Hochberg 1995, as
``scipy.stats.false_discovery_control``) from the bootstrap's two-sided p-values; a difference
the book calls real is one whose adjusted p is below 0.05.

All of it reads the per-pair cosine similarities that ``gatelib.evaluation.evaluate_model``
records in ``results/<profile>/predictions.csv.gz``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from gatelib.recipes import COMPARED_WITH, RECIPES, UNTRAINED

RUN_KEY = ["config", "task", "dim"]


def seed_summary(scores: pd.DataFrame, metric: str = "spearman_cosine") -> pd.DataFrame:
    """Mean, standard deviation and number of seeds of ``metric`` per config, task and dim."""
    grouped = scores.groupby(RUN_KEY, sort=False)[metric]
    table = grouped.agg(mean="mean", std="std", seeds="count").reset_index()
    table["std"] = table["std"].fillna(0.0)
    return table


def _similarity_matrix(predictions: pd.DataFrame, config: str, task: str, dim: int) -> tuple[tuple, np.ndarray, np.ndarray]:
    """Seeds, gold scores (pairs) and cosines (seeds × pairs) of one config on one task at one dim."""
    rows = predictions[(predictions.config == config) & (predictions.task == task) & (predictions.dim == dim)]
    if rows.empty:
        raise KeyError(f"no predictions for config {config!r}, task {task!r}, dim {dim}")
    wide = rows.pivot_table(index="pair", columns="seed", values="cosine").sort_index()
    gold = rows.drop_duplicates("pair").set_index("pair")["gold"].sort_index()
    return tuple(wide.columns), gold.to_numpy(), wide.to_numpy().T


def _spearman_by_seed(gold: np.ndarray, cosines: np.ndarray) -> np.ndarray:
    """Spearman of each seed's ``cosines`` (seeds × … × pairs) with ``gold`` (… × pairs)."""
    def centred_ranks(x):
        ranks = stats.rankdata(x, axis=-1)
        return ranks - ranks.mean(axis=-1, keepdims=True)

    g, c = centred_ranks(gold), centred_ranks(cosines)
    return (g * c).sum(axis=-1) / np.sqrt((g * g).sum(axis=-1) * (c * c).sum(axis=-1))


def paired_bootstrap(predictions: pd.DataFrame, config_a: str, config_b: str, task: str, dim: int,
                     n_resamples: int = 1000, seed: int = 0, chunk: int = 250) -> dict:
    """Difference ``A − B`` of seed-averaged Spearman × 100 with a 95 % hierarchical-bootstrap CI.

    Each resample draws test pairs with replacement (the same for A and B) and, for each config,
    its seeds with replacement (the same draw for both when they were trained on the same seeds),
    then averages the resampled seeds' Spearman on the resampled pairs. ``p_value``: two-sided,
    twice the smaller share of resampled differences on either side of zero. ``excludes_zero``:
    the unadjusted 95 % interval; see :func:`adjust_within_families` for the claims.
    """
    seeds_a, gold, a = _similarity_matrix(predictions, config_a, task, dim)
    seeds_b, gold_b, b = _similarity_matrix(predictions, config_b, task, dim)
    if not np.array_equal(gold, gold_b):
        raise ValueError(f"{config_a} and {config_b} were not scored on the same {task} pairs")
    rng = np.random.default_rng(seed)
    n = len(gold)
    paired_seeds = seeds_a == seeds_b
    draws = []
    for start in range(0, n_resamples, chunk):  # chunks bound the memory: seeds × chunk × pairs
        size = min(chunk, n_resamples - start)
        pairs = rng.integers(0, n, size=(size, n))
        rho_a = _spearman_by_seed(gold[pairs], a[:, pairs])  # seeds × resamples
        rho_b = _spearman_by_seed(gold[pairs], b[:, pairs])
        pick_a = rng.integers(0, len(a), size=(size, len(a)))
        pick_b = pick_a if paired_seeds else rng.integers(0, len(b), size=(size, len(b)))
        columns = np.arange(size)[:, None]
        draws.append(100 * (rho_a[pick_a, columns].mean(axis=1) - rho_b[pick_b, columns].mean(axis=1)))
    draws = np.concatenate(draws)
    low, high = np.percentile(draws, [2.5, 97.5])
    p_value = min(1.0, 2 * min((draws <= 0).mean(), (draws >= 0).mean()))
    difference = 100 * (_spearman_by_seed(gold, a).mean() - _spearman_by_seed(gold, b).mean())
    return {"a": config_a, "b": config_b, "task": task, "dim": dim, "difference": float(difference),
            "ci_low": float(low), "ci_high": float(high), "excludes_zero": bool(low > 0 or high < 0),
            "p_value": float(p_value), "seeds_a": len(a), "seeds_b": len(b), "paired_seeds": bool(paired_seeds),
            "n_pairs": n}


COMPARISON_COLUMNS = ["family", "a", "b", "task", "dim", "difference", "ci_low", "ci_high", "excludes_zero",
                      "p_value", "seeds_a", "seeds_b", "paired_seeds", "n_pairs", "p_adjusted", "significant"]

#: The false discovery rate controlled within each family of comparisons on each test set.
FDR = 0.05


def run_label(config: str, profile: str) -> str:
    """How a config is named when runs of several profiles meet in one table: ``config@profile``."""
    return f"{config}@{profile}"


def config_of(label: str) -> str:
    """The config of a :func:`run_label` (a plain config name is returned as it is)."""
    return label.partition("@")[0]


def labelled(rows: pd.DataFrame) -> pd.DataFrame:
    """Score or prediction rows with each config renamed :func:`run_label` of its profile."""
    return rows.assign(config=[run_label(c, p) for c, p in zip(rows.config, rows.profile)])


def family_of(a: str, b: str) -> str:
    """The family a comparison ``A − B`` belongs to (its multiplicity is controlled within it):
    fine-tuning against the base model, a Matryoshka recipe against its no-Matryoshka control,
    one change to another recipe, or one recipe in two profiles (``config@profile``; a probe
    profile's recipe against the recipe it changes in its baseline profile is that recipe's one change)."""
    (config_a, _, profile_a), (config_b, _, profile_b) = a.partition("@"), b.partition("@")
    if profile_a != profile_b and config_a == config_b:
        return "same recipe, another profile"
    if config_b == UNTRAINED:
        return "fine-tuned vs base model"
    recipe_a, recipe_b = RECIPES.get(config_a), RECIPES.get(config_b)  # names outside the registry: one change
    if recipe_a and recipe_b and recipe_a.matryoshka and not recipe_b.matryoshka:
        return "Matryoshka vs its control"
    return f"one change to {config_b}"


def adjust_within_families(comparisons: pd.DataFrame, rate: float = FDR) -> pd.DataFrame:
    """``p_adjusted``: Benjamini–Hochberg adjusted p-values within each (family, task) — every
    comparison of the family at every dim on that test set; ``significant``: adjusted p < ``rate``."""
    if comparisons.empty:
        return comparisons.assign(p_adjusted=pd.Series(dtype=float), significant=pd.Series(dtype=bool))
    adjusted = comparisons.groupby(["family", "task"], sort=False).p_value.transform(
        lambda p: stats.false_discovery_control(p.to_numpy(), method="bh"))
    return comparisons.assign(p_adjusted=adjusted, significant=adjusted < rate)


def versus_profile(predictions: pd.DataFrame, reference: pd.DataFrame | None, tasks: Sequence[str],
                   dims: Sequence[int], n_resamples: int = 1000) -> pd.DataFrame:
    """Each config of ``predictions`` (one profile) that ``reference`` (another profile's
    predictions) also holds, all seeds against all seeds: ``config@profile − config@other`` by
    :func:`paired_bootstrap` on every task at every dim; then each config that only ``predictions``
    holds against the configs it is a change to (``gatelib.recipes.COMPARED_WITH``) that only
    ``reference`` holds (a probe's recipe against its baseline profile's run of the recipe it
    changes). ``reference=None``: an empty table."""
    if reference is None or predictions.empty or reference.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    ours, theirs = predictions.profile.iloc[0], reference.profile.iloc[0]
    if ours == theirs:
        raise ValueError(f"both sets of predictions are of profile {ours!r}")
    mine, others = list(dict.fromkeys(predictions.config)), set(reference.config)
    pairs = [(c, c) for c in mine if c in others]
    pairs += [(c, b) for c in mine if c not in others for b in COMPARED_WITH.get(c, ())
              if b in others and b not in mine]
    both = pd.concat([predictions[predictions.config.isin({a for a, _ in pairs})],
                      reference[reference.config.isin({b for _, b in pairs})]])
    both = labelled(both)
    pairs = [(run_label(a, ours), run_label(b, theirs)) for a, b in pairs]
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
    (configs absent are skipped), with its family and the family's adjusted p-values."""
    present = set(predictions.config)
    tasks = (tasks,) if isinstance(tasks, str) else tuple(tasks)
    rows = [{"family": family_of(a, b), **paired_bootstrap(predictions, a, b, task, dim, n_resamples)}
            for task in tasks for a, b in pairs if a in present and b in present for dim in dims]
    return adjust_within_families(pd.DataFrame(rows, columns=COMPARISON_COLUMNS[:-2]))


def comparison_by_pairs(predictions: pd.DataFrame, pairs: Sequence[tuple[str, str]], task: str,
                        dims: Sequence[int], parts: Mapping[str, Collection[int]],
                        n_resamples: int = 1000) -> pd.DataFrame:
    """:func:`comparison_table` on parts of one test set: ``parts`` maps a label to the pair indices
    it holds (e.g. the pairs a training set leaked, and the rest). Each part is bootstrapped and
    FDR-controlled on its own, as task ``"<task>, <label> (n pairs)"``; an empty part is left out."""
    rows = predictions[predictions.task == task]
    named = {f"{task}, {label} ({len(members)} pairs)": rows[rows.pair.isin(list(members))]
             for label, members in parts.items() if len(members)}
    if not named:
        raise ValueError(f"every part of {task} is empty")
    return comparison_table(pd.concat([p.assign(task=t) for t, p in named.items()], ignore_index=True),
                            pairs, list(named), dims, n_resamples)
