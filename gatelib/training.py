"""One training run of a GATE recipe with sentence-transformers' own trainer (GATE §3.2).

``train_model`` loads the profile's base model, builds the config's loss (``gatelib.losses``),
and runs ``SentenceTransformerTrainer`` with the ST Matryoshka recipe: no-duplicates batches
(in-batch negatives must not be copies of the positive), linear warmup over 10 % of the
steps, bf16 (with fused AdamW and TF32) on a GPU that supports it and fp32 on the CPU.
``training_throughput`` times the same runs (examples per second). Checkpoints are written every
``save_steps``; a rerun after an interruption resumes from the last one, and a finished run
is marked by ``final/COMPLETE`` so it is loaded instead of trained again. Its checkpoints
(model + optimizer state, ~1.4 GB each for e5-small) are then deleted: only ``final`` is read.

Checkpoints are safetensors; optimizer/scheduler state is read back by transformers with
``torch.load(weights_only=True)``, which refuses arbitrary pickled objects.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import io
import logging
import shutil
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset
from sentence_transformers import (
    SentenceTransformer,
    SentenceTransformerTrainer,
    SentenceTransformerTrainingArguments,
)
from sentence_transformers.base.sampler import BatchSamplers, MultiDatasetBatchSamplers
from sentence_transformers.util import mine_hard_negatives
from tqdm.std import tqdm
from transformers import PrinterCallback, TrainerCallback, set_seed

from gatelib.losses import build_losses, dataset_kind
from gatelib.recipes import RECIPES, STARTS_FROM
from gatelib.models import load_base_model
from gatelib.profiles import Profile, TrainingRecipe
from gatelib.results import UNRECORDED, hardware, mark_trained_precision

logger = logging.getLogger(__name__)

COMPLETE_MARKER = "COMPLETE"


class _NliColumnOrderFilter(logging.Filter):
    """ST's collator warns that ``hypothesis`` should come first (a triplet convention); for
    ``premise, hypothesis, label`` pairs (all-nli pair-class, GATE stage 2) that is wrong advice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Column 'hypothesis' is at index 1" not in record.getMessage()


logging.getLogger("sentence_transformers.base.data_collator").addFilter(_NliColumnOrderFilter())


