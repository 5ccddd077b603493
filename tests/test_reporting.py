import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from gatelib import reporting


def test_dims_table_means_over_seeds_largest_dim_first(two_seed_scores):
    scores = two_seed_scores
    table = reporting.dims_table(scores, "sts17-ar-ar").set_index("config")
    assert list(table.columns) == ["384d", "64d"]
    assert table.loc["mrl", "384d"] == pytest.approx(75.5)
    assert table.loc["zero-shot", "64d"] == pytest.approx(65.5)


def test_retention_is_relative_to_the_largest_dim(two_seed_scores):
    scores = two_seed_scores
    kept = reporting.retention_table(scores, "sts17-ar-ar").set_index("retained % (config)")
    assert kept.loc["zero-shot", "384d"] == pytest.approx(100)
    assert kept.loc["zero-shot", "64d"] == pytest.approx(100 * 65.5 / 70.5)


def test_provenance_of_names_every_tag(two_seed_scores):
    scores = two_seed_scores
    line = reporting.provenance_of(scores)
    assert line == "profile=t seeds=0,1 commit=abc data=sha256:d hardware=cpu"


def test_plot_has_one_line_per_config(two_seed_scores):
    scores = two_seed_scores
    ax = reporting.plot_score_vs_dim(scores, "sts17-ar-ar")
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"zero-shot", "mrl"}


def test_one_colour_per_config_everywhere(two_seed_scores):
    scores = two_seed_scores
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


def test_markdown_table_as_text_keeps_signed_differences():
    table = pd.DataFrame({"probe": ["a"], "384": ["+1.00"]})
    assert "+1.00" in reporting.markdown_table(table, as_text=True).data
    assert "+1.00" not in reporting.markdown_table(table).data


