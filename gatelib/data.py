"""The sets the study names, as a run loads them: offline first, leak-free, fingerprinted.

The paper (GATE §3.1) trains on machine-translated Arabic NLI triplets / pair-class data and
Arabic STS-B, and evaluates (§4.1) on MTEB STS17 ``ar-ar``, STS22 ``ar`` and STS22.v2 ``ar``. Those
Hub datasets cannot be reached offline, so the project vendors real, smaller Arabic data in
``data/`` (provenance, licences and quirks in ``data/DATA.md``). The sets live in four modules
below this one: ``gatelib.evalsets`` (the evaluation sets and the exact-match rule),
``gatelib.trainsets`` (the bundled training sets), ``gatelib.corpora`` (the grouped corpora:
Flickr30k captions, XNLI test triplets, Dial2MSA) and ``gatelib.hub_data`` (the paper's Hub sets).
This module applies the leak rules and names them:

* :func:`load_train_set` -- a training set, de-duplicated and *leak-free*: every row sharing a
  normalised sentence with a held-out test is dropped, and for the grouped corpora and the
  ``-decontaminated`` bundled sets every group with a near copy of an evaluation or dev sentence
  (:data:`DECONTAMINATION`); :func:`loaded_train_set` returns the counts by reason.
* :func:`load_named_set` / :func:`load_named_sets` -- any set a profile names (evaluation,
  training or Hub), with the profile's dev sets held out as well.
* :func:`data_fingerprint` -- the 12-hex fingerprint every results row and caption carries.
* The data chapter's measurements: :func:`data_summary`, :func:`overlap_report`,
  :func:`nearest_training_texts`, :func:`leaked_pairs`, :func:`embedding_only_near_copies`.

Every bundled file is checked against ``data/checksums.json`` (sha256) before parsing. All
failures raise one exception type, :class:`DataError`, saying what is wrong, where (file and row)
and how to fix it.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence

import datasets
import numpy as np
import pandas as pd

from gatelib import corpora, evalsets
from gatelib.datafiles import CHECKSUMS_FILE, DATA_DIR, DataError, Loaded, _display, _load_checksums, _verified_path
from gatelib.decontamination import DECONTAMINATION, char_vectorizer, contaminated_groups, lexical_nearest
from gatelib.evalsets import (_EVAL_FILES, _FEATURE_TYPES, _drop_overlap, _string_columns, _to_dataset,
                              CAPTION_RETRIEVAL_SETS, EVAL_SETS, EVAL_SETS_TEST, RETRIEVAL_SETS, eval_sentences,
                              arabic_test_sentences, find_overlap, held_out_references, load_eval_set)
from gatelib.hub_data import HUB_DATASETS, loaded_hub_dataset
from gatelib.trainsets import TRAIN_FILES, bundled_rows

logger = logging.getLogger(__name__)

__all__ = [
    "DataError",
    "DATA_DIR",
    "TRAIN_SETS",
    "DECONTAMINATED",
    "DECONTAMINATED_SETS",
    "CONTAMINATED_SETS",
    "NEAR_COPY_SETS",
    "DECONTAMINATION",
    "Loaded",
    "load_train_set",
    "loaded_train_set",
    "load_named_set",
    "load_named_sets",
    "loaded_sets",
    "data_fingerprint",
    "files_for",
    "data_summary",
    "overlap_report",
    "nearest_training_texts",
    "leaked_pairs",
    "embedding_null",
    "embedding_only_near_copies",
    "load_peer_scores",
]


#: Suffix of a bundled training set with the near-copy rule applied on top of the exact-match
#: filter (e.g. ``sick-entailment-decontaminated``): every row with a text at char-TF-IDF cosine
#: >= ``DECONTAMINATION["lexical"]`` to any evaluation or dev sentence is dropped. The bundled sets
#: have no groups beyond their rows, and a row holds a flagged text's paraphrases (an NLI
#: hypothesis, a question's duplicate), so the row is the group. The unsuffixed sets keep the
#: exact-match filter only, as the profiles trained before the rule existed were trained.
DECONTAMINATED = "-decontaminated"
DECONTAMINATED_SETS: tuple[str, ...] = tuple(f"{n}{DECONTAMINATED}" for n in TRAIN_FILES)
#: Training sets for :func:`load_train_set`: the bundled sets (``gatelib.trainsets``), their
#: decontaminated twins, and the grouped corpora of ``gatelib.corpora`` (Flickr30k captions, XNLI
#: test triplets, Dial2MSA).
TRAIN_SETS: tuple[str, ...] = (*TRAIN_FILES, *DECONTAMINATED_SETS, *corpora.CORPORA)
#: Corpora trained on *without* decontamination: the contaminated arm of the contamination
#: experiment, and nothing else. Every other training set is filtered.
CONTAMINATED_SETS: tuple[str, ...] = tuple(n for n in corpora.CORPORA if n.endswith("-contaminated"))
#: The sets the near-copy rule measures (the contaminated arms read their clean twin's measurement).
NEAR_COPY_SETS: tuple[str, ...] = (*(n for n in corpora.CORPORA if n not in CONTAMINATED_SETS), *DECONTAMINATED_SETS)
#: The rule in words, for dataset descriptions (thresholds: :data:`DECONTAMINATION`).
_RULE = (f"char-TF-IDF cosine >= {DECONTAMINATION['lexical']} or base-model embedding cosine >= "
         f"{DECONTAMINATION['semantic']}")
#: The committed embedding measurement: the table, what it was measured with, and its null distribution.
NEAR_COPY_FILES: tuple[str, ...] = ("near_copies/embedding_nearest.csv.gz", "near_copies/embedding_nearest.json",
                                    "near_copies/embedding_null.csv")


def files_for(name: str) -> tuple[str, ...]:
    """Files (relative to data/) that determine the content of eval/train set ``name``.

    For training sets this includes the held-out test files, because the leak filter
    reads them.
    """
    if name in _EVAL_FILES:
        return _EVAL_FILES[name]
    if name in CAPTION_RETRIEVAL_SETS:
        return (corpora.FLICKR_FILE,)
    if name in TRAIN_FILES:
        test_files = tuple(f for t in EVAL_SETS_TEST for f in _EVAL_FILES[t])
        return TRAIN_FILES[name] + tuple(f for f in test_files if f not in TRAIN_FILES[name])
    if name in corpora.CORPUS_FILES or name in DECONTAMINATED_SETS:  # checked against every evaluation and dev set
        own = corpora.CORPUS_FILES.get(name) or TRAIN_FILES[name.removesuffix(DECONTAMINATED)]
        rule = NEAR_COPY_FILES[:2] if name not in CONTAMINATED_SETS else ()
        return own + tuple(dict.fromkeys(f for files in _EVAL_FILES.values() for f in files if f not in own)) + rule
    raise DataError(f"unknown dataset {name!r}; choose one of {EVAL_SETS + TRAIN_SETS}")


# --------------------------------------------------------------------------- train sets

def load_train_set(name: str, *, drop_eval_overlap: bool = True) -> datasets.Dataset:
    """Load a bundled training set, de-duplicated and leak-free.

    Columns follow sentence-transformers conventions (GATE §3.1 trains stage 1 on
    ``anchor, positive, negative`` triplets with MNRL and stage 2 on ``premise,
    hypothesis, label`` (0 entailment, 1 neutral, 2 contradiction) + scored pairs):

    * ``xnli-triplets`` anchor/positive/negative; ``xnli-pairs`` premise/hypothesis/label;
      ``xnli-triplets-en`` and ``sick-entailment-en`` are the same rows in the original English
      (the ``mrl-bilingual`` recipe, ``gatelib.losses``);
      ``xnli-parallel`` english/arabic (XNLI test, premises and hypotheses, de-duplicated);
      ``xnli-dev-parallel`` the same from XNLI dev; ``sick-parallel`` english/arabic sentences of
      SICK-ar train (the teacher side of the distillation recipe, ``gatelib.losses``).
    * ``q2q-pairs`` anchor/positive (label-1 pairs); ``q2q-triplets`` adds a hard negative
      (a label-0 partner of the anchor that is not one of its paraphrases).
    * ``sick-pairs`` sentence1/sentence2/score ((relatedness-1)/4); ``sick-nli``
      premise/hypothesis/label; ``sick-entailment`` anchor/positive (entailed pairs only, identical
      sentences dropped).
    * ``stsb-ar-scored`` and ``semrel-{arq,ary}-train`` sentence1/sentence2/score in [0, 1].

    Every row with any cell whose normalised text occurs in the held-out test sets
    (:data:`EVAL_SETS_TEST`) is dropped (``drop_eval_overlap=True``, the default). Counts
    of dropped rows per reason are logged at INFO, appended to ``dataset.info.description`` and
    returned by :func:`loaded_train_set`.
    """
    return loaded_train_set(name, drop_eval_overlap=drop_eval_overlap).dataset


def loaded_train_set(name: str, *, drop_eval_overlap: bool = True) -> Loaded:
    """:func:`load_train_set` with the rows dropped, by reason."""
    if name in corpora.CORPORA:
        return _load_corpus(name, drop_eval_overlap=drop_eval_overlap)
    base = name.removesuffix(DECONTAMINATED) if name in DECONTAMINATED_SETS else name
    if base not in TRAIN_FILES:
        raise DataError(f"unknown training set {name!r}; choose one of {TRAIN_SETS}")
    cols, dropped = bundled_rows(base)
    dropped = {"duplicates": 0, **dropped}
    rule = f"eval-overlap filter {'on' if drop_eval_overlap else 'OFF'} against {', '.join(EVAL_SETS_TEST)}"
    if base != name:  # a row is its own group (see DECONTAMINATED)
        lexical, semantic = near_copy_groups(name)
        keep = [i for i in range(len(next(iter(cols.values())))) if i not in lexical | semantic]
        cols = {c: [v[i] for i in keep] for c, v in cols.items()}
        dropped["near_copy_row"], dropped["embedding_near_copy_row"] = len(lexical), len(semantic - lexical)
        rule += f"; rows with a near copy of any evaluation or dev sentence dropped ({_RULE})"
    return _train_dataset(name, cols, dropped, TRAIN_FILES[base], drop_eval_overlap, rule)


def _train_dataset(name: str, cols: dict[str, list], dropped: dict[str, int], files: Sequence[str],
                   drop_eval_overlap: bool, rule: str) -> Loaded:
    """The last step of every training set: the exact-match leak filter (if on), the drop counts
    and the log, and a description naming the files and ``rule``."""
    dropped = {**dropped, "eval_overlap": 0}
    if drop_eval_overlap:
        cols, dropped["eval_overlap"] = _drop_overlap(cols, eval_sentences())
    n = len(next(iter(cols.values())))
    summary = ", ".join(f"{k}={v}" for k, v in dropped.items())
    logger.info("load_train_set(%r): %d rows; dropped %s", name, n, summary)
    return Loaded(_to_dataset(cols, f"{name} (training); files: {', '.join(files)}; rows dropped: {summary}; {rule}"),
                  dropped)


def _rule_texts(name: str) -> list[tuple]:
    """``(group, text)`` for every text of every group of corpus ``name``, before decontamination;
    for a bundled set's decontaminated twin (:data:`DECONTAMINATED_SETS`) the groups are its rows."""
    if name in DECONTAMINATED_SETS:
        base = name.removesuffix(DECONTAMINATED)
        cols, _ = bundled_rows(base)
        texts = [c for c in cols if c not in _FEATURE_TYPES]
        return [(i, cols[c][i]) for i in range(len(cols[texts[0]])) for c in texts]
    files, loader = corpora.CORPORA[name]
    corpus = loader([_verified_path(rel) for rel in files])
    return [(g, t) for g, ts in corpus.group_texts.items() for t in ts]


