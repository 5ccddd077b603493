"""Training objectives of GATE, as compositions of sentence-transformers losses.

Stage 1 of GATE (§3.2.1, Eq. 1) is Matryoshka Representation Learning (Kusupati et al.
2022, arXiv 2205.13147): the in-batch contrastive loss MultipleNegativesRankingLoss (MNRL,
Henderson et al. 2017, arXiv 1705.00652) applied to every nested prefix of the embedding,
each prefix re-normalised before scoring, with equal weights. sentence-transformers'
``MatryoshkaLoss`` is exactly that wrapper. Stage 2 (§3.2.2, the "hybrid" GATE-AraBert-v1)
continues from the stage-1 model with one loss per dataset: ``SoftmaxLoss`` (3-way NLI
classification on [u; v; |u−v|], Reimers & Gurevych 2019) and ``CoSENTLoss`` (Eq. 3; the model
card names ``CosineSimilarityLoss`` instead). This module only chooses and validates.

Configs (the ``config`` column of every results row):

* ``zero-shot`` — no training (the base model as published);
* ``mnrl`` — MNRL on the full embedding only: the no-Matryoshka control;
* ``mrl`` — ``MatryoshkaLoss(MNRL, dims)``: GATE stage 1;
* ``hybrid-paper`` — GATE stage 2 from the ``mrl`` model: SoftmaxLoss on NLI pairs +
  CoSENT (or CosineSimilarity) on scored pairs, no Matryoshka unless ``matryoshka_sts``;
* ``hybrid-triplet`` — the other reading of "hybrid" (contrastive + triplet on the same
  triplets): ``MatryoshkaLoss(MNRL)`` and ``MatryoshkaLoss(TripletLoss)`` side by side;
* ``mrl-distill`` — beyond the paper: ``mrl`` plus multilingual knowledge distillation
  (Reimers & Gurevych 2020, arXiv 2004.09813): the Arabic *and* English sentence of a
  translation pair are pulled to the frozen base model's embedding of the English sentence,
  at every Matryoshka dim (``EmbedDistillLoss``, cosine distance);
* ``mrl-mined`` — beyond the paper: ``mrl`` with one hard negative per positive pair, mined from
  the training sentences by the untrained model (ST's ``mine_hard_negatives``; the recipe of
  the E5 and GTE papers, arXiv 2212.03533 and 2308.03281), see ``gatelib.training``;
* ``mrl-bilingual`` — beyond the paper: ``mrl`` on the Arabic sets plus their English originals
  (``english_sets`` of the profile), the multilingual base model's stronger language.
* ``mrl-dialects`` — beyond the paper: ``mrl`` plus scored pairs of Arabic dialects
  (``dialect_sets``: the SemRel 2024 Algerian and Moroccan training splits) under
  ``MatryoshkaLoss(CoSENT)``, GATE stage 2's scored-pair loss at every Matryoshka dim;
* ``mnrl-dialects`` — the same data as ``mrl-dialects`` without Matryoshka (MNRL and plain
  CoSENT on the full embedding): the no-Matryoshka control of ``mrl-dialects``.
* ``mrl-contaminated`` — beyond the paper: ``mrl`` trained on the grouped corpora (Flickr30k
  captions) *without* decontamination, as many rows as the clean set: what leaked test sentences buy.
* ``mnrl-dialects-guided`` — ``mnrl-dialects`` with the contrastive loss guided: GISTEmbedLoss
  (Solatorio 2024, arXiv 2402.16829) with the frozen *untrained* model as guide masks every
  in-batch negative the guide rates above the positive (a likely false negative: NLI premises
  repeat, paraphrase sets overlap), temperature 0.01 (E5's). The recipe the STS-B dev set chose
  among the probes of ``book/ideas.md``.
* ``mnrl-dialects-scale100`` — a probe: ``mnrl-dialects`` with MNRL's similarity scale 100 instead
  of 20 (temperature 0.01, E5's pre-training temperature, instead of 0.05).
* ``mrl-dialects-guided`` — a probe: ``mrl-dialects`` with the guided contrastive loss of
  ``mnrl-dialects-guided`` (GISTEmbed inside MatryoshkaLoss): is the guide's gain Matryoshka's too?
* ``mrl-small-dims`` — a probe: ``mrl`` with MatryoshkaLoss's weights 1, 1, 1, 2, 4 for five
  dims, largest first (GATE and sentence-transformers weigh them equally).

Which loss a dataset gets follows from its columns (:func:`dataset_kind`), so a profile only
names datasets.
"""

