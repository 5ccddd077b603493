import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from gatelib import reporting


@pytest.fixture
def scores():
    rows = []
    for config, base in [("zero-shot", 70.0), ("mrl", 75.0)]:
        for seed in (0, 1):
            for dim, drop in [(384, 0.0), (64, 5.0)]:
                value = base - drop * (1.0 if config == "zero-shot" else 0.2) + seed
                rows.append({"profile": "t", "config": config, "seed": seed, "task": "sts17-ar-ar",
                             "dim": dim, "spearman_cosine": value, "pearson_cosine": value,
                             "commit": "abc", "data_checksum": "d", "hardware": "cpu"})
    return pd.DataFrame(rows)


def test_dims_table_means_over_seeds_largest_dim_first(scores):
    table = reporting.dims_table(scores, "sts17-ar-ar").set_index("config")
    assert list(table.columns) == ["384d", "64d"]
    assert table.loc["mrl", "384d"] == pytest.approx(75.5)
    assert table.loc["zero-shot", "64d"] == pytest.approx(65.5)


def test_gain_and_retention(scores):
    gains = reporting.gain_table(scores, "sts17-ar-ar").set_index("gain over zero-shot")
    assert gains.loc["mrl", "64d"] == pytest.approx(74.5 - 65.5)
    kept = reporting.retention_table(scores, "sts17-ar-ar").set_index("retained % (config)")
    assert kept.loc["zero-shot", "384d"] == pytest.approx(100)
    assert kept.loc["zero-shot", "64d"] == pytest.approx(100 * 65.5 / 70.5)


def test_measured_and_reported_are_labelled(scores):
    table = reporting.measured_vs_reported(scores)
    assert set(table.source.str.split().str[0]) == {"measured", "reported"}
    assert "80.37" in table.to_string()  # GATE Table 3, E5-all-nli-triplet-Matryoshka
    assert table.loc[table.model.str.endswith("mrl"), "source"].item().startswith("measured (2 seeds")


def test_provenance_of_names_every_tag(scores):
    line = reporting.provenance_of(scores)
    assert line == "profile=t seeds=0,1 commit=abc data=sha256:d hardware=cpu"


def test_plot_has_one_line_per_config(scores):
    ax = reporting.plot_score_vs_dim(scores, "sts17-ar-ar")
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"zero-shot", "mrl"}


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
    table = reporting.verdict_table(comparisons).set_index("comparison")
    assert table.loc["mrl − mnrl"].tolist() == ["Matryoshka vs its control", 2, 1, 0, 1]
    assert table.loc["mrl − zero-shot"].tolist() == ["fine-tuned vs base model", 1, 1, 1, 0]
    # an interval that excludes zero but does not survive the family's control is no claim
    table = reporting.verdict_table(comparisons.assign(significant=False)).set_index("comparison")
    assert table.loc["mrl − mnrl"].tolist()[-2:] == [0, 0]
    cells = reporting.ci_table(comparisons).set_index("comparison")
    assert cells.loc["mrl − mnrl", "64 dims"].endswith(" *") and not cells.loc["mrl − mnrl", "32 dims"].endswith("*")


def test_forest_plot_has_a_panel_per_family_with_its_rows_colours_and_fill():
    comparisons = _comparisons()
    fig = reporting.plot_forest(comparisons, "t")
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["Matryoshka vs its control", "fine-tuned vs base model"]
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["mrl − mnrl"]
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    assert len(markers) == 2 and [m.get_xdata()[0] for m in markers] == [-1.0, 0.5]
    mrl = reporting.CONFIG_COLOURS["mrl"]
    assert all(tuple(m.get_color()[:3]) == tuple(mrl[:3]) for m in markers)
    assert [m.get_markerfacecolor() == "white" for m in markers] == [False, True]  # filled: holds after FDR
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["mrl − zero-shot"]
    with pytest.raises(ValueError, match="no comparisons"):
        reporting.plot_forest(comparisons, "absent")


def test_one_colour_per_config_everywhere(scores):
    ax = reporting.plot_score_vs_dim(scores, "sts17-ar-ar")
    colours = {line.get_label(): line.get_color() for line in ax.get_legend().get_lines()}
    assert tuple(colours["mrl"][:3]) == tuple(reporting.CONFIG_COLOURS["mrl"][:3])
    assert reporting.config_palette(["mrl@fast", "probe-x"]) == {
        "mrl@fast": reporting.CONFIG_COLOURS["mrl"], "probe-x": (0.5, 0.5, 0.5)}


def test_training_loss_plot_has_a_panel_per_config_in_its_colour():
    history = pd.DataFrame({"step": [1, 2, 1, 2, 1, 2], "loss": [3.0, 2.0, 3.5, 2.5, 9.0, 4.0],
                            "run": ["mrl seed 0"] * 2 + ["mrl seed 1"] * 2 + ["mnrl seed 0"] * 2})
    figure = reporting.plot_training_loss(history, col_wrap=4)
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["mrl", "mnrl"]
    assert [len(ax.get_lines()) for ax in visible] == [2, 1]  # one line per seed
    assert tuple(visible[0].get_lines()[0].get_color()[:3]) == tuple(reporting.CONFIG_COLOURS["mrl"][:3])
    assert visible[0].get_yscale() == "log"
    plt.close(figure)


