"""list_metrics on every input shape it accepts and at its edges: frames with and without a rank,
users in order of appearance, a cut to k, empty lists, two users, and the sampled Jaccard's pairs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from services.recommendations import list_metrics as lm


def test_a_frame_without_rank_is_ranked_by_its_order_and_users_keep_their_first_appearance():
    frame = pd.DataFrame({"user_id": ["b", "a", "b", "a"], "item_id": ["z", "y", "x", "w"]})
    rm = lm.recommendation_matrix(frame)
    assert rm.user_ids.tolist() == ["b", "a"] and rm.user_ids.dtype == object
    assert rm.list_of(0) == ["z", "x"] and rm.list_of(1) == ["y", "w"]
    assert rm.item_ids.tolist() == ["z", "x", "y", "w"]  # columns in order of first slot


def test_a_frame_with_rank_is_ranked_by_it():
    frame = pd.DataFrame({"user_id": ["u", "u", "u"], "item_id": ["c", "a", "b"], "rank": [3, 1, 2]})
    rm = lm.recommendation_matrix(frame, k=2)
    assert rm.list_of(0) == ["a", "b"] and rm.k == 2


def test_a_frame_without_its_columns_is_refused_by_name():
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['item_id'\]"):
        lm.recommendation_matrix(pd.DataFrame({"user_id": ["u"]}))


def test_lists_mappings_and_index_matrices():
    rm = lm.recommendation_matrix([["z", "a", "z"], ["a"]])
    assert rm.user_ids.tolist() == ["0", "1"]
    assert rm.list_of(0) == ["z", "a"]  # a repeat counts once, at its best rank
    assert rm.ranked.tolist() == [[0, 1], [1, -1]]  # -1 pads the shorter list
    assert lm.recommendation_matrix({"ann": ["a"], "bob": ["b"]}).user_ids.tolist() == ["ann", "bob"]
    index = lm.recommendation_matrix(np.array([[5, 7, -1], [7, -1, -1]]))
    assert index.user_ids.tolist() == [0, 1] and index.list_of(0) == [5, 7] and index.list_of(1) == [7]
    assert index.matrix.nnz == 3


def test_k_must_be_at_least_one():
    assert lm.recommendation_matrix([["a", "b"]], k=1).list_of(0) == ["a"]
    with pytest.raises(ValueError, match=r"^k must be at least 1$"):
        lm.recommendation_matrix([["a"]], k=0)


def test_users_with_empty_lists_only():
    rm = lm.recommendation_matrix([[], []])
    assert rm.n_users == 2 and rm.k == 0 and rm.ranked.shape == (2, 0)
    groups = lm.distinct_lists(rm.matrix)
    assert groups.first_row.tolist() == [0] and groups.counts.tolist() == [2] and groups.inverse.tolist() == [0, 0]
    none = lm.distinct_lists(lm.recommendation_matrix([]).matrix)
    assert none.first_row.tolist() == [] and none.counts.tolist() == [] and none.inverse.tolist() == []


def test_distinct_lists_of_single_items():
    groups = lm.distinct_lists(lm.recommendation_matrix([["a"], ["b"], ["a"]]).matrix)
    assert groups.counts.tolist() == [2, 1] and groups.first_row.tolist() == [0, 1]
    assert groups.inverse.tolist() == [0, 1, 0]


def test_two_users_are_enough_for_pairwise_figures_and_empty_lists_are_left_out():
    x = lm.recommendation_matrix([["a", "b"], ["a", "c"], []]).matrix
    assert lm.mean_pairwise_cosine(x) == pytest.approx(0.5)
    assert lm.personalization(x) == pytest.approx(0.5)
    assert math.isnan(lm.mean_pairwise_cosine(lm.recommendation_matrix([["a"], []]).matrix))
    two = lm.recommendation_matrix([["a", "b"], ["a", "c"]]).matrix
    assert lm.mean_pairwise_jaccard(two) == lm.JaccardMean(pytest.approx(1 / 3), True, 0.0)
    one = lm.mean_pairwise_jaccard(lm.recommendation_matrix([["a"]]).matrix)
    assert math.isnan(one.value) and one.exact is True and one.stderr == 0.0


def test_exact_up_to_the_limit_of_distinct_lists():
    x = lm.recommendation_matrix([["a"], ["b"], ["a"]]).matrix
    assert lm.mean_pairwise_jaccard(x, exact_max_distinct=2) == lm.JaccardMean(pytest.approx(1 / 3), True, 0.0)
    assert lm.mean_pairwise_jaccard(x, exact_max_distinct=1).exact is False


def test_the_sampled_mean_draws_every_pair_alike_and_is_reproducible():
    # Four users; only users 0 and 2 share their list: the mean over the six pairs is 1/6. Pairs drawn
    # from a skewed set (never user 0 first, or never neighbours) would land near 1/9 or 1/4.
    x = lm.recommendation_matrix([["a"], ["b"], ["a"], ["c"]]).matrix
    sampled = lm.mean_pairwise_jaccard(x, exact_max_distinct=1)
    assert sampled.exact is False and 0 < sampled.stderr < 0.002
    assert sampled.value == pytest.approx(1 / 6, abs=0.01)
    assert lm.mean_pairwise_jaccard(x, exact_max_distinct=1) == sampled
    assert lm.mean_pairwise_jaccard(x, exact_max_distinct=1, seed=5).value != sampled.value


def test_the_jaccard_matrix_of_a_sample_with_an_empty_list():
    x = lm.recommendation_matrix([["a"], ["a"], [], ["a", "b"]]).matrix
    assert lm.jaccard_matrix(x).tolist() == [
        [1.0, 1.0, 0.0, 0.5], [1.0, 1.0, 0.0, 0.5], [0.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 1.0]]


def test_padded_lists_pad_with_minus_one():
    x = lm.recommendation_matrix([["a", "b"], ["b"]]).matrix
    assert lm.padded_sorted_lists(x).tolist() == [[0, 1], [1, -1]]
    assert lm.padded_sorted_lists(lm.recommendation_matrix([]).matrix).shape == (0, 0)


def test_ids_are_object_arrays_of_the_given_values_in_every_shape():
    # A mapping with an int and a str key: a typed array would turn 1 into "1".
    shapes = {
        "mapping": (lm.recommendation_matrix({1: [10, "x"], "b": [10]}), [1, "b"], [10, "x"]),
        "lists": (lm.recommendation_matrix([[3, 4], [4]]), ["0", "1"], [3, 4]),
        "index": (lm.recommendation_matrix(np.array([[3, 4], [4, -1]])), [0, 1], [3, 4]),
        "frame": (lm.recommendation_matrix(pd.DataFrame({"user_id": [7, 7, 8], "item_id": [3, 4, 4]})),
                  [7, 8], [3, 4]),
    }
    for shape, (rm, users, items) in shapes.items():
        assert rm.user_ids.dtype == object and rm.item_ids.dtype == object, shape
        assert rm.user_ids.tolist() == users and rm.item_ids.tolist() == items, shape
        assert [type(u) for u in rm.user_ids] == [type(u) for u in users], shape


def test_the_matrix_is_binary_float32_and_canonical_whatever_the_rank_order():
    # User 1 ranks the items in the other order than their columns: its CSR row must still be sorted,
    # which is what makes equal item sets equal padded rows.
    rm = lm.recommendation_matrix([["a", "b", "a"], ["b", "a"], ["c"]])
    x = rm.matrix
    assert x.dtype == np.float32 and x.has_canonical_format and x.has_sorted_indices
    assert x.toarray().tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    assert rm.ranked.tolist() == [[0, 1], [1, 0], [2, -1]] and rm.ranked.dtype == np.int64
    assert lm.padded_sorted_lists(x).tolist() == [[0, 1], [0, 1], [2, -1]]
    assert lm.distinct_lists(x).counts.tolist() == [2, 1]


def test_the_mean_cosine_is_exactly_one_for_identical_lists_and_zero_for_disjoint_ones():
    # Without the clip, float round-off lands just outside [0, 1] on both (1 + 4e-16 and -1e-16).
    same = lm.recommendation_matrix([["a", "b", "c"], ["a", "b", "c"]]).matrix
    assert lm.mean_pairwise_cosine(same) == 1.0 and lm.personalization(same) == 0.0
    apart = lm.recommendation_matrix([["a", "b"], ["c", "d"]]).matrix
    assert lm.mean_pairwise_cosine(apart) == 0.0 and lm.personalization(apart) == 1.0


def test_the_sampled_standard_error_is_the_sample_standard_deviation_over_root_pairs():
    # Users 0 and 1 share their list, user 2 does not: every drawn pair's Jaccard is 1 or 0, so a
    # sample of `pairs` with mean p has standard deviation sqrt(pairs * p * (1 - p) / (pairs - 1)).
    x = lm.recommendation_matrix([["a"], ["a"], ["b"]]).matrix
    pairs = 12
    sampled = lm.mean_pairwise_jaccard(x, exact_max_distinct=1, sample_pairs=pairs)
    p = sampled.value
    assert 0 < p < 1 and (p * pairs) == pytest.approx(round(p * pairs))
    assert sampled.stderr == pytest.approx(math.sqrt(p * (1 - p) / (pairs - 1)), rel=1e-12)


def test_given_groups_are_used_as_they_are_and_the_default_seed_is_the_reports():
    # The duplication report passes the groups it already has; recomputing them would hide that it
    # passed the wrong ones. Here the groups say every user holds the first list: all pairs alike.
    x = lm.recommendation_matrix([["a"], ["b"], ["c"]]).matrix
    assert lm.mean_pairwise_jaccard(x).value == 0.0
    one_list = lm.DistinctLists(np.array([0]), np.array([3]), np.array([0, 0, 0]))
    assert lm.mean_pairwise_jaccard(x, groups=one_list).value == 1.0
    # A direct call and duplication_report (seed 0 by default) draw the same sampled pairs.
    y = lm.recommendation_matrix([["a"], ["b"], ["a"], ["c"]]).matrix
    by_default = lm.mean_pairwise_jaccard(y, exact_max_distinct=1)
    assert by_default == lm.mean_pairwise_jaccard(y, exact_max_distinct=1, seed=0)
