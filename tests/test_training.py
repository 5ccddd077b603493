"""Training: determinism, seeds, resume after an interruption (CPU, tiny encoder)."""

import numpy as np
import pytest
from transformers import TrainerCallback

from gatelib import training
from gatelib.evaluation import encode_pairs
from gatelib.training import COMPLETE_MARKER, run_dir, train_model


def embed(model, toy_sts):
    left, _ = encode_pairs(model, toy_sts)
    return left


def test_same_seed_same_model_other_seed_differs(tiny_profile, toy_triplets, toy_sts):
    a, history = train_model(tiny_profile, "mrl", 0, {"t": toy_triplets})
    b, _ = train_model(tiny_profile, "mrl", 0, {"t": toy_triplets}, retrain=True)
    c, _ = train_model(tiny_profile, "mrl", 1, {"t": toy_triplets})
    assert len(history) > 0 and all(np.isfinite(r["loss"]) for r in history)
    np.testing.assert_array_equal(embed(a, toy_sts), embed(b, toy_sts))
    assert not np.allclose(embed(a, toy_sts), embed(c, toy_sts))
    assert (run_dir(tiny_profile, "mrl", 0) / "final" / COMPLETE_MARKER).is_file()


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
