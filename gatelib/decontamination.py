"""Decontamination: find training texts that copy an evaluation sentence, and drop their groups.

STS17's Arabic sentences are machine translations of SNLI / Flickr30k captions, so any
caption-domain training set (the paper's Arabic-NLi-Triplet is an SNLI translation) may hold
copies of the test sentences: exact, or with a different final stop, alef form or diacritic. An
exact-match filter misses those. This module measures, for every training text, how close it is
to the nearest evaluation sentence, in two ways:

* **lexical**: cosine of character 3-5-gram TF-IDF vectors (scikit-learn's ``TfidfVectorizer``,
  ``analyzer="char_wb"``) after :func:`normalize_for_matching`, which drops punctuation,
  diacritics and tatweel and unifies the alef, ya and ta-marbuta spellings that MT output and
  human translations disagree on;
* **semantic**: cosine of sentence embeddings from the untrained base model, via faiss exact
  inner-product search, which catches loose paraphrases that share few character n-grams.

A *group* (an image's captions, an NLI premise block, a tweet's references) with any member over
either threshold is dropped whole (:func:`contaminated_groups`): its other members are
paraphrases of the copied sentence. Thresholds are arguments; the data chapter shows the
distribution they are chosen from.

This module knows nothing about which sets exist (``gatelib.data`` calls it); it holds the study's
thresholds, :data:`DECONTAMINATION`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = [
    "DECONTAMINATION",
    "normalize_for_matching",
    "char_vectorizer",
    "lexical_nearest",
    "semantic_nearest",
    "contaminated_groups",
]

#: The study's near-copy rule (applied by ``gatelib.data`` and ``gatelib.hub_data``): a group (an
#: image's captions, an XNLI premise block, a tweet and its references) is dropped whole if any of
#: its texts has char 3-5-gram TF-IDF cosine >= ``lexical`` to any evaluation or dev sentence
#: (``gatelib.evalsets.held_out_references``), after :func:`normalize_for_matching`. 0.7 is where
#: STS17's sentences start to sit closer to the Flickr30k training captions than captions of
#: unseen Flickr30k images do (data chapter), and where a caption starts to contain a test
#: sentence whole («الناس ينتظرون في منطقة الراحة» for «الناس ينتظرون»). ``semantic``: the same for
#: the cosine of the untrained base model's embeddings (``gatelib.near_copies`` measures it once and
#: commits it to ``gatelib.data.NEAR_COPY_FILES``). The base model puts nearly every caption pair
#: between 0.90 and 1.0, so only the top of that band tells a copy: at 0.98 a matched pair is the
#: same sentence up to inflection, word order or one word («امرأة تلعب التنس وضرب الكرة» for «امرأة
#: تلعب التنس وتضرب الكرة», TF-IDF 0.62), and with both rules STS17's sentences come no closer to
#: the training captions than captions of unseen images do from there up (data chapter).
DECONTAMINATION: dict[str, float] = {"lexical": 0.7, "semantic": 0.98}

_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # diacritics, Quranic marks, tatweel
_UNIFY = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ئ": "ي", "ؤ": "و", "ة": "ه"})
_WS = re.compile(r"\s+")


def normalize_for_matching(text: str) -> str:
    """NFKC, casefold, drop diacritics / tatweel / punctuation and symbols, unify alef (أ إ آ ٱ → ا),
    ya (ى ئ → ي), waw-hamza (ؤ → و) and ta marbuta (ة → ه), collapse whitespace.

    Stronger than ``gatelib.evalsets.normalize_text`` (the exact-match leak check), which keeps
    punctuation: «مجموعة من الناس على الشاطئ» and the same sentence with a final full stop
    normalise to the same string here.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _MARKS.sub("", text).translate(_UNIFY)
    text = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in text)
    return _WS.sub(" ", text).strip()


