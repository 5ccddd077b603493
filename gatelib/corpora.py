"""The larger training corpora: Flickr30k captions in Arabic, XNLI test triplets, Dial2MSA.

These sets bring the training data from ~6.7k pairs towards the paper's regime (GATE §3.1 trains
on 558k Arabic NLI triplets, an MT of SNLI + MultiNLI; SNLI's premises are Flickr30k captions).
Each corpus is a small function registered in :data:`CORPORA` that parses its vendored files and
returns a :class:`Corpus`: the training rows, the *group* of each row (an image, an XNLI premise
block, a tweet) with every text of that group, and what it dropped and why. Nothing here knows
the evaluation sets: ``gatelib.data.load_train_set`` decontaminates a corpus group by group
(``gatelib.decontamination``) before it becomes a ``datasets.Dataset``.

Provenance, licences and the derivation of the vendored files: ``data/DATA.md``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path

from gatelib.datafiles import DataError, _display, _read_table, _read_text

__all__ = ["Corpus", "CORPORA", "CORPUS_FILES", "XNLI_TEST_LABELS"]


@dataclass
class Corpus:
    """Rows of a training corpus with their groups.

    ``columns``: sentence-transformers columns, one list per column; ``groups[i]``: row i's group;
    ``group_texts``: every text of each group (also those no row uses, e.g. an image's other
    captions), which decontamination checks; ``dropped``: rows dropped while parsing, per reason.
    """

    columns: dict[str, list]
    groups: list[Hashable]
    group_texts: dict[Hashable, list[str]]
    dropped: dict[str, int] = field(default_factory=dict)

    def select(self, keep: list[int]) -> Corpus:
        """The rows ``keep`` (and their groups); ``dropped`` is shared."""
        kept_groups = [self.groups[i] for i in keep]
        return Corpus({c: [v[i] for i in keep] for c, v in self.columns.items()}, kept_groups,
                      {g: self.group_texts[g] for g in dict.fromkeys(kept_groups)}, self.dropped)


# --------------------------------------------------------------------------- Flickr30k

FLICKR_FILE = "flickr30k_ar/captions.tsv.gz"


def _flickr_images(path: Path, split: str) -> tuple[dict[str, list[str]], int]:
    """``{image: [captions in file order]}`` of one split, and how many captions were empty."""
    rows = _read_table(path, ncols=3, header=("split", "image", "caption"))
    images: dict[str, list[str]] = {}
    empty = 0
    for ln, (s, image, caption) in rows:
        if s not in ("train", "val", "test"):
            raise DataError(f"{_display(path)} line {ln}: split {s!r} is not train, val or test")
        if s != split:
            continue
        if not caption.strip():
            empty += 1
            continue
        images.setdefault(image, []).append(caption)
    return images, empty


def flickr30k_pairs(paths: list[Path]) -> Corpus:
    """One (anchor, positive) pair per Flickr30k *train* image: its first two captions.

    One pair per image, not all ten: two positives of one image in one batch would be each
    other's false negatives under in-batch MNRL, and one pair per image already gives 29k pairs
    (an epoch is ~35 min on the 2-core fast path: 4.8 s per batch of 64, captions average 27 tokens). The image's other captions stay in the group,
    so an image is dropped whole if any of its five captions copies an evaluation sentence.
    Flickr30k's own val/test images are never trained on.
    """
    images, empty = _flickr_images(paths[0], "train")
    cols = {"anchor": [], "positive": []}
    groups, texts, single, same = [], {}, 0, 0
    for image, captions in images.items():
        unique = list(dict.fromkeys(captions))
        if len(unique) < 2:
            single += 1
            continue
        cols["anchor"].append(unique[0])
        cols["positive"].append(unique[1])
        same += len(captions) - len(unique)
        groups.append(("flickr30k", image))
        texts[("flickr30k", image)] = captions
    return Corpus(cols, groups, texts, {"empty": empty, "repeated_caption": same, "fewer_than_two_captions": single})


def flickr30k_test_images(path: Path) -> dict[str, list[str]]:
    """Captions of Flickr30k's val + test images (2,014 images): the in-domain retrieval test."""
    val, _ = _flickr_images(path, "val")
    test, _ = _flickr_images(path, "test")
    return {**val, **test}