def resolve_device(device: str = "auto") -> str:
    """``auto`` → ``cuda`` when a GPU is visible, else ``cpu``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def training_precision(requested: str, device: str) -> str:
    """The arithmetic a run trains in, ``bf16`` (autocast) or ``fp32``, for a recipe's ``precision``.

    ``auto`` is bf16 on a GPU that supports it and fp32 on a CPU; ``bf16`` asks for bf16 autocast
    on a CPU too, which needs bf16 instructions (AVX512-BF16 or AMX: oneDNN's check) and falls
    back to fp32 with a warning where they are missing (emulated bf16 is slower than fp32).
    """
    if requested == "fp32":
        return "fp32"
    if device.startswith("cuda"):
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if requested == "auto":
        return "fp32"
    if torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return "bf16"
    logger.warning("bf16 asked for, but this CPU has no bf16 instructions (AVX512-BF16 or AMX): training in fp32")
    return "fp32"


def freeze_word_embeddings(model: SentenceTransformer) -> int:
    """Take the encoder's word-embedding table out of training (``requires_grad=False``): the
    optimizer then keeps no gradient and no AdamW moments for it. Returns its parameter count."""
    table = model[0].auto_model.get_input_embeddings().weight
    table.requires_grad_(False)
    return table.numel()


class _QuarterBar(tqdm):
    monitor_interval = 0  # no background thread forcing time-based redraws


class PlainProgressBar(TrainerCallback):
    """A text progress bar (plain tqdm) that renders the same in a terminal, papermill and the book."""

    def __init__(self, file=sys.stdout):
        self.file = file
        self.bar = None

    def on_train_begin(self, args, state, control, **kwargs):
        # Redraw at every quarter of the run, never on a timer: the same lines on any machine.
        self.bar = _QuarterBar(total=state.max_steps, initial=state.global_step, desc="training",
                               file=self.file, mininterval=0, maxinterval=float("inf"),
                               miniters=max(1, state.max_steps // 4), ncols=80, ascii=True,
                               disable=False)

    def on_step_end(self, args, state, control, **kwargs):
        self.bar.update(state.global_step - self.bar.n)

    def on_train_end(self, args, state, control, **kwargs):
        self.bar.close()


class StepTimer(TrainerCallback):
    """Wall-clock time at the end of every optimizer step (the GPU synchronised first), for
    ``gatelib.efficiency.training_throughput``."""

    def __init__(self):
        self.times: list[float] = []

    def on_step_end(self, args, state, control, **kwargs):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        self.times.append(time.perf_counter())


def last_complete_checkpoint(folder: Path, processes: int | None = None) -> Path | None:
    """The newest ``checkpoint-N`` whose ``trainer_state.json`` (written last by the first
    process) is valid JSON and, given the run's number of ``processes``, whose random-number state
    of every process (``rng_state.pth``, or ``rng_state_<rank>.pth`` for several) is a whole archive
    (torch saves zip files; a truncated one has no central directory — checked without unpickling).

    A process killed while saving leaves a half-written folder — another process may already have
    written its part, the trainer state included — and transformers' ``get_last_checkpoint`` would
    pick it and fail on resume, so it is skipped here.
    """
    if not folder.is_dir():
        return None
    complete = []
    for path in folder.glob("checkpoint-*"):
        try:
            json.loads((path / "trainer_state.json").read_text())
            if processes is not None:
                names = ["rng_state.pth"] if processes == 1 else [f"rng_state_{r}.pth" for r in range(processes)]
                for name in names:
                    with zipfile.ZipFile(path / name) as archive:
                        if archive.testzip() is not None:
                            raise ValueError(f"{name}: a member fails its CRC")
            complete.append((int(path.name.split("-")[-1]), path))
        except (OSError, ValueError, zipfile.BadZipFile):
            logger.warning("Ignoring incomplete checkpoint %s", path.name)
    return max(complete)[1] if complete else None


def load_trained_model(profile: Profile, config: str, seed: int) -> SentenceTransformer:
    """The finished model of a run of ``notebooks/02_training`` (``models/<profile>/…/final``)."""
    final = run_dir(profile, config, seed) / "final"
    if not (final / COMPLETE_MARKER).is_file():
        raise FileNotFoundError(
            f"No finished {config} run with seed {seed} for profile {profile.name} "
            f"(models/{profile.name}/{config}-seed{seed}/final): run notebooks/02_training first."
        )
    model = SentenceTransformer(str(final), device=resolve_device(profile.device))
    mark_trained_precision(model, _precision_of(_read_history(final)))
    return model


def _precision_of(history: list[dict]) -> str:
    """The arithmetic a finished run trained in, from its totals row (runs before it was logged: unrecorded)."""
    return next((row["precision"] for row in reversed(history) if "precision" in row), UNRECORDED)


def run_dir(profile: Profile, config: str, seed: int) -> Path:
    """``models/<profile>/<config>-seed<seed>/``: checkpoints and the final model."""
    return profile.models_dir / f"{config}-seed{seed}"


def add_teacher_embeddings(dataset: Dataset, teacher: SentenceTransformer, batch_size: int = 64) -> Dataset:
    """Add the ``label`` column of distillation: the teacher's embedding of each English sentence
    (Reimers & Gurevych 2020; the teacher is the frozen base model)."""
    vectors = teacher.encode(dataset["english"], batch_size=batch_size, convert_to_numpy=True,
                             normalize_embeddings=True, show_progress_bar=False)
    return dataset.add_column("label", vectors.tolist())


#: Hard-negative mining for ``mrl-mined``: skip the 3 nearest candidates (likely unlabelled
#: paraphrases), search the next 27, and keep a candidate only if it scores below 95 % of the
#: positive (ST ``mine_hard_negatives`` ``relative_margin``, as in NV-Retriever, arXiv 2407.15831).
MINING = {"range_min": 3, "range_max": 30, "relative_margin": 0.05}


def add_mined_negatives(datasets: dict[str, Dataset], model: SentenceTransformer) -> dict[str, Dataset]:
    """``mrl-mined``: every anchor/positive pair set gets one hard negative per pair, mined by
    ``model`` from all sentences of ``datasets`` (:data:`MINING`). Pairs for which no candidate
    passes the margin stay as pairs under their own name; the mined triplets become
    ``<name>+mined``. Sets that already have a ``negative`` column are kept as they are."""
    corpus = sorted({s for ds in datasets.values() for c in ds.column_names for s in ds[c]})
    out = {}
    for name, ds in datasets.items():
        if dataset_kind(ds) != "contrastive" or "negative" in ds.column_names:
            out[name] = ds
            continue
        with contextlib.redirect_stderr(io.StringIO()):  # the helper forces tqdm bars (with timings)
            mined = mine_hard_negatives(ds, model, corpus=corpus, num_negatives=1, sampling_strategy="top",
                                        output_format="triplet", batch_size=64, verbose=False, **MINING)
        left = Counter(zip(ds["anchor"], ds["positive"]))
        left.subtract(zip(mined["anchor"], mined["positive"]))
        rest = [pair for pair, n in left.items() for _ in range(n)]
        if rest:
            out[name] = Dataset.from_dict({"anchor": [a for a, _ in rest], "positive": [p for _, p in rest]})
        out[f"{name}+mined"] = mined
        logger.info("%s: %d pairs got a mined negative, %d stay pairs", name, len(mined), len(rest))
    return out


def train_model(
    profile: Profile,
    config: str,
    seed: int,
    train_datasets: dict[str, Dataset],
    *,
    retrain: bool = False,
    gpu_speedups: bool = True,
    compile_model: bool = False,
    callbacks: tuple[TrainerCallback, ...] = (),
) -> tuple[SentenceTransformer, list[dict]]:
    """Train ``config`` (see ``gatelib.losses``) with ``seed`` on its sets from ``train_datasets``.

    The sets are ``profile.sets_for(config)``; each gives whole batches (ST multi-dataset
    training, ``sampler`` proportional or round-robin) with the loss its columns call for.
    ``hybrid-paper`` starts from the finished ``mrl`` model of the same seed (GATE §3.2.2) and
    uses the ``stage2`` hyper-parameters. On a GPU, ``gpu_speedups`` uses the fused AdamW kernel
    and TF32 matrix products (same algorithm, fewer kernel launches); ``compile_model`` compiles
    the encoder's forward with ``torch.compile(dynamic=True)`` (any device). ``callbacks`` are added
    to the trainer's. Returns the trained model and the trainer's log history (loss per logging
    step, then one row of totals: ``train_runtime``, ``train_samples_per_second``).
    """
    names = profile.sets_for(config)
    missing = [n for n in names if n not in train_datasets]
    if missing:
        raise KeyError(f"{config} trains on {list(names)}, but {missing} were not loaded.")
    if config in STARTS_FROM:  # make sure stage 1 is finished (trains it if not)
        train_model(profile, STARTS_FROM[config], seed, train_datasets)
    train_datasets = {n: train_datasets[n] for n in names}
    out = run_dir(profile, config, seed)
    recipe = profile.recipe_for(config)
    device = resolve_device(profile.device)
    precision = training_precision(recipe.precision, device)
    args = _training_arguments(recipe, out, seed, device, precision, gpu_speedups)
    # Under torchrun every process runs this function; only the first one writes the run folder.
    main_process = args.process_index == 0
    if main_process:
        _claim_run_folder(out, json.dumps(_recipe(profile, config, seed, train_datasets), indent=1, sort_keys=True),
                          retrain)
    _wait_for_all(args)
    finished = _finished_run(out / "final", device)
    if finished:
        return finished

    model = _starting_model(profile, config, seed, recipe, device)
    train_datasets = _with_model_columns(config, train_datasets, model)
    # GISTEmbed's guide: a second, frozen copy of the untrained model (never handed to the optimizer).
    guide = (load_base_model(profile.base_model, device=device, max_seq_length=recipe.max_seq_length)
             if RECIPES[config].contrastive == "gist" else None)
    set_seed(seed)
    train_datasets, losses = build_losses(
        config, model, train_datasets, profile.matryoshka_dims, mini_batch_size=recipe.mini_batch_size,
        sts=profile.sts_loss, matryoshka_sts=profile.matryoshka_sts, guide=guide)
    if recipe.freeze_word_embeddings:
        logger.info("Word embeddings frozen: %d parameters left out of the optimizer", freeze_word_embeddings(model))
    if compile_model:  # in place: the losses call the same module, the saved weights keep their names
        model.compile(dynamic=True)
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=train_datasets, loss=losses,
        callbacks=[*([PlainProgressBar()] if main_process else []), *callbacks],
    )
    trainer.remove_callback(PrinterCallback)  # the loss goes to the log history, not stdout
    last = last_complete_checkpoint(Path(args.output_dir), args.world_size)
    if last:
        logger.warning("Resuming %s/%s seed %d from %s", profile.name, config, seed, last.name)
    trainer.train(resume_from_checkpoint=str(last) if last else None)
    history = [row for row in trainer.state.log_history if "loss" in row or "train_runtime" in row]
    for row in history:  # which arithmetic ran (a bf16 request falls back to fp32 on some CPUs)
        if "train_runtime" in row:
            row.update(precision=precision, processes=args.world_size)
    logger.info("%s/%s seed %d trained in %s on %d process(es)", profile.name, config, seed, precision,
                args.world_size)
    mark_trained_precision(model, precision)
    _finish_run(model, history, out / "final", args)
    return model, history


def _training_arguments(recipe: TrainingRecipe, out: Path, seed: int, device: str, precision: str,
                        gpu_speedups: bool) -> SentenceTransformerTrainingArguments:
    """The trainer's arguments for one run of ``recipe``: checkpoints under ``out``, whole batches
    without duplicates, the same seed for the model and the data order; on a GPU with
    ``gpu_speedups``, the fused AdamW kernel and TF32 matrix products."""
    fast = device.startswith("cuda") and gpu_speedups
    return SentenceTransformerTrainingArguments(
        output_dir=str(out / "checkpoints"),
        num_train_epochs=recipe.epochs,
        max_steps=recipe.max_steps,
        per_device_train_batch_size=recipe.batch_size,
        learning_rate=recipe.learning_rate,
        warmup_steps=recipe.warmup_ratio,
        bf16=precision == "bf16",
        optim="adamw_torch_fused" if fast else "adamw_torch",
        tf32=True if fast and torch.cuda.get_device_capability()[0] >= 8 else None,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        multi_dataset_batch_sampler=MultiDatasetBatchSamplers(recipe.sampler),
        save_strategy="steps",
        save_steps=recipe.save_steps,
        save_total_limit=2,
        logging_steps=max(1, min(recipe.save_steps // 5, 10)),
        seed=seed,
        data_seed=seed,
        report_to="none",
        disable_tqdm=True,
        use_cpu=device == "cpu",
        dataloader_num_workers=0,
    )


def _claim_run_folder(out: Path, recipe_json: str, retrain: bool) -> None:
    """Make ``out`` the folder of this recipe's run: emptied first if ``retrain`` or if it holds a
    run of another recipe (never resumed from), with ``recipe.json`` written."""
    stale = (out / "recipe.json").is_file() and (out / "recipe.json").read_text() != recipe_json
    if stale:
        logger.warning("%s was trained with another recipe: starting afresh", out)
    if (retrain or stale) and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe.json").write_text(recipe_json)


def _finished_run(final: Path, device: str) -> tuple[SentenceTransformer, list[dict]] | None:
    """The model and log history of a run that finished earlier (its ``COMPLETE`` marker), else None."""
    if not (final / COMPLETE_MARKER).is_file():
        return None
    logger.info("Loading finished run %s", final)
    history = _read_history(final)
    model = SentenceTransformer(str(final), device=device)
    mark_trained_precision(model, _precision_of(history))
    return model, history


def _starting_model(profile: Profile, config: str, seed: int, recipe: TrainingRecipe, device: str) -> SentenceTransformer:
    """What ``config`` trains from: the finished stage-1 model of the same seed for a stage-2
    recipe (``STARTS_FROM``), else the profile's base model."""
    if config in STARTS_FROM:
        model = load_trained_model(profile, STARTS_FROM[config], seed)
        model.max_seq_length = recipe.max_seq_length
        return model
    return load_base_model(profile.base_model, device=device, max_seq_length=recipe.max_seq_length)


def _with_model_columns(config: str, train_datasets: dict[str, Dataset],
                        model: SentenceTransformer) -> dict[str, Dataset]:
    """The sets with the columns the untrained model adds: the distillation teacher's English
    embeddings for parallel sets, and mined hard negatives for a recipe that mines them."""
    train_datasets = {n: add_teacher_embeddings(ds, model) if dataset_kind(ds) == "parallel" else ds
                      for n, ds in train_datasets.items()}
    if RECIPES[config].mined_negatives:
        train_datasets = add_mined_negatives(train_datasets, model)
    return train_datasets


def _finish_run(model: SentenceTransformer, history: list[dict], final: Path,
                args: SentenceTransformerTrainingArguments) -> None:
    """Save the model (safetensors) and its history with the ``COMPLETE`` marker, then remove the
    checkpoints: nothing resumes from a finished run."""
    if args.process_index == 0:
        model.save(str(final), safe_serialization=True)
        _write_history(final, history)
        (final / COMPLETE_MARKER).write_text("ok\n")
    _wait_for_all(args)
    if args.process_index == 0:
        shutil.rmtree(args.output_dir, ignore_errors=True)


def training_throughput(profile: Profile, config: str, train_datasets: dict[str, Dataset],
                        batch_sizes: tuple[int, ...] = (64, 128, 256, 512), steps: int = 40,
                        warmup_steps: int = 5, gpu_speedups: tuple[bool, ...] = (False, True),
                        compile_model: bool = False) -> list[dict]:
    """Training examples (anchor/positive pairs or triplets) per second of ``config``: ``steps``
    optimizer steps of the real recipe (the profile's base model, precision and frozen or trained
    word embeddings) per batch size and ``gpu_speedups`` setting, timed after ``warmup_steps``
    (the goal on one H100/H200: ≥ 2,000 pairs/s for e5-small MRL); ``compile_model`` as in
    :func:`train_model` (compilation happens in the warm-up steps).

    Rows name the hardware, the precision that ran, the vocabulary size and the threads, and
    ``peak_rss_mb`` is this process's peak resident memory so far (time one setting per process
    to read it as that setting's). Runs go to ``models/<profile>-throughput/`` and are deleted;
    nothing is evaluated: quality needs full runs.
    """
    import resource


    if config in STARTS_FROM:
        raise ValueError(f"{config} continues from {STARTS_FROM[config]}: time a stage-1 config instead.")
    rows = []
    for speedups in gpu_speedups:
        for batch_size in batch_sizes:
            recipe = dataclasses.replace(profile.recipe_for(config), batch_size=batch_size,
                                         max_steps=steps, save_steps=10 * steps)
            bench = dataclasses.replace(profile, name=f"{profile.name}-throughput", training=recipe)
            timer = StepTimer()
            model, history = train_model(bench, config, 0, train_datasets, retrain=True, gpu_speedups=speedups,
                                         compile_model=compile_model, callbacks=(timer,))
            shutil.rmtree(bench.models_dir, ignore_errors=True)
            seconds = np.diff(timer.times[warmup_steps:])
            device = resolve_device(profile.device)
            rows.append({"hardware": hardware(), "device": device.split(":")[0],
                         "precision": history[-1]["precision"], "vocab": len(model.tokenizer),
                         "frozen_word_embeddings": recipe.freeze_word_embeddings,
                         "threads": torch.get_num_threads(), "config": config, "batch_size": batch_size,
                         "gpu_speedups": speedups, "compiled": compile_model, "steps": len(seconds),
                         "step_ms": round(1000 * float(np.median(seconds)), 1),
                         "pairs_per_s": round(batch_size * len(seconds) / float(seconds.sum()), 1),
                         "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})
    return rows


#: Recipe knobs added after runs were recorded, with their defaults: hashed only when set, so a
#: finished run of a recipe that does not use them is still recognised (and resumed) as its own.
_LATER_KNOBS = {f.name: f.default for f in dataclasses.fields(TrainingRecipe)
                if f.name in ("precision", "freeze_word_embeddings")}


def _recipe(profile: Profile, config: str, seed: int, train_datasets: dict[str, Dataset]) -> dict:
    """What determines a run: a checkpoint is resumed only if all of it is unchanged."""
    training = {knob: value for knob, value in dataclasses.asdict(profile.recipe_for(config)).items()
                if knob not in _LATER_KNOBS or value != _LATER_KNOBS[knob]}
    recipe = {
        "base_model": profile.base_model, "config": config, "seed": seed,
        "matryoshka_dims": list(profile.matryoshka_dims),
        "training": training,
        "train_sets": {name: [len(ds), _content_hash(ds)] for name, ds in train_datasets.items()},
    }
    if RECIPES[config].matryoshka_sts_knob:  # hybrid-paper
        recipe.update(sts_loss=profile.sts_loss, matryoshka_sts=profile.matryoshka_sts)
    elif any(dataset_kind(ds) == "scored" for ds in train_datasets.values()):  # mrl-/mnrl-dialects
        recipe["sts_loss"] = profile.sts_loss
    if config in STARTS_FROM:  # a retrained stage 1 invalidates stage 2
        stage1 = run_dir(profile, STARTS_FROM[config], seed) / "recipe.json"
        recipe["starts_from"] = hashlib.sha256(stage1.read_bytes()).hexdigest()[:16] if stage1.is_file() else None
    return recipe


def _wait_for_all(args: SentenceTransformerTrainingArguments) -> None:
    """A barrier between the processes of a ``torchrun`` job (nothing in a single process)."""
    if args.world_size > 1:
        torch.distributed.barrier()


def _content_hash(dataset: Dataset) -> str:
    return hashlib.sha256(json.dumps(dataset.to_dict(), ensure_ascii=False).encode()).hexdigest()[:16]


def _write_history(folder: Path, history: list[dict]) -> None:
    (folder / "log_history.json").write_text(json.dumps(history, indent=1))


def _read_history(folder: Path) -> list[dict]:
    path = folder / "log_history.json"
    return json.loads(path.read_text()) if path.is_file() else []
