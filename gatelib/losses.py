"""Training objectives of GATE, as compositions of sentence-transformers losses.

Stage 1 of GATE (§3.2.1, Eq. 1) is Matryoshka Representation Learning (Kusupati et al.
2022, arXiv 2205.13147): the in-batch contrastive loss MultipleNegativesRankingLoss (MNRL,
Henderson et al. 2017, arXiv 1705.00652) applied to every nested prefix of the embedding,
each prefix re-normalised before scoring, with equal weights. sentence-transformers'
``MatryoshkaLoss`` is exactly that wrapper; this module only chooses and validates.

Configs (the ``config`` column of every results row):

* ``zero-shot`` — no training (the base model as published);
* ``mnrl`` — MNRL on the full embedding only: the no-Matryoshka control;
* ``mrl`` — ``MatryoshkaLoss(MNRL, dims)``: GATE stage 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import (
    CachedMultipleNegativesRankingLoss,
    MatryoshkaLoss,
    MultipleNegativesRankingLoss,
)
from torch import nn

from gatelib.profiles import ProfileError, check_matryoshka_dims

UNTRAINED = "zero-shot"
TRAINED_CONFIGS = ("mnrl", "mrl")
CONFIGS = (UNTRAINED, *TRAINED_CONFIGS)


def contrastive_loss(model: SentenceTransformer, mini_batch_size: int | None = None) -> nn.Module:
    """MNRL with in-batch negatives (scale 20, cosine), GATE §3.2.1.

    With ``mini_batch_size`` the gradient-cached variant (Gao et al. 2021, arXiv 2101.06983)
    gives the same loss for a large batch in bounded memory.
    """
    if mini_batch_size:
        return CachedMultipleNegativesRankingLoss(model, mini_batch_size=mini_batch_size)
    return MultipleNegativesRankingLoss(model)


def matryoshka_loss(
    model: SentenceTransformer, dims: Sequence[int], mini_batch_size: int | None = None
) -> MatryoshkaLoss:
    """GATE stage 1 (§3.2.1, Eq. 1): MNRL summed over the nested dims, equal weights."""
    dims = check_matryoshka_dims(dims, model.get_embedding_dimension())
    return MatryoshkaLoss(model, contrastive_loss(model, mini_batch_size), list(dims))


def build_loss(
    config: str, model: SentenceTransformer, dims: Sequence[int], mini_batch_size: int | None = None
) -> nn.Module:
    """The loss of a trained config: ``mnrl`` (control) or ``mrl`` (GATE stage 1)."""
    if config == "mrl":
        return matryoshka_loss(model, dims, mini_batch_size)
    if config == "mnrl":
        return contrastive_loss(model, mini_batch_size)
    raise ProfileError(f"Unknown training config {config!r}; choose one of {list(TRAINED_CONFIGS)}.")
