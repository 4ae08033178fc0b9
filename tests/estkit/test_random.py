import numpy as np
import pytest

from estkit import check_random_state, spawn


def test_int_seed_reproducible():
    a = check_random_state(3).standard_normal(5)
    b = check_random_state(3).standard_normal(5)
    np.testing.assert_array_equal(a, b)


def test_generator_passthrough_and_seedsequence():
    g = np.random.default_rng(1)
    assert check_random_state(g) is g
    ss = np.random.SeedSequence(7)
    np.testing.assert_array_equal(
        check_random_state(ss).random(3), np.random.default_rng(np.random.SeedSequence(7)).random(3)
    )


def test_none_gives_fresh_generator_and_no_global_state():
    state = np.random.get_state()[1].copy()  # noqa: NPY002 - checking global state is untouched
    check_random_state(None).random(10)
    check_random_state(5).random(10)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


@pytest.mark.parametrize("bad", [1.5, "seed", -1, True, np.random.RandomState(0)])
def test_bad_seeds(bad):
    with pytest.raises((TypeError, ValueError), match=r"rng|random_state"):
        check_random_state(bad, "rng")


def test_spawn_independent_and_reproducible():
    a = [g.random() for g in spawn(11, 3)]
    b = [g.random() for g in spawn(11, 3)]
    assert a == b
    assert len(set(a)) == 3