# --------------------------------------------------------------------------- XNLI test labels

XNLI_TEST_LABELS = "xnli_test_labels/xglue_xnli_de_test.txt.gz"
_XNLI_LABEL = {"entailment": 0, "neutral": 1, "contradiction": 2}
_DIGITS = re.compile(r"\d+")
_TO_ASCII = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _blocks(premises: list[str]) -> list[int]:
    """Row indices where a new premise block starts."""
    return [i for i, p in enumerate(premises) if i == 0 or p != premises[i - 1]]


def transfer_xnli_labels(arabic: list[tuple[str, str]], german: list[tuple[str, str, str]],
                         where: str = "XNLI test", *, min_digit_rows: int = 50,
                         max_digit_disagreement: float = 0.1) -> list[int]:
    """Labels of the Arabic XNLI test rows, taken from the row-aligned German copy, after checking
    the alignment: same row count, the same premise-block boundaries, one entailment, neutral and
    contradiction hypothesis per block, balanced labels, and the same digits in the two hypotheses of a row wherever both contain digits
    (at least ``min_digit_rows`` such rows, at most ``max_digit_disagreement`` of them differing:
    on the real files 320 of 326 agree, the 6 others are slips of the German translation such as
    "1980ern" for "1970"; shifted by one block, 0 of 28 agree). Any failure is a :class:`DataError`."""
    if len(arabic) != len(german):
        raise DataError(f"{where}: {len(arabic)} Arabic rows but {len(german)} German rows; they must be row-aligned")
    starts = _blocks([p for p, _ in arabic])
    if starts != _blocks([p for p, _, _ in german]):
        first = next(i for i, (a, b) in enumerate(zip(starts, _blocks([p for p, _, _ in german]))) if a != b)
        raise DataError(f"{where}: premise blocks differ between the Arabic and German files near row {starts[first] + 1}")
    labels = []
    for i, (_, _, label) in enumerate(german):
        if label not in _XNLI_LABEL:
            raise DataError(f"{where}: German row {i + 1} has label {label!r}; expected one of {sorted(_XNLI_LABEL)}")
        labels.append(_XNLI_LABEL[label])
    for start, end in zip(starts, starts[1:] + [len(labels)]):
        if sorted(labels[start:end]) != [0, 1, 2]:
            raise DataError(f"{where}: the block at row {start + 1} has labels {labels[start:end]}; expected one "
                            "entailment, one neutral and one contradiction hypothesis")
    counts = [labels.count(k) for k in (0, 1, 2)]
    if len(set(counts)) != 1:
        raise DataError(f"{where}: labels are unbalanced {counts}")
    both, disagree = 0, []
    for i, ((_, h_ar), (_, h_de, _)) in enumerate(zip(arabic, german)):
        # the multiset of digit characters: thousands separators and word order differ by language
        ar, de = sorted("".join(_DIGITS.findall(h_ar.translate(_TO_ASCII)))), sorted("".join(_DIGITS.findall(h_de)))
        if ar and de:
            both += 1
            if ar != de:
                disagree.append(i + 1)
    if both < min_digit_rows or len(disagree) > max_digit_disagreement * both:
        raise DataError(f"{where}: of {both} rows whose two hypotheses both carry digits, {len(disagree)} disagree "
                        f"(e.g. rows {disagree[:5]}); the files are not row-aligned (aligned: a few translation "
                        f"slips; shifted by one block: none agree)")
    return labels


def _xnli_test_rows(paths: list[Path]) -> tuple[list[tuple[str, str]], list[int]]:
    arabic = [(p, h) for _, (p, h) in _read_table(paths[0], ncols=2)]
    german = [(p, h, lab) for _, (p, h, lab) in _read_table(paths[1], ncols=3)]
    for i, (p, h) in enumerate(arabic):
        if not p.strip() or not h.strip():
            raise DataError(f"{_display(paths[0])} line {i + 1}: empty premise or hypothesis")
    return arabic, transfer_xnli_labels(arabic, german, f"{_display(paths[0])} / {_display(paths[1])}")


