"""The error-analysis chapter (``notebooks/05_error_analysis.ipynb``): the rank residuals of
``gatelib.error_analysis`` by gold similarity and against word overlap. Each figure function
returns the figure and its takeaway (for ``gatelib.captions.publish``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from gatelib.reporting import config_palette


def residual_boxes(errors: pd.DataFrame) -> tuple[plt.Figure, str]:
    """The rank residual of every test pair by gold-score bin, a box per config, and its takeaway:
    the share of over-estimated pairs among the least and the most similar pairs, per config."""
    return _residual_axes(errors).figure, _residual_takeaway(errors)


def residual_scatter(errors: pd.DataFrame, effect: pd.DataFrame, task: str) -> tuple[plt.Figure, str]:
    """The rank residual against word overlap, a panel per config with a linear fit, and its
    takeaway: the partial correlation of overlap with the residual given gold (``effect``, from
    ``gatelib.error_analysis.overlap_effect``) per config on ``task``."""
    return _overlap_grid(errors).figure, _overlap_takeaway(effect, task)


def overlap_effect_table(effect: pd.DataFrame) -> pd.DataFrame:
    """``gatelib.error_analysis.overlap_effect`` as ``ρ [low, high]`` cells (star: interval excludes zero)."""
    def cell(row, name):
        return (f"{row[name]:+.1f} [{row[f'{name}_ci_low']:+.1f}, {row[f'{name}_ci_high']:+.1f}]"
                + (" *" if row[f"{name}_excludes_zero"] else ""))
    return pd.DataFrame({"task": effect.task, "config": effect.config, "pairs": effect.n_pairs,
                         "ρ(overlap, residual)": effect.apply(cell, axis=1, name="spearman"),
                         "partial ρ given gold": effect.apply(cell, axis=1, name="partial")})

def _residual_axes(errors: pd.DataFrame, ax=None):
    """Rank residual of every test pair by gold-score bin, one box per config (``gatelib.error_analysis``)."""
    ax = ax or plt.subplots(figsize=(7, 3.6))[1]
    sns.boxplot(data=errors, x="gold_bin", y="residual", hue="config", palette=config_palette(errors.config), ax=ax)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("gold similarity (0–5)")
    ax.set_ylabel("rank residual (> 0: over-estimated)")
    return ax

def _residual_takeaway(errors: pd.DataFrame) -> str:
    """Share of over-estimated pairs among the least and the most similar pairs, per config."""
    parts = []
    for config, rows in errors.groupby("config", sort=False):
        low, high = rows[rows.gold * 5 < 1], rows[rows.gold * 5 >= 4]
        parts.append(f"{config} over-rates {100 * (low.residual > 0).mean():.0f} % of pairs with gold < 1 and "
                     f"{100 * (high.residual > 0).mean():.0f} % of pairs with gold ≥ 4")
    return "; ".join(parts) + "."

def _overlap_grid(errors: pd.DataFrame):
    """Rank residual against word overlap, one panel per config, with a linear fit and its 95 % band."""
    grid = sns.lmplot(data=errors, x="overlap", y="residual", col="config", hue="config", height=3.4,
                      palette=config_palette(errors.config),
                      aspect=1.1, scatter_kws={"s": 10, "alpha": 0.5}, seed=0)
    for ax in grid.axes.flat:
        ax.axhline(0, color="black", lw=0.8)
    grid.set_axis_labels("word overlap (Jaccard)", "rank residual (> 0: over-estimated)")
    return grid

def _overlap_takeaway(effect: pd.DataFrame, task: str) -> str:
    """The partial correlation of overlap with residual (given gold) per config on ``task``."""
    rows = effect[effect.task == task]
    parts = [f"{r.config} {r.partial:+.1f} [{r.partial_ci_low:+.1f}, {r.partial_ci_high:+.1f}]"
             for r in rows.itertuples()]
    verdict = ("more shared words, more over-estimation, at equal gold similarity"
               if (rows.partial_ci_low > 0).all() else "no consistent overlap effect across configs")
    return f"Partial ρ(overlap, residual | gold) × 100 on {task}: {', '.join(parts)} — {verdict}."
