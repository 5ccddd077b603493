"""gatelib.captions: takeaways computed from the plotted tables, and the glue outputs the book reads."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from gatelib import captions  # noqa: E402


def _scores(values):
    return pd.DataFrame([{"config": c, "seed": s, "task": "t", "dim": d, "spearman_cosine": v + s * 0.5}
                         for c, by_dim in values.items() for d, v in by_dim.items() for s in (0, 1)])


def test_dims_takeaway_names_the_leader_and_the_cost():
    scores = _scores({"mrl": {384: 76.0, 64: 72.0, 16: 60.0}, "zero-shot": {384: 74.0, 64: 73.0, 16: 58.0}})
    text = captions.dims_takeaway(scores, "t")
    assert text.startswith("mrl is highest at 2 of 3 dims (76.25 at 384, 60.25 at 16).")
    assert "costs (points): mrl 4.0, zero-shot 1.0." in text


def test_bytes_takeaway_picks_the_smallest_vector_within_one_point():
    quality = pd.DataFrame([
        {"config": "mrl", "dtype": "float32", "dim": 384, "bytes_per_vector": 1536, "spearman": 76.0},
        {"config": "mrl", "dtype": "int8", "dim": 128, "bytes_per_vector": 128, "spearman": 75.2},
        {"config": "mrl", "dtype": "binary", "dim": 384, "bytes_per_vector": 48, "spearman": 74.0},
    ])
    text = captions.bytes_takeaway(quality, "mrl")
    assert "is int8 at 128 dims: 128 bytes (12× smaller), 75.20." in text


def test_similarity_takeaway_compares_raw_dot_with_cosine():
    rows = [{"config": "mrl", "dim": d, "similarity": f, "renormalized": r,
             "spearman": 70.0 - (10.0 if (f == "dot" and not r and d == 16) else 0.0) - (0.3 if f == "manhattan" else 0)}
            for d in (384, 16) for f in ("cosine", "dot", "euclidean", "manhattan") for r in (True, False)]
    text = captions.similarity_takeaway(pd.DataFrame(rows), "mrl")
    assert "dot product on raw slices 60.00 vs cosine 70.00" in text and "at most 0.30 points" in text


def test_embedding_null_takeaway_gives_each_state_and_query():
    null = pd.DataFrame([{"training captions": s, "queries": q, "threshold": t, "share": share}
                         for s, base in (("before the rule", 0.10), ("after both rules", 0.02))
                         for q, share_at in (("STS17 Arabic sentences", base), ("unseen-image captions", 0.05))
                         for t, share in ((0.975, 0.5), (0.98, share_at))])
    text = captions.embedding_null_takeaway(null, 0.98)
    assert "before the rule: STS17 10.0 %, unseen-image captions 5.0 %" in text
    assert "after both rules: STS17 2.0 %" in text


def test_publish_glues_figure_and_caption(monkeypatch):
    glued, shown = {}, []
    monkeypatch.setattr(captions, "glue", lambda name, value, display: glued.update({name: (value, display)}))
    monkeypatch.setattr(captions, "display", lambda *objects: shown.extend(objects))
    figure, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    captions.publish("fig-x", figure, "It rises.", "profile=p")
    assert glued["fig-x"] == (figure, False)  # the book places it with {glue:figure}
    assert glued["fig-x-caption"][0].data == "It rises. <small>(profile=p)</small>"
    assert shown[0] is figure and shown[1].data == glued["fig-x-caption"][0].data  # and Jupyter shows both
    assert figure.number not in plt.get_fignums()  # closed: not shown a second time by the inline backend


@pytest.mark.parametrize("metric", ["mrr@10"])
def test_retrieval_takeaway(metric):
    table = pd.DataFrame([{"config": c, "seed": 0, "task": "q", "dim": d, metric: v}
                          for c, by_dim in {"mrl": {384: 90, 64: 88, 16: 80}, "zero-shot": {384: 87, 64: 86, 16: 79}}.items()
                          for d, v in by_dim.items()])
    assert captions.retrieval_takeaway(table, "q") == \
        "mrr@10 of mrl: 90.0 at 384 dims, 88.0 at 64, 80.0 at 16 (at 384 dims: zero-shot 87.0)."


def test_nearest_takeaway_counts_sentences_at_the_threshold_per_set():
    table = pd.DataFrame({
        "training set": ["a", "a", "a", "b", "b", "b", "b"],
        "queries": ["STS17 Arabic sentences"] * 3 + ["STS17 Arabic sentences"] * 3 + ["unseen-image captions"],
        "similarity": [0.2, 0.75, 1.0, 0.1, 0.3, 0.69, 0.99],
    })
    text = captions.nearest_takeaway(table, 0.7)
    assert text.startswith("Of 3 STS17 Arabic sentences") and "a 2, b 0" in text  # captions of unseen images not counted
    assert "reaches 1.00 (a)" in text


def test_publish_table_returns_the_table_it_glues(monkeypatch):
    from IPython.display import Markdown

    glued = {}
    monkeypatch.setattr(captions, "glue", lambda name, value, display: glued.update({name: (value, display)}))
    table = Markdown("| a |\n|---|\n| 1 |\n")
    assert captions.publish_table("tbl-x", table) is table
    assert glued == {"tbl-x": (table, False)}
