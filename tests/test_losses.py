import pytest
from datasets import Dataset
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import (
    CachedMultipleNegativesRankingLoss,
    CoSENTLoss,
    CosineSimilarityLoss,
    EmbedDistillLoss,
    GISTEmbedLoss,
    MatryoshkaLoss,
    MultipleNegativesRankingLoss,
    SoftmaxLoss,
    TripletLoss,
)

from gatelib.losses import build_losses, dataset_kind
from gatelib.matryoshka import MatryoshkaDimsError
from gatelib.profiles import ProfileError


@pytest.fixture(scope="module")
def tiny(tiny_encoder_path):
    return SentenceTransformer(str(tiny_encoder_path), device="cpu")


TRIPLETS = Dataset.from_dict({"anchor": ["w1"], "positive": ["w2"], "negative": ["w3"]})
PAIRS = Dataset.from_dict({"anchor": ["w1"], "positive": ["w2"]})
NLI = Dataset.from_dict({"premise": ["w1"], "hypothesis": ["w2"], "label": [0]})
SCORED = Dataset.from_dict({"sentence1": ["w1"], "sentence2": ["w2"], "score": [0.5]})
PARALLEL = Dataset.from_dict({"english": ["w1"], "arabic": ["w2"], "label": [[0.0] * 32]})


def test_dataset_kind_from_columns():
    assert [dataset_kind(d) for d in (TRIPLETS, PAIRS, NLI, SCORED, PARALLEL)] == \
        ["contrastive", "contrastive", "nli", "scored", "parallel"]
    with pytest.raises(ProfileError, match="Cannot tell"):
        dataset_kind(Dataset.from_dict({"text": ["w1"]}))


def test_mrl_wraps_mnrl_over_the_dims(tiny):
    _, losses = build_losses("mrl", tiny, {"t": TRIPLETS}, (32, 16, 8))
    loss = losses["t"]
    assert isinstance(loss, MatryoshkaLoss) and isinstance(loss.loss, MultipleNegativesRankingLoss)
    assert loss.matryoshka_dims == (32, 16, 8) and loss.matryoshka_weights == (1, 1, 1)


def test_mnrl_control_has_no_matryoshka(tiny):
    _, losses = build_losses("mnrl", tiny, {"t": TRIPLETS, "p": PAIRS}, (32, 16))
    assert {type(v) for v in losses.values()} == {MultipleNegativesRankingLoss}


def test_cached_variant_for_large_batches(tiny):
    _, losses = build_losses("mrl", tiny, {"t": TRIPLETS}, (32, 16), mini_batch_size=4)
    assert isinstance(losses["t"].loss, CachedMultipleNegativesRankingLoss)


def test_hybrid_paper_is_softmax_plus_sts_loss(tiny):
    sets, losses = build_losses("hybrid-paper", tiny, {"nli": NLI, "sts": SCORED}, (32, 16))
    assert isinstance(losses["nli"], SoftmaxLoss) and losses["nli"].num_labels == 3
    assert isinstance(losses["sts"], CoSENTLoss) and losses["sts"].scale == 20
    _, card = build_losses("hybrid-paper", tiny, {"sts": SCORED}, (32, 16), sts="cosine")
    assert isinstance(card["sts"], CosineSimilarityLoss)
    _, wrapped = build_losses("hybrid-paper", tiny, {"sts": SCORED}, (32, 16), matryoshka_sts=True)
    assert isinstance(wrapped["sts"], MatryoshkaLoss) and isinstance(wrapped["sts"].loss, CoSENTLoss)
    with pytest.raises(ProfileError, match="Unknown sts_loss"):
        build_losses("hybrid-paper", tiny, {"sts": SCORED}, (32,), sts="angle")


def test_hybrid_triplet_trains_each_triplet_set_twice(tiny):
    sets, losses = build_losses("hybrid-triplet", tiny, {"t": TRIPLETS, "p": PAIRS}, (32, 16))
    assert list(sets) == ["t", "t+triplet", "p"] and sets["t+triplet"] is TRIPLETS
    assert isinstance(losses["t+triplet"].loss, TripletLoss)
    assert isinstance(losses["t"].loss, MultipleNegativesRankingLoss)
    with pytest.raises(ProfileError, match="at least one triplet"):
        build_losses("hybrid-triplet", tiny, {"p": PAIRS}, (32,))


def test_distillation_on_parallel_sets(tiny):
    _, losses = build_losses("mrl-distill", tiny, {"t": TRIPLETS, "par": PARALLEL}, (32, 16))
    assert isinstance(losses["par"], MatryoshkaLoss) and isinstance(losses["par"].loss, EmbedDistillLoss)
    assert losses["par"].loss.distance_metric == "cosine"
    with pytest.raises(ProfileError, match="teacher embeddings"):
        build_losses("mrl-distill", tiny, {"par": PARALLEL.remove_columns("label")}, (32,))