@functools.lru_cache(maxsize=8)
def _nearest(name: str, fingerprint: str) -> tuple[pd.DataFrame, object, str]:
    """The rule's table for corpus ``name``, the TF-IDF vectoriser it was measured with and the
    sha256 of the texts (:func:`rule_texts_sha256`)."""
    texts, refs = _rule_texts(name), held_out_references()
    vectorizer = char_vectorizer()
    sims, idx = lexical_nearest([t for _, t in texts], refs, vectorizer=vectorizer)
    table = pd.DataFrame({"group": [g for g, _ in texts], "text": [t for _, t in texts], "similarity": sims,
                          "nearest": np.array([refs[i] if i >= 0 else "" for i in idx], dtype=object)})
    return table, vectorizer, texts_sha256(f"{g!r}\t{t}" for g, t in texts)


def _source_key(name: str) -> str:
    """The checksums of the files ``name``'s texts and the references come from (not the rule's)."""
    sums = _load_checksums()
    return ",".join(sums.get(f, "?") for f in files_for(name) if f not in NEAR_COPY_FILES)


def texts_sha256(texts: Iterable[str]) -> str:
    """sha256 of texts joined by newlines: what an embedding measurement was taken on."""
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def rule_texts_sha256(name: str) -> str:
    """sha256 of every (group, text) of set ``name`` before decontamination, as the rule reads them."""
    return _nearest(name, _source_key(name))[2]