from __future__ import annotations

from collections.abc import Sequence

from datasets import Dataset
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import (
    CachedMultipleNegativesRankingLoss,
    CoSENTLoss,
    CosineSimilarityLoss,
    EmbedDistillLoss,
    GISTEmbedLoss,
    MatryoshkaLoss,
    MultipleNegativesRankingLoss,
    SoftmaxLoss,
    TripletLoss,
)
import torch
from torch import nn

from gatelib import recipes
from gatelib.matryoshka import check_matryoshka_dims
from gatelib.recipes import ProfileError

# The recipes themselves are data (gatelib.recipes); these names are kept for the notebooks.
UNTRAINED, TRAINED_CONFIGS, CONFIGS = recipes.UNTRAINED, recipes.TRAINED_CONFIGS, recipes.CONFIGS
STARTS_FROM, COMPARED_WITH, STS_LOSSES = recipes.STARTS_FROM, recipes.COMPARED_WITH, recipes.STS_LOSSES

#: Columns that identify what a dataset is for (sentence-transformers column conventions).
KINDS = {
    "contrastive": ({"anchor", "positive"}, {"anchor", "positive", "negative"}),
    "nli": ({"premise", "hypothesis", "label"},),
    "scored": ({"sentence1", "sentence2", "score"},),
    "parallel": ({"english", "arabic", "label"}, {"english", "arabic"}),
}


def dataset_kind(dataset: Dataset) -> str:
    """``contrastive`` (anchor/positive[/negative]), ``nli``, ``scored`` or ``parallel``."""
    columns = set(dataset.column_names)
    for kind, layouts in KINDS.items():
        if columns in layouts:
            return kind
    raise ProfileError(f"Cannot tell what a dataset with columns {sorted(columns)} is for; "
                       f"expected one of {[sorted(c) for layouts in KINDS.values() for c in layouts]}.")


def contrastive_loss(model: SentenceTransformer, mini_batch_size: int | None = None, scale: float = 20.0) -> nn.Module:
    """MNRL with in-batch negatives (cosine × ``scale``; 20, GATE §3.2.1).

    With ``mini_batch_size`` the gradient-cached variant (Gao et al. 2021, arXiv 2101.06983)
    gives the same loss for a large batch in bounded memory. Under ``torchrun`` the candidates
    are gathered across processes (``gather_across_devices``), so N processes × batch B see the
    N·B − 1 in-batch negatives of one process × batch N·B.
    """
    if mini_batch_size:
        return CachedMultipleNegativesRankingLoss(model, scale=scale, mini_batch_size=mini_batch_size,
                                                  gather_across_devices=_distributed())
    return MultipleNegativesRankingLoss(model, scale=scale, gather_across_devices=_distributed())


def _distributed() -> bool:
    """True inside a ``torchrun`` job whose process group is up (the trainer's arguments start it)."""
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def guided_contrastive_loss(model: SentenceTransformer, guide: SentenceTransformer,
                            temperature: float = 0.01) -> GISTEmbedLoss:
    """MNRL whose in-batch negatives are masked where ``guide`` rates them above the positive
    (GISTEmbed, Solatorio 2024, arXiv 2402.16829); ``guide`` is frozen (embedded without gradients).
    Candidates are gathered across ``torchrun`` processes, as in :func:`contrastive_loss`."""
    if guide is model:
        raise ValueError("The guide must be a separate, frozen model (the untrained base model), not the one trained.")
    return GISTEmbedLoss(model, guide, temperature=temperature, gather_across_devices=_distributed())


def matryoshka_loss(
    model: SentenceTransformer, dims: Sequence[int], inner: nn.Module, weights: Sequence[float] | None = None,
) -> MatryoshkaLoss:
    """GATE stage 1 (§3.2.1, Eq. 1) when ``inner`` is MNRL: ``inner`` summed over the nested dims,
    with equal ``weights`` unless given (one per dim, largest dim first)."""
    dims = check_matryoshka_dims(dims, model.get_embedding_dimension())
    if weights is not None and (len(weights) != len(dims) or any(w < 0 for w in weights) or not any(weights)):
        raise ProfileError(f"Matryoshka weights {list(weights)} need one non-negative weight per dim {list(dims)}.")
    return MatryoshkaLoss(model, inner, list(dims), matryoshka_weights=list(weights) if weights is not None else None)


