from typing import Literal

import numpy as np
import pytest

from estkit import (
    check_1d,
    check_2d,
    check_alpha,
    check_consistent_length,
    check_int,
    check_option,
    check_positive,
)


def test_check_option_literal_case_insensitive():
    assert check_option("UNIFORM", "kernel", Literal["uniform", "triangular"]) == "uniform"
    with pytest.raises(ValueError, match="`method` must be one of 'a', 'b'; got 'c'"):
        check_option("c", "method", ("a", "b"))


def test_check_1d_nan_and_shape():
    with pytest.raises(ValueError, match="`x` contains 1 non-finite value"):
        check_1d([1.0, np.nan], "x")
    with pytest.raises(ValueError, match="one-dimensional"):
        check_1d(np.ones((2, 2)), "x")
    assert check_1d(np.ones((3, 1)), "x").shape == (3,)
    np.testing.assert_array_equal(check_1d([1.0, np.nan], "x", allow_nan=True)[:1], [1.0])
    with pytest.raises(ValueError, match="at least 3"):
        check_1d([1.0], "x", min_length=3)


def test_check_2d_rows():
    with pytest.raises(ValueError, match="`Y` has 2 rows but 3"):
        check_2d(np.ones((2, 2)), "Y", n_rows=3)
    with pytest.raises(ValueError, match="infinite"):
        check_2d([[1.0, np.inf]], "Y")


def test_misc_checks():
    assert check_alpha(0.05) == 0.05
    for bad in (0, 1, 1.5, 95, True):
        with pytest.raises(ValueError, match=r"alpha=0\.05"):
            check_alpha(bad)
    assert check_int(3, "p", minimum=0) == 3
    with pytest.raises(ValueError, match="`p` must be >= 0"):
        check_int(-1, "p", minimum=0)
    with pytest.raises(TypeError, match="integer"):
        check_int(2.0, "p")
    with pytest.raises(ValueError, match="strictly positive"):
        check_positive([1.0, 0.0], "bandwidth")
    with pytest.raises(ValueError, match="`x` has 3, `y` has 2"):
        check_consistent_length(x=[1, 2, 3], y=[1, 2])
    with pytest.raises(TypeError, match="numeric"):
        check_1d(["a", "b"], "x")