def nearest_held_out(name: str) -> pd.DataFrame:
    """For every text of every group of corpus ``name`` (before decontamination; for a
    ``-decontaminated`` bundled set, of every row, the group being the row's index): its group, the
    char n-gram TF-IDF cosine to the nearest evaluation or dev sentence, and that sentence. Computed
    once per process and data fingerprint (about a minute for the 155k Flickr30k captions on 2 cores)."""
    return _nearest(name, _source_key(name))[0].copy()


def _embedding_measurement() -> tuple[pd.DataFrame, dict]:
    """The committed table and what it was measured with, read once per checksum of the two files."""
    sums = _load_checksums()
    return _read_embedding_measurement(",".join(sums.get(f, "?") for f in NEAR_COPY_FILES[:2]))


@functools.lru_cache(maxsize=2)
def _read_embedding_measurement(key: str) -> tuple[pd.DataFrame, dict]:
    table = pd.read_csv(_verified_path(NEAR_COPY_FILES[0]), keep_default_na=False, dtype={"group": str})
    return table, json.loads(_verified_path(NEAR_COPY_FILES[1]).read_text(encoding="utf-8"))


def embedding_near_copies(name: str) -> pd.DataFrame:
    """The committed embedding measurement for set ``name`` (``gatelib.near_copies``): one row per
    text at the base model's cosine >= the table's floor (0.95) to its nearest evaluation or dev
    sentence, with ``group`` (as ``repr``), ``text``, ``lexical`` (the TF-IDF rule's cosine),
    ``similarity`` and ``nearest``. Raises :class:`DataError` if the table was measured on other
    texts or references than those loaded now."""
    table, meta = _embedding_measurement()
    entry = meta["sets"].get(name)
    if entry is None or entry["texts_sha256"] != rule_texts_sha256(name) or \
            meta["references_sha256"] != texts_sha256(held_out_references()):
        raise DataError(f"data/{NEAR_COPY_FILES[0]} was not measured on the texts of {name!r} and the evaluation "
                        "sentences as they are now: rerun `python -m gatelib.near_copies` and update "
                        f"data/{CHECKSUMS_FILE} and DATA.md")
    return table[table.set == name].reset_index(drop=True)


