import numpy as np
import pytest

from gatelib.efficiency import bytes_per_vector, quantized_quality, search_throughput


def test_bytes_per_vector():
    assert bytes_per_vector(384, "float32") == 1536
    assert bytes_per_vector(64, "int8") == 64
    assert bytes_per_vector(64, "binary") == 8


def test_search_throughput_table_shape():
    table = search_throughput([32, 16], n_vectors=2000, n_queries=16)
    assert len(table) == 6 and set(table.dtype) == {"float32", "int8", "binary"}
    assert (table.queries_per_s > 0).all() and (table.n_vectors == 2000).all()


def test_quantised_quality_tracks_float_quality():
    rng = np.random.default_rng(0)
    left = rng.normal(size=(200, 64)).astype(np.float32)
    right = (left + rng.normal(scale=1.0, size=(200, 64))).astype(np.float32)
    a = left / np.linalg.norm(left, axis=1, keepdims=True)
    b = right / np.linalg.norm(right, axis=1, keepdims=True)
    gold = (a * b).sum(1)
    table = quantized_quality(left, right, gold, [64, 16]).set_index(["dim", "dtype"]).spearman
    assert table[(64, "float32")] == pytest.approx(100)
    assert 90 < table[(64, "int8")] <= 100
    assert 30 < table[(64, "binary")] < table[(64, "int8")]
    with pytest.raises(ValueError, match="Unknown precision"):
        quantized_quality(left, right, gold, [16], precisions=["fp8"])
