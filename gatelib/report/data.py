"""The data chapter (``notebooks/01_data.ipynb``): the evaluation sets' shapes and how close the
training texts come to the test sentences (the near-copy rules of ``gatelib.decontamination`` and
``gatelib.near_copies``). Each figure function returns the figure and its takeaway (for
``gatelib.captions.publish``).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


def eval_set_shapes(eval_sets: dict) -> tuple[plt.Figure, str]:
    """The gold-score histogram and sentence lengths of each evaluation set, and its takeaway: the
    pairs and median sentence length of each."""
    return _eval_sets_axes(eval_sets)[0].figure, _eval_sets_takeaway(eval_sets)


def near_copy_curves(table: pd.DataFrame, threshold: float) -> tuple[plt.Figure, str]:
    """The share of test sentences whose nearest training text reaches each TF-IDF cosine, a curve
    per training set, the rule's threshold marked; and its takeaway: how many STS17 sentences have
    a training text at or above ``threshold``, per set."""
    return _nearest_axes(table, threshold).figure, _nearest_takeaway(table, threshold)


def embedding_null_curves(null: pd.DataFrame, threshold: float) -> tuple[plt.Figure, str]:
    """The embedding rule's null distribution as curves, and its takeaway: the share of STS17's
    sentences and of unseen-image captions with a training caption at the threshold, per state of
    the training captions."""
    return _null_axes(null, threshold).figure, _embedding_null_takeaway(null, threshold)


def _eval_sets_axes(eval_sets: dict, axes=None):
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

def _eval_sets_takeaway(eval_sets: dict) -> str:
    """Pairs and median sentence length (characters) of each evaluation set."""
    parts = []
    for name, dataset in eval_sets.items():
        lengths = pd.Series([len(t) for c in ("sentence1", "sentence2") for t in dataset[c]])
        parts.append(f"{name} {len(dataset)} pairs, median {lengths.median():.0f} characters")
    return "; ".join(parts) + "."

def _nearest_axes(table: pd.DataFrame, threshold: float, ax=None):
    """Share of test sentences whose nearest training text reaches each similarity (one curve per
    training set; dashed: unseen-image captions), with the decontamination threshold marked."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9.5, 3.6), layout="constrained")
    names = table["training set"].unique()
    colours = dict(zip(names, sns.color_palette("tab20" if len(names) > 10 else None, len(names))))
    for (name, queries), part in table.groupby(["training set", "queries"], sort=False):
        unseen = queries == "unseen-image captions"
        sns.ecdfplot(x=part.similarity, complementary=True, color=colours[name], ls="--" if unseen else "-",
                     label=f"{name} ({queries})" if unseen else name, ax=ax)
    return _share_axes(ax, threshold, "char 3-5-gram TF-IDF cosine to the nearest training text")

def _share_axes(ax, threshold: float, xlabel: str):
    """The near-copy figures' axes: share at or above (log), the rule's threshold dotted, legend outside."""
    ax.axvline(threshold, color="0.3", lw=1, ls=":")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of sentences at or above")
    ax.set_yscale("log")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
    return ax

def _null_axes(null: pd.DataFrame, threshold: float, ax=None):
    """The embedding rule's null distribution (``gatelib.near_copies``): share of STS17's Arabic
    sentences (solid) and of unseen-image captions (dashed) whose nearest Flickr30k training caption
    reaches each base-model cosine, one colour per state of the training captions; the rule's
    threshold dotted."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.4), layout="constrained")
    states = list(dict.fromkeys(null["training captions"]))
    colours = dict(zip(states, sns.color_palette("colorblind", len(states))))
    for (state, queries), part in null.groupby(["training captions", "queries"], sort=False):
        ax.plot(part.threshold, part.share, color=colours[state], ls="--" if queries.startswith("unseen") else "-",
                label=f"{queries}, {state}")
    return _share_axes(ax, threshold, "base-model embedding cosine to the nearest training caption")

def _nearest_takeaway(table: pd.DataFrame, threshold: float) -> str:
    """How many STS17 Arabic sentences have a training text at or above ``threshold``, per set."""
    test = table[table.queries == "STS17 Arabic sentences"]
    n = test.groupby("training set", sort=False).size().iloc[0]
    above = test[test.similarity >= threshold].groupby("training set", sort=False).size()
    above = above.reindex(test["training set"].unique(), fill_value=0)
    listed = ", ".join(f"{name} {count}" for name, count in above.items())
    return (f"Of {n} STS17 Arabic sentences, those with a training text at cosine ≥ {threshold:g}: {listed}; "
            f"the closest reaches {test.similarity.max():.2f} ({test.loc[test.similarity.idxmax(), 'training set']}).")

def _embedding_null_takeaway(null: pd.DataFrame, threshold: float) -> str:
    """At the embedding rule's threshold: the share of STS17's sentences and of unseen-image captions
    with a training caption that close, for each state of the training captions."""
    at = null[(null.threshold - threshold).abs() < 1e-9]
    share = at.set_index(["training captions", "queries"]).share
    parts = "; ".join(f"{state}: STS17 {100 * share[state, 'STS17 Arabic sentences']:.1f} %, unseen-image captions "
                      f"{100 * share[state, 'unseen-image captions']:.1f} %" for state in dict.fromkeys(at["training captions"]))
    return f"Sentences with a training caption at embedding cosine ≥ {threshold:g} — {parts}."