def embedding_null() -> pd.DataFrame:
    """The embedding rule's null distribution, as committed (``gatelib.near_copies.null_curves``)."""
    return pd.read_csv(_verified_path(NEAR_COPY_FILES[2]))


def embedding_only_near_copies(names: Iterable[str], n: int = 8, max_chars: int = 80) -> pd.DataFrame:
    """The ``n`` closest near copies among ``names`` that only the embedding rule catches (TF-IDF
    cosine below its threshold), each training text once, with the evaluation or dev sentence (read
    from the committed table; :func:`embedding_near_copies` checks it against the data); texts longer
    than ``max_chars`` are cut there, with an ellipsis."""
    table, _ = _embedding_measurement()
    rows = table[table.set.isin(set(names))]
    rows = rows[(rows.similarity >= DECONTAMINATION["semantic"]) & (rows.lexical < DECONTAMINATION["lexical"])]
    rows = rows.sort_values(["similarity", "text"], ascending=[False, True]).drop_duplicates("text").head(n)
    cut = lambda t: t if len(t) <= max_chars else t[:max_chars].rstrip() + "…"  # noqa: E731
    rows = rows.assign(text=rows.text.map(cut), nearest=rows.nearest.map(cut))
    return rows.rename(columns={"set": "training set", "text": "training text", "lexical": "TF-IDF",
                                "similarity": "embedding", "nearest": "evaluation or dev sentence"}
                       )[["training set", "training text", "evaluation or dev sentence", "TF-IDF", "embedding"]]


