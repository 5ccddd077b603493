"""gatelib.error_analysis: rank residuals, gold bins, the overlap test and the worst pairs."""
import numpy as np
import pandas as pd
import pytest
from datasets import Dataset
from scipy import stats

from gatelib import error_analysis as E


def test_word_overlap_normalises_and_handles_empty():
    assert E.word_overlap("القطة تجلس", "القطّة  تجلس") == 1.0  # shadda and spaces normalised away
    assert E.word_overlap("a b c", "c d") == pytest.approx(1 / 4)
    assert E.word_overlap("...", "a") == 0.0


def _case(cosines_by_seed, gold, texts=None):
    n = len(gold)
    texts = texts or [(f"s{i} x", f"t{i} x") for i in range(n)]
    dataset = Dataset.from_dict({"sentence1": [a for a, _ in texts], "sentence2": [b for _, b in texts],
                                 "score": gold})
    rows = [{"config": "m", "task": "t", "dim": 8, "seed": s, "pair": i, "gold": gold[i], "cosine": c}
            for s, cos in enumerate(cosines_by_seed) for i, c in enumerate(cos)]
    return pd.DataFrame(rows), dataset


def test_rank_residual_sign_and_seed_mean():
    gold = [0.0, 0.25, 0.5, 1.0]
    # seed mean cosines 0.9, 0.2, 0.3, 0.4: pair 0 is ranked top but has the lowest gold
    preds, ds = _case([[0.8, 0.1, 0.3, 0.4], [1.0, 0.3, 0.3, 0.4]], gold)
    errors = E.pair_errors(preds, ds, "m", "t", 8)
    assert list(errors.columns) == E.ERROR_COLUMNS and (errors.seeds == 2).all()
    assert errors.residual.tolist() == pytest.approx([0.75, -0.25, -0.25, -0.25])
    assert errors.residual.sum() == pytest.approx(0.0)
    with pytest.raises(ValueError, match="do not match"):
        E.pair_errors(preds, ds.select(range(3)), "m", "t", 8)
    with pytest.raises(KeyError):
        E.pair_errors(preds, ds, "m", "t", 16)


def test_bins_and_worst_pairs():
    gold = [0.0, 0.1, 0.5, 0.9, 1.0]
    preds, ds = _case([[0.9, 0.1, 0.5, 0.2, 1.0]], gold)
    errors = E.pair_errors(preds, ds, "m", "t", 8)
    bins = E.errors_by_gold_bin(errors)
    assert bins.pairs.sum() == 5 and bins.gold_bin.astype(str).tolist() == ["[0, 1)", "[2, 3)", "[4, 5]"]
    assert bins.set_index("gold_bin").loc["[0, 1)", "over_estimated"] == 0.5
    worst = E.worst_pairs(errors, ds, "m", n=1)
    assert worst.error.tolist() == ["over-estimated", "under-estimated"]
    assert worst.pair.tolist() == [0, 3] and worst.gold.tolist() == pytest.approx([0.0, 4.5])
    assert worst.sentence1.tolist() == ["s0 x", "s3 x"]


def test_overlap_effect_finds_a_planted_effect_and_not_a_missing_one():
    rng = np.random.default_rng(0)
    n = 200
    gold = rng.uniform(0, 1, n)
    shared = rng.integers(0, 4, n)  # number of shared words out of 4
    texts = [(" ".join(f"w{k}" for k in range(4)), " ".join(f"w{k}" if k < s else f"v{i}{k}" for k in range(4)))
             for i, s in enumerate(shared)]
    inflated = gold + 0.3 * shared + rng.normal(0, 0.05, n)  # overlap pushes the cosine up
    preds, ds = _case([inflated], gold.tolist(), texts)
    effect = E.overlap_effect(E.pair_errors(preds, ds, "m", "t", 8), n_resamples=200)
    assert effect.spearman_excludes_zero.item() and effect.spearman_ci_low.item() > 0
    assert effect.partial_excludes_zero.item() and effect.partial_ci_low.item() > 0
    preds, ds = _case([gold + rng.normal(0, 0.05, n)], gold.tolist(), texts)
    effect = E.overlap_effect(E.pair_errors(preds, ds, "m", "t", 8), n_resamples=200)
    assert not effect.spearman_excludes_zero.item() and not effect.partial_excludes_zero.item()


def test_partial_correlation_removes_a_shared_cause():
    rng = np.random.default_rng(1)
    gold = rng.normal(size=500)
    x, y = gold + rng.normal(0, 0.3, 500), gold + rng.normal(0, 0.3, 500)  # related only through gold
    assert stats.spearmanr(x, y).statistic > 0.8
    assert abs(E._partial_spearman(x, y, gold)) < 0.15  # rank-linear adjustment: small leftover