def xnli_test_triplets(paths: list[Path]) -> Corpus:
    """XNLI test (human-translated MultiNLI) as (premise, entailment, contradiction): 1,670 triplets,
    one per premise block; the group is the block (its premise and all three hypotheses)."""
    arabic, labels = _xnli_test_rows(paths)
    cols = {"anchor": [], "positive": [], "negative": []}
    groups, texts = [], {}
    starts = _blocks([p for p, _ in arabic])
    for start, end in zip(starts, starts[1:] + [len(arabic)]):
        by_label = {labels[i]: arabic[i][1] for i in range(start, end)}
        premise = arabic[start][0]
        cols["anchor"].append(premise)
        cols["positive"].append(by_label[0])
        cols["negative"].append(by_label[2])
        groups.append(("xnli-test", start))
        texts[("xnli-test", start)] = [premise, *by_label.values()]
    return Corpus(cols, groups, texts, {})


def xnli_test_pairs(paths: list[Path]) -> Corpus:
    """The labelled XNLI test pairs (premise, hypothesis, label: 0 entailment, 1 neutral,
    2 contradiction), grouped by premise block: 5,010 less the 4 rows whose Arabic pair occurs with
    two labels (two blocks where the translator gave the entailment and the neutral hypothesis the
    same sentence)."""
    arabic, labels = _xnli_test_rows(paths)
    starts = set(_blocks([p for p, _ in arabic]))
    block, groups, texts = -1, [], {}
    for i, (p, h) in enumerate(arabic):
        block = i if i in starts else block
        groups.append(("xnli-test", block))
        texts.setdefault(("xnli-test", block), [p]).append(h)
    # two blocks translate two different hypotheses (entailment, neutral) to one Arabic sentence
    seen: dict[tuple[str, str], set[int]] = {}
    for row, label in zip(arabic, labels):
        seen.setdefault(row, set()).add(label)
    keep = [i for i, row in enumerate(arabic) if len(seen[row]) == 1]
    cols = {"premise": [arabic[i][0] for i in keep], "hypothesis": [arabic[i][1] for i in keep],
            "label": [labels[i] for i in keep]}
    return Corpus(cols, [groups[i] for i in keep], texts, {"conflicting_labels": len(arabic) - len(keep)})


# --------------------------------------------------------------------------- Dial2MSA

DIAL2MSA_DIALECTS = ("egy", "glf", "lev", "mgr")
DIAL2MSA_FILES = tuple(f"dial2msa/train/{d}_train.csv.gz" for d in DIAL2MSA_DIALECTS)
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"[@#]\S+")


def _no_content(text: str) -> bool:
    """Empty once URLs, @mentions / #tags and non-letters are removed."""
    return not any(c.isalpha() for c in _MENTION.sub("", _URL.sub("", text)))