def near_copy_groups(name: str) -> tuple[set, set]:
    """The groups of set ``name`` (before decontamination) with a near copy of an evaluation or dev
    sentence: ``(lexical, semantic)``, by the TF-IDF rule and by the embedding rule
    (:data:`DECONTAMINATION`); the loaders drop their union whole."""
    near = nearest_held_out(name)
    lexical = contaminated_groups(list(near["group"]), (near["similarity"].to_numpy(), DECONTAMINATION["lexical"]))
    measured = embedding_near_copies(name).drop_duplicates(["group", "text"]).set_index(["group", "text"])
    key = pd.MultiIndex.from_arrays([near["group"].map(repr), near["text"]])
    embedding = measured["similarity"].reindex(key).fillna(0.0).to_numpy()
    return lexical, contaminated_groups(list(near["group"]), (embedding, DECONTAMINATION["semantic"]))


def _arabic_texts(ds: datasets.Dataset) -> list[str]:
    """The distinct texts of a training set that near copies are looked for in (not ``english``)."""
    return list(dict.fromkeys(t for c in _string_columns(ds) if c != "english" for t in ds[c]))


def _rule_vectorizer(name: str):
    """The TF-IDF weights near copies in training set ``name`` are measured with: those its
    decontamination used for a grouped corpus or a ``-decontaminated`` bundled set (cosines depend
    on the IDF), else ``None`` (fitted on the set's texts and the queries)."""
    base = name.removesuffix("-contaminated")
    return _nearest(base, _source_key(base))[1] if base in corpora.CORPORA or base in DECONTAMINATED_SETS else None


def nearest_training_texts(train_sets: Iterable[str], eval_sets: Iterable[str]) -> pd.DataFrame:
    """How close each held-out STS17 Arabic sentence comes to each training set, as a run loads it:
    one row per (set, sentence) with the char n-gram TF-IDF cosine to the set's nearest text
    (``gatelib.decontamination``; the ``english`` side of parallel sets is left out).

    When a Flickr30k corpus is among the sets, the captions of Flickr30k's *test* images (never
    trained on, same domain) are measured against it too, as ``queries`` = "unseen-image captions":
    how close a caption comes without being a copy. For a grouped corpus the TF-IDF weights are those
    of its decontamination (fitted on all its texts and every evaluation and dev sentence), so its
    curve and the rule agree; other sets are weighted on their texts and the queries."""
    eval_sets = tuple(eval_sets)
    queries = arabic_test_sentences(eval_sets)
    rows = []
    for name, ds in load_named_sets(train_sets, held_out=eval_sets).items():
        labels, asked = ["STS17 Arabic sentences"] * len(queries), list(queries)
        if name.startswith("flickr30k") and name not in CONTAMINATED_SETS:
            images = corpora.flickr30k_test_images(_verified_path(corpora.FLICKR_FILE))
            unseen = [c for captions in images.values() for c in captions]
            labels, asked = labels + ["unseen-image captions"] * len(unseen), asked + unseen
        sims, _ = lexical_nearest(asked, _arabic_texts(ds), vectorizer=_rule_vectorizer(name))
        rows.append(pd.DataFrame({"training set": name, "queries": labels, "similarity": sims}))
    return pd.concat(rows, ignore_index=True)


