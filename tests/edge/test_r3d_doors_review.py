"""Review of r3d's doors (helper rvG): unit labels of several types keep their types, missing
or unhashable unit labels are refused by name, and ``subset`` reads a boolean Series by unit id
and ``[]`` as no unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from r3d import R3D, Distributions, QuantileFunctions
from r3d.simulate import simulate_normal

S2 = [[1.0, 2.0], [3.0, 4.0]]


def _qf(unit_ids):
    return QuantileFunctions([[1.0, 2.0], [3.0, 4.0]], grid=[0.25, 0.75], unit_ids=unit_ids)


# ---- unit labels: numpy must not turn [1, "1"] into ["1", "1"]
@pytest.mark.parametrize("build", [lambda ids: Distributions.from_arrays(S2, unit_ids=ids), _qf])
def test_unit_ids_of_several_types_keep_their_types(build):
    assert build([1, "1"]).unit_ids.tolist() == [1, "1"]  # distinct labels, not a duplicate
    got = build([7, "b"]).unit_ids
    assert got.tolist() == [7, "b"] and got.dtype == object  # not ["7", "b"]
    assert build(["a", "b"]).unit_ids.dtype.kind == "U"  # all text: unchanged


def test_fit_pairs_a_cluster_series_with_mixed_type_unit_ids():
    sim = simulate_normal(n=60, n_draws=5, effect=1.0, rng=4)
    ids = [*range(30), *(f"s{i}" for i in range(30))]
    y = Distributions(sim.y.values, sim.y.offsets, unit_ids=ids)
    cluster = pd.Series(np.arange(60) // 3, index=ids)[::-1]  # by label, in another order
    est = R3D(quantiles=[0.25, 0.5, 0.75], bandwidth=0.5, n_bootstrap=0)
    fit = est.fit(sim.x, y, cluster=cluster)
    assert fit.unit_ids_.tolist() == ids


# ---- unit labels: missing and unhashable ones
@pytest.mark.parametrize(
    "ids", [[np.nan, 1.0], [1.0, np.nan], [None, "a"], pd.array([1, pd.NA], dtype="Int64")]
)
@pytest.mark.parametrize("build", [lambda ids: Distributions.from_arrays(S2, unit_ids=ids), _qf])
def test_missing_unit_ids_refused(build, ids):
    with pytest.raises(
        ValueError, match=r"`unit_ids` has a missing label \(NaN or None\) for unit"
    ):
        build(ids)


def test_missing_index_label_refused_by_fit():
    sim = simulate_normal(n=40, n_draws=5, effect=1.0, rng=3)
    x = pd.Series(sim.x, index=[np.nan, *range(39)])
    y = [sim.y.values[a:b] for a, b in zip(sim.y.offsets[:-1], sim.y.offsets[1:], strict=True)]
    with pytest.raises(
        ValueError, match=r"The index of `x` \(it labels the units\) has a missing label"
    ):
        R3D(quantiles=[0.5], bandwidth=0.5, n_bootstrap=0).fit(x, y)


@pytest.mark.parametrize(
    ("ids", "exc", "match"),
    [
        ([{1}, {2}], TypeError, r"`unit_ids` must hold hashable labels .*got set values"),
        ([[1, 2], [3]], ValueError, r"`unit_ids` must hold one label per unit \(2\)"),
    ],
)
def test_unhashable_or_ragged_unit_ids_refused(ids, exc, match):
    with pytest.raises(exc, match=match):
        Distributions.from_arrays(
            S2, unit_ids=np.array(ids, dtype=object) if exc is TypeError else ids
        )


# ---- subset: a boolean Series is a mask by unit id; [] selects no unit
def _both():
    d = Distributions.from_arrays([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], unit_ids=["a", "b", "c"])
    return d, d.to_quantile_functions([0.25, 0.5, 0.75])


@pytest.mark.parametrize("which", [0, 1], ids=["Distributions", "QuantileFunctions"])
def test_subset_boolean_series_is_aligned_by_unit_id(which):
    obj = _both()[which]
    mask = pd.Series([True, False, False], index=["c", "b", "a"])  # unit "c" only
    assert obj.subset(mask).unit_ids.tolist() == ["c"]
    with pytest.raises(
        ValueError,
        match=r"`keep` is a boolean Series whose index labels are not the unit ids \(3 labels "
        r"against 3 units, 3 not among them\).*keep.to_numpy\(\)",
    ):
        obj.subset(pd.Series([True, False, False]))
    assert obj.subset(pd.Series([True, False, False]).to_numpy()).unit_ids.tolist() == ["a"]


@pytest.mark.parametrize("which", [0, 1], ids=["Distributions", "QuantileFunctions"])
def test_subset_nullable_boolean_series_by_unit_id_and_missing_entries_refused(which):
    # final review (rwA): a nullable boolean mask with a shuffled index is read by unit id;
    # a missing entry (NA) is no selection either way: refused, naming `keep`
    obj = _both()[which]
    mask = pd.Series([True, False, True], index=["c", "a", "b"], dtype="boolean")
    assert obj.subset(mask).unit_ids.tolist() == ["b", "c"]
    with pytest.raises(TypeError, match=r"`keep` must be a boolean mask or an array of unit"):
        obj.subset(pd.Series([True, pd.NA, True], index=["c", "a", "b"], dtype="boolean"))


@pytest.mark.parametrize("which", [0, 1], ids=["Distributions", "QuantileFunctions"])
def test_subset_empty_list_selects_no_unit(which):
    with pytest.raises(ValueError, match=r"`keep` selects no unit"):
        _both()[which].subset([])


# ---- bandwidth_treatment: a nullable one-element array is its value, as for `bandwidth`
def test_nullable_one_element_bandwidth_treatment_is_the_scalar():
    sim = simulate_normal(n=120, n_draws=8, effect=2.0, fuzzy=True, rng=2)

    def fit(h_num, h_den):
        est = R3D(quantiles=[0.25, 0.5, 0.75], bandwidth=h_num, bandwidth_treatment=h_den)
        return est.set_params(n_bootstrap=0).fit(sim.x, sim.y, treatment=sim.treatment)

    nullable = pd.array([0.6], dtype="Float64")
    a, b = fit(0.5, 0.6), fit(0.5, nullable)
    assert b.bandwidth_treatment_ == 0.6 and a.tau_.tobytes() == b.tau_.tobytes()
    assert fit(nullable, 0.6).bandwidth_.tolist() == [0.6] * 3  # as `bandwidth` reads it
    with pytest.raises(ValueError, match=r"`bandwidth_treatment` must be a single number; got 2"):
        fit(0.5, pd.array([0.5, 0.6], dtype="Float64"))


# ---- R3D.fit on columns of a frame whose index repeats labels (pd.concat of two samples)
def test_fit_on_concatenated_frame_names_the_fix_that_works():
    sim = simulate_normal(n=40, n_draws=5, effect=1.0, rng=3)
    y = [sim.y.values[a:b] for a, b in zip(sim.y.offsets[:-1], sim.y.offsets[1:], strict=True)]
    halves = [pd.DataFrame({"x": sim.x[s], "y": y[s]}) for s in (slice(0, 20), slice(20, 40))]
    df = pd.concat(halves)  # index 0..19 twice
    est = R3D(quantiles=[0.5], bandwidth=0.5, n_bootstrap=0)
    with pytest.raises(
        ValueError,
        match=r"holds the label 0 more than once; .*reset the index of every pandas input, "
        r"e\.g\. x\.reset_index\(drop=True\), or df\.reset_index\(drop=True\) before taking "
        r"the columns; or pass numpy arrays",
    ):
        est.fit(df["x"], df["y"])
    flat = df.reset_index(drop=True)  # the fix named
    got = est.fit(flat["x"], flat["y"]).tau_
    assert got.tobytes() == est.fit(sim.x, y).tau_.tobytes()


# ---- a scalar `unit_ids` is refused by name (it was a raw "has no len()" TypeError)
@pytest.mark.parametrize("scalar", [5, np.int64(5), np.array(5)])
def test_scalar_unit_ids_refused_by_name(scalar):
    with pytest.raises(ValueError, match=r"`unit_ids` must have one label per unit \(2\); got"):
        Distributions(np.arange(3.0), [0, 1, 3], unit_ids=scalar)
    assert Distributions(np.arange(3.0), [0, 1, 3], unit_ids=[]).unit_ids.tolist() == [0, 1]
