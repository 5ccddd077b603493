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
    level = table.assign(**{metric: table[metric] + (table.config == "zero-shot") * 2.8})  # 89.8 vs 90.0 at 384
    assert captions.retrieval_takeaway(level, "q") == "mrr@10 at 384 dims: mrl, zero-shot within 0.5 points of each other (89.8–90.0)."
    assert captions.retrieval_takeaway(level, "q", tie=0.1).startswith("mrr@10 of mrl: 90.0 at 384 dims")


def test_publish_table_returns_the_table_it_glues(monkeypatch):
    from IPython.display import Markdown

    glued = {}
    monkeypatch.setattr(captions, "glue", lambda name, value, display: glued.update({name: (value, display)}))
    table = Markdown("| a |\n|---|\n| 1 |\n")
    assert captions.publish_table("tbl-x", table) is table
    assert glued == {"tbl-x": (table, False)}
