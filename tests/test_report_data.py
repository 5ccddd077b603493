"""gatelib.report.data: the data chapter's figures and takeaways."""
import matplotlib

matplotlib.use("Agg")

import datasets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from gatelib.report import data as data_report  # noqa: E402


def test_near_copy_plot_has_a_curve_per_set_and_the_threshold():
    table = pd.DataFrame({"training set": ["a"] * 4 + ["b"] * 4, "queries": ["STS17 Arabic sentences"] * 8,
                          "similarity": [0.1, 0.5, 0.8, 1.0, 0.2, 0.3, 0.4, 0.6]})
    figure, _ = data_report.near_copy_curves(table, 0.7)
    ax = figure.axes[0]
    assert len(ax.get_lines()) == 3 and ax.get_lines()[-1].get_xdata()[0] == 0.7  # two curves, one threshold
    assert ax.get_yscale() == "log"

def test_nearest_takeaway_counts_sentences_at_the_threshold_per_set():
    table = pd.DataFrame({
        "training set": ["a", "a", "a", "b", "b", "b", "b"],
        "queries": ["STS17 Arabic sentences"] * 3 + ["STS17 Arabic sentences"] * 3 + ["unseen-image captions"],
        "similarity": [0.2, 0.75, 1.0, 0.1, 0.3, 0.69, 0.99],
    })
    _, text = data_report.near_copy_curves(table, 0.7)
    assert text.startswith("Of 3 STS17 Arabic sentences") and "a 2, b 0" in text  # captions of unseen images not counted
    assert "reaches 1.00 (a)" in text

def test_embedding_null_plot_draws_a_curve_per_state_and_query():
    null = pd.DataFrame([{"training captions": s, "queries": q, "threshold": t, "share": 1 - t / 2}
                         for s in ("before the rule", "after both rules")
                         for q in ("STS17 Arabic sentences", "unseen-image captions") for t in (0.9, 0.95, 1.0)])
    figure, _ = data_report.embedding_null_curves(null, 0.98)
    ax = figure.axes[0]
    assert len([line for line in ax.get_lines() if len(line.get_xdata()) == 3]) == 4
    assert [line.get_linestyle() for line in ax.get_lines()][:2] == ["-", "--"]
    plt.close(ax.figure)

def test_embedding_null_takeaway_gives_each_state_and_query():
    null = pd.DataFrame([{"training captions": s, "queries": q, "threshold": t, "share": share}
                         for s, base in (("before the rule", 0.10), ("after both rules", 0.02))
                         for q, share_at in (("STS17 Arabic sentences", base), ("unseen-image captions", 0.05))
                         for t, share in ((0.975, 0.5), (0.98, share_at))])
    _, text = data_report.embedding_null_curves(null, 0.98)
    assert "before the rule: STS17 10.0 %, unseen-image captions 5.0 %" in text
    assert "after both rules: STS17 2.0 %" in text


def test_eval_set_shapes_and_their_takeaway():
    sets = {"a": datasets.Dataset.from_dict({"sentence1": ["xx", "xxxx"], "sentence2": ["xxxxxx", "xx"], "score": [0.1, 0.9]})}
    figure, text = data_report.eval_set_shapes(sets)
    assert len(figure.axes) == 2 and figure.axes[1].get_xlabel() == "mean sentence length (characters)"
    assert text == "a 2 pairs, median 3 characters."
    plt.close(figure)
