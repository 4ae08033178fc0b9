"""Trust at r3d's doors (helper edgeG): one-element ``bandwidth_treatment`` read as its value
like ``bandwidth``; a per-unit column in both ``data`` and ``unit_data`` refused; duplicate
unit ids refused; ``from_long``'s column checks before any pass over the rows; one wording of
the non-finite outcome and weight refusals for ``from_long`` and the Dask path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import r3d._data
from r3d import R3D, Distributions, QuantileFunctions
from r3d.simulate import simulate_normal

Q3 = [0.25, 0.5, 0.75]


@pytest.fixture(scope="module")
def fuzzy():
    return simulate_normal(n=120, n_draws=8, effect=2.0, fuzzy=True, rng=2)


def _fuzzy_fit(sim, h_den):
    est = R3D(quantiles=Q3, bandwidth=0.5, bandwidth_treatment=h_den, n_bootstrap=0)
    return est.fit(sim.x, sim.y, treatment=sim.treatment)


# ---- 1. bandwidth_treatment: a one-element sequence is its value, as for `bandwidth`
@pytest.mark.parametrize("one", [[0.6], np.array([0.6]), (0.6,), pd.Series([0.6])])
def test_one_element_bandwidth_treatment_is_the_scalar(fuzzy, one):
    a, b = _fuzzy_fit(fuzzy, 0.6), _fuzzy_fit(fuzzy, one)
    assert b.bandwidth_treatment_ == 0.6 and isinstance(b.bandwidth_treatment_, float)
    assert a.tau_.tobytes() == b.tau_.tobytes()


@pytest.mark.parametrize(
    ("bad", "exc", "match"),
    [
        ([0.5, 0.6], ValueError, r"`bandwidth_treatment` must be a single number; got 2 values"),
        ([True], TypeError, r"`bandwidth_treatment` must be a real number; got \[True\]"),
        ([-1.0], ValueError, r"`bandwidth_treatment` must be strictly positive; got \[-1.0\]"),
        (True, TypeError, "`bandwidth_treatment` must be a real number"),
        ("0.6", TypeError, "`bandwidth_treatment` must be a real number"),
        (np.nan, ValueError, "`bandwidth_treatment` must be a finite number"),
        (0.0, ValueError, "`bandwidth_treatment` must be strictly positive"),
    ],
)
def test_bandwidth_treatment_sequences_refused_like_estimate_r3d(fuzzy, bad, exc, match):
    with pytest.raises(exc, match=match):
        _fuzzy_fit(fuzzy, bad)


# ---- 2. a per-unit column in both `data` and `unit_data`
def _long():
    return pd.DataFrame(
        {"id": [1, 1, 2, 2], "y": [1.0, 2.0, 3.0, 4.0], "x": [0.1, 0.1, -0.2, -0.2]}
    )


@pytest.mark.parametrize("ud_x", [[5.0, 6.0], [0.1, -0.2]], ids=["disagree", "agree"])
def test_per_unit_column_in_data_and_unit_data_refused(ud_x):
    ud = pd.DataFrame({"x": ud_x}, index=[1, 2])
    with pytest.raises(
        ValueError,
        match=r"Column 'x' is in both `data` and `unit_data`, which may disagree; drop it from "
        r"`data` \(data.drop\(columns=\['x'\]\)\) to read it from `unit_data`",
    ):
        Distributions.from_long(_long(), unit="id", outcome="y", running="x", unit_data=ud)
    # the fix named in the message works
    d = Distributions.from_long(
        _long().drop(columns=["x"]), unit="id", outcome="y", running="x", unit_data=ud
    )
    assert d.running.tolist() == ud_x


# ---- 3. duplicate unit ids
@pytest.mark.parametrize(
    "build",
    [
        lambda: Distributions.from_arrays([[1.0, 2.0], [3.0, 4.0]], unit_ids=[1, 1]),
        lambda: Distributions.from_arrays(np.array([[1.0, 2.0], [3.0, 4.0]]), unit_ids=[1, 1]),
        lambda: Distributions(np.arange(3.0), [0, 1, 2, 3], unit_ids=np.array([7, 1, 1])),
        lambda: QuantileFunctions([[1.0, 2.0], [3.0, 4.0]], grid=[0.25, 0.75], unit_ids=[1, 1]),
    ],
    ids=["from_arrays", "from_arrays-2d", "Distributions", "QuantileFunctions"],
)
def test_duplicate_unit_ids_refused(build):
    with pytest.raises(ValueError, match=r"`unit_ids` holds the label 1 more than once"):
        build()


def test_duplicate_unit_ids_show_the_first_duplicate():
    with pytest.raises(ValueError, match=r"`unit_ids` holds the label 'b' more than once"):
        QuantileFunctions(np.zeros((4, 1)), grid=[0.5], unit_ids=["a", "b", "c", "b"])
    d = Distributions.from_arrays([[1.0], [2.0]], unit_ids=["a", "b"])  # distinct: kept
    assert d.unit_ids.tolist() == ["a", "b"]


def test_fit_refuses_duplicate_index_labels_naming_the_input():
    # the index of a pandas input labels the units (unit_ids_): a label twice is ambiguous
    sim = simulate_normal(n=40, n_draws=5, effect=1.0, rng=3)
    y = [sim.y.values[a:b] for a, b in zip(sim.y.offsets[:-1], sim.y.offsets[1:], strict=True)]
    x = pd.Series(sim.x, index=np.r_[0, np.arange(39)])
    with pytest.raises(
        ValueError,
        match=r"The index of `x` \(it labels the units\) holds the label 0 more than once; "
        r".*x.reset_index\(drop=True\)",
    ):
        R3D(quantiles=Q3, bandwidth=0.5, n_bootstrap=0).fit(x, y)


# ---- 4. from_long's column checks come before any pass over the rows
@pytest.fixture
def no_row_pass(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a pass over the rows before the column checks")

    monkeypatch.setattr(r3d._data, "_unit_column", refuse)
    monkeypatch.setattr(r3d._data, "_unit_slots", refuse)


@pytest.mark.parametrize("arg", ["running", "treatment", "cluster"])
def test_missing_per_unit_column_in_data_refused_up_front(no_row_pass, arg):
    with pytest.raises(ValueError, match=r"^Column 'nope' not found in `data`\.$"):
        Distributions.from_long(_long(), unit="id", outcome="y", **{arg: "nope"})


def test_missing_per_unit_column_in_unit_data_refused_up_front(no_row_pass):
    ud = pd.DataFrame({"x": [5.0, 6.0]}, index=[1, 2])
    with pytest.raises(ValueError, match=r"^Column 'nope' not found in `unit_data`\.$"):
        Distributions.from_long(
            _long().drop(columns=["x"]), unit="id", outcome="y", cluster="nope", unit_data=ud
        )
    with pytest.raises(ValueError, match=r"Column 'x' is in both `data` and `unit_data`"):
        Distributions.from_long(_long(), unit="id", outcome="y", running="x", unit_data=ud)


# ---- 5. one wording for bad outcomes and weights: from_long and the Dask path
@pytest.mark.dask
@pytest.mark.parametrize(
    ("col", "value", "match"),
    [
        (
            "y",
            np.nan,
            r"^`y` \(the outcome column\) contains non-finite outcomes \(NaN or inf; first in "
            r"unit 2\); drop those rows first\.$",
        ),
        (
            "w",
            -1.0,
            r"^`w` \(the weight column\) must be finite and non-negative \(first bad value in "
            r"unit 2\); drop or fix those rows first\.$",
        ),
    ],
)
def test_dask_and_from_long_word_bad_values_alike(col, value, match):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    from r3d import quantiles_from_dask

    df = _long().assign(w=1.0)
    df.loc[2, col] = value  # unit 2
    with pytest.raises(ValueError, match=match):
        Distributions.from_long(df, unit="id", outcome="y", weight="w")
    with dask.config.set(scheduler="synchronous"), pytest.raises(ValueError, match=match):
        quantiles_from_dask(
            dd.from_pandas(df, npartitions=1), unit="id", outcome="y", weight="w", quantiles=[0.5]
        )


# ---- 6. subset: one selection rule for Distributions and QuantileFunctions (lead)
def _both():
    d = Distributions.from_arrays([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], unit_ids=["a", "b", "c"])
    return d, d.to_quantile_functions(Q3)


@pytest.mark.parametrize(
    ("keep", "exc", "match"),
    [
        ([0, 2, 0], ValueError, r"`keep` selects unit position 0 more than once"),
        ([2, -1], ValueError, r"`keep` selects unit position 2 more than once"),
        (np.array([True, False]), ValueError, r"one entry per unit \(3\); got shape \(2,\)"),
        (np.array([3]), ValueError, r"unit positions must lie in \[0, 3\)"),
        (np.array([], dtype=int), ValueError, r"`keep` selects no unit"),
        (np.zeros(3, dtype=bool), ValueError, r"`keep` selects no unit"),
        (np.array([[0, 1]]), TypeError, r"`keep` must be a boolean mask or an array of unit"),
        (np.array([0.0, 1.0]), TypeError, r"`keep` must be a boolean mask or an array of unit"),
    ],
)
@pytest.mark.parametrize("which", [0, 1], ids=["Distributions", "QuantileFunctions"])
def test_subset_refusals_name_keep(keep, exc, match, which):
    with pytest.raises(exc, match=match):
        _both()[which].subset(keep)


@pytest.mark.parametrize("which", [0, 1], ids=["Distributions", "QuantileFunctions"])
def test_subset_selects_in_the_given_order(which):
    sub = _both()[which].subset([-1, 0])
    assert sub.unit_ids.tolist() == ["c", "a"]


# ---- 7. a nested one-element bandwidth is a table, not a number (lead; as for `bandwidth`)
@pytest.mark.parametrize("nested", [[[0.6]], np.array([[0.6]]), ((0.6,),)])
def test_nested_one_element_bandwidths_refused_alike(fuzzy, nested):
    with pytest.raises(ValueError, match=r"`bandwidth` must be a scalar .* got shape \(1, 1\)"):
        R3D(quantiles=Q3, bandwidth=nested, n_bootstrap=0).fit(
            fuzzy.x, fuzzy.y, treatment=fuzzy.treatment
        )
    with pytest.raises(
        ValueError, match=r"`bandwidth_treatment` must be a single number .* got shape \(1, 1\)"
    ):
        _fuzzy_fit(fuzzy, nested)
