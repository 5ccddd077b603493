"""STS evaluation per Matryoshka dimension (GATE §4.1–4.2, Tables 3 and 5).

The score is MTEB's STS main score: Spearman correlation ×100 between gold similarity and
the cosine of the two sentence embeddings (Pearson is kept beside it). An embedding is
truncated to ``d`` dims by slicing its first ``d`` coordinates and re-normalising to unit
length — the same ``shrink`` MatryoshkaLoss applies during training. Cosine is invariant to
the re-normalisation; dot product is not (see the truncation chapter).

Every score becomes one row of the tidy table ``results/<profile>/scores.csv``, written
atomically, keyed by (profile, config, seed, task, dim, model) so reruns replace, not append
duplicates. The per-pair cosines behind each score go to ``predictions.csv.gz`` (same key plus
``pair``): the bootstrap intervals (``gatelib.significance``) and the error analysis read them.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from datasets import Dataset
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics.pairwise import paired_cosine_distances
from sentence_transformers import SentenceTransformer
from sentence_transformers.util import (
    pairwise_cos_sim,
    pairwise_dot_score,
    pairwise_euclidean_sim,
    pairwise_manhattan_sim,
)

from gatelib.matryoshka import check_matryoshka_dims, truncate_embeddings
# The results store, re-exported: the notebooks read and write their tables through this module.
from gatelib.results import (  # noqa: F401
    PREDICTION_COLUMNS, PREDICTION_KEY, SCORE_COLUMNS, SCORE_KEY, TEXT_COLUMNS, trained_precision,
    atomic_write_csv, hardware, read_predictions, read_results_csv, read_scores, record_predictions,
    record_scores,
)



def count_truncated(model: SentenceTransformer, texts: Sequence[str]) -> int:
    """How many ``texts`` exceed the model's ``max_seq_length`` tokens (and are cut silently).

    MTEB and sentence-transformers truncate long inputs without a word (mteb #114); STS22's
    Arabic news articles average ~1.7k characters, so the count belongs in every result.
    """
    if not texts:
        return 0
    ids = model.tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
    return sum(len(row) > model.max_seq_length for row in ids)


#: Per model, the embeddings :func:`encode_pairs` computed, keyed by texts and settings and stamped
#: with the model's weight state: chapters that score one model several ways (dims, similarity
#: functions, quantisation) encode each set once; a model trained further is encoded afresh.
_ENCODED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _weight_state(model: SentenceTransformer) -> tuple:
    """Changes whenever a weight is replaced or modified in place (autograd's version counters)."""
    return tuple((p.data_ptr(), p._version) for p in model.parameters())


def encode_pairs(model: SentenceTransformer, dataset: Dataset, batch_size: int = 64,
                 prompt_name: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Full-size embeddings of ``sentence1`` and ``sentence2``; each distinct text encoded once
    (and once per model state: a second call with the same texts returns the first result).

    Texts are stripped of surrounding whitespace first, as in MTEB's copy of STS17 (the
    official SemEval files keep a few leading/trailing spaces).
    """
    first = [t.strip() for t in dataset["sentence1"]]
    second = [t.strip() for t in dataset["sentence2"]]
    key = (tuple(first), tuple(second), batch_size, prompt_name, model.max_seq_length)
    memo = _ENCODED.setdefault(model, {})
    state = _weight_state(model)
    if key in memo and memo[key][0] == state:
        left, right = memo[key][1]
        return left.copy(), right.copy()
    texts = list(dict.fromkeys([*first, *second]))
    vectors = model.encode(texts, batch_size=batch_size, prompt_name=prompt_name,
                           convert_to_numpy=True, show_progress_bar=False)
    index = {t: i for i, t in enumerate(texts)}
    # float64 from here on, as MTEB scores (sklearn): float32 sums flip near-tied ranks.
    left = vectors[[index[t] for t in first]].astype(np.float64)
    right = vectors[[index[t] for t in second]].astype(np.float64)
    memo[key] = (state, (left.copy(), right.copy()))
    return left, right


def sts_scores(left: np.ndarray, right: np.ndarray, gold: Sequence[float],
               dims: Iterable[int]) -> pd.DataFrame:
    """Cosine Spearman and Pearson (×100) at each truncated dim: one row per dim.

    Cosine of the sliced vectors equals the dot product of the sliced-and-re-normalised ones.
    """
    gold = np.asarray(gold, dtype=np.float64)
    rows = []
    for dim in dims:
        if not 0 < dim <= left.shape[1]:
            raise ValueError(f"Cannot truncate {left.shape[1]}-dim embeddings to {dim} dims.")
        # MTEB's own cosine (sklearn): STS17 has exactly tied pairs, and any other rounding
        # breaks those ties differently and moves Spearman by ~0.01.
        cosine = 1 - paired_cosine_distances(left[:, :dim], right[:, :dim])
        rows.append({
            "dim": dim,
            "spearman_cosine": 100 * spearmanr(gold, cosine).statistic,
            "pearson_cosine": 100 * pearsonr(gold, cosine).statistic,
            "n_pairs": len(gold),
        })
    return pd.DataFrame(rows)


def evaluate_model(encoder: SentenceTransformer, eval_sets: dict[str, Dataset], dims: Sequence[int],
                   predictions_csv: Path | None = None, **tags) -> pd.DataFrame:
    """Score ``encoder`` on every eval set at every dim; ``tags`` fill the provenance columns.

    Expected tags: profile, config, seed, model (its name), commit, data_checksum. The rows'
    ``precision`` is the arithmetic the model was trained in, as ``gatelib.training`` recorded it
    on the model (``gatelib.results.trained_precision``), unless a ``precision`` tag says it. With
    ``predictions_csv`` the per-pair cosines are upserted there too (:func:`record_predictions`).
    """
    dims = check_matryoshka_dims(dims, encoder.get_embedding_dimension())
    frames, pairs = [], []
    for task, dataset in eval_sets.items():
        if "score" not in dataset.column_names:
            raise ValueError(f"{task} has no 'score' column ({dataset.column_names}): it is not an STS set"
                             " (q2q-test is scored by gatelib.retrieval, not here)")
        left, right = encode_pairs(encoder, dataset)
        scores = sts_scores(left, right, dataset["score"], dims)
        truncated = count_truncated(encoder, [*dataset["sentence1"], *dataset["sentence2"]])
        frames.append(scores.assign(task=task, n_truncated=truncated))
        for dim in dims:
            pairs.append(pd.DataFrame({
                "task": task, "dim": dim, "pair": np.arange(len(dataset)), "gold": dataset["score"],
                "cosine": 1 - paired_cosine_distances(left[:, :dim], right[:, :dim])}))
    table = pd.concat(frames, ignore_index=True)
    tags = {"precision": trained_precision(encoder), **tags}
    table = table.assign(**tags, max_seq_length=encoder.max_seq_length, hardware=hardware())
    if predictions_csv is not None:
        keys = {k: tags[k] for k in ("profile", "config", "seed")}
        record_predictions(pd.concat(pairs, ignore_index=True).assign(**keys), predictions_csv)
    return table[SCORE_COLUMNS]


# GATE Fig. 1: the four similarity functions MTEB and the ST evaluators report.
SIMILARITIES = {"cosine": pairwise_cos_sim, "dot": pairwise_dot_score,
                "euclidean": pairwise_euclidean_sim, "manhattan": pairwise_manhattan_sim}
TRUNCATION_COLUMNS = ["profile", "config", "seed", "task", "dim", "similarity", "renormalized",
                      "spearman", "pearson", "commit", "data_checksum"]


def similarity_scores(left: np.ndarray, right: np.ndarray, gold: Sequence[float], dims: Iterable[int],
                      renormalize: bool) -> pd.DataFrame:
    """Spearman/Pearson ×100 of each similarity function at each truncated dim (GATE Fig. 1).

    With ``renormalize=False`` the sliced vectors keep their (shrinking) norms: cosine is
    unaffected, but dot product and the distances then mix length into the score.
    """
    gold = np.asarray(gold, dtype=np.float64)
    rows = []
    for dim in dims:
        if renormalize:
            a, b = truncate_embeddings(left, dim), truncate_embeddings(right, dim)
        else:
            a, b = left[:, :dim], right[:, :dim]
        for name, function in SIMILARITIES.items():
            score = function(torch.from_numpy(a), torch.from_numpy(b)).numpy()
            rows.append({"dim": dim, "similarity": name, "renormalized": renormalize,
                         "spearman": 100 * spearmanr(gold, score).statistic,
                         "pearson": 100 * pearsonr(gold, score).statistic})
    return pd.DataFrame(rows)


def truncation_table(encoders: dict[str, SentenceTransformer], task: str, dataset: Dataset,
                     dims: Sequence[int], **tags) -> pd.DataFrame:
    """Every encoder × dim × similarity function × (re-normalised or not) on one STS set.

    ``encoders`` maps a config name to its model; ``tags`` fill profile, seed, commit,
    data_checksum. The result is the tidy ``results/<profile>/truncation.csv``.
    """
    frames = []
    for config, encoder in encoders.items():
        left, right = encode_pairs(encoder, dataset)
        for renormalize in (True, False):
            frames.append(similarity_scores(left, right, dataset["score"], dims, renormalize)
                          .assign(config=config, task=task))
    return pd.concat(frames, ignore_index=True).assign(**tags)[TRUNCATION_COLUMNS]
