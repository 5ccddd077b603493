"""Training: determinism, seeds, resume after an interruption (CPU, tiny encoder)."""

import dataclasses
import math
import numpy as np
from datasets import Dataset
import pytest
import torch
from transformers import TrainerCallback

from gatelib import training
from gatelib.evaluation import encode_pairs
from gatelib.results import trained_precision
from gatelib.training import COMPLETE_MARKER, load_trained_model, run_dir, train_model

from conftest import toy_sentences


def embed(model, toy_sts):
    left, _ = encode_pairs(model, toy_sts)
    return left


def test_same_seed_same_model_other_seed_differs(tiny_profile, toy_triplets, toy_sts):
    a, history = train_model(tiny_profile, "mrl", 0, {"t": toy_triplets})
    b, _ = train_model(tiny_profile, "mrl", 0, {"t": toy_triplets}, retrain=True)
    c, _ = train_model(tiny_profile, "mrl", 1, {"t": toy_triplets})
    losses = [r["loss"] for r in history if "loss" in r]
    assert len(losses) > 0 and all(np.isfinite(losses))
    assert history[-1]["train_runtime"] > 0 and history[-1]["train_samples_per_second"] > 0  # the totals row
    np.testing.assert_array_equal(embed(a, toy_sts), embed(b, toy_sts))
    assert not np.allclose(embed(a, toy_sts), embed(c, toy_sts))
    assert (run_dir(tiny_profile, "mrl", 0) / "final" / COMPLETE_MARKER).is_file()
    assert not (run_dir(tiny_profile, "mrl", 0) / "checkpoints").exists()  # a finished run keeps only final/
    # the arithmetic that ran travels with the model, trained or loaded, into its score rows
    again, _ = train_model(tiny_profile, "mrl", 0, {"t": toy_triplets})
    ran = history[-1]["precision"]
    assert ran in ("bf16", "fp32") and trained_precision(a) == trained_precision(again) == ran
    assert trained_precision(load_trained_model(tiny_profile, "mrl", 0)) == ran


class Interrupt(TrainerCallback):
    def __init__(self, at_step):
        self.at_step = at_step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.at_step:
            raise KeyboardInterrupt("simulated kill")


def test_interrupted_run_resumes_to_the_same_model(tiny_profile, toy_triplets, toy_sts, monkeypatch):
    reference, _ = train_model(tiny_profile, "mnrl", 0, {"t": toy_triplets})
    expected = embed(reference, toy_sts)
    original = training.PlainProgressBar

    class KilledAfterCheckpoint(original):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            self.interrupt = Interrupt(at_step=3)  # checkpoints every 2 steps

        def on_step_end(self, args, state, control, **kwargs):
            super().on_step_end(args, state, control, **kwargs)
            self.interrupt.on_step_end(args, state, control)

    monkeypatch.setattr(training, "PlainProgressBar", KilledAfterCheckpoint)
    with pytest.raises(KeyboardInterrupt):
        train_model(tiny_profile, "mnrl", 0, {"t": toy_triplets}, retrain=True)
    out = run_dir(tiny_profile, "mnrl", 0)
    assert not (out / "final" / COMPLETE_MARKER).exists()
    assert (out / "checkpoints" / "checkpoint-2").is_dir()
    monkeypatch.setattr(training, "PlainProgressBar", original)
    resumed, _ = train_model(tiny_profile, "mnrl", 0, {"t": toy_triplets})
    np.testing.assert_allclose(embed(resumed, toy_sts), expected, atol=1e-6)


def test_changed_recipe_is_not_resumed(tiny_profile, toy_triplets, toy_sts):
    first, _ = train_model(tiny_profile, "mrl", 0, {"t": toy_triplets})
    other = toy_triplets.select(range(40))
    second, _ = train_model(tiny_profile, "mrl", 0, {"t": other})
    assert not np.allclose(embed(first, toy_sts), embed(second, toy_sts))


KILL_SCRIPT = """
import dataclasses, sys, pathlib
from datasets import Dataset
from gatelib import profiles
from gatelib.training import train_model
sys.path.insert(0, {tests!r})
from conftest import toy_sentences
profiles.PROJECT_ROOT = pathlib.Path({root!r})
base = profiles.load_profile("smoke")
cfg = dataclasses.replace(base, base_model={model!r}, matryoshka_dims=(32, 16, 8), device="cpu",
    train_sets=("t",), training=dataclasses.replace(base.training, batch_size=8, max_steps=12, save_steps=2, max_seq_length=32))
anchors = toy_sentences(48)
data = Dataset.from_dict({{"anchor": anchors, "positive": [a + " w1" for a in anchors],
                           "negative": toy_sentences(48, offset=3)}})
train_model(cfg, "mnrl", 0, {{"t": data}})
"""


