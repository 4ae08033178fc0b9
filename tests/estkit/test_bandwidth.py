"""Tests of the plug-in bandwidth selector (estkit._bandwidth)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from estkit._bandwidth import (
    density_at_cutoff,
    kernel_constants,
    rule_of_thumb_bandwidth,
    select_bandwidth,
)

REF = Path(__file__).resolve().parents[2].parent / "shared" / "r3d_reference"
needs_ref = pytest.mark.skipif(not REF.is_dir(), reason="R3D reference files not available")


def test_exact_kernel_constants_triangular_s1() -> None:
    kc = kernel_constants("triangular", 1)
    np.testing.assert_allclose(kc.gamma_plus, [[1 / 2, 1 / 6], [1 / 6, 1 / 12]], rtol=1e-14)
    np.testing.assert_allclose(kc.gamma_minus, [[1 / 2, -1 / 6], [-1 / 6, 1 / 12]], rtol=1e-14)
    np.testing.assert_allclose(kc.lambda_plus, [1 / 12, 1 / 20], rtol=1e-14)
    # symmetric kernel: bias constants agree, variance constants agree
    assert kc.bias_plus == pytest.approx(kc.bias_minus)
    assert kc.var_plus == pytest.approx(kc.var_minus)
    # e0' G^-1 Lambda for triangular, s = 1: -1/10
    assert kc.bias_plus == pytest.approx(-0.1, rel=1e-12)


@pytest.mark.parametrize("kernel", ["triangular", "epanechnikov", "uniform"])
def test_riemann_constants_are_close_to_exact(kernel: str) -> None:
    a = kernel_constants(kernel, 1)
    b = kernel_constants(kernel, 1, compat=True)
    assert b.bias_plus == pytest.approx(a.bias_plus, rel=0.05)
    assert b.var_minus == pytest.approx(a.var_minus, rel=0.05)


def test_rule_of_thumb_and_coverage_factor() -> None:
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, 400)
    y = x + 0.8 * x**2 + (x >= 0) + rng.normal(0, 0.2, 400)
    assert rule_of_thumb_bandwidth(x, order=2) == pytest.approx(
        1.06 * np.std(x, ddof=1) * 400 ** (-0.2)
    )
    a = select_bandwidth(x, y, kernel="triangular")
    b = select_bandwidth(x, y, kernel="triangular", coverage_correction=True)
    np.testing.assert_allclose(b.h / a.h, 400 ** (-1 / 20))
    assert 0.05 < a.h[0] < 2
    im = select_bandwidth(x, np.c_[y, y + 1], criterion="imse", kernel="epanechnikov")
    assert im.h[0] == im.h[1]


def test_one_sided_data_is_rejected() -> None:
    with pytest.raises(ValueError, match="one side"):
        select_bandwidth(np.linspace(0.1, 1, 20), np.zeros(20))


@needs_ref
def test_density_matches_r() -> None:
    pd = pytest.importorskip("pandas")
    x = pd.read_csv(REF / "ref_data_sharp_simple_20.csv")["X"].to_numpy()
    ref = pd.read_csv(REF / "ref_density_all.csv")
    for _, row in ref.iterrows():
        f, b = density_at_cutoff(x, 0.0, row["kernel"])
        assert f == pytest.approx(row["f_X_hat"], rel=1e-12)
        assert b == pytest.approx(row["h_bw"], rel=1e-12)


@needs_ref
@pytest.mark.parametrize("case", ["sharp", "frechet", "fuzzy"])
def test_selector_matches_r(case: str) -> None:
    pd = pytest.importorskip("pandas")
    data = "fuzzy_simple_20" if case == "fuzzy" else "sharp_simple_20"
    d = pd.read_csv(REF / f"ref_data_{data}.csv")
    Q = d.filter(regex=r"^Q\d+$").to_numpy()
    T = d["T_treat"].to_numpy() if case == "fuzzy" else None
    ref = pd.read_csv(REF / f"ref_bwselect_{case}.csv")
    sel = select_bandwidth(
        d["X"].to_numpy(),
        Q,
        0.0,
        criterion="imse" if case == "frechet" else "mse",
        s=1,
        p=2,
        kernel="triangular",
        T=T,
        q=ref["q"].to_numpy(),
        compat=True,
    )
    pairs = {
        "h_star_num": sel.h,
        "pilot_h_num": sel.pilot_h,
        "B_plus": sel.B_plus,
        "B_minus": sel.B_minus,
        "V_plus": sel.V_plus,
        "V_minus": sel.V_minus,
        "f_X_hat": sel.density,
    }
    if case == "fuzzy":
        pairs |= {"h_star_den": sel.h_treatment, "pilot_h_den": sel.pilot_h_treatment}
    for col, ours in pairs.items():
        np.testing.assert_allclose(
            np.broadcast_to(ours, len(ref)), ref[col], rtol=1e-9, err_msg=col
        )
