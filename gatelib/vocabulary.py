"""An Arabic + English vocabulary for multilingual-e5-small: same Arabic embeddings, ~1/4 the size.

multilingual-e5-small spends 96M of its 118M parameters on a 250k-piece word table, of which
Arabic uses 14.6k pieces. Keeping the special tokens, every piece that contains Arabic script,
the digit and punctuation pieces (Arabic text writes numbers with them), the single-character
Latin pieces, the pieces an English corpus uses (most
frequent first) and then the highest-scoring Latin pieces (Unigram scores are log-frequencies over
~100 languages, so they alone favour no English) gives a tokenizer that segments Arabic text exactly as
before — the kept pieces keep their scores, so the best segmentation is unchanged wherever its
pieces survive — and a model of ~31M parameters (~60 MiB in fp16). This is the "vocabulary
trimming" the study uses to fit the model through the GPU machine's 64 MiB transfer limit and to
compare size, load time and quality in the truncation chapter (``notebooks/03_truncation``).

Nothing here re-trains anything: rows of the embedding matrix are selected, and the tokenizer's
Unigram model is rewritten with the kept pieces in their original order.
"""

from __future__ import annotations

import copy
import json
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch
from sentence_transformers import SentenceTransformer
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

#: Arabic, Arabic Supplement, Arabic Extended-A/B, Presentation Forms-A/B.
_ARABIC_BLOCKS = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
_METASPACE = "▁"


def has_arabic(piece: str) -> bool:
    """Whether any character of ``piece`` is in an Arabic Unicode block."""
    return any(lo <= ord(ch) <= hi for ch in piece for lo, hi in _ARABIC_BLOCKS)


def is_digits_or_punctuation(piece: str) -> bool:
    """Script-neutral pieces Arabic text uses too: non-letters of ASCII and Latin-1 (digits,
    punctuation, symbols, guillemets, soft hyphen) and general punctuation (U+2000–U+206F),
    with or without the word-start marker."""
    text = piece.replace(_METASPACE, "")
    return bool(text) and all((ord(ch) < 0xC0 and not ch.isalpha()) or 0x2000 <= ord(ch) <= 0x206F
                              for ch in text)


def _is_latin_or_common(piece: str) -> bool:
    """Letters of the Latin script, digits, punctuation, symbols and the metaspace only."""
    for ch in piece.replace(_METASPACE, ""):
        if ch.isascii():
            continue
        if unicodedata.category(ch)[0] in "NPSZ":
            continue
        if not unicodedata.name(ch, "").startswith("LATIN"):
            return False
    return True


def select_pieces(pieces: list[str], scores: list[float], special_ids: set[int], size: int,
                  english_counts: Counter | None = None) -> list[int]:
    """Ids of the pieces to keep, in their original order (at most ``size`` when possible).

    Always kept: ``special_ids``, every piece containing Arabic script, every digit/punctuation
    piece (:func:`is_digits_or_punctuation`) and every piece that is one Latin/common character
    (with or without the word-start marker). The rest of the budget
    goes first to the Latin/common pieces in ``english_counts`` (piece id → count in an English
    corpus, most frequent first), then to the highest-scoring Latin/common pieces.
    """
    english_counts = english_counts or Counter()
    must = set(special_ids)
    optional = []
    for i, piece in enumerate(pieces):
        if i in must:
            continue
        if (has_arabic(piece) or is_digits_or_punctuation(piece)
                or (len(piece.replace(_METASPACE, "")) <= 1 and _is_latin_or_common(piece))):
            must.add(i)
        elif _is_latin_or_common(piece):
            optional.append(i)
    optional.sort(key=lambda i: (-english_counts.get(i, 0), -scores[i], i))
    keep = must | set(optional[: max(0, size - len(must))])
    return sorted(keep)