def test_history_keeps_loss_rows_and_time_table_keeps_totals():
    histories = [{"step": 10, "loss": 2.0, "run": "mrl seed 0"}, {"step": 20, "loss": 1.5, "run": "mrl seed 0"},
                 {"step": 20, "train_runtime": 4.0, "train_samples_per_second": 320.0, "run": "mrl seed 0"},
                 {"step": 5, "loss": 1.0, "run": "mnrl seed 0"}]  # a run finished before totals were kept
    assert reporting.history_frame(histories).to_dict("list") == {
        "step": [10, 20, 5], "loss": [2.0, 1.5, 1.0], "run": ["mrl seed 0", "mrl seed 0", "mnrl seed 0"]}
    table = reporting.training_time_table(histories)
    assert table.to_dict("records") == [{"run": "mrl seed 0", "steps": 20, "seconds": 4.0, "examples/s": 320.0}]
    assert reporting.training_time_table(histories[:2]).empty  # no totals at all
    assert reporting.history_frame([{"step": 2, "train_runtime": 1.0, "run": "x"}]).empty  # too short to log a loss


def _probe_rows(config, seed, offset):
    return [{"profile": "p", "config": config, "seed": seed, "task": task, "dim": dim,
             "spearman_cosine": 70.0 + offset + dim / 100, "commit": "abc", "data_checksum": "d"}
            for task, dims in reporting.PROBE_CELLS for dim in dims]


def test_probe_differences_pair_each_probe_with_the_same_seed_of_the_baseline():
    baseline = pd.DataFrame(_probe_rows("base", 0, 0.0) + _probe_rows("base", 1, 1.0))
    probes = pd.DataFrame(_probe_rows("knob", 1, 0.5) + _probe_rows("other", 0, -2.0))
    table = reporting.probe_difference_table(probes, baseline).set_index("probe")
    assert table.loc["knob", "sts17-ar-ar 384 / 64 / 32"] == "-0.50 / -0.50 / -0.50"  # seed 1: 70.5 vs 71
    assert table.loc["other", "sts17-en-ar 384"] == "-2.00"
    assert list(table.seed) == [1, 0]
    with pytest.raises(ValueError, match="no score for"):
        reporting.probe_difference_table(pd.DataFrame(_probe_rows("knob", 2, 0.0)), baseline)


def test_probe_tables_are_empty_for_a_profile_without_probes():
    assert reporting.probe_difference_table(reporting.read_probe_scores(()), reporting.read_baseline_scores("")).empty
    scores, comparisons = reporting.read_probe_comparisons(())
    assert scores.empty and comparisons.empty and reporting.ci_table(comparisons).empty
    assert reporting.provenance_of(scores) == "no scores"


