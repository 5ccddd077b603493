"""The study's training recipes, as data: one entry per trained config of the results tables.

A :class:`Recipe` says what a run *is*: which of a profile's data roles it trains on, which kinds
of dataset it accepts, which of their losses MatryoshkaLoss wraps, which contrastive loss it uses
and with which knobs, what model it starts from, which hyper-parameter block it uses and which
configs it is measured against. The modules that act on it read it here:
``gatelib.losses`` builds the losses, ``gatelib.profiles`` selects a profile's sets and checks that
it has them, ``gatelib.training`` prepares the data and the starting model and hashes the run,
``gatelib.significance`` picks the comparisons. Adding a recipe is one entry of :data:`RECIPES`
and its test; no other module switches on a recipe's name.

This module imports nothing from gatelib (a leaf).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ProfileError", "Recipe", "RECIPES", "UNTRAINED", "TRAINED_CONFIGS", "CONFIGS", "STARTS_FROM", "COMPARED_WITH",
           "DATA_ROLES", "DATASET_KINDS", "STS_LOSSES"]

#: The base model as published (no training): a config of every results table, not a recipe.
UNTRAINED = "zero-shot"
#: Profile keys naming training sets, by role.
DATA_ROLES = ("train_sets", "parallel_sets", "english_sets", "dialect_sets", "stage2_sets")
#: What a dataset is for, told by its columns (``gatelib.losses.dataset_kind``).
DATASET_KINDS = ("contrastive", "nli", "scored", "parallel")
#: The scored-pair losses a profile may choose (``sts_loss``): CoSENT (GATE Eq. 3) or the model card's.
STS_LOSSES = ("cosent", "cosine")

_CONTRASTIVE = frozenset({"contrastive"})


class ProfileError(ValueError):
    """A profile name, key or value that cannot be run: raised where profiles are read
    (``gatelib.profiles``) and where a recipe meets its data (``gatelib.losses``)."""


@dataclass(frozen=True)
class Recipe:
    """One trained config. Defaults are GATE stage 1 (``mrl``): MatryoshkaLoss over MNRL on the
    profile's ``train_sets``, from the base model, with the ``training`` hyper-parameters."""

    name: str
    #: Profile keys (:data:`DATA_ROLES`) whose sets it trains on, in this order.
    data: tuple[str, ...] = ("train_sets",)
    #: Dataset kinds (:data:`DATASET_KINDS`) it accepts; another kind among its sets is an error.
    kinds: frozenset[str] = _CONTRASTIVE
    #: Kinds whose loss MatryoshkaLoss wraps (the others train the full embedding only).
    matryoshka: frozenset[str] = _CONTRASTIVE
    #: Whether the profile's ``matryoshka_sts`` may wrap its scored-pair loss too (GATE stage 2).
    matryoshka_sts_knob: bool = False
    #: MatryoshkaLoss's weight per dim, largest first; ``None``: equal weights (GATE Eq. 1).
    matryoshka_weights: tuple[float, ...] | None = None
    #: The in-batch contrastive loss: ``mnrl`` (MultipleNegativesRankingLoss) or ``gist``
    #: (GISTEmbedLoss with the frozen untrained model as guide).
    contrastive: str = "mnrl"
    #: MNRL's similarity scale (20: cosine / 0.05).
    scale: float = 20.0
    #: GISTEmbed's temperature (0.01: E5's).
    guide_temperature: float = 0.01
    #: Also train each triplet set under MatryoshkaLoss(TripletLoss) (``hybrid-triplet``).
    triplet: bool = False
    #: One hard negative per positive pair, mined by the untrained model before training.
    mined_negatives: bool = False
    #: The config whose finished model of the same seed it continues from.
    starts_from: str | None = None
    #: The profile's hyper-parameter block it trains with: ``training`` or ``stage2``.
    hyperparameters: str = "training"
    #: Configs it is measured against besides zero-shot: what its one change is a change to.
    compared_with: tuple[str, ...] = ()
    #: Its grouped corpora replaced by their ``-contaminated`` twins (the contamination experiment).
    contaminated: bool = False

    def __post_init__(self):
        if not set(self.data) <= set(DATA_ROLES):
            raise ValueError(f"{self.name}: data roles {self.data} must be among {DATA_ROLES}")
        if not self.matryoshka <= self.kinds <= set(DATASET_KINDS):
            raise ValueError(f"{self.name}: matryoshka {set(self.matryoshka)} ⊆ kinds {set(self.kinds)} ⊆ "
                             f"{DATASET_KINDS} must hold")
        if self.contrastive not in ("mnrl", "gist") or self.hyperparameters not in ("training", "stage2"):
            raise ValueError(f"{self.name}: contrastive {self.contrastive!r} / hyperparameters "
                             f"{self.hyperparameters!r} unknown")
        if self.scale <= 0 or self.guide_temperature <= 0:
            raise ValueError(f"{self.name}: scale and guide temperature must be positive")