def leaked_pairs(task: str, train_sets: Iterable[str], max_rows: int | None = None, seed: int = 0,
                 threshold: float = DECONTAMINATION["lexical"], but_not: Iterable[str] = ()) -> pd.DataFrame:
    """Which pairs of evaluation set ``task`` a run trained on ``train_sets`` has seen near copies of.

    The sets are loaded as a run loads them (``max_rows``, ``seed``, the held-out filter; the
    ``english`` side of parallel sets left out). One row per pair: ``pair`` (its index, as in the
    predictions of ``gatelib.evaluation``), ``similarity`` — the char n-gram TF-IDF cosine of the
    pair's closer sentence to its nearest text of ``train_sets``, with the weights of the near-copy
    rule for a grouped corpus — and ``leaked``: ``similarity >= threshold`` (the rule's threshold)
    and, given ``but_not`` (another run's sets, e.g. a contaminated arm's clean twin), not leaked to
    that run too: the pairs only the first run saw near copies of."""
    ds = load_eval_set(task)
    sentences = list(dict.fromkeys(list(ds["sentence1"]) + list(ds["sentence2"])))

    def closest(sets):  # per pair: its closer sentence's similarity to the nearest text of ``sets``
        best = np.zeros(len(sentences))
        for name, train in load_named_sets(sets, max_rows, seed, held_out=(task,)).items():
            best = np.maximum(best, lexical_nearest(sentences, _arabic_texts(train), vectorizer=_rule_vectorizer(name))[0])
        nearest = dict(zip(sentences, best))
        return np.maximum([nearest[s] for s in ds["sentence1"]], [nearest[s] for s in ds["sentence2"]])

    similarity = closest(train_sets)
    leaked = similarity >= threshold
    if but_not:
        leaked &= closest(but_not) < threshold
    return pd.DataFrame({"pair": np.arange(len(ds)), "similarity": similarity, "leaked": leaked})


def _load_corpus(name: str, *, drop_eval_overlap: bool) -> Loaded:
    """A grouped corpus of ``gatelib.corpora``, decontaminated group by group (:data:`DECONTAMINATION`)
    and then through the exact-match filter, unless it is one of :data:`CONTAMINATED_SETS`: those keep
    every flagged group and leave out as many clean groups (the first by sha256 of the group id), so
    the two arms of the contamination experiment have the same number of rows."""
    files, loader = corpora.CORPORA[name]
    corpus = loader([_verified_path(rel) for rel in files])
    dropped = dict(corpus.dropped)
    clean = name not in CONTAMINATED_SETS
    lexical, semantic = near_copy_groups(name.removesuffix("-contaminated"))
    flagged = lexical | semantic
    if clean:
        keep = [i for i, g in enumerate(corpus.groups) if g not in flagged]
        dropped["near_copy_group"] = sum(g in lexical for g in corpus.groups)
        dropped["embedding_near_copy_group"] = len(corpus.groups) - len(keep) - dropped["near_copy_group"]
    else:  # as many rows as the clean set: the flagged groups replace as many clean ones
        clean_rows = [i for i, g in enumerate(corpus.groups) if g not in flagged]
        n_flagged = len(corpus.groups) - len(clean_rows)
        by_hash = sorted(clean_rows, key=lambda i: hashlib.sha256(repr(corpus.groups[i]).encode()).hexdigest())
        left_out = set(by_hash[:n_flagged])
        keep = [i for i in range(len(corpus.groups)) if i not in left_out]
        dropped["clean_rows_swapped_out"] = n_flagged
    rule = (f"groups with a near copy of any evaluation or dev sentence dropped whole ({_RULE})" if clean
            else "NOT decontaminated (the contamination experiment's contaminated arm)")
    return _train_dataset(name, corpus.select(keep).columns, dropped, files, drop_eval_overlap and clean, rule)