def test_missing_probe_results_name_the_command_that_writes_them(tmp_path, monkeypatch):
    from gatelib import profiles

    monkeypatch.setattr(profiles, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(reporting, "PROJECT_ROOT", tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m gatelib.train --profile probes/scale100"):
        reporting.read_probe_scores(["probes/scale100"])
    with pytest.raises(FileNotFoundError, match="results/probes/guided/predictions.csv.gz"):
        reporting.read_probe_comparisons(["probes/guided"])


def test_probe_runs_are_named_by_their_probe_and_kept_when_comparable_with_the_baseline():
    """The committed probes: each config is labelled config@probe; against seeds/mnrl-dialects only
    the runs of mnrl-dialects itself or of a recipe that changes it are kept."""
    scores = reporting.read_probe_scores(["probes/lr5e-5", "probes/guided"])
    assert set(scores.config) == {"mnrl-dialects@probes/lr5e-5", "mnrl-dialects-guided@probes/guided",
                                  "mrl-dialects-guided@probes/guided"}
    kept = reporting.read_probe_scores(["probes/lr5e-5", "probes/guided"], baseline="seeds/mnrl-dialects")
    assert set(kept.config) == {"mnrl-dialects@probes/lr5e-5", "mnrl-dialects-guided@probes/guided"}
    assert sorted(kept.groupby("config").seed.nunique()) == [1, 3]
    table = reporting.probe_differences(kept, reporting.read_baseline_scores("seeds/mnrl-dialects"))
    assert len(table) == 4 and table.notna().all().all()


def test_seeds_table_by_task_keeps_the_task_order():
    summary = pd.DataFrame({"config": ["a", "a", "b"], "task": ["y", "x", "x"], "dim": [64, 64, 64],
                            "mean": [1.0, 2.0, 3.0], "std": [0.0, 0.1, 0.2], "seeds": [3, 3, 1]})
    table = reporting.seeds_table_by_task(summary, ["y", "x"], (64,))
    assert list(table["config (task)"]) == ["a (y)", "a (x)", "b (x)"]
    assert table.loc[1, "64 dims"] == "2.00 ± 0.10 (n=3)"
    assert table.loc[2, "64 dims"] == "3.00 (1 run)"  # one run has no spread to show


def test_markdown_table_as_text_keeps_signed_differences():
    table = pd.DataFrame({"probe": ["a"], "384": ["+1.00"]})
    assert "+1.00" in reporting.markdown_table(table, as_text=True).data
    assert "+1.00" not in reporting.markdown_table(table).data


def test_throughput_table_and_takeaway_are_relative_to_todays_recipe(tmp_path):
    from gatelib import captions

    assert reporting.read_throughput(tmp_path).empty and reporting.throughput_table(reporting.read_throughput(tmp_path)).empty
    rows = pd.DataFrame({"lever": ["fp32", "bf16", "1-thread"], "precision": ["fp32", "bf16", "fp32"],
                         "vocab": [250002] * 3, "threads": [2, 2, 1], "pairs_per_s": [10.0, 25.0, 7.0],
                         "peak_rss_mb": [6000, 5900, 6000], "batch_size": [64] * 3, "gpu_speedups": [False] * 3})
    rows.to_csv(tmp_path / "throughput.csv", index=False)
    read = reporting.read_throughput(tmp_path)
    assert reporting.throughput_table(read)["× first row"].tolist() == [1.0, 2.5, 0.7]
    text = captions.throughput_takeaway(read)
    assert text.startswith("bf16 trains 2.5× as many pairs per second as fp32 (25 vs 10)") and "1-thread 0.7×" in text
    assert reporting.plot_throughput(read).get_xlabel() == "training pairs per second"


def test_a_gpu_throughput_table_is_read_by_batch_size_and_speed_ups(tmp_path):
    pd.DataFrame({"lever": ["batch 64", "batch 64, fused AdamW + TF32"], "hardware": ["cuda:H200"] * 2,
                  "config": ["mrl"] * 2, "batch_size": [64, 64], "gpu_speedups": [False, True], "steps": [19, 19],
                  "step_ms": [145.0, 140.0], "pairs_per_s": [161, 447]}).to_csv(tmp_path / "throughput.csv", index=False)
    table = reporting.throughput_table(reporting.read_throughput(tmp_path))
    assert table.setting.tolist() == ["batch 64", "batch 64, fused AdamW + TF32"]
    assert table["× first row"].tolist() == [1.0, 2.78]


def test_near_copy_plot_has_a_curve_per_set_and_the_threshold():
    table = pd.DataFrame({"training set": ["a"] * 4 + ["b"] * 4, "queries": ["STS17 Arabic sentences"] * 8,
                          "similarity": [0.1, 0.5, 0.8, 1.0, 0.2, 0.3, 0.4, 0.6]})
    ax = reporting.plot_nearest_training_text(table, 0.7)
    assert len(ax.get_lines()) == 3 and ax.get_lines()[-1].get_xdata()[0] == 0.7  # two curves, one threshold
    assert ax.get_yscale() == "log"


def test_probe_differences_as_numbers_and_their_heat_map():
    baseline = pd.DataFrame(_probe_rows("base", 0, 0.0) + _probe_rows("base", 1, 1.0))
    probes = pd.DataFrame(_probe_rows("knob", 1, 0.5) + _probe_rows("other", 0, -2.0))
    table = reporting.probe_differences(probes, baseline)
    assert list(table.index) == [("knob", 1), ("other", 0)]
    assert table.loc[("knob", 1), "sts17-ar-ar 64"] == pytest.approx(-0.5)
    assert table.loc[("other", 0), "sts17-en-ar 384"] == pytest.approx(-2.0)
    assert table.shape[1] == sum(len(dims) for _, dims in reporting.PROBE_CELLS)
    figure = reporting.plot_probe_differences(probes, baseline)
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert texts.count("-0.5") == table.shape[1] and texts.count("-2.0") == table.shape[1]
    plt.close(figure)
    empty = reporting.read_probe_scores(())
    assert reporting.probe_differences(empty, baseline).empty
    blank = reporting.plot_probe_differences(empty, baseline)
    assert not blank.axes  # the section is off the page
    plt.close(blank)


def test_embedding_null_plot_draws_a_curve_per_state_and_query():
    null = pd.DataFrame([{"training captions": s, "queries": q, "threshold": t, "share": 1 - t / 2}
                         for s in ("before the rule", "after both rules")
                         for q in ("STS17 Arabic sentences", "unseen-image captions") for t in (0.9, 0.95, 1.0)])
    ax = reporting.plot_embedding_null(null, 0.98)
    assert len([line for line in ax.get_lines() if len(line.get_xdata()) == 3]) == 4
    assert [line.get_linestyle() for line in ax.get_lines()][:2] == ["-", "--"]
    plt.close(ax.figure)