def _dial2msa_tweets(paths: list[Path]) -> tuple[dict[tuple[str, str], dict], dict[str, int]]:
    """``{(dialect, tweet id): {"tweet": cleaned tweet, "msa": [references, best first]}}``.

    The four files differ in layout: ``confidence,id,msa,tweet|cleanedtweet,cleanedtweet2``
    (Egyptian, Maghrebi; the first header cell carries an ``egytomsa:`` prefix) and
    ``id,msa_verified,tweet,cleanedtweet2`` (Gulf, Levantine). The dialect side is
    ``cleanedtweet2`` (the dataset's cleaned tweet); references with a confidence are ordered
    best first, the others keep file order.
    """
    tweets: dict[tuple[str, str], dict] = {}
    dropped = {"no_content": 0, "duplicate_reference": 0, "msa_equals_tweet": 0}
    for dialect, path in zip(DIAL2MSA_DIALECTS, paths):
        first_line = _read_text(path).split("\n", 1)[0]
        rows = _read_table(path, ncols=len(next(csv.reader([first_line]))), sep=",", quoted=True)
        header = [h.split(":")[-1] for h in rows[0][1]]
        need = {"id", "cleanedtweet2"}
        msa_col = "msa" if "msa" in header else "msa_verified"
        if not need <= set(header) or msa_col not in header:
            raise DataError(f"{_display(path)}: header {rows[0][1]} lacks id, msa / msa_verified or cleanedtweet2")
        col = {h: header.index(h) for h in header}
        for ln, fields in rows[1:]:
            tweet_id = fields[col["id"]].removesuffix(".0")
            tweet, msa = fields[col["cleanedtweet2"]].strip(), fields[col[msa_col]].strip()
            if _no_content(tweet) or _no_content(msa):
                dropped["no_content"] += 1
                continue
            if msa == tweet:
                dropped["msa_equals_tweet"] += 1
                continue
            confidence = float(fields[col["confidence"]]) if "confidence" in col else 0.0
            entry = tweets.setdefault((dialect, tweet_id), {"tweet": tweet, "msa": []})
            if msa in (m for _, m in entry["msa"]):
                dropped["duplicate_reference"] += 1
                continue
            entry["msa"].append((confidence, msa))
    for entry in tweets.values():
        entry["msa"] = [m for _, m in sorted(entry["msa"], key=lambda cm: -cm[0])]
    return tweets, dropped


def dial2msa_pairs(paths: list[Path]) -> Corpus:
    """(dialect tweet, MSA translation) pairs, one per tweet (its best reference), four dialects;
    one per tweet for the same reason as one per image in :func:`flickr30k_pairs`."""
    tweets, dropped = _dial2msa_tweets(paths)
    cols = {"anchor": [], "positive": []}
    groups, texts = [], {}
    for key, entry in tweets.items():
        cols["anchor"].append(entry["tweet"])
        cols["positive"].append(entry["msa"][0])
        groups.append(("dial2msa",) + key)
        texts[("dial2msa",) + key] = [entry["tweet"], *entry["msa"]]
    return Corpus(cols, groups, texts, dropped)


def dial2msa_msa_pairs(paths: list[Path]) -> Corpus:
    """(MSA, MSA) paraphrase pairs: the two best references of every tweet that has two or more."""
    tweets, dropped = _dial2msa_tweets(paths)
    cols = {"anchor": [], "positive": []}
    groups, texts = [], {}
    single = 0
    for key, entry in tweets.items():
        if len(entry["msa"]) < 2:
            single += 1
            continue
        cols["anchor"].append(entry["msa"][0])
        cols["positive"].append(entry["msa"][1])
        groups.append(("dial2msa",) + key)
        texts[("dial2msa",) + key] = [entry["tweet"], *entry["msa"]]
    return Corpus(cols, groups, texts, {**dropped, "single_reference": single})


# --------------------------------------------------------------------------- registry

#: name -> (files relative to data/, loader). ``-contaminated`` sets are the same rows without
#: decontamination, for the contamination experiment only (``gatelib.data.CONTAMINATED_SETS``).
CORPORA: dict[str, tuple[tuple[str, ...], Callable[[list[Path]], Corpus]]] = {
    "flickr30k-pairs": ((FLICKR_FILE,), flickr30k_pairs),
    "flickr30k-pairs-contaminated": ((FLICKR_FILE,), flickr30k_pairs),
    "xnli-test-triplets": (("xnli_ar/test-ar.tsv", XNLI_TEST_LABELS), xnli_test_triplets),
    "xnli-test-pairs": (("xnli_ar/test-ar.tsv", XNLI_TEST_LABELS), xnli_test_pairs),
    "dial2msa-pairs": (DIAL2MSA_FILES, dial2msa_pairs),
    "dial2msa-msa-pairs": (DIAL2MSA_FILES, dial2msa_msa_pairs),
}
CORPUS_FILES: dict[str, tuple[str, ...]] = {name: files for name, (files, _) in CORPORA.items()}
