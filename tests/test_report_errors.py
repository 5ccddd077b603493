"""gatelib.report.errors: the error-analysis chapter's figures and takeaways."""
import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from gatelib.report import errors as error_report  # noqa: E402


def _errors():
    return pd.DataFrame([{"config": c, "task": "t", "pair": i, "gold": g / 5, "gold_bin": f"{int(g)}–{int(g) + 1}",
                          "residual": r, "overlap": o}
                         for c, shift in (("zero-shot", 0.2), ("mrl", 0.0))
                         for i, (g, r, o) in enumerate([(0.5, 0.3, 0.1), (0.2, -0.1, 0.0), (4.5, -0.2, 0.6), (4.2, 0.1, 0.7)])
                         for r in (r + shift,)])


def test_residual_boxes_and_their_takeaway():
    figure, text = error_report.residual_boxes(_errors())
    assert figure.axes[0].get_xlabel() == "gold similarity (0–5)"
    assert text == ("zero-shot over-rates 100 % of pairs with gold < 1 and 50 % of pairs with gold ≥ 4; "
                    "mrl over-rates 50 % of pairs with gold < 1 and 50 % of pairs with gold ≥ 4.")


def test_overlap_takeaway_and_table():
    effect = pd.DataFrame([{"task": "t", "config": "a", "n_pairs": 4, "spearman": 10.0, "spearman_ci_low": -5.0,
                            "spearman_ci_high": 20.0, "spearman_excludes_zero": False, "partial": 50.0,
                            "partial_ci_low": 40.0, "partial_ci_high": 60.0, "partial_excludes_zero": True},
                           {"task": "t", "config": "b", "n_pairs": 4, "spearman": 1.0, "spearman_ci_low": -5.0,
                            "spearman_ci_high": 6.0, "spearman_excludes_zero": False, "partial": 5.0,
                            "partial_ci_low": -3.0, "partial_ci_high": 12.0, "partial_excludes_zero": False}])
    figure, text = error_report.residual_scatter(_errors(), effect, "t")
    assert len(figure.axes) == 2  # a panel per config
    assert text.endswith("no consistent overlap effect across configs.")
    assert "more shared words" in error_report.residual_scatter(_errors(), effect[effect.config == "a"], "t")[1]
    table = error_report.overlap_effect_table(effect)
    assert table.loc[0, "partial ρ given gold"] == "+50.0 [+40.0, +60.0] *"
    assert table.loc[1, "ρ(overlap, residual)"] == "+1.0 [-5.0, +6.0]"
