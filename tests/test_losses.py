import pytest
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import (
    CachedMultipleNegativesRankingLoss,
    MatryoshkaLoss,
    MultipleNegativesRankingLoss,
)

from gatelib.losses import build_loss
from gatelib.profiles import ProfileError


@pytest.fixture(scope="module")
def tiny(tiny_encoder_path):
    return SentenceTransformer(str(tiny_encoder_path), device="cpu")


def test_mrl_wraps_mnrl_over_the_dims(tiny):
    loss = build_loss("mrl", tiny, (32, 16, 8))
    assert isinstance(loss, MatryoshkaLoss) and isinstance(loss.loss, MultipleNegativesRankingLoss)
    assert loss.matryoshka_dims == (32, 16, 8) and loss.matryoshka_weights == (1, 1, 1)


def test_mnrl_control_has_no_matryoshka(tiny):
    assert type(build_loss("mnrl", tiny, (32, 16))) is MultipleNegativesRankingLoss


def test_cached_variant_for_large_batches(tiny):
    loss = build_loss("mrl", tiny, (32, 16), mini_batch_size=4)
    assert isinstance(loss.loss, CachedMultipleNegativesRankingLoss)


def test_bad_config_and_dims(tiny):
    with pytest.raises(ProfileError, match="Unknown training config"):
        build_loss("hybrid-typo", tiny, (32,))
    with pytest.raises(ProfileError, match="exceed"):
        build_loss("mrl", tiny, (64, 32))
