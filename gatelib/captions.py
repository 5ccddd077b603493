"""Figure captions that state the takeaway, computed from the same table the figure plots.

A caption written by hand goes stale the first time a profile, a seed or the data changes; so
each chapter figure is published with :func:`publish` — the figure and a one-sentence takeaway
computed here, plus the provenance of the numbers — and the book places both with MyST-NB's
``{glue:figure}`` directive (caption ``{glue:md}`<name>-caption```). In Jupyter or Colab the
figure and its caption are simply shown below the cell. A chapter's key tables are numbered the
same way (:func:`publish_table`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from gatelib.significance import seed_summary


def publish(name: str, figure: plt.Figure, takeaway: str, provenance: str) -> None:
    """Glue ``figure`` as ``name`` and its caption as ``<name>-caption`` for the book; show both here."""
    caption = f"{takeaway} <small>({provenance})</small>"
    glue(name, figure, display=False)
    glue(f"{name}-caption", Markdown(caption), display=False)
    display(figure, Markdown(caption))
    plt.close(figure)


def publish_table(name: str, table: Markdown) -> Markdown:
    """Glue a rendered table (``reporting.markdown_table``) as ``name`` for a numbered, captioned
    ``{table}`` directive of the book (its body ``{glue:md}`name``` with ``:format: myst``), and
    return it, so that Jupyter or Colab show it below the cell."""
    glue(name, table, display=False)
    return table


def _by_dim(table: pd.DataFrame, task: str, metric: str) -> pd.DataFrame:
    """Seed-mean ``metric`` on ``task`` as configs × dims (largest dim first)."""
    summary = seed_summary(table[table.task == task], metric)
    wide = summary.pivot(index="config", columns="dim", values="mean")
    return wide[sorted(wide.columns, reverse=True)]


def dims_takeaway(table: pd.DataFrame, task: str, metric: str = "spearman_cosine", at: int = 64) -> str:
    """Who leads at how many dims, and what truncating to ``at`` dims costs each config."""
    wide = _by_dim(table, task, metric)
    full, small = wide.columns[0], wide.columns[-1]
    leaders = wide.idxmax()
    best = leaders.value_counts().index[0]
    at = at if at in wide.columns else small
    costs = ", ".join(f"{config} {wide.loc[config, full] - wide.loc[config, at]:.1f}" for config in wide.index)
    return (f"{best} is highest at {(leaders == best).sum()} of {len(leaders)} dims "
            f"({wide.loc[best, full]:.2f} at {full}, {wide.loc[best, small]:.2f} at {small}). "
            f"Cutting {full} → {at} dims costs (points): {costs}.")


def similarity_takeaway(table: pd.DataFrame, config: str) -> str:
    """How far dot product falls on raw slices, and how close the four functions are re-normalised."""
    rows = table[table.config == config]
    small = rows.dim.min()
    raw = rows[(rows.dim == small) & ~rows.renormalized].set_index("similarity").spearman
    renormalised = rows[rows.renormalized].groupby("dim").spearman
    spread = (renormalised.max() - renormalised.min()).max()
    return (f"{config}, {small} dims: dot product on raw slices {raw['dot']:.2f} vs cosine {raw['cosine']:.2f}; "
            f"after re-normalising, the four functions differ by at most {spread:.2f} points at any dim.")


def retrieval_takeaway(table: pd.DataFrame, task: str, metric: str = "mrr@10", tie: float = 0.5) -> str:
    """The best config's ``metric`` at full size, at 64 dims and at the smallest dim. Configs within
    ``tie`` points of the best at full size (a few queries: a difference the test cannot resolve,
    and one that flips between CPUs) are named together as level, not ranked."""
    wide = _by_dim(table, task, metric)
    full, small = wide.columns[0], wide.columns[-1]
    level = [c for c in wide.index if wide.loc[c, full] >= wide[full].max() - tie]
    if len(level) > 1:
        others = ", ".join(f"{c} {wide.loc[c, full]:.1f}" for c in wide.index if c not in level)
        return (f"{metric} at {full} dims: {', '.join(level)} within {tie:g} points of each other "
                f"({wide.loc[level, full].min():.1f}–{wide.loc[level, full].max():.1f})"
                + (f"; below them {others}." if others else "."))
    best = level[0]
    middle = 64 if 64 in wide.columns else small
    others = ", ".join(f"{c} {wide.loc[c, full]:.1f}" for c in wide.index if c != best)
    return (f"{metric} of {best}: {wide.loc[best, full]:.1f} at {full} dims, {wide.loc[best, middle]:.1f} at "
            f"{middle}, {wide.loc[best, small]:.1f} at {small}" + (f" (at {full} dims: {others})." if others else "."))


def bytes_takeaway(quality: pd.DataFrame, config: str, within: float = 1.0) -> str:
    """The smallest vector of ``config`` within ``within`` points of its full-size float32 score."""
    rows = quality[quality.config == config]
    reference = rows[(rows.dtype == "float32") & (rows.dim == rows.dim.max())].iloc[0]
    close = rows[rows.spearman >= reference.spearman - within].sort_values(["bytes_per_vector", "spearman"],
                                                                            ascending=[True, False])
    pick = close.iloc[0]
    return (f"{config}: the smallest vector within {within:g} point of the full float32 score "
            f"({reference.spearman:.2f}, {reference.bytes_per_vector:g} bytes) is {pick['dtype']} at {pick['dim']} dims: "
            f"{pick.bytes_per_vector:g} bytes ({reference.bytes_per_vector / pick.bytes_per_vector:.0f}× smaller), "
            f"{pick.spearman:.2f}.")


def loss_takeaway(history: pd.DataFrame) -> str:
    """First and last logged training loss of each run."""
    parts = []
    for run, rows in history.groupby("run", sort=False):
        rows = rows.sort_values("step")
        parts.append(f"{run} {rows.loss.iloc[0]:.2f} → {rows.loss.iloc[-1]:.2f} ({rows.step.iloc[-1]} steps)")
    return "Logged loss, first → last: " + "; ".join(parts) + "."


