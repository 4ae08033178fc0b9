from typing import Literal

import numpy as np
import pandas as pd
import pytest

import estkit


def test_check_option_literal_case_insensitive():
    assert estkit.check_option("UNIFORM", "kernel", Literal["uniform", "triangular"]) == "uniform"
    with pytest.raises(ValueError, match="`method` must be one of 'a', 'b'; got 'c'"):
        estkit.check_option("c", "method", ("a", "b"))


def test_check_1d_nan_and_shape():
    with pytest.raises(ValueError, match="`x` contains 1 non-finite value"):
        estkit.check_1d([1.0, np.nan], "x")
    with pytest.raises(ValueError, match="one-dimensional"):
        estkit.check_1d(np.ones((2, 2)), "x")
    assert estkit.check_1d(np.ones((3, 1)), "x").shape == (3,)
    np.testing.assert_array_equal(estkit.check_1d([1.0, np.nan], "x", allow_nan=True)[:1], [1.0])
    with pytest.raises(ValueError, match="at least 3"):
        estkit.check_1d([1.0], "x", min_length=3)


def test_check_2d_rows():
    with pytest.raises(ValueError, match="`Y` has 2 rows but 3"):
        estkit.check_2d(np.ones((2, 2)), "Y", n_rows=3)
    with pytest.raises(ValueError, match="infinite"):
        estkit.check_2d([[1.0, np.inf]], "Y")


def test_misc_checks():
    assert estkit.check_alpha(0.05) == 0.05
    for bad in (0, 1, 1.5, 95, True):
        with pytest.raises(ValueError, match=r"alpha=0\.05"):
            estkit.check_alpha(bad)
    assert estkit.check_int(3, "p", minimum=0) == 3
    with pytest.raises(ValueError, match="`p` must be >= 0"):
        estkit.check_int(-1, "p", minimum=0)
    with pytest.raises(TypeError, match="integer"):
        estkit.check_int(2.0, "p")
    assert estkit.check_int(10, "p", minimum=0, maximum=10) == 10
    with pytest.raises(ValueError, match=r"^`p` must be between 0 and 10; got 11\.$"):
        estkit.check_int(11, "p", minimum=0, maximum=10)
    with pytest.raises(ValueError, match=r"^`p` must be >= 0; got -1\.$"):
        estkit.check_int(-1, "p", minimum=0, maximum=10)
    with pytest.raises(ValueError, match=r"^`k` must be <= 3; got 4\.$"):
        estkit.check_int(4, "k", maximum=3)
    # the bounds themselves: integers or None, and not crossed
    for bad in (float("nan"), 3.5, True):
        with pytest.raises(TypeError, match="`maximum` of check_int must be an integer"):
            estkit.check_int(3, "p", maximum=bad)
    with pytest.raises(TypeError, match="`minimum` of check_int must be an integer"):
        estkit.check_int(3, "p", minimum=0.5)
    with pytest.raises(ValueError, match=r"`minimum` \(5\) exceeds `maximum` \(2\) for `p`"):
        estkit.check_int(3, "p", minimum=5, maximum=2)
    with pytest.raises(ValueError, match="strictly positive"):
        estkit.check_positive([1.0, 0.0], "bandwidth")
    with pytest.raises(ValueError, match="`x` has 3, `y` has 2"):
        estkit.check_consistent_length(x=[1, 2, 3], y=[1, 2])
    with pytest.raises(TypeError, match="numeric"):
        estkit.check_1d(["a", "b"], "x")


def test_check_bool_refuses_strings_and_ints():
    assert estkit.check_bool(np.bool_(False), "flag") is False
    for bad in ("no", "False", 0, 1, None):
        with pytest.raises(TypeError, match="`flag` must be True or False"):
            estkit.check_bool(bad, "flag")


def test_align_by_label_reorders_same_set_and_refuses_other_sets():
    x = pd.Series([1.0, 2.0, 3.0], index=[10, 20, 30])
    d = pd.Series([0.3, 0.1, 0.2], index=[30, 10, 20])
    frame = pd.DataFrame({"a": [9.0, 8.0, 7.0]}, index=[20, 30, 10])
    out, index = estkit.align_by_label({"x": x, "d": d, "w": np.arange(3), "f": frame, "z": None})
    assert list(index) == [10, 20, 30]
    np.testing.assert_array_equal(out["d"].to_numpy(), [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(out["f"]["a"].to_numpy(), [7.0, 9.0, 8.0])
    assert out["w"] is not None and out["z"] is None
    with pytest.raises(ValueError, match=r"`d` and `x` .*1 label\(s\) of `d` are not in `x`"):
        estkit.align_by_label({"x": x, "d": d.set_axis([10, 20, 40])})
    with pytest.raises(ValueError, match="2 labels against 3"):
        estkit.align_by_label({"x": x, "d": d.iloc[:2]})
    with pytest.raises(ValueError, match="duplicate labels"):
        estkit.align_by_label({"x": x, "d": d.set_axis([10, 10, 20])})
    plain, none_index = estkit.align_by_label({"x": [1, 2]})
    assert none_index is None and plain == {"x": [1, 2]}


def test_negligible_variation_is_relative_to_magnitude():
    y = np.array([[7.3, 1e12, 1e-300, 0.0], [7.3, 1e12 + 1.0, 2e-300, 0.0]])
    np.testing.assert_array_equal(estkit.negligible_variation(y), [True, False, False, True])
    assert bool(estkit.negligible_variation(np.full(5, 3.0), axis=None))
    # a few ulps of residue is not variation; a real one-part-in-1e12 difference is
    residue = np.array([0.1 + 0.2, 0.3, 0.3])
    assert bool(estkit.negligible_variation(residue))


@pytest.mark.parametrize(
    ("h", "message"),
    [
        (0, "`bias_bandwidth` must be strictly positive; got 0.0."),
        ([-1], "`bias_bandwidth` must be strictly positive; got -1.0."),
        (np.nan, "`bias_bandwidth` must be a finite number; got nan."),
    ],
)
def test_check_bandwidth_scalar_refusal_shows_a_plain_number(h, message):
    # the refused value reads as the user's number, not as numpy's repr np.float64(...)
    from estkit._validation import check_bandwidth

    with pytest.raises(ValueError) as info:
        check_bandwidth(h, 3, "bias_bandwidth")
    assert str(info.value) == message