def test_killed_process_resumes_from_checkpoint(tiny_profile, tiny_encoder_path, toy_triplets, toy_sts, tmp_path):
    """SIGKILL a real training process after its second checkpoint; the rerun resumes and
    ends with the same model as an uninterrupted run."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import dataclasses

    tiny_profile = dataclasses.replace(tiny_profile, training=dataclasses.replace(tiny_profile.training, max_steps=12))
    reference, _ = train_model(tiny_profile, "mnrl", 0, {"t": toy_triplets})
    expected = embed(reference, toy_sts)
    root = tmp_path / "killed"
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), root=str(root), model=str(tiny_encoder_path))
    out = root / "models" / "smoke" / "mnrl-seed0"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (out / "checkpoints" / "checkpoint-6").is_dir() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (out / "checkpoints" / "checkpoint-2").is_dir()
    assert not (out / "final" / COMPLETE_MARKER).exists(), "the run finished before it could be killed"
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    from sentence_transformers import SentenceTransformer

    resumed = SentenceTransformer(str(out / "final"), device="cpu")
    np.testing.assert_allclose(embed(resumed, toy_sts), expected, atol=1e-6)


def test_half_written_checkpoint_is_skipped(tmp_path):
    from gatelib.training import last_complete_checkpoint

    for step, state in [(2, "{}"), (4, '{"global_step": 4}'), (6, '{"global_st')]:
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    (tmp_path / "checkpoint-8").mkdir()  # killed before its state was written
    assert last_complete_checkpoint(tmp_path).name == "checkpoint-4"
    assert last_complete_checkpoint(tmp_path / "absent") is None
    # two processes: the first wrote its state and the trainer's, the second was killed mid-write
    for step in (2, 4):
        torch.save({"cpu": torch.get_rng_state()}, tmp_path / f"checkpoint-{step}" / "rng_state_0.pth")
        torch.save({"cpu": torch.get_rng_state()}, tmp_path / f"checkpoint-{step}" / "rng_state_1.pth")
    whole = (tmp_path / "checkpoint-4" / "rng_state_1.pth").read_bytes()
    (tmp_path / "checkpoint-4" / "rng_state_1.pth").write_bytes(whole[: len(whole) // 2])
    assert last_complete_checkpoint(tmp_path, processes=2).name == "checkpoint-2"
    assert last_complete_checkpoint(tmp_path, processes=1) is None  # no rng_state.pth anywhere


def test_loading_a_missing_run_says_what_to_run(tiny_profile):
    from gatelib.training import load_trained_model

    with pytest.raises(FileNotFoundError, match="run notebooks/02_training first"):
        load_trained_model(tiny_profile, "mrl", 7)


def test_hybrid_paper_continues_from_the_mrl_model(tiny_profile, toy_triplets, toy_nli, toy_sts):
    sets = {"t": toy_triplets, "nli": toy_nli, "sts": toy_sts}
    hybrid, history = train_model(tiny_profile, "hybrid-paper", 0, sets)  # trains mrl first
    stage1 = training.load_trained_model(tiny_profile, "mrl", 0)
    losses = [r["loss"] for r in history if "loss" in r]
    assert len(losses) > 0 and all(np.isfinite(losses))
    assert history[-1]["train_runtime"] > 0 and history[-1]["train_samples_per_second"] > 0  # the totals row
    assert not np.allclose(embed(hybrid, toy_sts), embed(stage1, toy_sts))
    recipe = (run_dir(tiny_profile, "hybrid-paper", 0) / "recipe.json").read_text()
    assert '"starts_from": "' in recipe and '"sts_loss": "cosent"' in recipe
    # another stage-1 recipe makes the stage-2 run stale: both are trained again, not loaded
    import dataclasses

    changed = dataclasses.replace(tiny_profile, training=dataclasses.replace(tiny_profile.training, learning_rate=1e-4))
    again, _ = train_model(changed, "hybrid-paper", 0, sets)
    assert (run_dir(tiny_profile, "hybrid-paper", 0) / "recipe.json").read_text() != recipe
    assert not np.allclose(embed(again, toy_sts), embed(hybrid, toy_sts))


def test_distillation_adds_teacher_embeddings(tiny_profile, toy_triplets, toy_parallel, toy_sts):
    model, history = train_model(tiny_profile, "mrl-distill", 0, {"t": toy_triplets, "par": toy_parallel})
    assert len(history) > 0
    teacher = training.load_base_model(tiny_profile.base_model, device="cpu")
    labelled = training.add_teacher_embeddings(toy_parallel, teacher)
    np.testing.assert_allclose(np.asarray(labelled["label"][0]),
                               teacher.encode(toy_parallel["english"][0], normalize_embeddings=True), atol=1e-6)


def test_missing_training_set_is_named(tiny_profile, toy_triplets):
    with pytest.raises(KeyError, match="par"):
        train_model(tiny_profile, "mrl-distill", 0, {"t": toy_triplets})


def test_mined_negatives_keep_every_pair_and_are_deterministic(tiny_profile, toy_triplets):
    from collections import Counter

    model = training.load_base_model(tiny_profile.base_model, device="cpu")
    anchors = toy_sentences(40)
    pairs = Dataset.from_dict({"anchor": anchors, "positive": [a + " w2" for a in anchors]})
    out = training.add_mined_negatives({"p": pairs, "t": toy_triplets}, model)
    assert out["t"] is toy_triplets  # sets with a negative are left alone
    mined, rest = out["p+mined"], out.get("p")
    assert len(mined) > 0
    kept = Counter(zip(mined["anchor"], mined["positive"]))
    if rest is not None:
        kept.update(zip(rest["anchor"], rest["positive"]))
    assert kept == Counter(zip(pairs["anchor"], pairs["positive"]))  # nothing lost, nothing doubled
    assert all(n not in (a, p) for a, p, n in zip(mined["anchor"], mined["positive"], mined["negative"]))
    again = training.add_mined_negatives({"p": pairs, "t": toy_triplets}, model)
    assert again["p+mined"]["negative"] == mined["negative"]


def test_mined_recipe_trains(tiny_profile, toy_triplets):
    anchors = toy_sentences(40)
    pairs = Dataset.from_dict({"anchor": anchors, "positive": [a + " w2" for a in anchors]})
    model, history = train_model(tiny_profile, "mrl-mined", 0, {"t": pairs})
    assert len(history) > 0 and (run_dir(tiny_profile, "mrl-mined", 0) / "final" / COMPLETE_MARKER).is_file()


def test_training_throughput_times_every_batch_size_and_leaves_no_run(tiny_profile, toy_triplets):
    rows = training.training_throughput(tiny_profile, "mrl", {"t": toy_triplets}, batch_sizes=(4, 8),
                                        steps=6, warmup_steps=2, gpu_speedups=(True,))
    assert [r["batch_size"] for r in rows] == [4, 8]
    assert all(r["steps"] == 3 and r["pairs_per_s"] > 0 and r["step_ms"] > 0 and r["peak_rss_mb"] > 0 for r in rows)
    assert rows[0]["hardware"].startswith("cpu") and rows[0]["config"] == "mrl"
    assert rows[0]["device"] == "cpu" and rows[0]["precision"] == "fp32" and rows[0]["vocab"] > 0
    assert not (tiny_profile.models_dir.parent / f"{tiny_profile.name}-throughput").exists()
    with pytest.raises(ValueError, match="stage-1"):
        training.training_throughput(tiny_profile, "hybrid-paper", {"t": toy_triplets})


@pytest.mark.slow
def test_compiled_encoder_trains_the_same_model(tiny_profile, toy_triplets):
    """torch.compile in place: same weight names on disk, same model up to kernel rounding."""
    eager, _ = train_model(tiny_profile, "mrl", 0, {"t": toy_triplets})
    compiled, _ = train_model(tiny_profile, "mrl", 0, {"t": toy_triplets}, retrain=True, compile_model=True)
    reloaded = training.load_trained_model(tiny_profile, "mrl", 0)
    assert set(reloaded.state_dict()) == set(eager.state_dict())
    texts = toy_sentences(8)
    cos = (reloaded.encode(texts) * eager.encode(texts)).sum(1)  # unit vectors
    assert cos.min() > 0.9999  # kernel rounding, amplified over the steps (measured max |Δ| 8.5e-4)


def test_a_run_on_scored_pairs_records_its_sts_loss(tiny_profile, toy_triplets, toy_sts):
    import dataclasses

    tiny_profile = dataclasses.replace(tiny_profile, dialect_sets=("dialect",))
    sets = {"t": toy_triplets, "dialect": toy_sts}
    train_model(tiny_profile, "mnrl-dialects", 0, sets)
    recipe = (run_dir(tiny_profile, "mnrl-dialects", 0) / "recipe.json").read_text()
    assert '"sts_loss": "cosent"' in recipe
    # another scored-pair loss is another run: trained again, not loaded from the CoSENT one
    train_model(dataclasses.replace(tiny_profile, sts_loss="cosine"), "mnrl-dialects", 0, sets)
    assert '"sts_loss": "cosine"' in (run_dir(tiny_profile, "mnrl-dialects", 0) / "recipe.json").read_text()


def test_the_guided_recipe_trains_and_leaves_the_unguided_run_alone(tiny_profile, toy_triplets, toy_sts):
    import dataclasses

    tiny_profile = dataclasses.replace(tiny_profile, dialect_sets=("dialect",))
    sets = {"t": toy_triplets, "dialect": toy_sts}
    plain, _ = train_model(tiny_profile, "mnrl-dialects", 0, sets)
    guided, history = train_model(tiny_profile, "mnrl-dialects-guided", 0, sets)
    assert '"config": "mnrl-dialects-guided"' in (run_dir(tiny_profile, "mnrl-dialects-guided", 0) / "recipe.json").read_text()
    assert all(math.isfinite(row["loss"]) for row in history if "loss" in row)
    texts = toy_sentences(8)
    assert not np.allclose(plain.encode(texts), guided.encode(texts))  # another loss, another model


def test_bf16_on_a_cpu_without_bf16_instructions_falls_back_to_fp32_and_says_so(monkeypatch, caplog):
    monkeypatch.setattr(training.torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    with caplog.at_level("WARNING", logger="gatelib.training"):
        assert training.training_precision("bf16", "cpu") == "fp32"
    assert "no bf16 instructions" in caplog.text
    assert training.training_precision("auto", "cpu") == "fp32"
    assert training.training_precision("fp32", "cuda") == "fp32"
    monkeypatch.setattr(training.torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert training.training_precision("bf16", "cpu") == "bf16"


def test_bf16_run_records_the_precision_that_ran(tiny_profile, toy_triplets):
    bf16 = dataclasses.replace(tiny_profile, training=dataclasses.replace(tiny_profile.training, precision="bf16"))
    _, history = train_model(bf16, "mrl", 0, {"t": toy_triplets})
    _, default = train_model(tiny_profile, "mrl", 1, {"t": toy_triplets})
    assert history[-1]["precision"] == training.training_precision("bf16", "cpu")
    assert default[-1]["precision"] == "fp32"


def test_frozen_word_embeddings_stay_as_they_were(tiny_profile, toy_triplets):
    frozen = dataclasses.replace(tiny_profile, training=dataclasses.replace(tiny_profile.training,
                                                                          freeze_word_embeddings=True))
    base = training.load_base_model(tiny_profile.base_model, device="cpu")
    model, _ = train_model(frozen, "mrl", 0, {"t": toy_triplets})
    table = lambda m: m[0].auto_model.get_input_embeddings().weight.detach().numpy()  # noqa: E731
    layer = lambda m: next(m[0].auto_model.encoder.parameters()).detach().numpy()  # noqa: E731
    np.testing.assert_array_equal(table(model), table(base))
    assert not np.allclose(layer(model), layer(base))


def test_knobs_added_later_enter_the_run_hash_only_when_set(tiny_profile, toy_triplets):
    plain = training._recipe(tiny_profile, "mrl", 0, {"t": toy_triplets})["training"]
    assert "precision" not in plain and "freeze_word_embeddings" not in plain
    bf16 = dataclasses.replace(tiny_profile, training=dataclasses.replace(tiny_profile.training, precision="bf16"))
    assert training._recipe(bf16, "mrl", 0, {"t": toy_triplets})["training"]["precision"] == "bf16"


@pytest.mark.parametrize("config", ["hybrid-triplet", "mrl-bilingual"])
def test_recipes_the_smoke_notebooks_leave_out_train_here(tiny_profile, toy_triplets, config):
    """The smoke profile runs the paper's recipes and the dialect pair through the notebooks; the
    other recipes train here on the tiny encoder (mrl-distill, mrl-mined and the guided one above)."""
    profile = dataclasses.replace(tiny_profile, english_sets=("en",))
    model, history = train_model(profile, config, 0, {"t": toy_triplets, "en": toy_triplets})
    assert (run_dir(profile, config, 0) / "final" / COMPLETE_MARKER).is_file()
    assert [row for row in history if "loss" in row] and all(math.isfinite(r["loss"]) for r in history if "loss" in r)