def test_configs_refuse_data_they_cannot_use(tiny):
    with pytest.raises(ProfileError, match="mrl cannot train on nli"):
        build_losses("mrl", tiny, {"nli": NLI}, (32,))
    with pytest.raises(ProfileError, match="hybrid-paper cannot train on t"):
        build_losses("hybrid-paper", tiny, {"t": TRIPLETS}, (32,))


def test_bad_config_and_dims(tiny):
    with pytest.raises(ProfileError, match="Unknown training config"):
        build_losses("hybrid-typo", tiny, {"t": TRIPLETS}, (32,))
    with pytest.raises(MatryoshkaDimsError, match="exceed"):
        build_losses("mrl", tiny, {"t": TRIPLETS}, (64, 32))


def test_mined_and_bilingual_recipes_are_mrl_on_contrastive_data(tiny):
    for config in ("mrl-mined", "mrl-bilingual"):
        sets, losses = build_losses(config, tiny, {"t": TRIPLETS, "p": PAIRS}, (32, 16))
        assert set(sets) == {"t", "p"}
        assert all(isinstance(loss, MatryoshkaLoss) and isinstance(loss.loss, MultipleNegativesRankingLoss)
                   for loss in losses.values())
        with pytest.raises(ProfileError, match=f"{config} cannot train on sts"):
            build_losses(config, tiny, {"sts": SCORED}, (32,))


def test_recipe_knobs_reach_the_losses(tiny):
    """A recipe's scale, Matryoshka weights and guide temperature are what the built losses use."""
    import dataclasses

    from gatelib import recipes

    probe = dataclasses.replace(recipes.RECIPES["mrl"], scale=50.0, matryoshka_weights=(1.0, 0.5))
    built = build_losses(probe, tiny, {"t": TRIPLETS}, (32, 16))[1]["t"]
    assert built.loss.scale == 50.0 and list(built.matryoshka_weights) == [1.0, 0.5]
    with pytest.raises(ProfileError, match="one non-negative weight per dim"):
        build_losses(dataclasses.replace(probe, matryoshka_weights=(1.0,)), tiny, {"t": TRIPLETS}, (32, 16))


def test_dialect_recipe_is_mrl_plus_matryoshka_cosent_on_scored_pairs(tiny):

    sets, losses = build_losses("mrl-dialects", tiny, {"t": TRIPLETS, "dialect": SCORED}, (32, 16))
    assert isinstance(losses["t"], MatryoshkaLoss) and isinstance(losses["t"].loss, MultipleNegativesRankingLoss)
    assert isinstance(losses["dialect"], MatryoshkaLoss) and isinstance(losses["dialect"].loss, CoSENTLoss)
    assert list(losses["dialect"].matryoshka_dims) == [32, 16]
    with pytest.raises(ProfileError, match="mrl-dialects cannot train on nli"):
        build_losses("mrl-dialects", tiny, {"nli": NLI}, (32,))


def test_dialect_control_is_the_same_data_without_matryoshka(tiny):
    sets, losses = build_losses("mnrl-dialects", tiny, {"t": TRIPLETS, "dialect": SCORED}, (32, 16),
                                matryoshka_sts=True)  # the stage-2 switch does not turn the control into MRL
    assert set(sets) == {"t", "dialect"}
    assert type(losses["t"]) is MultipleNegativesRankingLoss
    assert type(losses["dialect"]) is CoSENTLoss


def test_guided_control_masks_negatives_with_a_separate_frozen_guide(tiny, tiny_encoder_path):
    guide = SentenceTransformer(str(tiny_encoder_path), device="cpu")
    sets, losses = build_losses("mnrl-dialects-guided", tiny, {"t": TRIPLETS, "dialect": SCORED}, (32, 16),
                                guide=guide)
    assert set(sets) == {"t", "dialect"}
    assert type(losses["t"]) is GISTEmbedLoss and losses["t"].guide is guide and losses["t"].temperature == 0.01
    assert type(losses["dialect"]) is CoSENTLoss  # the control's scored-pair loss, full embedding only
    with pytest.raises(ProfileError, match="mnrl-dialects-guided needs guide model"):
        build_losses("mnrl-dialects-guided", tiny, {"t": TRIPLETS}, (32,))
    with pytest.raises(ProfileError, match="mnrl-dialects takes no guide model"):
        build_losses("mnrl-dialects", tiny, {"t": TRIPLETS}, (32,), guide=guide)
    with pytest.raises(ValueError, match="separate, frozen model"):
        build_losses("mnrl-dialects-guided", tiny, {"t": TRIPLETS}, (32,), guide=tiny)
