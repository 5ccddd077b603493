"""gatelib.near_copies: the embedding measurement the loaders read from data/near_copies/."""

import numpy as np
import pandas as pd
import pytest
from sentence_transformers import SentenceTransformer

from gatelib import data as D
from gatelib import near_copies


def test_measure_records_what_the_loader_checks(tiny_encoder_path):
    model = SentenceTransformer(str(tiny_encoder_path), device="cpu")
    table, null, meta = near_copies.measure(model, sets=("xnli-test-triplets",), batch_size=256)
    assert list(table.columns) == ["set", "group", "text", "lexical", "similarity", "nearest"]
    assert (table.similarity >= near_copies.FLOOR).all() and set(table.set) <= {"xnli-test-triplets"}
    near = D.nearest_held_out("xnli-test-triplets")
    assert set(table.group) <= set(near.group.map(repr))  # groups as the loader keys them
    assert meta["sets"] == {"xnli-test-triplets": {"texts": len(near),
                                                   "texts_sha256": D.rule_texts_sha256("xnli-test-triplets")}}
    assert meta["references_sha256"] == D.texts_sha256(D.held_out_references())
    assert null.empty  # no caption corpus measured: no null distribution


def test_null_curves_fall_with_the_threshold():
    """Three training-caption states × two query sets × the grid, each curve non-increasing."""
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(12, 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    texts = [f"t{i}" for i in range(12)]
    where = {t: i for i, t in enumerate(texts)}
    table = pd.DataFrame({"set": "flickr30k-pairs", "group": ["'a'", "'a'", "'b'", "'b'", "'c'", "'c'"],
                          "text": texts[:6], "lexical": [0.9, 0.1, 0.1, 0.1, 0.1, 0.1],
                          "similarity": [0.5, 0.5, 0.99, 0.5, 0.5, 0.5]})
    sts = D.arabic_test_sentences(D.EVAL_SETS)
    refs = sts + ["other"]
    ref_emb = np.tile(emb[6], (len(refs), 1))
    curves = near_copies.null_curves(table, emb, where, ref_emb, refs, texts[6:])
    assert set(curves["training captions"]) == {"before the rule", "after the lexical rule", "after both rules"}
    for _, curve in curves.groupby(["training captions", "queries"]):
        assert (np.diff(curve.share.to_numpy()) <= 1e-12).all()
    assert curves.threshold.min() == pytest.approx(0.90) and curves.threshold.max() == pytest.approx(1.0)
