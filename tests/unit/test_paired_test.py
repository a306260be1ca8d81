"""McNemar's exact test of two models on the same examples: only their disagreements count."""

import numpy as np
import pytest

from data_science.evaluate import evaluate_probabilities, mcnemar


def answers(predictions: list[int], labels: list[int]):
    return evaluate_probabilities(np.eye(2)[predictions], np.array(labels))


def test_the_p_value_is_the_two_sided_binomial_tail_of_the_disagreements():
    labels = [1] * 20
    # Both right on 10, the first alone right on 1, the second alone right on 9.
    first = answers([1] * 10 + [1] + [0] * 9, labels)
    second = answers([1] * 10 + [0] + [1] * 9, labels)
    paired = mcnemar(first, second)
    assert (paired.only_first_right, paired.only_second_right) == (1, 9)
    assert paired.p_value == pytest.approx(2 * (1 + 10) / 2**10)  # 0.0215, as tables give
    assert mcnemar(second, first).p_value == paired.p_value


def test_models_that_agree_everywhere_show_no_difference_at_all():
    same = answers([1, 0, 1], [1, 1, 1])
    assert mcnemar(same, same).p_value == 1.0


def test_models_scored_on_different_examples_are_refused():
    with pytest.raises(ValueError, match="same examples"):
        mcnemar(answers([1], [1]), answers([1], [0]))