def sts_loss(model: SentenceTransformer, name: str = "cosent") -> nn.Module:
    """The scored-pair loss of stage 2: CoSENT (paper Eq. 3, scale 20 = τ 0.05) or CosineSimilarity (card)."""
    if name == "cosent":
        return CoSENTLoss(model)
    if name == "cosine":
        return CosineSimilarityLoss(model)
    raise ProfileError(f"Unknown sts_loss {name!r}; choose one of {list(STS_LOSSES)}.")


def nli_loss(model: SentenceTransformer) -> SoftmaxLoss:
    """Stage 2's 3-way NLI classifier on [u; v; |u−v|] (GATE §3.2.2, Eq. 2 as implemented in ST)."""
    return SoftmaxLoss(model, embedding_dimension=model.get_embedding_dimension(), num_labels=3)


def distillation_loss(model: SentenceTransformer) -> EmbedDistillLoss:
    """Both sides of a translation pair → the teacher's English embedding (cosine distance; the
    ``label`` column holds the teacher's embeddings). ``mrl-distill`` applies it at every dim."""
    return EmbedDistillLoss(model, distance_metric="cosine")


def build_losses(
    config: str | recipes.Recipe,
    model: SentenceTransformer,
    datasets: dict[str, Dataset],
    dims: Sequence[int],
    *,
    mini_batch_size: int | None = None,
    sts: str = "cosent",
    matryoshka_sts: bool = False,
    guide: SentenceTransformer | None = None,
) -> tuple[dict[str, Dataset], dict[str, nn.Module]]:
    """The datasets and one loss per dataset for a trained ``config`` (ST multi-dataset training):
    a config's name, or a :class:`gatelib.recipes.Recipe`.

    What each kind of dataset is trained with, and at which dims, is the config's recipe
    (``gatelib.recipes``). ``guide`` (the frozen untrained model) is required by the guided
    recipes (``contrastive="gist"``) and refused by the others.

    ``hybrid-triplet`` trains each triplet set twice, under ``<name>`` (MRL over MNRL) and
    ``<name>+triplet`` (MRL over TripletLoss), so both losses see the same triplets.
    """
    if isinstance(config, recipes.Recipe):  # a variant of a recipe (another scale, other weights)
        recipe, config = config, config.name
    elif config in recipes.RECIPES:
        recipe = recipes.RECIPES[config]
    else:
        raise ProfileError(f"Unknown training config {config!r}; choose one of {list(TRAINED_CONFIGS)}.")
    guided = recipe.contrastive == "gist"
    if (guide is not None) != guided:
        raise ProfileError(f"{config} {'needs' if guided else 'takes no'} guide model; guided configs: "
                           f"{[n for n, r in recipes.RECIPES.items() if r.contrastive == 'gist']}.")

    def wrapped(kind: str, inner: nn.Module) -> nn.Module:
        if kind in recipe.matryoshka or (kind == "scored" and matryoshka_sts and recipe.matryoshka_sts_knob):
            return matryoshka_loss(model, dims, inner=inner, weights=recipe.matryoshka_weights)
        return inner

    out_sets, out_losses = {}, {}
    for name, dataset in datasets.items():
        kind = dataset_kind(dataset)
        if kind not in recipe.kinds:
            raise ProfileError(f"{config} cannot train on {name} ({kind} data); it takes {sorted(recipe.kinds)} data.")
        out_sets[name] = dataset
        if kind == "contrastive":
            inner = (guided_contrastive_loss(model, guide, recipe.guide_temperature) if guided
                     else contrastive_loss(model, mini_batch_size, recipe.scale))
            out_losses[name] = wrapped(kind, inner)
            if recipe.triplet and "negative" in dataset.column_names:
                out_sets[f"{name}+triplet"] = dataset
                out_losses[f"{name}+triplet"] = wrapped(kind, TripletLoss(model))
        elif kind == "parallel":
            if "label" not in dataset.column_names:
                raise ProfileError(f"{name} needs teacher embeddings in a 'label' column "
                                   "(gatelib.training.add_teacher_embeddings).")
            out_losses[name] = wrapped(kind, distillation_loss(model))
        elif kind == "nli":
            out_losses[name] = wrapped(kind, nli_loss(model))
        else:  # scored pairs: CoSENT or CosineSimilarity, on every dim where the recipe says so
            out_losses[name] = wrapped(kind, sts_loss(model, sts))
    if recipe.triplet and not any(k.endswith("+triplet") for k in out_sets):
        raise ProfileError(f"{config} needs at least one triplet set (anchor/positive/negative).")
    return out_sets, out_losses
