"""gatelib.retrieval: paraphrase retrieval metrics per truncated dim."""
import numpy as np
import pytest
from datasets import Dataset

from gatelib import data, evalsets, retrieval


def _pairs(rows):
    return Dataset.from_dict({"sentence1": [a for a, _, _ in rows], "sentence2": [b for _, b, _ in rows],
                              "label": [lab for *_, lab in rows]})


def test_paraphrase_queries_from_labelled_pairs():
    corpus, relevant = retrieval.paraphrase_queries(_pairs([("a ", "b", 1), ("a", "c", 0), ("d", "b", 1), ("e", "e", 1)]))
    assert corpus == ["a", "d", "e", "b", "c"]
    assert relevant == {0: {3}, 3: {0, 1}, 1: {3}}  # identical pair (e, e) is no query
    with pytest.raises(ValueError, match="nothing to retrieve"):
        retrieval.paraphrase_queries(_pairs([("a", "b", 0)]))
    with pytest.raises(ValueError, match="labelled pairs"):
        retrieval.paraphrase_queries(Dataset.from_dict({"sentence1": ["a"], "sentence2": ["b"], "score": [1.0]}))


def test_metrics_exclude_the_query_and_follow_the_truncated_geometry():
    # 0 and 1 are paraphrases. At 2 dims 2 is nearer to 0 than 1 is; at 1 dim all tie except signs.
    emb = np.array([[1.0, 0.0, 0.0], [0.8, 0.0, 0.6], [0.9, 0.436, 0.0], [-1.0, 0.0, 0.0]])
    relevant = {0: {1}, 1: {0}}
    table = retrieval.retrieval_scores(emb, relevant, [3, 2]).set_index("dim")
    # dim 3: from 0, neighbours by cosine: 2 (0.90) > 1 (0.80) -> rank 2; from 1: 0 (0.80) > 2 (0.72) -> rank 1
    assert table.loc[3, "recall@1"] == pytest.approx(50.0)
    assert table.loc[3, "mrr@10"] == pytest.approx(100 * (0.5 + 1.0) / 2)
    assert table.loc[3, "recall@10"] == pytest.approx(100.0)  # the query never counts as its own hit
    # dim 2: vector 1 becomes (1, 0) = vector 0: both find each other first
    assert table.loc[2, "recall@1"] == pytest.approx(100.0)
    assert (table["n_queries"] == 2).all() and (table["n_corpus"] == 4).all()
    with pytest.raises(ValueError):
        retrieval.retrieval_scores(emb, relevant, [4])


def test_retrieval_table_on_the_bundled_split(e5_model):
    pairs = evalsets.load_eval_set("q2q-test").select(range(120))
    table = retrieval.retrieval_table({"zero-shot": e5_model}, "q2q-test", pairs, [384, 32],
                                      profile="t", seed=0, commit="c", data_checksum="d")
    assert list(table.columns) == retrieval.RETRIEVAL_COLUMNS
    assert table["recall@10"].between(0, 100).all() and (table["recall@10"] >= table["recall@1"]).all()
    # a real encoder retrieves paraphrases far above chance (10 of ~200 questions)
    assert table.set_index("dim").loc[384, "mrr@10"] > 50


def test_flickr30k_test_is_each_caption_retrieving_the_rest_of_its_image():
    pairs = evalsets.load_eval_set("flickr30k-test")
    corpus, relevant = retrieval.paraphrase_queries(pairs)
    assert len(corpus) <= 10070 and len(relevant) > 10000  # every caption is a query (repeated captions merge)
    assert max(len(r) for r in relevant.values()) <= 8 and min(len(r) for r in relevant.values()) >= 1
    assert "flickr30k-test" not in evalsets.EVAL_SETS_TEST  # its split is Flickr30k's own, by image
    assert data.data_fingerprint("flickr30k-test") != data.data_fingerprint("flickr30k-pairs")
