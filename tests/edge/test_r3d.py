"""Edge cases for every public callable of ``r3d`` (issue 11).

Each case calls one public entry point with an input a user really passes (NaN/inf/None,
empty, length mismatch, shuffled pandas indexes, bool/str confusion, degenerate data, extreme
magnitudes, unusual dtypes) and asserts the right answer or a ValueError/TypeError whose
message names the argument. Cases are data (``CASES``), so the same list classifies the code
before the fixes (run this file with the original package on the path).
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import r3d
from r3d import R3D, Distributions, QuantileFunctions, monte_carlo
from r3d.datasets import bracket_cdf, bracket_quantiles, load_gubernatorial, pareto_alpha
from r3d.simulate import simulate_dgp1, simulate_dgp2, simulate_normal

try:
    from estkit import DegenerateDataWarning
except ImportError:  # the original code (classified before the fixes) predates it

    class DegenerateDataWarning(UserWarning):  # type: ignore[no-redef]
        pass


SingleDrawWarning = getattr(r3d, "SingleDrawWarning", None) or type(
    "SingleDrawWarning", (UserWarning,), {}
)
try:
    from sklearn.exceptions import NotFittedError
except ImportError:  # pragma: no cover
    NotFittedError = ValueError  # type: ignore[misc,assignment]

Q3 = [0.25, 0.5, 0.75]
FAST = {"quantiles": Q3, "n_bootstrap": 39, "random_state": 0}
ERR = (ValueError, TypeError)


@cache
def _sim():
    return simulate_normal(n=80, n_draws=8, effect=2.0, rng=1)


@cache
def _fuzzy():
    return simulate_normal(n=120, n_draws=8, effect=2.0, fuzzy=True, rng=2)


@cache
def _xi_cached():
    return np.random.default_rng(5).standard_normal((80, 40))


def _xi():
    return _xi_cached().copy()


def _x():
    return _sim().x.copy()


def _draws():
    s = _sim()
    return s.y.values.reshape(s.y.n_units, -1).copy()


@cache
def _base(**kw):
    return R3D(**{**FAST, **kw}).fit(_x(), _draws())


@cache
def _fitted():
    return R3D(**FAST).fit(_x(), _draws())


def _close(a, b, rtol=1e-9, atol=0.0):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=atol)


# ------------------------------------------------------------------ expectations
@dataclass(frozen=True)
class Case:
    id: str
    fn: Callable[[], Any]
    kind: str  # "raises", "ok", "warns"
    exc: Any = None
    match: str | None = None
    check: Callable[[Any], None] | None = None

    def run(self) -> None:
        if self.kind == "raises":
            with pytest.raises(self.exc, match=self.match):
                self.fn()
            return
        if self.kind == "warns":
            with pytest.warns(self.exc, match=self.match):
                res = self.fn()
        else:
            res = self.fn()
        if self.check is not None:
            self.check(res)


def raises(id, fn, match, exc=ERR):
    return Case(id, fn, "raises", exc, match)


def ok(id, fn, check=None):
    return Case(id, fn, "ok", check=check)


def warns(id, fn, warning, match, check=None):
    return Case(id, fn, "warns", warning, match, check)


# ------------------------------------------------------------------ helpers for cases
def fit(x=None, y=None, **kw):
    fit_kw = {k: kw.pop(k) for k in ("treatment", "weights", "cluster", "multipliers") if k in kw}
    est = R3D(**{**FAST, **kw})
    return est.fit(_x() if x is None else x, _draws() if y is None else y, **fit_kw)


def with_nan(a, i=3, value=np.nan):
    a = np.asarray(a, dtype=float).copy()
    a[i] = value
    return a


def shuffled(series: pd.Series, seed=0) -> pd.Series:
    return series.sample(frac=1.0, random_state=seed)


def same_tau_as_base(est, rtol=1e-9):
    _close(est.tau_, _base().tau_, rtol=rtol, atol=1e-12)


def is_null_result(est):
    """Degenerate outcome: exactly zero effect, zero-width band, p = 1."""
    assert np.all(est.tau_ == 0.0)
    assert np.all(est.band_["lower"] == 0.0) and np.all(est.band_["upper"] == 0.0)
    assert est.test("nullity").pvalue == 1.0
    assert est.test("homogeneity").pvalue == 1.0


def fuzzy_fit(treatment, x=None, **kw):
    s = _fuzzy()
    y = s.y.values.reshape(s.y.n_units, -1)
    return R3D(**{**FAST, **kw}).fit(s.x if x is None else x, y, treatment=treatment)


def top_coded():
    """Each unit's upper half recorded at the top code 100 (identical across units)."""
    d = np.sort(_draws(), axis=1)
    d[:, d.shape[1] // 2 :] = 100.0
    return d


def constant_fit(method):
    return fit(y=np.full(_draws().shape, 7.3), method=method)


def long_frame():
    s = _sim()
    n, k = s.y.n_units, s.y.values.size // s.y.n_units
    return pd.DataFrame(
        {"unit": np.repeat(np.arange(n), k), "y": s.y.values, "x": np.repeat(s.x, k)}
    )


def qf(matrix=None, grid=Q3, **kw):
    m = _sim().y.quantiles(grid) if matrix is None else matrix
    return QuantileFunctions(m, grid, **kw)


def mc(**kw):
    base = dict(n=40, n_draws=5, n_reps=1, n_bootstrap=19, methods=["simple"], modes=["paper"])
    return monte_carlo("dgp1", **{**base, **kw})


def plotted(f):
    try:
        return f()
    finally:
        plt.close("all")


# ------------------------------------------------------------------ the cases
CASES: list[Case] = [
    # ---- R3D.fit: missing and non-finite values
    raises("fit-x-nan", lambda: fit(x=with_nan(_x())), r"`x`"),
    raises("fit-x-inf", lambda: fit(x=with_nan(_x(), value=np.inf)), r"`x`"),
    ok(
        "fit-x-nan-drop",
        lambda: fit(x=with_nan(_x()), missing="drop"),
        lambda e: (e.n_dropped_ == 1 and e.n_units_ == 79) or pytest.fail("not dropped"),
    ),
    raises("fit-x-none", lambda: R3D(**FAST).fit(None, _draws()), r"`x`"),
    raises("fit-y-none", lambda: R3D(**FAST).fit(_x(), None), r"`y`"),
    raises("fit-y-empty", lambda: R3D(**FAST).fit([], []), r"`y`"),
    raises("fit-y-nan", lambda: fit(y=with_nan(_draws().ravel()).reshape(80, -1)), r"`y`"),
    raises(
        "fit-y-inf",
        lambda: fit(y=with_nan(_draws().ravel(), value=-np.inf).reshape(80, -1)),
        r"`y`",
    ),
    raises(
        "fit-y-empty-unit",
        lambda: fit(y=[np.ones(3)] * 10 + [np.array([])] + [np.ones(3)] * 69),
        r"`y`: unit 10",
    ),
    raises("fit-y-dataframe", lambda: fit(y=pd.DataFrame(_draws())), r"`y`.*from_long"),
    raises("fit-y-string", lambda: fit(y="abc"), r"`y`"),
    raises("fit-treatment-nan", lambda: fuzzy_fit(with_nan(_fuzzy().treatment)), r"`treatment`"),
    raises(
        "fit-cluster-none",
        lambda: fit(cluster=np.array([None, *list(range(79))], dtype=object)),
        r"`cluster`",
    ),
    raises(
        "fit-weights-nan",
        lambda: fit(weights=with_nan(np.ones(_draws().size)).reshape(80, -1).tolist()),
        r"`weights`",
    ),
    raises(
        "fit-weights-negative",
        lambda: fit(weights=(-np.ones(_draws().shape)).tolist()),
        r"`weights`",
    ),
    raises(
        "fit-multipliers-nan",
        lambda: fit(multipliers=with_nan(np.ones(80 * 40)).reshape(80, 40)),
        r"`multipliers`",
    ),
    raises("fit-y-dict", lambda: fit(y={i: r for i, r in enumerate(_draws())}), r"`y`", TypeError),
    raises("fit-y-text", lambda: fit(y=_draws().astype(str)), r"`y`.*text", TypeError),
    raises("fit-n-jobs-str", lambda: fit(n_jobs="2"), r"`n_jobs`", TypeError),
    # ---- length mismatch
    raises("fit-x-short", lambda: fit(x=_x()[:-1]), r"`x` has 79 values"),
    raises("fit-treatment-short", lambda: fuzzy_fit(_fuzzy().treatment[:-2]), r"`treatment`"),
    raises("fit-cluster-short", lambda: fit(cluster=np.arange(79) % 5), r"`cluster`"),
    raises(
        "fit-weights-short",
        lambda: fit(weights=np.ones(_draws().shape)[:-1].tolist()),
        r"`weights`",
    ),
    raises("fit-multipliers-shape", lambda: fit(multipliers=np.ones((79, 40))), r"`multipliers`"),
    raises("fit-x-2d", lambda: fit(x=np.ones((80, 2))), r"`x`"),
    # ---- shuffled pandas indexes
    ok(
        "fit-series-x-and-y-shuffled",
        lambda: fit(
            x=shuffled(pd.Series(_x())),
            y=pd.Series(list(_draws())),
        ),
        same_tau_as_base,
    ),
    ok(
        "fit-series-y-shuffled-x-series",
        lambda: fit(x=pd.Series(_x()), y=shuffled(pd.Series(list(_draws())), seed=3)),
        same_tau_as_base,
    ),
    ok(
        "fit-treatment-series-shuffled",
        lambda: R3D(**FAST).fit(
            pd.Series(_fuzzy().x),
            _fuzzy().y.values.reshape(120, -1),
            treatment=shuffled(pd.Series(_fuzzy().treatment)),
        ),
        lambda e: _close(e.first_stage_, fuzzy_fit(_fuzzy().treatment).first_stage_, rtol=1e-12),
    ),
    ok(
        "fit-container-treatment-series-shuffled",
        lambda: R3D(**FAST).fit(
            _fuzzy().x,
            Distributions(_fuzzy().y.values, _fuzzy().y.offsets),
            treatment=shuffled(pd.Series(_fuzzy().treatment)),
        ),
        lambda e: _close(e.first_stage_, fuzzy_fit(_fuzzy().treatment).first_stage_, rtol=1e-12),
    ),
    ok(
        "fit-container-x-series-shuffled",
        lambda: R3D(**FAST).fit(shuffled(pd.Series(_x())), _sim().y),
        same_tau_as_base,
    ),
    ok(
        "fit-cluster-series-shuffled-gives-labelled-units",
        lambda: R3D(**FAST).fit(
            pd.Series(_x(), index=[f"u{i}" for i in range(80)]),
            _draws(),
            cluster=shuffled(pd.Series(np.arange(80) // 8, index=[f"u{i}" for i in range(80)])),
        ),
        lambda e: (e.n_clusters_ == 10 and e.unit_ids_[0] == "u0") or pytest.fail("labels"),
    ),
    ok(
        "fit-multipliers-frame-shuffled",
        lambda: fit(
            x=pd.Series(_x()),
            multipliers=shuffled(pd.DataFrame(_xi())),
        ),
        lambda e: _close(e.critical_value_, fit(multipliers=_xi()).critical_value_, 1e-12),
    ),
    raises(
        "fit-multipliers-frame-foreign-labels",
        lambda: fit(multipliers=pd.DataFrame(_xi(), index=np.arange(80) + 500)),
        r"`multipliers`",
    ),
    raises(
        "fit-series-different-labels",
        lambda: fit(
            x=pd.Series(_x()),
            y=pd.Series(list(_draws()), index=np.arange(80) + 5),
        ),
        r"`y` and `x`",
    ),
    raises(
        "fit-container-x-series-foreign-labels",
        lambda: R3D(**FAST).fit(pd.Series(_x(), index=np.arange(80) + 1000), _sim().y),
        r"`x`.*unit ids",
    ),
    raises(
        "fit-container-running-conflict",
        lambda: R3D(**FAST).fit(-_x(), _sim().y),
        r"`x` conflicts with the running variable",
    ),
    raises(
        "fit-container-treatment-conflict",
        lambda: R3D(**FAST).fit(y=_fuzzy().y, treatment=1.0 - _fuzzy().treatment),
        r"`treatment` conflicts",
    ),
    # ---- bool / str confusion
    raises("fit-studentize-str", lambda: fit(studentize="no"), r"`studentize`", TypeError),
    raises(
        "fit-coverage-str",
        lambda: fit(coverage_correction="False"),
        r"`coverage_correction`",
        TypeError,
    ),
    raises("fit-progress-str", lambda: fit(progress="yes"), r"`progress`", TypeError),
    raises("fit-studentize-int", lambda: fit(studentize=1), r"`studentize`", TypeError),
    raises("fit-method-bool", lambda: fit(method=True), r"`method`"),
    raises("fit-p-str", lambda: fit(p="2"), r"`p`", TypeError),
    raises("fit-p-float", lambda: fit(p=1.5), r"`p`", TypeError),
    raises("fit-n-bootstrap-bool", lambda: fit(n_bootstrap=True), r"`n_bootstrap`", TypeError),
    raises("fit-cutoff-str", lambda: fit(cutoff="0"), r"`cutoff`", TypeError),
    raises("fit-cutoff-none", lambda: fit(cutoff=None), r"`cutoff`", TypeError),
    raises("fit-cutoff-nan", lambda: fit(cutoff=np.nan), r"`cutoff`"),
    raises("fit-alpha-nan", lambda: fit(alpha=np.nan), r"alpha"),
    raises("fit-quantiles-str", lambda: fit(quantiles="0.5"), r"`quantiles`"),
    raises("fit-quantiles-nan", lambda: fit(quantiles=[0.2, np.nan]), r"`quantiles`"),
    raises("fit-quantiles-empty", lambda: fit(quantiles=[]), r"`quantiles`"),
    raises("fit-bandwidth-nan", lambda: fit(bandwidth=np.nan), r"`bandwidth`"),
    raises("fit-bandwidth-str", lambda: fit(bandwidth="mserd"), r"`bandwidth`"),
    raises(
        "fit-bandwidth-bool",
        lambda: fit(bandwidth=True),
        r"`bandwidth` must be a number",
        TypeError,
    ),
    raises(
        "fit-bandwidth-bool-array",
        lambda: fit(bandwidth=np.array([True])),
        r"`bandwidth` must be a number",
        TypeError,
    ),
    raises(
        "fit-bandwidth-treatment-negative",
        lambda: fuzzy_fit(_fuzzy().treatment, bandwidth_treatment=-1.0),
        r"`bandwidth_treatment`",
    ),
    raises("fit-missing-option", lambda: fit(missing="ignore"), r"`missing`"),
    raises("fit-multiplier-option", lambda: fit(multiplier="normal"), r"`multiplier`"),
    raises("fit-compat-option", lambda: fit(compat="Stata"), r"`compat`"),
    raises("fit-x-strings", lambda: fit(x=np.array([str(v) for v in _x()])), r"`x`", TypeError),
    raises(
        "fit-multipliers-bool", lambda: fit(multipliers=np.ones((80, 40), bool)), r"`multipliers`"
    ),
    # ---- conflicting inputs
    raises(
        "fit-cluster-and-multipliers",
        lambda: fit(cluster=np.arange(80) % 8, multipliers=np.ones((80, 40))),
        r"`cluster` and `multipliers`",
    ),
    raises(
        "fit-quantiles-conflict-precomputed",
        lambda: R3D(quantiles=[0.1, 0.9], n_bootstrap=0).fit(_x(), qf()),
        r"`quantiles` conflicts",
    ),
    ok(
        "fit-quantiles-same-as-precomputed",
        lambda: R3D(quantiles=Q3, n_bootstrap=0).fit(_x(), qf()),
        same_tau_as_base,
    ),
    raises(
        "fit-weights-with-container",
        lambda: R3D(**FAST).fit(y=_sim().y, weights=[np.ones(8)] * 80),
        r"`weights`",
    ),
    warns(
        "fit-one-draw-per-unit",
        lambda: fit(y=_draws()[:, 0]),
        SingleDrawWarning,
        r"from_long",
        lambda e: np.all(np.isfinite(e.tau_)) or pytest.fail("not finite"),
    ),
    # ---- degenerate data
    warns(
        "fit-constant-outcome-frechet",
        lambda: constant_fit("frechet"),
        DegenerateDataWarning,
        r"q = 0.25, 0.5, 0.75",
        is_null_result,
    ),
    warns(
        "fit-constant-outcome-simple",
        lambda: constant_fit("simple"),
        DegenerateDataWarning,
        r"every unit has the same quantile",
        is_null_result,
    ),
    warns(
        "fit-top-coded",
        lambda: fit(y=top_coded(), quantiles=[0.2, 0.5, 0.75, 0.9]),
        DegenerateDataWarning,
        r"q = 0.75, 0.9",
        lambda e: (
            (
                np.all(e.tau_[2:] == 0.0)
                and np.all(e.band_.iloc[2:].to_numpy() == 0.0)
                and e.tau_[0] != 0.0
            )
            or pytest.fail("top-coded points not zero")
        ),
    ),
    raises(
        "fit-all-above-at-cutoff",
        lambda: fit(x=np.where(_x() >= 0, 0.0, _x())),
        r"`x`.*at or above the cutoff.*1 distinct",
    ),
    raises(
        "fit-one-unit-per-side",
        lambda: R3D(**FAST).fit([-0.5, 0.5], [[1.0, 2.0], [3.0, 4.0]]),
        r"`x`|`cutoff`",
    ),
    raises("fit-single-cluster", lambda: fit(cluster=np.zeros(80)), r"`cluster`.*single"),
    raises("fit-constant-treatment", lambda: fuzzy_fit(np.ones(120)), r"`treatment`"),
    raises(
        "fit-treatment-without-jump",
        lambda: fuzzy_fit(0.3 + 0.2 * _fuzzy().x, bandwidth=0.5, bandwidth_treatment=0.5),
        r"treatment",
    ),
    ok(
        "fit-treatment-scaled-1e-10",
        lambda: fuzzy_fit(_fuzzy().treatment * 1e-10),
        lambda e: _close(e.tau_ * 1e-10, fuzzy_fit(_fuzzy().treatment).tau_, rtol=1e-8),
    ),
    raises("fit-all-below-cutoff", lambda: fit(cutoff=5.0), r"`x`.*no unit lies above"),
    # ---- extreme magnitudes
    ok(
        "fit-y-times-1e300",
        lambda: fit(y=_draws() * 1e300),
        lambda e: _close(e.tau_, _base().tau_ * 1e300, 1e-8),
    ),
    ok(
        "fit-y-times-1e-300",
        lambda: fit(y=_draws() * 1e-300),
        lambda e: _close(e.tau_, _base().tau_ * 1e-300, 1e-8),
    ),
    ok(
        "fit-y-plus-1e12",
        lambda: fit(y=_draws() + 1e12),
        lambda e: _close(e.tau_, _base().tau_, rtol=0, atol=1e-3),
    ),
    ok(
        "fit-weights-1e307",
        lambda: fit(weights=np.full(_draws().shape, 1e307).tolist()),
        same_tau_as_base,
    ),
    ok(
        "fit-weights-1e-300",
        lambda: fit(weights=np.full(_draws().shape, 1e-300).tolist()),
        same_tau_as_base,
    ),
    raises("fit-x-times-1e300", lambda: fit(x=_x() * 1e300, cutoff=0.0), r"`x`"),
    # ---- dtypes
    ok(
        "fit-x-float32",
        lambda: fit(x=_x().astype(np.float32)),
        lambda e: _close(e.tau_, fit(x=_x().astype(np.float32).astype(float)).tau_, 1e-12),
    ),
    ok(
        "fit-y-float32",
        lambda: fit(y=_draws().astype(np.float32)),
        lambda e: _close(e.tau_, fit(y=_draws().astype(np.float32).astype(float)).tau_, 1e-12),
    ),
    ok(
        "fit-y-int",
        lambda: fit(y=np.round(_draws() * 10).astype(int)),
        lambda e: _close(e.tau_, fit(y=np.round(_draws() * 10)).tau_, 1e-12),
    ),
    ok(
        "fit-x-int",
        lambda: fit(x=np.round(_x() * 100).astype(np.int64)),
        lambda e: _close(e.tau_, fit(x=np.round(_x() * 100)).tau_, 1e-12),
    ),
    ok(
        "fit-x-nullable-with-na-drop",
        lambda: fit(x=pd.Series(with_nan(np.round(_x() * 100))).astype("Int64"), missing="drop"),
        lambda e: e.n_dropped_ == 1 or pytest.fail("not dropped"),
    ),
    raises(
        "fit-x-nullable-with-na-raise",
        lambda: fit(x=pd.Series(with_nan(np.round(_x() * 100))).astype("Int64")),
        r"`x` is missing",
    ),
    ok(
        "fit-treatment-bool",
        lambda: fuzzy_fit(_fuzzy().treatment.astype(bool)),
        lambda e: _close(e.first_stage_, fuzzy_fit(_fuzzy().treatment).first_stage_, 1e-12),
    ),
    raises(
        "fit-treatment-nullable-na",
        lambda: fuzzy_fit(pd.Series(with_nan(_fuzzy().treatment)).astype("boolean")),
        r"`treatment`",
    ),
    ok(
        "fit-cluster-strings",
        lambda: fit(cluster=np.array([f"c{i % 8}" for i in range(80)])),
        lambda e: e.n_clusters_ == 8 or pytest.fail("clusters"),
    ),
    # ---- R3D.test / summary / plot / plot_rd / effect_
    raises("test-kind", lambda: _fitted().test("nullty"), r"`kind`"),
    raises("test-range-one", lambda: _fitted().test("nullity", (0.3,)), r"`quantile_range`"),
    raises("test-range-str", lambda: _fitted().test("nullity", "0.2-0.5"), r"`quantile_range`"),
    raises("test-range-nan", lambda: _fitted().test("nullity", (np.nan, 0.5)), r"`quantile_range`"),
    raises(
        "test-range-outside", lambda: _fitted().test("nullity", (0.8, 0.9)), r"`quantile_range`"
    ),
    raises("test-unfitted", lambda: R3D().test(), r"fit", NotFittedError),
    raises(
        "test-gini-negative",
        lambda: fit(y=_draws() - 100.0).test("gini"),
        r"non-negative",
    ),
    raises(
        "test-no-draws",
        lambda: fit(n_bootstrap=0).test("nullity"),
        r"n_bootstrap",
    ),
    raises("summary-quantiles-str", lambda: _fitted().summary(quantiles="0.5"), r"`quantiles`"),
    raises("summary-digits-negative", lambda: _fitted().summary(digits=-1), r"`digits`"),
    raises("summary-digits-str", lambda: _fitted().summary(digits="4"), r"`digits`", TypeError),
    ok(
        "summary-constant-says-degenerate",
        lambda: str(constant_fit_quiet().summary()),
        lambda t: ("No variation across units" in t) or pytest.fail("summary silent"),
    ),
    raises("plot-unfitted", lambda: R3D().plot(), r"fit", NotFittedError),
    ok(
        "plot-degenerate",
        lambda: plotted(lambda: constant_fit_quiet().plot()),
        lambda ax: ax.get_xlabel() or pytest.fail("no axes"),
    ),
    raises(
        "plot_rd-n-bins-zero", lambda: plotted(lambda: _fitted().plot_rd(n_bins=0)), r"`n_bins`"
    ),
    raises(
        "plot_rd-quantiles-outside",
        lambda: plotted(lambda: _fitted().plot_rd(quantiles=[1.5])),
        r"`quantiles`",
    ),
    raises(
        "plot_rd-quantiles-str",
        lambda: plotted(lambda: _fitted().plot_rd(quantiles="a")),
        r"`quantiles`",
    ),
    raises("effect-unfitted", lambda: R3D().effect_, r"fit", NotFittedError),
    ok(
        "effect-constant-zero",
        lambda: constant_fit_quiet().effect_,
        lambda df: (
            (np.all(df[["tau", "lower", "upper"]].to_numpy() == 0.0)) or pytest.fail("nonzero")
        ),
    ),
    # ---- Distributions.from_arrays / from_long / quantiles / subset
    raises("from_arrays-none", lambda: Distributions.from_arrays(None), r"`y`", TypeError),
    raises("from_arrays-str", lambda: Distributions.from_arrays("abc"), r"`y`", TypeError),
    raises("from_arrays-empty", lambda: Distributions.from_arrays([]), r"`y`"),
    raises("from_arrays-nan", lambda: Distributions.from_arrays([[1.0, np.nan]]), r"`y`"),
    raises("from_arrays-3d", lambda: Distributions.from_arrays([np.ones((2, 2, 2))]), r"`y`"),
    raises(
        "from_arrays-running-length",
        lambda: Distributions.from_arrays([[1.0], [2.0]], running=[0.1]),
        r"`running`",
    ),
    raises(
        "from_arrays-running-str",
        lambda: Distributions.from_arrays([[1.0], [2.0]], running=["a", "b"]),
        r"`running`",
    ),
    raises(
        "from_arrays-weights-length",
        lambda: Distributions.from_arrays([[1.0, 2.0], [2.0]], weights=[[1.0]]),
        r"`weights`",
    ),
    ok(
        "from_arrays-int",
        lambda: Distributions.from_arrays(np.array([[1, 2, 3], [4, 5, 6]])),
        lambda d: _close(d.quantiles([0.5]).ravel(), [2.0, 5.0]),
    ),
    raises(
        "from_long-not-frame",
        lambda: Distributions.from_long({"a": [1]}, unit="a", outcome="a"),
        r"`data`",
        TypeError,
    ),
    raises(
        "from_long-missing-column",
        lambda: Distributions.from_long(long_frame(), unit="unit", outcome="income"),
        r"income",
        (KeyError, ValueError),
    ),
    raises(
        "from_long-empty",
        lambda: Distributions.from_long(long_frame().iloc[:0], unit="unit", outcome="y"),
        r"`data`|`y`|no units",
    ),
    raises(
        "from_long-unit-nan",
        lambda: Distributions.from_long(
            long_frame().assign(unit=lambda d: d["unit"].where(d.index != 5)),
            unit="unit",
            outcome="y",
        ),
        r"unit",
    ),
    raises(
        "from_long-outcome-nan",
        lambda: Distributions.from_long(
            long_frame().assign(y=lambda d: d["y"].where(d.index != 5)), unit="unit", outcome="y"
        ),
        r"`y`",
    ),
    raises(
        "from_long-running-varies",
        lambda: Distributions.from_long(
            long_frame().assign(x=np.arange(640.0)), unit="unit", outcome="y", running="x"
        ),
        r"'x' varies within unit",
    ),
    ok(
        "from_long-shuffled-rows",
        lambda: R3D(**FAST).fit(
            y=Distributions.from_long(
                long_frame().sample(frac=1, random_state=1), unit="unit", outcome="y", running="x"
            )
        ),
        same_tau_as_base,
    ),
    raises("quantiles-outside", lambda: _sim().y.quantiles([1.5]), r"`q`|quantile"),
    raises("quantiles-nan", lambda: _sim().y.quantiles([np.nan]), r"`q`|quantile"),
    raises("quantiles-method", lambda: _sim().y.quantiles([0.5], method="type1"), r"`method`"),
    ok(
        "quantiles-extreme-values",
        lambda: Distributions.from_arrays([[1e300, -1e300, 5e299]]).quantiles([0.5]),
        lambda qv: _close(qv, [[5e299]]),
    ),
    raises("subset-wrong-length-mask", lambda: _sim().y.subset(np.ones(5, bool)), r"`keep`"),
    raises("subset-empty", lambda: _sim().y.subset(np.zeros(80, bool)), r"`keep`"),
    ok(
        "subset-keeps-ids",
        lambda: Distributions.from_long(long_frame(), unit="unit", outcome="y").subset(
            np.array([3, 1])
        ),
        lambda d: d.unit_ids.tolist() == [3, 1] or pytest.fail("ids"),
    ),
    # ---- QuantileFunctions
    raises(
        "qf-decreasing-rows",
        lambda: qf(matrix=_sim().y.quantiles(Q3)[:, ::-1]),
        r"`matrix`.*80 .*rows.*decreas",
    ),
    raises(
        "qf-nan",
        lambda: qf(matrix=with_nan(_sim().y.quantiles(Q3).ravel()).reshape(80, 3)),
        r"`matrix`",
    ),
    raises("qf-grid-unsorted", lambda: qf(grid=[0.5, 0.25, 0.75]), r"`grid`"),
    raises("qf-grid-length", lambda: qf(matrix=np.ones((3, 2))), r"`matrix`"),
    raises("qf-running-length", lambda: qf(running=np.ones(3)), r"`running`"),
    raises("qf-running-str", lambda: qf(running=np.array(["a"] * 80)), r"`running`"),
    raises("qf-unit-ids-length", lambda: qf(unit_ids=np.arange(3)), r"`unit_ids`"),
    # ---- monte_carlo
    ok(
        "monte_carlo-tiny",
        lambda: mc(),
        lambda r: r.table["reps"].tolist() == [1] or pytest.fail("reps"),
    ),
    raises("monte_carlo-n-reps-zero", lambda: mc(n_reps=0), r"`n_reps`"),
    raises("monte_carlo-dgp", lambda: monte_carlo("dgp3"), r"`dgp`"),
    raises("monte_carlo-n-small", lambda: mc(n=5), r"`n`"),
    raises("monte_carlo-delta-nan", lambda: mc(delta=np.nan), r"`delta`"),
    raises("monte_carlo-alpha", lambda: mc(alpha=2.0), r"alpha"),
    raises("monte_carlo-methods-empty", lambda: mc(methods=[]), r"`methods`"),
    raises("monte_carlo-quantiles", lambda: mc(quantiles=[0.5, 1.5]), r"`quantiles`"),
    raises("monte_carlo-mode", lambda: mc(modes=["bogus"]), r"mode"),
    raises("monte_carlo-progress-str", lambda: mc(progress="yes"), r"`progress`", TypeError),
    raises(
        "monte_carlo-params-bool-str",
        lambda: mc(estimator_params={"studentize": "no"}),
        r"`studentize`",
        TypeError,
    ),
    raises("monte_carlo-methods-str", lambda: mc(methods="simple"), r"`methods`", TypeError),
    raises("monte_carlo-kernel", lambda: mc(kernel="gauss"), r"`kernel`"),
    raises("monte_carlo-params-unknown", lambda: mc(estimator_params={"bogus": 1}), r"bogus"),
    raises("monte_carlo-params-list", lambda: mc(estimator_params=[1]), r"`estimator_params`"),
    raises("monte_carlo-params-invalid", lambda: mc(estimator_params={"p": -1}), r"`p`"),
    raises("monte_carlo-n-jobs-str", lambda: mc(n_jobs="x"), r"`n_jobs`", TypeError),
    # ---- simulate
    raises("dgp1-n-one", lambda: simulate_dgp1(n=1), r"`n`"),
    raises("dgp1-n-str", lambda: simulate_dgp1(n="5"), r"`n`", TypeError),
    raises("dgp1-draws-zero", lambda: simulate_dgp1(n_draws=0), r"`n_draws`"),
    raises("dgp1-delta-nan", lambda: simulate_dgp1(n=20, delta=np.nan), r"`delta`"),
    raises("dgp1-delta-str", lambda: simulate_dgp1(n=20, delta="1"), r"`delta`", TypeError),
    raises("dgp1-rng-str", lambda: simulate_dgp1(n=20, rng="seed"), r"`rng`", TypeError),
    raises(
        "dgp2-delta-lambda-nan", lambda: simulate_dgp2(n=20, delta_lambda=np.nan), r"`delta_lambda`"
    ),
    raises("dgp2-delta-inf", lambda: simulate_dgp2(n=20, delta=np.inf), r"`delta`"),
    raises("normal-fuzzy-str", lambda: simulate_normal(n=20, fuzzy="yes"), r"`fuzzy`", TypeError),
    raises("normal-sd-negative", lambda: simulate_normal(n=20, sd=-1.0), r"`sd`"),
    raises("normal-effect-nan", lambda: simulate_normal(n=20, effect=np.nan), r"`effect`"),
    raises("normal-slope-inf", lambda: simulate_normal(n=20, slope=np.inf), r"`slope`"),
    ok(
        "normal-sd-zero-is-constant",
        lambda: simulate_normal(n=20, n_draws=3, sd=0.0, rng=0),
        lambda s: _close(np.ptp(s.y.quantiles([0.1, 0.9]), axis=1), 0.0),
    ),
    # ---- datasets
    raises("gubernatorial-outcome", lambda: load_gubernatorial("income"), r"`outcome`|outcome"),
    raises("gubernatorial-base-year", lambda: load_gubernatorial(base_year=1990), r"base_year"),
    raises(
        "gubernatorial-base-year-str", lambda: load_gubernatorial(base_year="2018"), r"base_year"
    ),
    raises(
        "gubernatorial-dropna-str", lambda: load_gubernatorial(dropna="no"), r"`dropna`", TypeError
    ),
    raises(
        "gubernatorial-details-str",
        lambda: load_gubernatorial(details="yes"),
        r"`details`",
        TypeError,
    ),
    raises(
        "brackets-counts-nan", lambda: bracket_quantiles([1.0, np.nan], [0, 1, 2], [0.5]), r"counts"
    ),
    raises(
        "brackets-bounds-decreasing",
        lambda: bracket_quantiles([1.0, 1.0], [0, 2, 1], [0.5]),
        r"bounds",
    ),
    raises(
        "brackets-probs-outside", lambda: bracket_quantiles([1.0, 1.0], [0, 1, 2], [1.5]), r"probs"
    ),
    raises(
        "brackets-probs-nan", lambda: bracket_quantiles([1.0, 1.0], [0, 1, 2], [np.nan]), r"probs"
    ),
    raises("brackets-length", lambda: bracket_quantiles([1.0], [0, 1, 2], [0.5]), r"counts"),
    raises(
        "brackets-pareto-brackets",
        lambda: bracket_quantiles([1.0, 1.0], [0, 1, np.inf], [0.5], pareto_brackets=3),
        r"pareto_brackets",
    ),
    raises(
        "brackets-min-alpha-nan",
        lambda: bracket_quantiles([1.0, 1.0, 1.0], [0, 1, 2, np.inf], [0.5], min_alpha=np.nan),
        r"min_alpha",
    ),
    raises(
        "brackets-counts-str", lambda: bracket_quantiles(["a", "b"], [0, 1, 2], [0.5]), r"counts"
    ),
    ok(
        "brackets-empty-row-nan",
        lambda: bracket_quantiles([[0.0, 0.0], [1.0, 1.0]], [0, 1, 2], [0.5]),
        lambda q: (np.isnan(q[0, 0]) and q[1, 0] == 1.0) or pytest.fail("rows"),
    ),
    raises("bracket_cdf-x-2d", lambda: bracket_cdf(np.ones((2, 2)), [1.0, 1.0], [0, 1, 2]), r"x"),
    raises("bracket_cdf-x-nan", lambda: bracket_cdf([np.nan], [1.0, 1.0], [0, 1, 2]), r"`x`"),
    raises("pareto_alpha-one-bracket", lambda: pareto_alpha([1.0], [0, np.inf]), r"bracket"),
    raises(
        "pareto_alpha-min-alpha-negative",
        lambda: pareto_alpha([1.0, 1.0, 1.0], [0, 1, 2, np.inf], min_alpha=-1.0),
        r"min_alpha",
    ),
]


def constant_fit_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        return constant_fit("frechet")


if importlib.util.find_spec("dask") is not None:
    from r3d import quantiles_from_dask

    def _ddf(frame):
        import dask.dataframe as dd

        return dd.from_pandas(frame, npartitions=2)

    CASES += [
        raises(
            "dask-not-frame", lambda: quantiles_from_dask(42, unit="unit", outcome="y"), r"`data`"
        ),
        raises(
            "dask-missing-column",
            lambda: quantiles_from_dask(_ddf(long_frame()), unit="unit", outcome="income"),
            r"income",
            (KeyError, ValueError),
        ),
        raises(
            "dask-quantiles-outside",
            lambda: quantiles_from_dask(
                _ddf(long_frame()), unit="unit", outcome="y", quantiles=[1.5]
            ),
            r"`quantiles`",
        ),
        Case(
            "dask-progress-str",
            lambda: quantiles_from_dask(
                _ddf(long_frame()), unit="unit", outcome="y", progress="no"
            ),
            "raises",
            TypeError,
            r"`progress`",
        ),
        ok(
            "dask-shuffled-matches-pandas",
            lambda: quantiles_from_dask(
                _ddf(long_frame().sample(frac=1, random_state=2)),
                unit="unit",
                outcome="y",
                quantiles=Q3,
            ),
            lambda q: _close(q.matrix, _sim().y.quantiles(Q3), 1e-12),
        ),
    ]


# found here, fixed in r3d/_dask.py by its owner (helper r3d-scale)
KNOWN_ELSEWHERE: set[str] = set()


def _param(c: Case) -> Any:
    """A case as a test parameter: the Dask cases carry the ``dask`` marker (so CI's Dask
    step runs them), known failures owned elsewhere are expected to fail."""
    marks: list[Any] = [pytest.mark.dask] if c.id.startswith("dask-") else []
    if c.id in KNOWN_ELSEWHERE:
        marks.append(pytest.mark.xfail(reason="fixed by its owner elsewhere"))
    return pytest.param(c, marks=marks, id=c.id)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_edge(case: Case) -> None:
    case.run()


def test_case_ids_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
