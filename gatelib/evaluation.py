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

import gzip
import os
import platform
import tempfile
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

SCORE_KEY = ["profile", "config", "seed", "task", "dim", "model"]
SCORE_COLUMNS = [*SCORE_KEY[:5], "spearman_cosine", "pearson_cosine", "n_pairs", "n_truncated",
                 "model", "commit", "data_checksum", "max_seq_length", "hardware"]
PREDICTION_KEY = ["profile", "config", "seed", "task", "dim", "pair"]
PREDICTION_COLUMNS = [*PREDICTION_KEY, "gold", "cosine"]


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


def hardware() -> str:
    """The device that produced a number, e.g. ``cuda:NVIDIA H200`` or
    ``cpu:x86_64 2 cores AMD EPYC AVX512``: on a CPU the processor's name and the vector
    instruction set PyTorch's kernels use, since trained weights differ in the last bits
    between kernel paths (see the README's reproducibility section)."""
    if torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(0)}"
    return f"cpu:{platform.machine()} {os.cpu_count()} cores {_cpu_name()} {torch.backends.cpu.get_cpu_capability()}"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def evaluate_model(encoder: SentenceTransformer, eval_sets: dict[str, Dataset], dims: Sequence[int],
                   predictions_csv: Path | None = None, **tags) -> pd.DataFrame:
    """Score ``encoder`` on every eval set at every dim; ``tags`` fill the provenance columns.

    Expected tags: profile, config, seed, model (its name), commit, data_checksum. With
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
    table = table.assign(**tags, max_seq_length=encoder.max_seq_length, hardware=hardware())
    if predictions_csv is not None:
        keys = {k: tags[k] for k in ("profile", "config", "seed")}
        record_predictions(pd.concat(pairs, ignore_index=True).assign(**keys), predictions_csv)
    return table[SCORE_COLUMNS]


def atomic_write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write a CSV to a temp file in the same folder, then rename: never a half-written file.

    A ``.gz`` path is gzip-compressed with no name and time 0 in the header: equal tables, equal bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if path.suffix == ".gz":  # no file name, time 0 in the header
            with os.fdopen(fd, "wb") as handle:
                handle.write(gzip.compress(table.to_csv(index=False).encode("utf-8"), mtime=0))
                handle.flush()
                os.fsync(handle.fileno())
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                table.to_csv(handle, index=False)
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: Columns that are text even when they look like numbers: a commit such as ``4540097e89``
#: would otherwise be read back as the float 4.540097e+95.
TEXT_COLUMNS = {name: str for name in ("profile", "config", "task", "model", "commit", "data_checksum",
                                       "hardware", "similarity")}


def read_results_csv(path: Path) -> pd.DataFrame:
    """Read a results CSV with its text columns as text (:data:`TEXT_COLUMNS`)."""
    return pd.read_csv(path, dtype=TEXT_COLUMNS)


def record_scores(new: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Upsert ``new`` rows into the CSV at ``path`` (same key → replaced) and return the table."""
    old = read_results_csv(path) if path.is_file() else pd.DataFrame(columns=SCORE_COLUMNS)
    merged = pd.concat([old.astype(new.dtypes.to_dict(), errors="ignore"), new], ignore_index=True)
    merged = merged.drop_duplicates(SCORE_KEY, keep="last")
    merged = merged.sort_values(SCORE_KEY, kind="stable").reset_index(drop=True)
    atomic_write_csv(merged[SCORE_COLUMNS], path)
    return merged


def record_predictions(new: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Upsert per-pair cosines (one run × task × dim replaces its old rows) into ``path``."""
    new = new[PREDICTION_COLUMNS]  # full precision: rounding would create or break rank ties
    if Path(path).is_file():
        old = read_results_csv(path)
        runs = new[PREDICTION_KEY[:5]].drop_duplicates()
        stale = old.merge(runs.astype(old[PREDICTION_KEY[:5]].dtypes.to_dict()), how="left",
                          on=PREDICTION_KEY[:5], indicator=True)["_merge"] == "both"
        new = pd.concat([old[~stale.to_numpy()], new], ignore_index=True)
    merged = new.sort_values(PREDICTION_KEY, kind="stable").reset_index(drop=True)
    atomic_write_csv(merged, Path(path))
    return merged


def read_predictions(results_dir: Path) -> pd.DataFrame:
    """Per-pair cosines of one profile (``predictions.csv.gz``)."""
    path = Path(results_dir) / "predictions.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run notebooks/02_training.ipynb for this profile first.")
    return read_results_csv(path)


def read_scores(results_dir: Path) -> pd.DataFrame:
    """The tidy scores table of one profile."""
    path = Path(results_dir) / "scores.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run notebooks/02_training.ipynb for this profile first.")
    return read_results_csv(path)


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
