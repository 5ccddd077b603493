"""Tests for gatelib.decontamination: the matching normaliser, both nearest-neighbour checks, groups."""
from __future__ import annotations

import numpy as np
import pytest

from gatelib.decontamination import (char_vectorizer, contaminated_groups, lexical_nearest, normalize_for_matching,
                                    semantic_nearest)


def test_normaliser_unifies_what_translations_disagree_on():
    n = normalize_for_matching
    assert n("مجموعة من الناس على الشاطئ.") == n("مجموعة من الناس على الشاطئ")  # the SICK-ar / STS17 pair
    assert n("أحمد إلى آخر") == n("احمد الى اخر")  # alef forms
    assert n("على") == n("علي") and n("مدرسة") == n("مدرسه")  # alef maqsura, ta marbuta
    assert n("كَتَبَ") == n("كـتـب") == "كتب"  # diacritics, tatweel
    assert n("  A  Man, RUNS!! ") == "a man runs"
    assert n("...") == ""


def test_lexical_nearest_finds_near_copies_and_ranks_them():
    refs = ["رجل يقود سيارة صفراء.", "امرأة تسبح تحت الماء."]
    texts = ["امرأة تسبح تحت الماء", "رجل يقود سيارة", "قطة نائمة على الأريكة", "!!!"]
    sims, idx = lexical_nearest(texts, refs)
    assert sims[0] == pytest.approx(1.0, abs=1e-5) and idx[0] == 1  # copy up to the full stop
    assert 0.5 < sims[1] < 1.0 and idx[1] == 0
    assert sims[2] < 0.3
    assert sims[3] == 0.0 and idx[3] == -1  # normalises to nothing
    chunked, _ = lexical_nearest(texts, refs, chunk=1)
    np.testing.assert_allclose(chunked, sims)


def test_a_fitted_vectorizer_measures_later_texts_with_the_same_weights():
    refs = ["رجل يقود سيارة صفراء.", "امرأة تسبح تحت الماء."]
    texts = ["امرأة تسبح تحت الماء", "رجل يقود سيارة"]
    vectorizer = char_vectorizer()
    first, _ = lexical_nearest(texts, refs, vectorizer=vectorizer)  # fitted here, in place
    idf = vectorizer.idf_.copy()
    again, _ = lexical_nearest(texts, refs, vectorizer=vectorizer)
    np.testing.assert_allclose(again, first)
    later, _ = lexical_nearest(["قطة نائمة على الأريكة", "رجل يقود سيارة"], refs, vectorizer=vectorizer)
    np.testing.assert_array_equal(vectorizer.idf_, idf)  # not refitted on the new texts
    assert later[1] == pytest.approx(first[1], abs=1e-6)
    refit, _ = lexical_nearest(["قطة نائمة على الأريكة", "رجل يقود سيارة"], refs)  # other texts, other IDF
    assert refit[1] != pytest.approx(first[1], abs=1e-6)


def test_lexical_nearest_refuses_bad_input():
    with pytest.raises(ValueError, match="empty"):
        lexical_nearest([], ["a"])
    with pytest.raises(TypeError, match="sequence of strings"):
        lexical_nearest("a text", ["a"])


def test_semantic_nearest_is_exact_cosine_search():
    rng = np.random.default_rng(0)
    refs = rng.normal(size=(50, 8)).astype(np.float32)
    refs /= np.linalg.norm(refs, axis=1, keepdims=True)
    texts = refs[[3, 7]] + 0.01 * rng.normal(size=(2, 8)).astype(np.float32)
    texts /= np.linalg.norm(texts, axis=1, keepdims=True)
    sims, idx = semantic_nearest(texts, refs)
    assert list(idx) == [3, 7] and (sims > 0.99).all()
    with pytest.raises(ValueError, match="L2-normalised"):
        semantic_nearest(texts * 2, refs)
    with pytest.raises(ValueError, match="one width"):
        semantic_nearest(texts[:, :4], refs)


def test_a_group_with_any_flagged_member_is_dropped_whole():
    groups = ["img1", "img1", "img2", "img3", "img3"]
    lexical = np.array([0.2, 0.95, 0.1, 0.3, 0.2])
    semantic = np.array([0.5, 0.5, 0.5, 0.99, 0.5])
    assert contaminated_groups(groups, (lexical, 0.9)) == {"img1"}
    assert contaminated_groups(groups, (lexical, 0.9), (semantic, 0.98)) == {"img1", "img3"}
    with pytest.raises(ValueError, match="do not match"):
        contaminated_groups(groups, (lexical[:3], 0.9))
    with pytest.raises(ValueError, match=r"in \(0, 1\]"):
        contaminated_groups(groups, (lexical, 0.0))
