"""Metric functions on hand-made logits whose answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from stgnode import metrics

# 4 samples, 4 classes. True classes 0, 1, 2, 3.
LOGITS = np.array(
    [
        [5.0, 1.0, 0.0, 0.0],  # rank of class 0: 0 -> top-1 hit
        [3.0, 2.0, 1.0, 0.0],  # rank of class 1: 1 -> top-2 hit
        [0.0, 3.0, 1.0, 2.0],  # rank of class 2: 2 -> top-3 hit
        [4.0, 3.0, 2.0, 1.0],  # rank of class 3: 3 -> top-4 hit
    ]
)
LABELS = np.array([0, 1, 2, 3])


def test_true_class_rank_and_topk_by_hand() -> None:
    assert metrics.true_class_rank(LOGITS, LABELS).tolist() == [0, 1, 2, 3]
    assert [metrics.topk_accuracy(LOGITS, LABELS, k) for k in (1, 2, 3, 4, 5)] == [
        0.25,
        0.5,
        0.75,
        1.0,
        1.0,
    ]


def test_ties_go_to_the_lower_class_index() -> None:
    tied = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [2.0, 2.0, 2.0]])
    labels = np.array([0, 1, 2])
    # Sample 0: class 0 wins the tie. Sample 1: class 0 beats class 1 on the tie (rank 1).
    # Sample 2: classes 0 and 1 both beat class 2 (rank 2).
    assert metrics.true_class_rank(tied, labels).tolist() == [0, 1, 2]
    assert metrics.topk_accuracy(tied, labels, 1) == pytest.approx(1 / 3)
    assert metrics.topk_accuracy(tied, labels, 1) == np.mean(metrics.predictions(tied) == labels)


def test_confusion_matrix_rows_are_true_classes() -> None:
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(metrics.confusion_matrix(labels, predicted, 3), expected)


def test_per_class_and_mean_class_accuracy() -> None:
    # class 0: 1/2, class 1: 1/1, class 2: 2/3, class 3: no sample (NaN, left out of the mean)
    confusion = np.array([[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]])
    accuracy = metrics.per_class_accuracy(confusion)
    np.testing.assert_allclose(accuracy[:3], [0.5, 1.0, 2 / 3])
    assert np.isnan(accuracy[3])
    assert metrics.mean_class_accuracy(confusion) == pytest.approx((0.5 + 1.0 + 2 / 3) / 3)


def test_mean_class_accuracy_differs_from_top1_on_imbalanced_data() -> None:
    # 9 samples of class 0 all right, 1 sample of class 1 wrong: top-1 0.9, mean class 0.5.
    logits = np.array([[1.0, 0.0]] * 10)
    labels = np.array([0] * 9 + [1])
    summary = metrics.summarize(logits, labels)
    assert summary["top1"] == pytest.approx(0.9)
    assert summary["mean_class_accuracy"] == pytest.approx(0.5)
    assert summary["chance"] == pytest.approx(0.9)  # always answering class 0 scores this
    assert summary["top5"] == 1.0
    balanced = metrics.summarize(np.zeros((40, 60)), np.arange(40) % 4)
    assert balanced["chance"] == 0.25  # 4 classes occur, however many the logits have


@pytest.mark.parametrize(
    ("logits", "labels", "message"),
    [
        (np.zeros(3), np.zeros(3), "2-D"),
        (np.zeros((3, 2)), np.zeros(2), "does not match"),
        (np.array([[0.0, np.nan]]), np.array([0]), "NaN"),
        (np.zeros((2, 2)), np.array([0, 2]), r"\[0, 2\)"),
    ],
)
def test_bad_input_is_refused_with_a_reason(logits, labels, message) -> None:
    with pytest.raises(ValueError, match=message):
        metrics.topk_accuracy(logits, labels, 1)


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be >= 1"):
        metrics.topk_accuracy(LOGITS, LABELS, 0)


@settings(max_examples=50, deadline=None)
@given(
    hnp.arrays(np.float64, (7, 5), elements=st.integers(-2, 2).map(float)),
    hnp.arrays(np.int64, 7, elements=st.integers(0, 4)),
)
def test_rank_agrees_with_a_stable_descending_sort(logits, labels) -> None:
    order = np.argsort(-logits, axis=1, kind="stable")
    expected = np.array([np.flatnonzero(row == y)[0] for row, y in zip(order, labels, strict=True)])
    np.testing.assert_array_equal(metrics.true_class_rank(logits, labels), expected)
    assert metrics.topk_accuracy(logits, labels, 1) == np.mean(
        metrics.predictions(logits) == labels
    )
