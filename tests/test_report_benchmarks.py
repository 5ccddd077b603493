"""gatelib.report.benchmarks: the benchmarks chapter's tables, figures and takeaways."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from gatelib.report import benchmarks  # noqa: E402
from gatelib.reporting import CONFIG_COLOURS  # noqa: E402


def test_gain_over_zero_shot(two_seed_scores):
    scores = two_seed_scores
    gains = benchmarks.gain_table(scores, "sts17-ar-ar").set_index("gain over zero-shot")
    assert gains.loc["mrl", "64d"] == pytest.approx(74.5 - 65.5)


def test_measured_and_reported_are_labelled(two_seed_scores):
    scores = two_seed_scores
    table = benchmarks.measured_vs_reported(scores)
    assert set(table.source.str.split().str[0]) == {"measured", "reported"}
    assert "80.37" in table.to_string()  # GATE Table 3, E5-all-nli-triplet-Matryoshka
    assert table.loc[table.model.str.endswith("mrl"), "source"].item().startswith("measured (2 seeds")


def _comparisons():
    return pd.DataFrame([
        {"family": "Matryoshka vs its control", "a": "mrl", "b": "mnrl", "task": "t", "dim": 64,
         "difference": -1.0, "ci_low": -2.0, "ci_high": -0.1, "significant": True},
        {"family": "Matryoshka vs its control", "a": "mrl", "b": "mnrl", "task": "t", "dim": 32,
         "difference": 0.5, "ci_low": -0.5, "ci_high": 1.5, "significant": False},
        {"family": "fine-tuned vs base model", "a": "mrl", "b": "zero-shot", "task": "t", "dim": 64,
         "difference": 2.0, "ci_low": 0.5, "ci_high": 3.0, "significant": True},
    ])


def test_verdict_table_counts_point_estimates_and_claims_after_fdr():
    comparisons = _comparisons()
    table = benchmarks.verdict_table(comparisons).set_index("comparison")
    assert table.loc["mrl − mnrl"].tolist() == ["Matryoshka vs its control", 2, 1, 0, 1]
    assert table.loc["mrl − zero-shot"].tolist() == ["fine-tuned vs base model", 1, 1, 1, 0]
    # an interval that excludes zero but does not survive the family's control is no claim
    table = benchmarks.verdict_table(comparisons.assign(significant=False)).set_index("comparison")
    assert table.loc["mrl − mnrl"].tolist()[-2:] == [0, 0]
    cells = benchmarks.ci_table(comparisons).set_index("comparison")
    assert cells.loc["mrl − mnrl", "64 dims"].endswith(" *") and not cells.loc["mrl − mnrl", "32 dims"].endswith("*")


def test_forest_plot_has_a_panel_per_family_with_its_rows_colours_and_fill():
    comparisons = _comparisons()
    fig, _ = benchmarks.forest(comparisons, "t")
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["Matryoshka vs its control", "fine-tuned vs base model"]
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["mrl − mnrl"]
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(markers) == 2 and [m.get_xdata()[0] for m in markers] == [-1.0, 0.5]
    mrl = CONFIG_COLOURS["mrl"]
    assert all(tuple(m.get_color()[:3]) == tuple(mrl[:3]) for m in markers)
    assert [m.get_markerfacecolor() == "white" for m in markers] == [False, True]  # filled: holds after FDR
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["mrl − zero-shot"]
    with pytest.raises(ValueError, match="no comparisons"):
        benchmarks.forest(comparisons, "absent")


def test_forest_takeaway_counts_what_holds_and_names_the_largest():
    rows = pd.DataFrame([
        {"family": "f", "a": "mrl", "b": "mnrl", "task": "t", "dim": 64, "difference": -1.0, "ci_low": -2.0,
         "ci_high": -0.1, "significant": True},
        {"family": "f", "a": "mrl", "b": "mnrl", "task": "t", "dim": 32, "difference": 0.5, "ci_low": -0.5,
         "ci_high": 1.5, "significant": False},
        {"family": "g", "a": "mrl", "b": "zero-shot", "task": "t", "dim": 64, "difference": 9.0, "ci_low": 8.0,
         "ci_high": 10.0, "significant": True}])
    text = benchmarks.forest(rows, "t")[1]
    first, second = text.split("]. ")
    assert first.startswith("f: 1 of 2 differences hold at a 5% false discovery rate (0 in favour")
    assert first.endswith("largest mrl − mnrl at 64 dims, -1.00 [-2.00, -0.10")
    assert second.startswith("g: 1 of 1 differences hold") and second.endswith("+9.00 [+8.00, +10.00].")


def _probe_rows(config, seed, offset):
    return [{"profile": "p", "config": config, "seed": seed, "task": task, "dim": dim,
             "spearman_cosine": 70.0 + offset + dim / 100, "commit": "abc", "data_checksum": "d"}
            for task, dims in benchmarks.PROBE_CELLS for dim in dims]


def test_probe_differences_pair_each_probe_with_the_same_seed_of_the_baseline():
    baseline = pd.DataFrame(_probe_rows("base", 0, 0.0) + _probe_rows("base", 1, 1.0))
    probes = pd.DataFrame(_probe_rows("knob", 1, 0.5) + _probe_rows("other", 0, -2.0))
    table = benchmarks.probe_difference_table(probes, baseline).set_index("probe")
    assert table.loc["knob", "sts17-ar-ar 384 / 64 / 32"] == "-0.50 / -0.50 / -0.50"  # seed 1: 70.5 vs 71
    assert table.loc["other", "sts17-en-ar 384"] == "-2.00"
    assert list(table.seed) == [1, 0]
    with pytest.raises(ValueError, match="no score for"):
        benchmarks.probe_difference_table(pd.DataFrame(_probe_rows("knob", 2, 0.0)), baseline)


def test_probe_tables_are_empty_for_a_profile_without_probes():
    from gatelib import reporting

    assert benchmarks.probe_difference_table(benchmarks.read_probe_scores(()), benchmarks.read_baseline_scores("")).empty
    scores, comparisons = benchmarks.read_probe_comparisons(())
    assert scores.empty and comparisons.empty and benchmarks.ci_table(comparisons).empty
    assert reporting.provenance_of(scores) == "no scores"


def test_missing_probe_results_name_the_command_that_writes_them(tmp_path, monkeypatch):
    from gatelib import profiles

    monkeypatch.setattr(profiles, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(benchmarks, "PROJECT_ROOT", tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m gatelib.train --profile probes/scale100"):
        benchmarks.read_probe_scores(["probes/scale100"])
    with pytest.raises(FileNotFoundError, match="results/probes/guided/predictions.csv.gz"):
        benchmarks.read_probe_comparisons(["probes/guided"])


def test_probe_runs_are_named_by_their_probe_and_kept_when_comparable_with_the_baseline():
    """The committed probes: each config is labelled config@probe; against seeds/mnrl-dialects only
    the runs of mnrl-dialects itself or of a recipe that changes it are kept."""
    scores = benchmarks.read_probe_scores(["probes/lr5e-5", "probes/guided"])
    assert set(scores.config) == {"mnrl-dialects@probes/lr5e-5", "mnrl-dialects-guided@probes/guided",
                                  "mrl-dialects-guided@probes/guided"}
    kept = benchmarks.read_probe_scores(["probes/lr5e-5", "probes/guided"], baseline="seeds/mnrl-dialects")
    assert set(kept.config) == {"mnrl-dialects@probes/lr5e-5", "mnrl-dialects-guided@probes/guided"}
    assert sorted(kept.groupby("config").seed.nunique()) == [1, 3]
    table = benchmarks.probe_differences(kept, benchmarks.read_baseline_scores("seeds/mnrl-dialects"))
    assert len(table) == 4 and table.notna().all().all()


def test_probe_differences_as_numbers_and_their_heat_map():
    baseline = pd.DataFrame(_probe_rows("base", 0, 0.0) + _probe_rows("base", 1, 1.0))
    probes = pd.DataFrame(_probe_rows("knob", 1, 0.5) + _probe_rows("other", 0, -2.0))
    table = benchmarks.probe_differences(probes, baseline)
    assert list(table.index) == [("knob", 1), ("other", 0)]
    assert table.loc[("knob", 1), "sts17-ar-ar 64"] == pytest.approx(-0.5)
    assert table.loc[("other", 0), "sts17-en-ar 384"] == pytest.approx(-2.0)
    assert table.shape[1] == sum(len(dims) for _, dims in benchmarks.PROBE_CELLS)
    figure, text = benchmarks.probe_map(probes, baseline)
    assert text.startswith("0 of 2 probe runs beat the baseline on sts17-ar-ar 384")
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert texts.count("-0.5") == table.shape[1] and texts.count("-2.0") == table.shape[1]
    plt.close(figure)
    empty = benchmarks.read_probe_scores(())
    assert benchmarks.probe_differences(empty, baseline).empty
    blank, text = benchmarks.probe_map(empty, baseline)
    assert text == "No probe runs."
    assert not blank.axes  # the section is off the page
    plt.close(blank)


def test_probe_takeaway_counts_the_runs_ahead_and_names_the_extremes():
    differences = pd.DataFrame({"sts17-ar-ar 384": [0.5, -1.0], "stsb-ar-mt 384": [-0.2, 2.0]},
                               index=pd.MultiIndex.from_tuples([("a", 0), ("b", 0)], names=["config", "seed"]))
    text = benchmarks._probes_takeaway(differences)
    assert text.startswith("1 of 2 probe runs beat the baseline on sts17-ar-ar 384, 1 on stsb-ar-mt 384")
    assert benchmarks._probes_takeaway(differences.iloc[:0]) == "No probe runs."
    assert "largest gain +2.00 (b seed 0, stsb-ar-mt 384)" in text and "largest loss -1.00 (b seed 0, sts17-ar-ar 384)" in text


def test_seeds_table_by_task_keeps_the_task_order():
    summary = pd.DataFrame({"config": ["a", "a", "b"], "task": ["y", "x", "x"], "dim": [64, 64, 64],
                            "mean": [1.0, 2.0, 3.0], "std": [0.0, 0.1, 0.2], "seeds": [3, 3, 1]})
    table = benchmarks.seeds_table_by_task(summary, ["y", "x"], (64,))
    assert list(table["config (task)"]) == ["a (y)", "a (x)", "b (x)"]
    assert table.loc[1, "64 dims"] == "2.00 ± 0.10 (n=3)"
    assert table.loc[2, "64 dims"] == "3.00 (1 run)"  # one run has no spread to show


def test_throughput_table_and_takeaway_are_relative_to_todays_recipe(tmp_path):
    assert benchmarks.read_throughput(tmp_path).empty and benchmarks.throughput_table(benchmarks.read_throughput(tmp_path)).empty
    rows = pd.DataFrame({"lever": ["fp32", "bf16", "1-thread"], "precision": ["fp32", "bf16", "fp32"],
                         "vocab": [250002] * 3, "threads": [2, 2, 1], "pairs_per_s": [10.0, 25.0, 7.0],
                         "peak_rss_mb": [6000, 5900, 6000], "batch_size": [64] * 3, "gpu_speedups": [False] * 3})
    rows.to_csv(tmp_path / "throughput.csv", index=False)
    read = benchmarks.read_throughput(tmp_path)
    assert benchmarks.throughput_table(read)["× first row"].tolist() == [1.0, 2.5, 0.7]
    figure, text = benchmarks.throughput_bars(read)
    assert text.startswith("bf16 trains 2.5× as many pairs per second as fp32 (25 vs 10)") and "1-thread 0.7×" in text
    assert figure.axes[0].get_xlabel() == "training pairs per second"


def test_a_gpu_throughput_table_is_read_by_batch_size_and_speed_ups(tmp_path):
    pd.DataFrame({"lever": ["batch 64", "batch 64, fused AdamW + TF32"], "hardware": ["cuda:H200"] * 2,
                  "config": ["mrl"] * 2, "batch_size": [64, 64], "gpu_speedups": [False, True], "steps": [19, 19],
                  "step_ms": [145.0, 140.0], "pairs_per_s": [161, 447]}).to_csv(tmp_path / "throughput.csv", index=False)
    table = benchmarks.throughput_table(benchmarks.read_throughput(tmp_path))
    assert table.setting.tolist() == ["batch 64", "batch 64, fused AdamW + TF32"]
    assert table["× first row"].tolist() == [1.0, 2.78]
