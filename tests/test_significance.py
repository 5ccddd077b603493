"""gatelib.significance: seed summaries and paired bootstrap intervals on synthetic predictions."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from gatelib.significance import (comparison_by_pairs, comparison_table, comparisons_for, paired_bootstrap,
                                  seed_summary)


def predictions(noise_by_config, n=250, seeds=(0, 1, 2), dim=64):
    rng = np.random.default_rng(0)
    gold = rng.random(n)
    rows = []
    for config, noise in noise_by_config.items():
        for seed in seeds:
            cosine = gold + rng.normal(0, noise, n)
            rows.append(pd.DataFrame({"profile": "t", "config": config, "seed": seed, "task": "sts",
                                      "dim": dim, "pair": np.arange(n), "gold": gold, "cosine": cosine}))
    return pd.concat(rows, ignore_index=True)


def test_clear_gain_excludes_zero_and_matches_point_estimate():
    pred = predictions({"good": 0.1, "bad": 0.4})
    result = paired_bootstrap(pred, "good", "bad", "sts", 64, n_resamples=300)
    by_seed = lambda c: np.mean([stats.spearmanr(g.gold, g.cosine).statistic
                                 for _, g in pred[pred.config == c].groupby("seed")])
    assert result["difference"] == pytest.approx(100 * (by_seed("good") - by_seed("bad")))
    assert result["ci_low"] > 0 and result["excludes_zero"]
    assert result["seeds_a"] == result["seeds_b"] == 3 and result["n_pairs"] == 250


def test_same_model_gives_zero_difference_and_an_interval_around_it():
    pred = predictions({"a": 0.3})
    twin = pred.assign(config="b")
    result = paired_bootstrap(pd.concat([pred, twin]), "a", "b", "sts", 64, n_resamples=200)
    assert result["difference"] == 0 and result["ci_low"] <= 0 <= result["ci_high"]
    assert not result["excludes_zero"]


def test_same_seed_same_interval_and_missing_runs_are_named():
    pred = predictions({"a": 0.2, "b": 0.25})
    one = paired_bootstrap(pred, "a", "b", "sts", 64, n_resamples=200, seed=1)
    two = paired_bootstrap(pred, "a", "b", "sts", 64, n_resamples=200, seed=1)
    assert one == two
    with pytest.raises(KeyError, match="config 'c'"):
        paired_bootstrap(pred, "a", "c", "sts", 64)
    table = comparison_table(pred, [("a", "b"), ("a", "absent")], "sts", [64], n_resamples=100)
    assert list(table[["a", "b"]].itertuples(index=False, name=None)) == [("a", "b")]


def test_seed_summary():
    scores = pd.DataFrame({"config": ["m"] * 3 + ["z"], "task": "sts", "dim": 64,
                           "spearman_cosine": [70.0, 72.0, 74.0, 60.0]})
    table = seed_summary(scores).set_index("config")
    assert table.loc["m", "mean"] == 72.0 and table.loc["m", "std"] == pytest.approx(2.0)
    assert table.loc["m", "seeds"] == 3 and table.loc["z", "std"] == 0.0


def test_comparisons_follow_what_each_config_changes():
    assert comparisons_for(["zero-shot", "mnrl", "mrl", "hybrid-paper"]) == [
        ("mnrl", "zero-shot"), ("mrl", "zero-shot"), ("hybrid-paper", "zero-shot"),
        ("mrl", "mnrl"), ("hybrid-paper", "mrl")]
    # a baseline the profile does not train is not compared against; no zero-shot, no zero-shot rows
    assert comparisons_for(["mrl", "mrl-mined", "mrl-bilingual"]) == [("mrl-mined", "mrl"), ("mrl-bilingual", "mrl")]
    assert comparisons_for(["zero-shot", "mrl-mined"]) == [("mrl-mined", "zero-shot")]
    # a Matryoshka recipe is measured against MRL and against its own no-Matryoshka control
    assert comparisons_for(["mnrl", "mrl", "mrl-dialects", "mnrl-dialects"]) == [
        ("mrl", "mnrl"), ("mrl-dialects", "mrl"), ("mrl-dialects", "mnrl-dialects"), ("mnrl-dialects", "mnrl")]


def test_versus_profile_compares_each_shared_config_across_profiles():
    from gatelib.significance import versus_profile

    pred = predictions({"mrl": 0.1, "mnrl": 0.3}).assign(profile="fast")
    other = predictions({"mrl": 0.4, "mnrl": 0.3, "hybrid": 0.2}).assign(profile="seeds")
    table = versus_profile(pred, other, ["sts", "absent"], [64], n_resamples=200)
    assert list(zip(table.a, table.b)) == [("mrl@fast", "mrl@seeds"), ("mnrl@fast", "mnrl@seeds")]
    assert table.task.tolist() == ["sts", "sts"] and table.excludes_zero.tolist()[0] and table.difference.iloc[0] > 0
    assert versus_profile(pred, None, ["sts"], [64]).empty
    # a probe's own recipe against the recipe it changes, which only the baseline profile trained
    probe = predictions({"mnrl-dialects-guided": 0.1, "mrl": 0.3}).assign(profile="probes/guided")
    baseline = predictions({"mnrl-dialects": 0.4, "mrl": 0.3, "mnrl-dialects-guided": 0.2}).assign(profile="seeds")
    pairs = versus_profile(probe, baseline.query("config != 'mnrl-dialects-guided'"), ["sts"], [64], n_resamples=50)
    assert list(zip(pairs.a, pairs.b, pairs.family)) == [
        ("mrl@probes/guided", "mrl@seeds", "same recipe, another profile"),
        ("mnrl-dialects-guided@probes/guided", "mnrl-dialects@seeds", "one change to mnrl-dialects")]
    shared = versus_profile(probe, baseline, ["sts"], [64], n_resamples=50)  # it holds the recipe itself
    assert list(zip(shared.a, shared.b)) == [("mnrl-dialects-guided@probes/guided", "mnrl-dialects-guided@seeds"),
                                             ("mrl@probes/guided", "mrl@seeds")]
    with pytest.raises(ValueError, match="both sets of predictions are of profile 'fast'"):
        versus_profile(pred, pred, ["sts"], [64])


def test_interval_includes_seed_variance():
    """Two configs of equal quality but noisy seeds: the hierarchical interval is wider than the
    pairs-only one would be with seeds fixed, and a single seed has no seed level to resample."""
    rng = np.random.default_rng(1)
    pred = predictions({"a": 0.3, "b": 0.3})
    # seed-level shift: each seed of a gets its own systematic quality (training noise)
    shift = {0: 0.0, 1: 0.25, 2: 0.5}
    noisy = pred.copy()
    mask = noisy.config == "a"
    noisy.loc[mask, "cosine"] += noisy.loc[mask, "seed"].map(shift) * rng.normal(0, 1, mask.sum())
    both = paired_bootstrap(noisy, "a", "b", "sts", 64, n_resamples=400)
    one_seed = paired_bootstrap(noisy[noisy.seed == 2], "a", "b", "sts", 64, n_resamples=400)
    fixed = noisy[noisy.seed == 2].assign(seed=0)
    assert one_seed["seeds_a"] == 1 and one_seed["paired_seeds"]
    assert both["paired_seeds"] and both["seeds_a"] == 3
    # resampling seeds: the spread of the seed-level Spearman enters the interval
    width = both["ci_high"] - both["ci_low"]
    pairs_only = paired_bootstrap(pd.concat([fixed, fixed.assign(seed=1), fixed.assign(seed=2)]), "a", "b",
                                  "sts", 64, n_resamples=400)
    assert width > pairs_only["ci_high"] - pairs_only["ci_low"]
    assert 0 <= both["p_value"] <= 1


def test_families_and_false_discovery_control():
    from gatelib.significance import adjust_within_families, family_of

    assert family_of("mrl", "zero-shot") == "fine-tuned vs base model"
    assert family_of("mrl", "mnrl") == "Matryoshka vs its control"
    assert family_of("mrl-dialects", "mnrl-dialects") == "Matryoshka vs its control"
    assert family_of("mrl-mined", "mrl") == "one change to mrl"
    assert family_of("mrl@fast", "mrl@seeds") == "same recipe, another profile"
    assert family_of("mrl-small-dims@probes/small-dims", "mrl@seeds") == "one change to mrl"
    assert family_of("mrl-dialects@fast", "mnrl-dialects@seeds") == "Matryoshka vs its control"
    table = pd.DataFrame({"family": ["f"] * 4 + ["g"], "task": "sts", "p_value": [0.01, 0.02, 0.03, 0.5, 0.04]})
    adjusted = adjust_within_families(table)
    # Benjamini–Hochberg within f: 0.01·4/1, 0.02·4/2, 0.03·4/3 (monotone), 0.5; g alone keeps its p
    assert adjusted.p_adjusted.tolist() == pytest.approx([0.04, 0.04, 0.04, 0.5, 0.04])
    assert adjusted.significant.tolist() == [True, True, True, False, True]
    assert adjust_within_families(table.assign(p_value=[0.01, 0.02, 0.03, 0.5, 0.06])).significant.tolist()[-1] is False
    assert adjust_within_families(table.iloc[:0]).empty


def test_comparison_table_carries_family_and_adjusted_p():
    pred = predictions({"mrl": 0.1, "mnrl": 0.3, "zero-shot": 0.5})
    table = comparison_table(pred, [("mrl", "zero-shot"), ("mrl", "mnrl")], "sts", [64], n_resamples=200)
    assert table.family.tolist() == ["fine-tuned vs base model", "Matryoshka vs its control"]
    assert table.significant.all() and (table.p_adjusted >= table.p_value).all()


def test_comparison_by_pairs_bootstraps_each_part_on_its_own():
    good = predictions({"good": 0.1, "bad": 0.4})
    # on the first 50 pairs "bad" is the better model: the parts must tell the two regimes apart
    swap = good.pair < 50
    flipped = good.copy()
    flipped.loc[swap, "config"] = flipped.loc[swap, "config"].map({"good": "bad", "bad": "good"})
    parts = {"first": range(50), "rest": range(50, 250), "none": []}
    table = comparison_by_pairs(flipped, [("good", "bad")], "sts", [64], parts, n_resamples=200)
    assert list(table.task) == ["sts, first (50 pairs)", "sts, rest (200 pairs)"]  # the empty part is left out
    first, rest = table.iloc[0], table.iloc[1]
    assert first.difference < 0 < rest.difference and first.n_pairs == 50 and rest.n_pairs == 200
    alone = paired_bootstrap(flipped[flipped.pair >= 50], "good", "bad", "sts", 64, n_resamples=200)
    assert rest.difference == pytest.approx(alone["difference"])
    with pytest.raises(ValueError, match="every part of sts is empty"):
        comparison_by_pairs(flipped, [("good", "bad")], "sts", [64], {"none": []})


def test_run_labels_name_a_config_in_one_profile_and_round_trip():
    from gatelib.significance import config_of, labelled, run_label

    assert run_label("mrl", "probes/guided") == "mrl@probes/guided"
    assert config_of(run_label("mrl-dialects-guided", "probes/guided")) == "mrl-dialects-guided"
    assert config_of("mnrl") == "mnrl"
    rows = pd.DataFrame({"profile": ["seeds", "large"], "config": ["mrl", "mnrl"]})
    assert list(labelled(rows).config) == ["mrl@seeds", "mnrl@large"] and list(rows.config) == ["mrl", "mnrl"]