def trim_vocabulary(model: SentenceTransformer, size: int = 25_000,
                    english_texts: Sequence[str] = ()) -> SentenceTransformer:
    """A copy of ``model`` whose tokenizer and word table hold only the pieces of :func:`select_pieces`.

    Works on any sentence-transformers model whose first module wraps a BERT/XLM-R encoder
    with a fast Unigram tokenizer (the bundled e5 and every model trained from it). Arabic
    text gets the same token sequence, hence the same embedding; English text outside the kept
    pieces is split into smaller kept pieces. ``english_texts`` (e.g. the English side of the
    parallel training sets) decide which English pieces are kept. ``model`` itself is not changed.
    """
    transformer = model[0]
    spec = json.loads(transformer.tokenizer.backend_tokenizer.to_str())
    if spec["model"]["type"] != "Unigram":
        raise ValueError(f"trim_vocabulary needs a Unigram tokenizer, got {spec['model']['type']}")
    pieces = [p for p, _ in spec["model"]["vocab"]]
    scores = [s for _, s in spec["model"]["vocab"]]
    special_ids = {t["id"] for t in spec["added_tokens"]}
    english_counts = Counter(i for encoding in transformer.tokenizer.backend_tokenizer.encode_batch(
        list(english_texts), add_special_tokens=False) for i in encoding.ids)
    keep = select_pieces(pieces, scores, special_ids, size, english_counts)
    new_id = {old: new for new, old in enumerate(keep)}

    spec["model"]["vocab"] = [spec["model"]["vocab"][i] for i in keep]
    spec["model"]["unk_id"] = new_id[spec["model"]["unk_id"]]
    for token in spec["added_tokens"]:
        token["id"] = new_id[token["id"]]
    for token in (spec.get("post_processor") or {}).get("special_tokens", {}).values():
        token["ids"] = [new_id[i] for i in token["ids"]]

    trimmed = copy.deepcopy(model)
    old_tok = transformer.tokenizer
    trimmed[0].processor = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
        model_max_length=old_tok.model_max_length,
        **{k: v for k, v in old_tok.special_tokens_map.items() if isinstance(v, str)},
    )
    encoder = trimmed[0].auto_model
    old_table = encoder.get_input_embeddings()
    table = torch.nn.Embedding(len(keep), old_table.embedding_dim, padding_idx=new_id.get(old_table.padding_idx))
    with torch.no_grad():
        table.weight.copy_(old_table.weight[torch.tensor(keep)])
    table.to(old_table.weight.device, old_table.weight.dtype)
    encoder.set_input_embeddings(table)
    encoder.config.vocab_size = len(keep)
    for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
        old = getattr(encoder.config, name, None)
        if old is not None:
            setattr(encoder.config, name, new_id[old])
    return trimmed


#: The English texts that choose the kept English pieces: the English side of the bundled parallel
#: training sets (never an evaluation set).
ENGLISH_SOURCES = ("xnli-parallel", "xnli-dev-parallel", "sick-parallel")


def export_trimmed(model: SentenceTransformer, folder: str | Path, size: int = 25_000,
                   english_texts: Sequence[str] = (), dtype: torch.dtype = torch.float16) -> Path:
    """Save :func:`trim_vocabulary` of ``model`` as a sentence-transformers folder in ``dtype``
    safetensors (fp16: ~60 MiB at 25k pieces, what fits the GPU machine's 64 MiB transfer).

    Load it back with ``model_kwargs={"dtype": torch.float32}`` to compute in fp32 on a CPU
    (``gatelib.models.load_base_model`` does). Returns ``folder``.
    """
    trimmed = trim_vocabulary(model, size, english_texts).to(dtype)
    trimmed.save(str(folder), safe_serialization=True, create_model_card=False)
    return Path(folder)


def folder_size_mib(folder: str | Path) -> float:
    """Total size of the files under ``folder``, in MiB."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 2**20


def size_and_load_time(model: SentenceTransformer, folder: str | Path) -> dict:
    """Save ``model`` in fp16 safetensors under ``folder``; its size on disk and the time to load it (fp32)."""
    half = copy.deepcopy(model).half()
    half.save(str(folder), safe_serialization=True, create_model_card=False)
    del half
    start = time.perf_counter()  # read fp16 from disk, compute in fp32 as on any CPU
    SentenceTransformer(str(folder), device="cpu", model_kwargs={"dtype": torch.float32})
    load_s = time.perf_counter() - start
    return {"vocabulary": len(model.tokenizer), "parameters_M": sum(p.numel() for p in model.parameters()) / 1e6,
            "fp16_MiB": folder_size_mib(folder), "load_s": load_s}


def size_table(models: dict[str, SentenceTransformer], eval_sets: dict, dims: Sequence[int], **tags) -> pd.DataFrame:
    """One row per model: vocabulary, parameters, fp16 size, load time and STS Spearman at ``dims``."""
    from gatelib.evaluation import evaluate_model

    rows = []
    for name, model in models.items():
        with tempfile.TemporaryDirectory() as folder:
            row = {"model": name, **size_and_load_time(model, folder)}
        scores = evaluate_model(model, eval_sets, dims, config="-", seed=0, profile="-", model=name,
                                commit="-", data_checksum="-")
        for score in scores.itertuples():
            row[f"{score.task} @{score.dim}"] = score.spearman_cosine
        rows.append(row)
    return pd.DataFrame(rows).assign(**tags)
