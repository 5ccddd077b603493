import numpy as np
import pytest
from scipy.stats import spearmanr

from gatelib.evaluation import evaluate_model, read_predictions, sts_scores
from gatelib.results import mark_trained_precision


def test_sts_scores_match_scipy_on_truncated_cosine():
    rng = np.random.default_rng(0)
    left, right = rng.normal(size=(50, 16)), rng.normal(size=(50, 16))
    gold = rng.uniform(size=50)
    table = sts_scores(left, right, gold, [16, 4])
    a, b = left[:, :4], right[:, :4]
    cosine = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert table.loc[table.dim == 4, "spearman_cosine"].item() == pytest.approx(100 * spearmanr(gold, cosine).statistic)
    assert list(table.dim) == [16, 4] and (table.n_pairs == 50).all()


@pytest.fixture(scope="module")
def e5():
    from gatelib.models import BUNDLED_E5, load_base_model

    return load_base_model(BUNDLED_E5, device="cpu", max_seq_length=128)


def test_long_and_unusual_texts_are_encoded_and_counted(e5):
    from datasets import Dataset

    from gatelib.evaluation import count_truncated, encode_pairs

    long_text = "جملة طويلة جدا " * 1400  # ~21k characters, far beyond 128 tokens
    odd = ["ـــــ", "َُِّ", "漢字とかな", "Ελληνικά", "🙂🙂", long_text]
    pairs = Dataset.from_dict({"sentence1": odd, "sentence2": list(reversed(odd)),
                               "score": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]})
    left, right = encode_pairs(e5, pairs)
    assert left.shape == (6, 384) and np.isfinite(left).all() and np.isfinite(right).all()
    assert count_truncated(e5, odd) == 1


def test_similarity_functions_agree_after_renormalisation_only():
    from gatelib.evaluation import SIMILARITIES, similarity_scores

    rng = np.random.default_rng(1)
    left, right = rng.normal(size=(80, 16)), rng.normal(size=(80, 16))
    left /= np.linalg.norm(left, axis=1, keepdims=True)
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    gold = (left * right).sum(1) + rng.normal(scale=0.1, size=80)
    renorm = similarity_scores(left, right, gold, [16, 4], renormalize=True)
    raw = similarity_scores(left, right, gold, [16, 4], renormalize=False)
    assert set(renorm.similarity) == set(SIMILARITIES)
    at4 = renorm[renorm.dim == 4].set_index("similarity").spearman
    assert at4["dot"] == pytest.approx(at4["cosine"]) and at4["euclidean"] == pytest.approx(at4["cosine"])
    raw4 = raw[raw.dim == 4].set_index("similarity").spearman
    assert raw4["cosine"] == pytest.approx(at4["cosine"])
    assert raw4["dot"] != pytest.approx(raw4["cosine"])  # lengths leak into the dot product


def test_scores_equal_mteb_sts_scoring_on_the_same_embeddings(e5):
    """Our STS17 number is MTEB's: feed mteb's own STS task and evaluator (mteb.evaluate, with
    the bundled STS17 rows put in place of its Hub download) exactly the embeddings we score."""
    import mteb
    from datasets import Dataset

    from gatelib.evalsets import load_eval_set
    from gatelib.evaluation import encode_pairs

    sts17 = load_eval_set("sts17-ar-ar")
    left, right = encode_pairs(e5, sts17)
    ours = sts_scores(left, right, sts17["score"], [384]).spearman_cosine.item()

    first = [t.strip() for t in sts17["sentence1"]]
    second = [t.strip() for t in sts17["sentence2"]]
    cache = {**dict(zip(first, left)), **dict(zip(second, right))}

    def cached_encode(inputs, *args, **kwargs):
        return np.stack([cache[t] for t in inputs])

    task = mteb.get_task("STS17", hf_subsets=["ar-ar"])
    task.dataset = {"ar-ar": {"test": Dataset.from_dict(
        {"sentence1": first, "sentence2": second, "score": [5 * s for s in sts17["score"]]})}}
    task.data_loaded = True
    e5.encode, original = cached_encode, e5.encode
    try:
        result = mteb.evaluate(e5, tasks=[task], cache=None, overwrite_strategy="always")
    finally:
        e5.encode = original
    theirs = 100 * result.task_results[0].scores["test"][0]["cosine_spearman"]
    assert theirs == pytest.approx(ours, abs=1e-9)


def test_predictions_reproduce_the_scores_and_are_upserted(tiny_encoder_path, toy_sts, tmp_path):
    from sentence_transformers import SentenceTransformer

    tiny = SentenceTransformer(str(tiny_encoder_path), device="cpu")
    tags = dict(profile="t", config="mrl", model="m", commit="c", data_checksum="d")
    path = tmp_path / "predictions.csv.gz"
    scores = evaluate_model(tiny, {"toy": toy_sts}, (32, 8), predictions_csv=path, seed=0, **tags)
    evaluate_model(tiny, {"toy": toy_sts}, (32, 8), predictions_csv=path, seed=1, **tags)
    first = path.read_bytes()
    evaluate_model(tiny, {"toy": toy_sts}, (32, 8), predictions_csv=path, seed=0, **tags)  # replaces
    assert path.read_bytes() == first  # same rows, same bytes (gzip header time fixed)
    assert set(scores.precision) == {"untrained"}  # not trained by gatelib.training
    mark_trained_precision(tiny, "bf16")
    assert set(evaluate_model(tiny, {"toy": toy_sts}, (8,), seed=0, **tags).precision) == {"bf16"}
    pred = read_predictions(tmp_path)
    assert len(pred) == 2 * 2 * len(toy_sts) and set(pred.seed) == {0, 1}
    for dim in (32, 8):
        rows = pred[(pred.seed == 0) & (pred.dim == dim)].sort_values("pair")
        expected = scores.loc[scores.dim == dim, "spearman_cosine"].item()
        assert 100 * spearmanr(rows.gold, rows.cosine).statistic == pytest.approx(expected, abs=1e-9)


def test_a_model_encodes_a_set_once_per_weight_state(tiny_encoder_path, toy_sts):
    import torch
    from sentence_transformers import SentenceTransformer

    from gatelib.evaluation import encode_pairs

    model = SentenceTransformer(str(tiny_encoder_path), device="cpu")
    calls = []
    encode = model.encode
    model.encode = lambda *a, **k: calls.append(1) or encode(*a, **k)
    first = encode_pairs(model, toy_sts)
    first[0][:] = 0  # a caller may write into what it got: the memo keeps its own copy
    again = encode_pairs(model, toy_sts)
    assert len(calls) == 1 and np.abs(again[0]).sum() > 0
    with torch.no_grad():  # a training step changes weights in place: encoded afresh
        next(model.parameters()).add_(0.1)
    moved = encode_pairs(model, toy_sts)
    assert len(calls) == 2 and not np.allclose(moved[0], again[0])
    encode_pairs(model, toy_sts.select(range(10)))
    assert len(calls) == 3  # other texts, other embeddings
