"""Error analysis of STS predictions: all test pairs instead of GATE's three anecdotes (§5, Tables 6–8).

GATE illustrates its errors with three hand-picked pairs and attributes false positives to
lexical overlap. Here every test pair is scored, from the per-pair cosines that
``gatelib.evaluation`` stores in ``results/<profile>/predictions.csv.gz``:

* the **rank residual** of a pair is its cosine's rank minus its gold score's rank, divided by
  the number of pairs (so in ``[-1, 1]``). Spearman's correlation is a function of exactly these
  ranks; a positive residual means the model places the pair *more* similar than the annotators
  did (over-estimation, a false positive in the paper's words), a negative one less similar.
  Cosines are averaged over seeds first, as in ``gatelib.significance``.
* **lexical overlap** is the Jaccard index of the two sentences' word sets after the leak-check
  normalisation (``gatelib.evalsets.normalize_text``): 0 no shared word, 1 the same words.

The paper's claim becomes a test: if shared words inflate similarity, residuals grow with
overlap (Spearman correlation > 0, with a bootstrap interval that excludes zero).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from datasets import Dataset
from scipy import stats

from gatelib.evalsets import normalize_text

ERROR_COLUMNS = ["config", "task", "dim", "pair", "gold", "gold_bin", "cosine", "residual", "overlap", "seeds"]
#: Gold-score bins on the 0–5 scale of STS (scores are stored divided by 5).
GOLD_BINS = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
_WORD = re.compile(r"\w+")
#: Tasks whose two sides are in different languages (no word overlap to measure).
CROSS_LINGUAL = ("sts17-en-ar",)


def word_overlap(first: str, second: str) -> float:
    """Jaccard index of the two texts' normalised word sets (0 when either has no word)."""
    a, b = (set(_WORD.findall(normalize_text(t))) for t in (first, second))
    return len(a & b) / len(a | b) if a and b else 0.0


def pair_errors(predictions: pd.DataFrame, dataset: Dataset, config: str, task: str, dim: int) -> pd.DataFrame:
    """One row per test pair of ``task``: gold, seed-mean cosine, rank residual, word overlap.

    ``dataset`` is the evaluation set the predictions were made on (``pair`` indexes its rows);
    its gold scores must match the stored ones, or the predictions belong to other data.
    """
    rows = predictions[(predictions.config == config) & (predictions.task == task) & (predictions.dim == dim)]
    if rows.empty:
        raise KeyError(f"no predictions for config {config!r}, task {task!r}, dim {dim}")
    mean = rows.groupby("pair").agg(gold=("gold", "first"), cosine=("cosine", "mean"), seeds=("seed", "nunique"))
    if len(mean) != len(dataset) or not np.allclose(mean.gold.to_numpy(), dataset["score"]):
        raise ValueError(f"stored predictions for {task} do not match the {len(dataset)} pairs of the dataset given")
    n = len(mean)
    residual = (stats.rankdata(mean.cosine) - stats.rankdata(mean.gold)) / n
    overlap = [word_overlap(a, b) for a, b in zip(dataset["sentence1"], dataset["sentence2"])]
    table = mean.reset_index().assign(config=config, task=task, dim=dim, residual=residual, overlap=overlap)
    table["gold_bin"] = gold_bins(table.gold)
    return table[ERROR_COLUMNS]


def errors_table(predictions: pd.DataFrame, eval_sets: dict[str, Dataset], configs: list[str], dim: int) -> pd.DataFrame:
    """:func:`pair_errors` of every config on every STS set at one dim: the tidy ``errors.csv``."""
    return pd.concat([pair_errors(predictions, dataset, config, task, dim)
                      for task, dataset in eval_sets.items() for config in configs], ignore_index=True)


def gold_bins(gold: pd.Series) -> pd.Categorical:
    """The :data:`GOLD_BINS` bin (0–5 scale, e.g. ``[1, 2)``) of each gold score (stored /5)."""
    on_scale = np.round(np.asarray(gold, dtype=float) * 5, 9)  # undo the /5 without float dust
    index = np.clip(np.searchsorted(GOLD_BINS, on_scale, side="right") - 1, 0, len(GOLD_BINS) - 2)
    labels = [f"[{lo:g}, {hi:g})" if hi < GOLD_BINS[-1] else f"[{lo:g}, {hi:g}]"
              for lo, hi in zip(GOLD_BINS, GOLD_BINS[1:])]
    return pd.Categorical.from_codes(index, labels)


