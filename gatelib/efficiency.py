"""What a shorter embedding buys: bytes per vector and exact search speed (GATE §4.4, Table 5).

The Matryoshka paper (Kusupati et al. 2022, arXiv 2205.13147) promises up to 14× smaller
embeddings and real-world retrieval speed-ups; GATE reports only quality per dimension. Here
both halves are measured on this machine:

* ``search_throughput``: exact brute-force top-10 search (faiss ``IndexFlatIP`` for float32,
  ``IndexScalarQuantizer`` 8-bit for int8, ``IndexBinaryFlat`` Hamming for binary) over a
  corpus of random unit vectors — search cost depends on the shape of the data, not its
  content — reported as queries per second;
* ``quantized_quality``: STS Spearman of real embeddings after truncation *and*
  sentence-transformers' ``quantize_embeddings`` (int8 calibrated on the corpus, binary by
  sign), i.e. the quality side of the same bytes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import faiss
import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sentence_transformers.util import quantize_embeddings

from datasets import Dataset
from sentence_transformers import SentenceTransformer

from gatelib.evaluation import encode_pairs
from gatelib.matryoshka import truncate_embeddings

PRECISIONS = ("float32", "int8", "binary")


def bytes_per_vector(dim: int, precision: str) -> float:
    """Storage of one ``dim``-dimensional vector: 4·d (float32), d (int8), d/8 (binary)."""
    return {"float32": 4 * dim, "int8": dim, "binary": dim / 8}[precision]


def _index(corpus: np.ndarray, precision: str):
    dim = corpus.shape[1]
    if precision == "float32":
        index = faiss.IndexFlatIP(dim)
        index.add(corpus)
    elif precision == "int8":
        index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        index.train(corpus)
        index.add(corpus)
    elif precision == "binary":
        index = faiss.IndexBinaryFlat(dim)
        index.add(np.packbits(corpus > 0, axis=1))
    else:
        raise ValueError(f"Unknown precision {precision!r}; choose from {PRECISIONS}.")
    return index


def search_throughput(dims: Sequence[int], n_vectors: int = 1_000_000, n_queries: int = 256,
                      precisions: Sequence[str] = PRECISIONS, k: int = 10, seed: int = 0) -> pd.DataFrame:
    """Queries per second of exact top-``k`` search over ``n_vectors`` at each dim and precision."""
    rng = np.random.default_rng(seed)
    full = rng.standard_normal((n_vectors + n_queries, max(dims)), dtype=np.float32)
    rows = []
    for dim in dims:
        vectors = truncate_embeddings(full, dim).astype(np.float32)
        corpus, queries = vectors[:n_vectors], vectors[n_vectors:]
        for precision in precisions:
            index = _index(corpus, precision)
            probe = np.packbits(queries > 0, axis=1) if precision == "binary" else queries
            index.search(probe[:8], k)  # warm-up
            start = time.perf_counter()
            index.search(probe, k)
            elapsed = time.perf_counter() - start
            rows.append({"dim": dim, "dtype": precision, "n_vectors": n_vectors,
                         "bytes_per_vector": bytes_per_vector(dim, precision),
                         "queries_per_s": n_queries / elapsed, "threads": faiss.omp_get_max_threads(),
                         "cpu_count": os.cpu_count()})
            del index
    return pd.DataFrame(rows)


def _dequantize_int8(codes: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Inverse of ``quantize_embeddings(..., "int8", ranges=ranges)``: 256 steps per dimension."""
    steps = (ranges[1] - ranges[0]) / 255
    return (codes.astype(np.float32) + 128) * steps + ranges[0]


def quantized_quality(left: np.ndarray, right: np.ndarray, gold: Sequence[float], dims: Sequence[int],
                      precisions: Sequence[str] = PRECISIONS) -> pd.DataFrame:
    """Spearman ×100 of truncated (re-normalised) then quantised embeddings, with their bytes.

    int8 ranges (per-dimension min/max) are calibrated on both sides' embeddings and the codes
    are scored by cosine after dequantisation; binary codes by minus their Hamming distance.
    """
    rows = []
    for dim in dims:
        a, b = truncate_embeddings(left, dim), truncate_embeddings(right, dim)
        for precision in precisions:
            if precision == "float32":
                score = np.sum(a * b, axis=1)
            elif precision == "int8":
                both = np.concatenate([a, b])
                ranges = np.vstack([both.min(axis=0), both.max(axis=0)])
                qa, qb = (_dequantize_int8(quantize_embeddings(x, "int8", ranges=ranges), ranges) for x in (a, b))
                score = np.sum(truncate_embeddings(qa, dim) * truncate_embeddings(qb, dim), axis=1)
            elif precision == "binary":
                qa = quantize_embeddings(a, "ubinary")
                qb = quantize_embeddings(b, "ubinary")
                score = -np.unpackbits(qa ^ qb, axis=1).sum(axis=1, dtype=np.int64)
            else:
                raise ValueError(f"Unknown precision {precision!r}; choose from {PRECISIONS}.")
            rows.append({"dim": dim, "dtype": precision, "bytes_per_vector": bytes_per_vector(dim, precision),
                         "spearman": 100 * spearmanr(gold, score).statistic})
    return pd.DataFrame(rows)


def quantized_quality_table(encoders: dict[str, SentenceTransformer], dataset: Dataset,
                            dims: Sequence[int], **tags) -> pd.DataFrame:
    """``quantized_quality`` for every encoder (config name → model) on one STS set."""
    frames = []
    for config, encoder in encoders.items():
        left, right = encode_pairs(encoder, dataset)
        frames.append(quantized_quality(left, right, dataset["score"], dims).assign(config=config))
    return pd.concat(frames, ignore_index=True).assign(**tags)