def _check(texts: Sequence[str], what: str) -> list[str]:
    if isinstance(texts, str):
        raise TypeError(f"{what} must be a sequence of strings, not one string")
    texts = list(texts)
    if not texts:
        raise ValueError(f"{what} is empty")
    return texts


def char_vectorizer(ngram_range: tuple[int, int] = (3, 5)) -> TfidfVectorizer:
    """The lexical check's vectoriser (unfitted): char n-gram TF-IDF over :func:`normalize_for_matching`."""
    return TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, preprocessor=normalize_for_matching,
                           dtype=np.float32)


def lexical_nearest(texts: Sequence[str], references: Sequence[str], *, chunk: int = 8192,
                    vectorizer: TfidfVectorizer | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``texts``: the char n-gram TF-IDF cosine to its nearest ``references`` entry,
    and that entry's index.

    An unfitted ``vectorizer`` (default: :func:`char_vectorizer`) is fitted here on both sides (IDF
    over all of them), so an n-gram that occurs only on one side still counts in a text's norm; it is
    fitted in place, and passing it again later measures with the same weights (cosines depend on
    the IDF) without refitting.

    Texts that normalise to the empty string (punctuation only) get similarity 0 and index -1.
    """
    texts, references = _check(texts, "texts"), _check(references, "references")
    vectorizer = char_vectorizer() if vectorizer is None else vectorizer
    if hasattr(vectorizer, "vocabulary_"):  # fitted already: keep its weights
        both = vectorizer.transform(texts + references).tocsr()
    else:
        both = vectorizer.fit_transform(texts + references).tocsr()
    rows, refs = both[:len(texts)], both[len(texts):].T.tocsc()
    best = np.zeros(len(texts), dtype=np.float32)
    index = np.full(len(texts), -1, dtype=np.int64)
    for start in range(0, len(texts), chunk):
        sims = (rows[start:start + chunk] @ refs).toarray()
        if sims.size:
            arg = sims.argmax(axis=1)
            top = sims[np.arange(sims.shape[0]), arg]
            best[start:start + len(arg)] = top
            index[start:start + len(arg)] = np.where(top > 0, arg, -1)
    return best, index


def semantic_nearest(text_embeddings: np.ndarray, reference_embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine to the nearest reference and its index, by exact faiss inner-product search over
    L2-normalised embeddings (``SentenceTransformer.encode(..., normalize_embeddings=True)``)."""
    import faiss

    x = np.ascontiguousarray(text_embeddings, dtype=np.float32)
    r = np.ascontiguousarray(reference_embeddings, dtype=np.float32)
    if x.ndim != 2 or r.ndim != 2 or x.shape[1] != r.shape[1] or not len(r):
        raise ValueError(f"need 2-D embeddings of one width and at least one reference, got {x.shape} and {r.shape}")
    for what, m in (("text", x), ("reference", r)):
        norms = np.linalg.norm(m, axis=1)
        if m.size and not np.allclose(norms, 1.0, atol=1e-3):
            raise ValueError(f"{what} embeddings must be L2-normalised (encode with normalize_embeddings=True)")
    index = faiss.IndexFlatIP(r.shape[1])
    index.add(r)
    sims, ids = index.search(x, 1)
    return sims[:, 0], ids[:, 0]


def contaminated_groups(groups: Sequence[Hashable], *scores_and_thresholds: tuple[np.ndarray, float]) -> set:
    """The groups with any member whose similarity reaches its threshold on any check.

    ``groups[i]`` is text i's group (e.g. its image id); each further argument is a pair
    ``(similarities, threshold)`` aligned with ``groups``.
    """
    groups = list(groups)
    flagged = np.zeros(len(groups), dtype=bool)
    for sims, threshold in scores_and_thresholds:
        sims = np.asarray(sims)
        if sims.shape != (len(groups),):
            raise ValueError(f"similarities of shape {sims.shape} do not match {len(groups)} group labels")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold {threshold} must be in (0, 1]")
        flagged |= sims >= threshold
    return {g for g, f in zip(groups, flagged) if f}
