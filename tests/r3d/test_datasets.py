"""Tests of the shipped gubernatorial dataset and of the bracket interpolation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from r3d.datasets import (
    CPI_U_ANNUAL,
    bracket_cdf,
    bracket_quantiles,
    load_gubernatorial,
    pareto_alpha,
)

REPO = Path(__file__).resolve().parents[2]
BUILDER = REPO / "data" / "build_gubernatorial.py"
QCOLS = [f"q{5 * j:02d}" for j in range(1, 20)]

# --------------------------------------------------------------------------- shipped table


@pytest.fixture(scope="module")
def gub() -> pd.DataFrame:
    return load_gubernatorial()


def test_schema(gub: pd.DataFrame) -> None:
    expected = ["state", "election_year", "outcome_year", "margin", "seat_status", *QCOLS]
    assert list(gub.columns) == expected
    assert 180 <= len(gub) <= 200
    assert gub["state"].nunique() == 49
    assert gub["state"].str.fullmatch(r"[A-Z]{2}").all()
    assert not gub.duplicated(["state", "election_year"]).any()
    assert gub["election_year"].between(2002, 2015).all()
    term = np.where(gub["state"].isin(["NH", "VT"]), 1, 3)
    assert (gub["outcome_year"] == gub["election_year"] + term).all()
    assert gub["outcome_year"].between(2005, 2018).all()
    assert gub["margin"].between(-0.5, 0.5).all()
    assert 70 <= int((gub["margin"].abs() < 0.05).sum()) <= 90
    assert gub["seat_status"].notna().all()
    assert not gub["seat_status"].str.contains("Uncontested").any()
    q = gub[QCOLS].to_numpy()
    assert np.isfinite(q).all() and (q > 0).all()
    assert (np.diff(q, axis=1) > 0).all()
    # family income in 2018 dollars: medians between $40k and $150k
    assert gub["q50"].between(40_000, 150_000).all()


def test_attrs(gub: pd.DataFrame) -> None:
    a = gub.attrs
    assert a["outcome"] == "family_income"
    assert a["quantile_columns"] == QCOLS
    assert np.allclose(a["quantile_levels"], np.arange(1, 20) * 0.05)
    assert a["base_year"] == 2018
    assert a["cpi"] == CPI_U_ANNUAL
    assert "CPI-U" in a["cpi_series"]


def test_known_elections(gub: pd.DataFrame) -> None:
    row = gub.set_index(["state", "election_year"])
    # Missouri: official returns replace the county sums missing St. Louis City
    assert row.loc[("MO", 2004), "margin"] == pytest.approx(1301442 / 2683861 - 0.5, abs=1e-6)
    assert row.loc[("MO", 2012), "margin"] == pytest.approx(1494056 / 2654321 - 0.5, abs=1e-6)
    assert row.loc[("WA", 2004), "margin"] == pytest.approx(0.000023, abs=1e-6)
    assert row.loc[("NH", 2004), "outcome_year"] == 2005
    for missing in [("AK", 2006), ("CA", 2003), ("UT", 2010), ("NH", 2002)]:
        assert missing not in row.index


def test_placebo_and_poverty_ratio(gub: pd.DataFrame) -> None:
    pl = load_gubernatorial("placebo")
    assert (pl["outcome_year"] == pl["election_year"]).all()
    assert pl["election_year"].min() == 2005
    assert pl.attrs["n_dropped"] == int((gub["election_year"] < 2005).sum())
    assert (np.diff(pl[QCOLS].to_numpy(), axis=1) > 0).all()

    pv = load_gubernatorial("poverty_ratio")
    pcols = [f"q{5 * j:02d}" for j in range(1, 10)]
    assert list(pv.columns[5:]) == pcols == pv.attrs["quantile_columns"]
    assert pv["outcome_year"].min() == 2009
    q = pv[pcols].to_numpy()
    assert (q > 0).all() and (q < 5).all() and (np.diff(q, axis=1) > 0).all()

    full = load_gubernatorial("poverty_ratio", dropna=False)
    assert len(full) == len(gub)
    assert full.loc[full["outcome_year"] < 2009, pcols].isna().all().all()


def test_base_year_and_details(gub: pd.DataFrame) -> None:
    g10 = load_gubernatorial(base_year=2010)
    ratio = CPI_U_ANNUAL[2010] / CPI_U_ANNUAL[2018]
    assert np.allclose(g10[QCOLS].to_numpy(), gub[QCOLS].to_numpy() * ratio)
    det = load_gubernatorial(details=True)
    extra = ["dem_votes", "rep_votes", "share_source", "families", "household_gini"]
    assert list(det.columns) == [*gub.columns, *extra]
    share = det["dem_votes"] / (det["dem_votes"] + det["rep_votes"]) - 0.5
    assert np.allclose(share, det["margin"], atol=5e-7)
    assert set(det["share_source"]) == {"algara", "hand"}
    assert det["household_gini"].between(0.3, 0.6).sum() == (det["outcome_year"] > 2005).sum()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="outcome"):
        load_gubernatorial("household_income")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base_year"):
        load_gubernatorial(base_year=1999)


# ---------------------------------------------------------------------- interpolation


def test_uniform_within_brackets_is_exact() -> None:
    bounds = np.array([0.0, 10.0, 15.0, 40.0, 100.0])
    dens = np.array([0.02, 0.04, 0.01, 0.005])  # piecewise-constant density
    counts = dens * np.diff(bounds)
    cdf = np.concatenate([[0.0], np.cumsum(counts)]) / counts.sum()
    probs = np.linspace(0.01, 0.99, 99)
    expected = np.interp(probs, cdf, bounds)
    got = bracket_quantiles(counts * 1000, bounds, probs)
    assert np.allclose(got, expected, rtol=0, atol=1e-10)
    assert np.allclose(bracket_cdf(got, counts, bounds), probs, atol=1e-12)


def test_monotone_and_vectorised() -> None:
    rng = np.random.default_rng(1)
    bounds = np.array([0, 10, 15, 20, 30, 50, 100, 200, np.inf])
    counts = rng.integers(0, 50, size=(200, 8)).astype(float)
    counts[::7, 3] = 0  # empty brackets
    counts[:, -2:] += 1  # both top brackets non-empty
    probs = np.linspace(0.001, 0.999, 301)
    for m in (1, 2):
        q = bracket_quantiles(counts, bounds, probs, pareto_brackets=m)
        assert q.shape == (200, 301)
        assert np.isfinite(q).all() and (np.diff(q, axis=1) >= 0).all()
        row = bracket_quantiles(counts[5], bounds, probs, pareto_brackets=m)
        assert np.array_equal(row, q[5])
        # quantiles land on bracket edges at the cumulative shares, and invert the CDF
        assert np.allclose(bracket_cdf(q[5], counts[5], bounds, pareto_brackets=m), probs)


def test_pareto_tail() -> None:
    alpha, x_m = 2.5, 50.0
    bounds = np.array([0.0, 50.0, 100.0, 150.0, 200.0, np.inf])

    def surv(x: np.ndarray) -> np.ndarray:  # Pareto(alpha) above x_m, 40% of mass below x_m
        return 0.6 * (x_m / np.maximum(x, x_m)) ** alpha

    s = np.array([1.0, *surv(bounds[1:-1]), 0.0])
    counts = -np.diff(s) * 1e6
    assert pareto_alpha(counts, bounds) == pytest.approx(alpha)
    probs = np.array([0.5, 0.9, 0.97, 0.99, 0.999])
    exact = x_m * (0.6 / (1 - probs)) ** (1 / alpha)
    q2 = bracket_quantiles(counts, bounds, probs, pareto_brackets=2)
    q1 = bracket_quantiles(counts, bounds, probs, pareto_brackets=1)
    top = probs > 1 - surv(np.array([200.0]))[0]
    pen = ~top & (probs > 1 - surv(np.array([150.0]))[0])
    assert np.allclose(q1[top], exact[top]) and np.allclose(q2[top | pen], exact[top | pen])
    assert (q1[pen] > exact[pen]).all()  # uniform spread overstates a decreasing density
    # heavier tail -> larger top quantiles; the Pareto quantile diverges as q -> 1
    heavy = counts.copy()
    heavy[-1] *= 2
    assert bracket_quantiles(heavy, bounds, [0.999])[0] > q1[-1]
    far = bracket_quantiles(counts, bounds, [1 - 1e-12])[0]
    assert far > 1e5


def test_edge_cases() -> None:
    bounds = [0.0, 100.0, 200.0, np.inf]
    # empty second-highest bracket: index floored, top quantiles finite and continuous
    q = bracket_quantiles([50, 0, 50], bounds, [0.5, 0.5 + 1e-9, 0.9], min_alpha=2.0)
    assert np.isfinite(q).all() and q[1] == pytest.approx(200.0, rel=1e-6)
    assert q[2] == pytest.approx(200.0 * 5**0.5)
    # no counts -> NaN; closed top -> linear throughout
    assert np.isnan(bracket_quantiles([[0, 0, 0]], bounds, [0.5])).all()
    assert bracket_quantiles([1, 1], [0.0, 1.0, 3.0], [0.75])[0] == pytest.approx(2.0)
    for bad in ([0.0], [1.0], [0.5, 1.2]):
        with pytest.raises(ValueError, match="probs"):
            bracket_quantiles([1, 1, 1], bounds, bad)
    with pytest.raises(ValueError, match="counts"):
        bracket_quantiles([1, 1], bounds, [0.5])
    with pytest.raises(ValueError, match="increasing"):
        bracket_quantiles([1, 1, 1], [0.0, 2.0, 1.0, np.inf], [0.5])
    with pytest.raises(ValueError, match="pareto_brackets"):
        bracket_quantiles([1, 1, 1], bounds, [0.5], pareto_brackets=3)


# ---------------------------------------------------------------------------- rebuild


def test_rebuild_equals_shipped(shared_data: Path) -> None:
    raw = shared_data / "gubernatorial"
    if not raw.is_dir():
        pytest.skip("raw gubernatorial data (../shared/data/gubernatorial) not available")
    spec = importlib.util.spec_from_file_location("build_gubernatorial", BUILDER)
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    tables = builder.build_tables(raw)
    shipped = REPO / "r3d" / "datasets" / "data"
    assert sorted(tables) == sorted(p.name for p in shipped.glob("*.csv"))
    for name, text in tables.items():
        assert (shipped / name).read_bytes() == text.encode("utf-8"), name
