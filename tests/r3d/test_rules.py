"""The R3D rules as data (issue 12): the two named instances, variants, the prepared sample."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from estkit import SelectorRules
from r3d import PAPER, R3D, R3D_28744DB, R3DRules
from r3d._estimate import estimate_r3d
from r3d._prepared import R3DSample
from r3d._rules import resolve_rules
from r3d.simulate import simulate_dgp1

Q5 = [0.1, 0.3, 0.5, 0.7, 0.9]


@pytest.fixture(scope="module")
def sim():
    return simulate_dgp1(n=300, n_draws=30, delta=1.0, rng=3)


def test_named_instances_and_the_public_switch():
    assert resolve_rules(None) is PAPER
    assert resolve_rules("R") is R3D_28744DB and resolve_rules("r") is R3D_28744DB
    assert resolve_rules(R3D_28744DB) is R3D_28744DB
    # the difference table, row by row
    assert (PAPER.kernel, R3D_28744DB.kernel) == ("triangular", "epanechnikov")
    assert PAPER.hc2 and not R3D_28744DB.hc2
    assert PAPER.selector.regularize and not R3D_28744DB.selector.regularize
    assert (PAPER.band_rule, R3D_28744DB.band_rule) == ("inverse_cdf", "ceil")
    assert R3D_28744DB.selector.step2_kernel == "triangular"
    assert SelectorRules() == dataclasses.replace(PAPER.selector, regularize=False)
    with pytest.raises(ValueError, match="`compat`"):
        resolve_rules("Stata")


def test_rules_object_as_compat_gives_the_same_numbers(sim):
    kw = dict(quantiles=Q5, n_bootstrap=0, method="simple")
    a = R3D(compat="R", **kw).fit(sim.x, sim.y)
    b = R3D(compat=R3D_28744DB, **kw).fit(sim.x, sim.y)
    np.testing.assert_array_equal(a.tau_, b.tau_)
    np.testing.assert_array_equal(a.bandwidth_, b.bandwidth_)
    assert a.compat_ == "R" and b.rules_ is R3D_28744DB and a.kernel_ == "epanechnikov"


def test_variant_changes_only_its_row(sim):
    kw = dict(quantiles=Q5, n_bootstrap=0)
    base = R3D(**kw).fit(sim.x, sim.y)
    raw = R3D(compat=dataclasses.replace(PAPER, name="paper-lev", hc2=False), **kw)
    raw = raw.fit(sim.x, sim.y)
    # HC2 only rescales the bootstrap residuals: the estimate is unchanged
    np.testing.assert_array_equal(base.tau_, raw.tau_)
    lev = base._core.leverage
    inside = base._core.resid != 0
    np.testing.assert_allclose(
        raw._core.resid[inside], (base._core.resid * np.sqrt(1 - lev))[inside], rtol=1e-12
    )


def test_rules_are_checked_at_construction():
    with pytest.raises(ValueError, match="`residual_support`"):
        R3DRules(residual_support="everything")
    with pytest.raises(TypeError, match="`selector`"):
        R3DRules(selector="R")
    with pytest.raises(TypeError, match="`hc2`"):
        dataclasses.replace(PAPER, hc2=1)


def test_prepared_sample_door():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 50)
    Q = np.sort(rng.normal(size=(50, 3)), axis=1)
    s = R3DSample.build(x, Q, [0.25, 0.5, 0.75], 0.0, cluster=np.repeat(["a", "b"], 25))
    assert s.n == 50 and s.n_below + s.n_above == 50 and s.n_clusters == 2
    assert s.cluster.dtype.kind == "i" and not s.degenerate.any()
    with pytest.raises(ValueError, match="`q` must be strictly increasing"):
        R3DSample.build(x, Q, [0.5, 0.25, 0.75], 0.0)
    with pytest.raises(ValueError, match="no unit lies above the cutoff"):
        R3DSample.build(x, Q, [0.25, 0.5, 0.75], 2.0)
    with pytest.raises(ValueError, match="single cluster"):
        R3DSample.build(x, Q, [0.25, 0.5, 0.75], 0.0, cluster=np.zeros(50))
    # the core's door is the same check
    with pytest.raises(ValueError, match="`q`"):
        estimate_r3d(x, Q, [0.25, 0.5, 1.5], bandwidth=0.5)


def test_prepared_sample_door_checks_treatment_and_q_bandwidth():
    # T and Q_bandwidth reach build through its keywords: converted once and checked
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, 40)
    Q = np.sort(rng.normal(size=(40, 3)), axis=1)
    q = [0.25, 0.5, 0.75]
    T = [int(v >= 0) for v in x]  # a list of ints: stored as a float array
    s = R3DSample.build(x, Q, q, 0.0, T=T, Q_bandwidth=Q.tolist())
    assert isinstance(s.T, np.ndarray) and s.T.dtype == float and s.T.shape == (40,)
    np.testing.assert_array_equal(s.T, np.asarray(T, dtype=float))
    assert isinstance(s.Q_bandwidth, np.ndarray) and s.Q_bandwidth.dtype == float
    np.testing.assert_array_equal(s.Q_bandwidth, Q)
    assert R3DSample.build(x, Q, q, 0.0).T is None
    with pytest.raises(
        ValueError, match=r"`treatment` must be finite with one value per unit \(40\)"
    ):
        R3DSample.build(x, Q, q, 0.0, T=T[:-1])
    with pytest.raises(ValueError, match=r"`treatment` must be finite with one value per unit"):
        R3DSample.build(x, Q, q, 0.0, T=np.where(np.arange(40) == 3, np.nan, 1.0))
    with pytest.raises(ValueError, match=r"`Q_bandwidth` must have shape \(40, 3\); got \(40, 2\)"):
        R3DSample.build(x, Q, q, 0.0, Q_bandwidth=Q[:, :2])
    with pytest.raises(TypeError, match="unexpected keyword argument 'treatment'"):
        R3DSample.build(x, Q, q, 0.0, treatment=T)  # a misspelt fact is not dropped


@pytest.mark.parametrize(
    ("kw", "exc", "match"),
    [
        (
            {"bandwidth": [0.5, 0.6]},
            ValueError,
            r"`bandwidth` must be a scalar or have shape \(3,\)",
        ),
        ({"bandwidth": "0.5"}, TypeError, "`bandwidth` must be a positive number"),
        ({"bandwidth": True}, TypeError, "`bandwidth` must be a positive number"),
        ({"bandwidth": 0.0}, ValueError, "`bandwidth` must be strictly positive; got 0.0"),
        (
            {"bandwidth_treatment": [0.5, 0.6]},
            ValueError,
            "`bandwidth_treatment` must be a single number; got 2 values",
        ),
        ({"bandwidth_treatment": "0.5"}, TypeError, "`bandwidth_treatment` must be a real number"),
        ({"bandwidth_treatment": 0}, ValueError, "`bandwidth_treatment` must be strictly positive"),
        ({"bandwidth_treatment": np.inf}, ValueError, "`bandwidth_treatment` must be a finite"),
    ],
)
def test_core_door_bandwidth_messages(kw, exc, match):
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, 60)
    Q = np.sort(rng.normal(size=(60, 3)), axis=1)
    T = (x >= 0).astype(float)
    with pytest.raises(exc, match=match):
        estimate_r3d(x, Q, [0.25, 0.5, 0.75], **{"bandwidth": 0.5, "T": T, **kw})


def test_core_door_scalar_treatment_bandwidth_as_before(sim):
    # a one-element bandwidth_treatment is read as its value (bit for bit)
    q = np.array(Q5)
    Q = sim.y.to_quantile_functions(q).matrix
    T = (sim.x >= 0).astype(float)
    a = estimate_r3d(sim.x, Q, q, bandwidth=0.5, T=T, bandwidth_treatment=0.6)
    b = estimate_r3d(sim.x, Q, q, bandwidth=0.5, T=T, bandwidth_treatment=[0.6])
    assert a.bandwidth_treatment == b.bandwidth_treatment == 0.6
    assert a.tau.tobytes() == b.tau.tobytes()
