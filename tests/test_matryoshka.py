"""gatelib.matryoshka: the dims rule and the truncation rule."""

import numpy as np
import pytest

from gatelib.matryoshka import MatryoshkaDimsError, check_matryoshka_dims, truncate_embeddings


@pytest.mark.parametrize("dims, message", [
    ([], "empty"),
    ([384, 0], "positive"),
    ([384, 128, 128], "duplicates"),
    ([64, 128, 384], "descending"),
    ([512, 256], "exceed the model's embedding dimension 384"),
    ([384.0, 64], "integers"),
])
def test_impossible_matryoshka_dims(dims, message):
    with pytest.raises(MatryoshkaDimsError, match=message):
        check_matryoshka_dims(dims, model_dim=384)


def test_valid_dims_pass_through():
    assert check_matryoshka_dims([384, 64, 32], 384) == (384, 64, 32)


def test_truncate_slices_then_renormalises():
    x = np.array([[3.0, 4.0, 12.0], [1.0, 0.0, 0.0]])
    t = truncate_embeddings(x, 2)
    np.testing.assert_allclose(t, [[0.6, 0.8], [1.0, 0.0]])
    with pytest.raises(ValueError, match="Cannot truncate 3-dim embeddings to 4"):
        truncate_embeddings(x, 4)