def errors_by_gold_bin(errors: pd.DataFrame) -> pd.DataFrame:
    """Per config and gold bin (0–5 scale): pairs, mean signed residual, mean |residual|, share over-estimated."""
    table = errors.groupby(["config", "gold_bin"], observed=True, sort=False).agg(
        pairs=("pair", "size"), mean_residual=("residual", "mean"),
        mean_abs_residual=("residual", lambda r: r.abs().mean()), over_estimated=("residual", lambda r: (r > 0).mean()))
    return table.reset_index().sort_values(["config", "gold_bin"], kind="stable").reset_index(drop=True)


def _partial_spearman(x: np.ndarray, y: np.ndarray, given: np.ndarray) -> float:
    """Spearman correlation of ``x`` and ``y`` with the (linear, rank-scale) effect of ``given`` removed."""
    rx, ry, rg = (stats.rankdata(v) for v in (x, y, given))
    design = np.column_stack([np.ones_like(rg), rg])
    rest_x = rx - design @ np.linalg.lstsq(design, rx, rcond=None)[0]
    rest_y = ry - design @ np.linalg.lstsq(design, ry, rcond=None)[0]
    return float(stats.pearsonr(rest_x, rest_y).statistic)


def overlap_effect(errors: pd.DataFrame, n_resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Does word overlap go with over-estimation? Per task and config, ×100 with 95 % bootstrap CIs.

    Cross-lingual tasks (:data:`CROSS_LINGUAL`) are skipped: an English and an Arabic sentence
    share no words by construction.

    ``spearman``: correlation of residual with overlap. ``partial``: the same with gold removed
    from both (partial Spearman; equal to the partial correlation of overlap with the model's
    cosine given gold) — overlap rises with gold and residuals fall with gold, so only the
    partial correlation isolates overlap. A positive interval excluding zero supports
    GATE's claim that shared words make the model over-estimate similarity.
    """
    rows = []
    for (task, config), group in errors[~errors.task.isin(CROSS_LINGUAL)].groupby(["task", "config"], sort=False):
        overlap, residual, gold = (group[c].to_numpy() for c in ("overlap", "residual", "gold"))
        measures = {"spearman": lambda i: 100 * stats.spearmanr(overlap[i], residual[i]).statistic,
                    "partial": lambda i: 100 * _partial_spearman(overlap[i], residual[i], gold[i])}
        row = {"task": task, "config": config, "n_pairs": len(group)}
        for name, measure in measures.items():
            result = stats.bootstrap((np.arange(len(group)),), lambda i: measure(np.asarray(i, dtype=int)),
                                     vectorized=False, n_resamples=n_resamples, method="percentile",
                                     random_state=np.random.default_rng(seed))
            low, high = result.confidence_interval
            row.update({name: measure(np.arange(len(group))), f"{name}_ci_low": low, f"{name}_ci_high": high,
                        f"{name}_excludes_zero": bool(low > 0 or high < 0)})
        rows.append(row)
    return pd.DataFrame(rows)


def worst_pairs(errors: pd.DataFrame, dataset: Dataset, config: str, n: int = 5) -> pd.DataFrame:
    """The ``n`` most over-estimated and ``n`` most under-estimated pairs of ``config``, with their texts.

    Gold is shown on the 0–5 scale. No English gloss exists for STS17 ar-ar (its pairs are not
    those of the en-ar track); on ``sts17-en-ar`` sentence1 is the English side.
    """
    own = errors[errors.config == config].sort_values("residual")
    picked = pd.concat([own.tail(n).iloc[::-1].assign(error="over-estimated"), own.head(n).assign(error="under-estimated")])
    table = picked.assign(sentence1=[dataset["sentence1"][i].strip() for i in picked.pair],
                          sentence2=[dataset["sentence2"][i].strip() for i in picked.pair],
                          gold=picked.gold * 5)
    columns = ["error", "pair", "gold", "cosine", "residual", "overlap", "sentence1", "sentence2"]
    return table[columns].reset_index(drop=True)
