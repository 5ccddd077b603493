"""Paraphrase retrieval per Matryoshka dimension: where truncation pays off (issue 3).

STS scores a fixed list of pairs; retrieval ranks a whole corpus, which is what smaller
vectors make cheaper. The test is ``q2q-test`` (``gatelib.data``): held-out NSURL-2019 Q2Q
question pairs. Every question with at least one labelled paraphrase in the split is a query;
the corpus is every question of the split (the non-paraphrase partners act as hard
distractors); the relevant documents are the query's labelled paraphrases. The query itself
is removed from its own ranking, as BEIR/MTEB do for Quora duplicate retrieval
(``ignore_identical_ids``).

Search is sentence-transformers' ``util.semantic_search`` on truncated, re-normalised
embeddings (cosine), and the metrics are its ``InformationRetrievalEvaluator.compute_metrics``:
recall@1, recall@10 and MRR@10 (×100). Each text is encoded once per model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from datasets import Dataset
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator
from sentence_transformers.util import semantic_search

from gatelib.matryoshka import check_matryoshka_dims, truncate_embeddings

RETRIEVAL_COLUMNS = ["profile", "config", "seed", "task", "dim", "recall@1", "recall@10", "mrr@10",
                     "n_queries", "n_corpus", "commit", "data_checksum"]
_TOP_K = 10


def paraphrase_queries(pairs: Dataset) -> tuple[list[str], dict[int, set[int]]]:
    """``(corpus, relevant)`` from labelled question pairs (``sentence1, sentence2, label``).

    ``corpus`` lists each distinct question once (stripped, first-seen order); ``relevant``
    maps the corpus index of every question that has a paraphrase (label 1) to the indices of
    its paraphrases. Those questions are the queries.
    """
    if "label" not in pairs.column_names:
        raise ValueError(f"retrieval needs labelled pairs (sentence1, sentence2, label); got {pairs.column_names}")
    first = [t.strip() for t in pairs["sentence1"]]
    second = [t.strip() for t in pairs["sentence2"]]
    corpus = list(dict.fromkeys([*first, *second]))
    index = {t: i for i, t in enumerate(corpus)}
    relevant: dict[int, set[int]] = {}
    for a, b, label in zip(first, second, pairs["label"]):
        if label == 1 and a != b:
            relevant.setdefault(index[a], set()).add(index[b])
            relevant.setdefault(index[b], set()).add(index[a])
    if not relevant:
        raise ValueError("no paraphrase pairs (label 1) with two different questions: nothing to retrieve")
    return corpus, relevant


def retrieval_scores(embeddings: np.ndarray, relevant: dict[int, set[int]], dims: Sequence[int]) -> pd.DataFrame:
    """recall@1, recall@10, MRR@10 (×100) at each truncated dim; one row per dim.

    ``embeddings`` are the full-size corpus embeddings; queries are the corpus rows named in
    ``relevant`` and never retrieve themselves.
    """
    dims = check_matryoshka_dims(dims, embeddings.shape[1])
    queries = sorted(relevant)
    scorer = InformationRetrievalEvaluator(
        queries={q: str(q) for q in queries}, corpus={c: str(c) for c in range(len(embeddings))},
        relevant_docs=relevant, mrr_at_k=[_TOP_K], ndcg_at_k=[_TOP_K], accuracy_at_k=[1, _TOP_K],
        precision_recall_at_k=[1, _TOP_K], map_at_k=[_TOP_K], show_progress_bar=False)
    rows = []
    for dim in dims:
        vectors = torch.from_numpy(truncate_embeddings(embeddings, dim).astype(np.float32))
        hits = semantic_search(vectors[queries], vectors, top_k=_TOP_K + 1)
        ranked = [[h for h in row if h["corpus_id"] != q][:_TOP_K] for q, row in zip(queries, hits)]
        metrics = scorer.compute_metrics(ranked)
        rows.append({"dim": dim, "recall@1": 100 * metrics["recall@k"][1],
                     "recall@10": 100 * metrics["recall@k"][_TOP_K], "mrr@10": 100 * metrics["mrr@k"][_TOP_K],
                     "n_queries": len(queries), "n_corpus": len(embeddings)})
    return pd.DataFrame(rows)


def retrieval_table(encoders: dict[str, SentenceTransformer], task: str, pairs: Dataset,
                    dims: Sequence[int], **tags) -> pd.DataFrame:
    """Every encoder × dim on one retrieval set: the tidy ``results/<profile>/retrieval.csv``.

    ``encoders`` maps a config name to its model; ``tags`` fill profile, seed, commit, data_checksum.
    """
    corpus, relevant = paraphrase_queries(pairs)
    frames = []
    for config, encoder in encoders.items():
        embeddings = encoder.encode(corpus, batch_size=64, convert_to_numpy=True, show_progress_bar=False)
        frames.append(retrieval_scores(embeddings.astype(np.float64), relevant, dims).assign(config=config, task=task))
    return pd.concat(frames, ignore_index=True).assign(**tags)[RETRIEVAL_COLUMNS]
