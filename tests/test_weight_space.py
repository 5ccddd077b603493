"""benchmarks/weight_space.py: one interpolation for the model soup and WiSE-FT."""

import importlib.util
from pathlib import Path

import pytest
import torch

_SPEC = importlib.util.spec_from_file_location("weight_space", Path(__file__).parents[1] / "benchmarks" / "weight_space.py")
weight_space = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(weight_space)


def test_interpolate_means_weighs_and_keeps_integer_tensors():
    a = {"w": torch.tensor([0.0, 2.0]), "ids": torch.tensor([1, 2])}
    b = {"w": torch.tensor([4.0, 6.0]), "ids": torch.tensor([7, 8])}
    assert torch.equal(weight_space.interpolate([a, b])["w"], torch.tensor([2.0, 4.0]))  # the soup: the mean
    wise = weight_space.interpolate([a, b], [0.25, 0.75])  # WiSE-FT: (1 - a) untrained + a trained
    assert torch.equal(wise["w"], torch.tensor([3.0, 5.0])) and torch.equal(wise["ids"], a["ids"])
    with pytest.raises(ValueError, match="2 models and 1 weights"):
        weight_space.interpolate([a, b], [1.0])