# --------------------------------------------------------------------------- reported scores

PEER_SCORES_FILE = "reported/mteb_arabic_sts_results.csv"
_PEER_TASKS = {"STS17_ar-ar": "sts17-ar-ar", "STS17_en-ar": "sts17-en-ar", "STS22_ar": "sts22-ar",
               "STS22.v2_ar": "sts22-v2-ar"}


def load_peer_scores() -> pd.DataFrame:
    """Published MTEB scores (cosine Spearman ×100) of peer models, one row per model.

    From ``data/reported/mteb_arabic_sts_results.csv`` (embeddings-benchmark/results @ f4cc6c8b,
    see data/DATA.md). A model with results under several revisions gets, per task, the first
    non-empty value. Columns: ``model``, ``sts17-ar-ar``, ``sts17-en-ar``, ``sts22-ar``,
    ``sts22-v2-ar``, ``source``.
    """
    path = _verified_path(PEER_SCORES_FILE)
    table = pd.read_csv(path)
    missing = {"model", "source", *_PEER_TASKS} - set(table.columns)
    if missing:
        raise DataError(f"{_display(path)} lacks columns {sorted(missing)}; restore it with `git checkout data/`")
    table = table.rename(columns=_PEER_TASKS)
    merged = table.groupby("model", sort=False)[[*_PEER_TASKS.values(), "source"]].first().reset_index()
    merged["source"] = merged.source.str.split(" ").str[0]
    return merged


# --------------------------------------------------------------------------- fingerprint

def data_fingerprint(names: str | Iterable[str]) -> str:
    """12-hex fingerprint of the data behind ``names`` (eval and/or train set names).

    sha256 over the sorted ``path:sha256`` lines (from data/checksums.json) of every file
    that determines those sets (see :func:`files_for`). Put it in every results row and
    figure caption.
    """
    if isinstance(names, str):
        names = (names,)
    names = list(names)
    hub = sorted("hub:{}@{}/{}/{}".format(*HUB_DATASETS[n]) for n in names if n in HUB_DATASETS)
    sums = _load_checksums()
    files = sorted({f for n in names if n not in HUB_DATASETS for f in files_for(n)})
    missing = [f for f in files if f not in sums]
    if missing:
        raise DataError(f"no sha256 for {missing} in data/{CHECKSUMS_FILE}")
    blob = "".join(f"{f}:{sums[f]}\n" for f in files) + "".join(f"{h}\n" for h in hub)
    if any(f in _EVAL_FILES["q2q-test"] for f in files):
        blob += evalsets.Q2Q_TEST_RULE + "\n"
    decontaminated = [n for n in names if (n in corpora.CORPORA and n not in CONTAMINATED_SETS) or n in DECONTAMINATED_SETS]
    if decontaminated:
        blob += f"decontamination {sorted(DECONTAMINATION.items())}: {','.join(sorted(decontaminated))}\n"
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


# --------------------------------------------------------------------------- by name

def load_named_set(name: str) -> datasets.Dataset:
    """Any set a profile can name: bundled evaluation or training set, or a Hub dataset."""
    return _loaded_set(name).dataset


def _loaded_set(name: str) -> Loaded:
    if name in EVAL_SETS or name in RETRIEVAL_SETS or name in CAPTION_RETRIEVAL_SETS:
        return Loaded(load_eval_set(name), {})
    if name in TRAIN_SETS:
        return loaded_train_set(name)
    if name in HUB_DATASETS:
        return loaded_hub_dataset(name)
    raise DataError(f"unknown dataset {name!r}; bundled: {EVAL_SETS + TRAIN_SETS}; Hub: {tuple(HUB_DATASETS)}")