_DIALECTS = ("train_sets", "dialect_sets")
_WITH_SCORED = frozenset({"contrastive", "scored"})

#: Every trained config, in the order of the results tables (``gatelib.losses`` describes each one).
RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("mnrl", matryoshka=frozenset()),
    Recipe("mrl", compared_with=("mnrl",)),
    Recipe("hybrid-paper", data=("stage2_sets",), kinds=frozenset({"nli", "scored"}), matryoshka=frozenset(),
           matryoshka_sts_knob=True, starts_from="mrl", hyperparameters="stage2", compared_with=("mrl",)),
    Recipe("hybrid-triplet", triplet=True, compared_with=("mrl",)),
    Recipe("mrl-distill", data=("train_sets", "parallel_sets"), kinds=frozenset({"contrastive", "parallel"}),
           matryoshka=frozenset({"contrastive", "parallel"}), compared_with=("mrl",)),
    Recipe("mrl-mined", mined_negatives=True, compared_with=("mrl",)),
    Recipe("mrl-bilingual", data=("train_sets", "english_sets"), compared_with=("mrl",)),
    Recipe("mrl-dialects", data=_DIALECTS, kinds=_WITH_SCORED, matryoshka=_WITH_SCORED,
           compared_with=("mrl", "mnrl-dialects")),
    Recipe("mnrl-dialects", data=_DIALECTS, kinds=_WITH_SCORED, matryoshka=frozenset(), compared_with=("mnrl",)),
    Recipe("mnrl-dialects-guided", data=_DIALECTS, kinds=_WITH_SCORED, matryoshka=frozenset(), contrastive="gist",
           compared_with=("mnrl-dialects",)),
    Recipe("mrl-contaminated", contaminated=True, compared_with=("mrl",)),
    # Probes of the best recipe of the three-seed runs (params/probes/, book/ideas.md): one knob each.
    Recipe("mnrl-dialects-scale100", data=_DIALECTS, kinds=_WITH_SCORED, matryoshka=frozenset(), scale=100.0,
           compared_with=("mnrl-dialects",)),
    Recipe("mrl-dialects-guided", data=_DIALECTS, kinds=_WITH_SCORED, matryoshka=_WITH_SCORED, contrastive="gist",
           compared_with=("mrl-dialects", "mnrl-dialects-guided")),
    Recipe("mrl-small-dims", matryoshka_weights=(1.0, 1.0, 1.0, 2.0, 4.0), compared_with=("mrl",)),
)}

TRAINED_CONFIGS = tuple(RECIPES)
CONFIGS = (UNTRAINED, *TRAINED_CONFIGS)
#: Configs that continue from another config's model of the same seed (GATE §3.2.2).
STARTS_FROM = {n: r.starts_from for n, r in RECIPES.items() if r.starts_from}
#: The models each config is measured against (besides zero-shot).
COMPARED_WITH = {n: r.compared_with for n, r in RECIPES.items() if r.compared_with}