def load_named_sets(names: Iterable[str], max_rows: int | None = None, seed: int = 0,
                    held_out: Iterable[str] = ()) -> dict[str, datasets.Dataset]:
    """``{name: dataset}`` for a profile's list; ``max_rows`` keeps a seeded random subset of each.

    ``held_out`` names the sets a run evaluates on (test and dev): rows sharing a normalised
    sentence with any of them are dropped too (counted as ``held_out_overlap`` by
    :func:`loaded_sets`), so a profile never trains on anything it reports.
    """
    return {name: got.dataset for name, got in loaded_sets(names, max_rows, seed, held_out).items()}


def loaded_sets(names: Iterable[str], max_rows: int | None = None, seed: int = 0,
                held_out: Iterable[str] = ()) -> dict[str, Loaded]:
    """:func:`load_named_sets` with the rows dropped from each set, by reason."""
    against = _held_out_sentences(held_out)
    loaded = {}
    for name in names:
        ds, dropped = _loaded_set(name)
        if held_out and name not in CONTAMINATED_SETS:
            leaking = {row for row, _, _ in find_overlap(ds, against)}
            if leaking:
                ds = ds.select([i for i in range(len(ds)) if i not in leaking])
            dropped = {**dropped, "held_out_overlap": len(leaking)}
        if max_rows is not None and len(ds) > max_rows:
            ds = ds.shuffle(seed=seed).select(range(max_rows))
        loaded[name] = Loaded(ds, dropped)
    return loaded


def data_summary(train_sets: Iterable[str], eval_sets: Iterable[str]) -> pd.DataFrame:
    """One row per set: role (train/dev/test), rows after cleaning, columns, rows dropped,
    data fingerprint. Training sets are loaded as a run loads them (held-out overlap dropped)."""
    rows = []
    eval_sets = tuple(eval_sets)
    train = loaded_sets(train_sets, held_out=eval_sets)
    for name, (ds, dropped) in train.items():
        rows.append(_summary_row(name, "train", ds, dropped))
    for name in eval_sets:
        role = "test" if name in EVAL_SETS_TEST or name in HUB_DATASETS else "dev"
        rows.append(_summary_row(name, role, load_named_set(name), {}))
    return pd.DataFrame(rows)


def _summary_row(name: str, role: str, ds: datasets.Dataset, dropped: dict[str, int]) -> dict:
    return {"set": name, "role": role, "rows": len(ds), "columns": ", ".join(ds.column_names),
            "dropped": ", ".join(f"{k} {v}" for k, v in dropped.items() if v) or "-",
            "sha256": data_fingerprint(name)}


def _held_out_sentences(names: Iterable[str]) -> set[str]:
    """Normalised sentences of the held-out tests plus any bundled evaluation sets named."""
    return eval_sentences(tuple(dict.fromkeys([*EVAL_SETS_TEST, *(n for n in names if n in EVAL_SETS)])))


def overlap_report(train_sets: Iterable[str], eval_sets: Iterable[str]) -> pd.DataFrame:
    """Rows of each training set (as a run loads it) that share a normalised sentence with any
    test or dev set the run evaluates on: all zeros, or the run is leaking. The contaminated arm of
    the contamination experiment (:data:`CONTAMINATED_SETS`) leaks by design and is left out."""
    eval_sets = tuple(eval_sets)
    against = _held_out_sentences(eval_sets)
    rows = []
    clean = [n for n in train_sets if n not in CONTAMINATED_SETS]
    for name, ds in load_named_sets(clean, held_out=eval_sets).items():
        rows.append({"training set": name, "rows": len(ds),
                     "overlapping_rows": len({row for row, _, _ in find_overlap(ds, against)})})
    return pd.DataFrame(rows)
