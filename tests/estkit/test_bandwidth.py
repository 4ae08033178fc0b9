"""Tests of the plug-in bandwidth selector (estkit._bandwidth)."""

from __future__ import annotations

import numpy as np
import pytest

from estkit._bandwidth import (
    density_at_cutoff,
    kernel_constants,
    rule_of_thumb_bandwidth,
    select_bandwidth,
)
from r3d._rules import R3D_28744DB

R_SELECTOR = R3D_28744DB.selector


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
    b = kernel_constants(kernel, 1, constants="riemann")
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


def test_density_matches_r(reference_csv) -> None:
    x = reference_csv("ref_data_sharp_simple_20.csv")["X"].to_numpy()
    ref = reference_csv("ref_density_all.csv")
    for _, row in ref.iterrows():
        f, b = density_at_cutoff(x, 0.0, row["kernel"])
        assert f == pytest.approx(row["f_X_hat"], rel=1e-12)
        assert b == pytest.approx(row["h_bw"], rel=1e-12)


# The selector against R3D's reference outputs (layer 4): tests/r3d/test_reference_r.py,
# test_bwselect.


# ---- compat="R": R3D 28744db's fit_global_poly replaces a residual variance < eps by 1 -------


def _r_treatment_bandwidth(x: np.ndarray, t: np.ndarray, s: int, kernel: str, clamp: bool):
    """Transcription of r3d_bwselect's treatment branch (R3D 28744db, R/r3d_bwselect.R and
    fit_global_poly in R/r3d_utils.R), written out with numpy, independent of estkit's fits.

    ``clamp=False`` leaves out the 28744db rule (the old behaviour) for comparison.
    """
    from math import factorial

    n = x.size
    k = {"triangular": lambda u: np.maximum(1 - np.abs(u), 0.0)}.get(
        kernel, lambda u: np.where(np.abs(u) <= 1, 0.75 * (1 - u**2), 0.0)
    )
    sigma = np.std(x, ddof=1)
    cn = 1.06 * sigma * n ** (-1 / 5)
    fx = np.mean(k(x / cn)) / cn
    # kernel matrices: Riemann sums on seq(-1, 1, length.out = 1000)
    grid = np.linspace(-1, 1, 1000)
    mats = {}
    for side, g in (("plus", grid[grid >= 0]), ("minus", grid[grid < 0])):
        r = np.vander(g, s + 1, increasing=True)
        kv = k(g) * 2 / 1000
        gam = (r * kv[:, None]).T @ r
        lam = (r * (g ** (s + 1) * kv)[:, None]).sum(axis=0)
        psi = (r * (k(g) ** 2 * 2 / 1000)[:, None]).T @ r
        gi = np.linalg.inv(gam)
        mats[side] = (gi @ lam)[0], (gi @ psi @ gi)[0, 0]

    def fit_global_poly(yy, xx):  # lm(Y ~ poly(X, s + 1, raw = TRUE))
        X = np.vander(xx, s + 2, increasing=True)
        coef, *_ = np.linalg.lstsq(X, yy, rcond=None)
        resid_var = np.var(yy - X @ coef, ddof=1)
        if clamp and not resid_var >= np.finfo(float).eps:
            resid_var = 1.0
        return coef[s + 1] * factorial(s + 1), resid_var

    plus = x >= 0
    dp, vp = fit_global_poly(t[plus], x[plus])
    dm, vm = fit_global_poly(t[~plus], x[~plus])
    c0 = mats["plus"][0] * dp / factorial(s + 1) - mats["minus"][0] * dm / factorial(s + 1)
    c0p = (vp * mats["plus"][1] + vm * mats["minus"][1]) / fx
    pilot = (c0p / (2 * (s + 1) * c0**2)) ** (1 / (2 * s + 3)) * n ** (-1 / (2 * s + 3))

    # Step 2: the Fortran locweights fit of order s, triangular kernel, at the pilot bandwidth
    terms = []
    for mask in (plus, ~plus):
        u = x[mask] / pilot
        kw = np.maximum(1 - np.abs(u), 0.0)
        X = np.vander(u, s + 1, increasing=True)
        G = (X * kw[:, None]).T @ X
        alpha = np.linalg.solve(G, (X * kw[:, None]).T @ t[mask])
        w = kw * (X @ np.linalg.inv(G)[:, 0])
        pos = w > 0
        resid = t[mask][pos] - X[pos] @ alpha
        terms.append((alpha[s] / factorial(s + 1), np.sum(w[pos] * resid**2) / np.sum(w[pos])))
    (bp, vvp), (bm, vvm) = terms
    ratio = (vvp + vvm) / fx / (2 * (s + 1) * (bp - bm) ** 2)
    return pilot, ratio ** (1 / (2 * s + 3)) * n ** (-1 / (2 * s + 3))


def test_compat_residual_variance_below_eps_is_one_as_in_r3d() -> None:
    # one-sided non-compliance: nobody below the cutoff is treated, so the global pilot fit of
    # the treatment below the cutoff has zero residual variance; R3D 28744db sets it to 1
    rng = np.random.default_rng(11)
    n = 600
    x = rng.uniform(-1, 1, n)
    t = (rng.uniform(size=n) < np.where(x >= 0, 0.5 + 0.4 * x, 0.0)).astype(float)
    y = 1 + x + 2 * t + rng.normal(0, 0.5, n)
    for kernel in ("triangular", "epanechnikov"):
        sel = select_bandwidth(x, y, T=t, s=1, kernel=kernel, rules=R_SELECTOR)
        pilot_r, h_r = _r_treatment_bandwidth(x, t, 1, kernel, clamp=True)
        _, h_old = _r_treatment_bandwidth(x, t, 1, kernel, clamp=False)
        assert sel.pilot_h_treatment == pytest.approx(pilot_r, rel=1e-10)
        assert sel.h_treatment == pytest.approx(h_r, rel=1e-10)
        # the rule changes the answer visibly (the old code gave the unclamped value)
        assert abs(h_r / h_old - 1) > 0.05
    # paper mode keeps the honest (zero) residual variance of that side
    paper = select_bandwidth(x, y, T=t, s=1, kernel="triangular")
    assert paper.V_minus_treatment == 0.0


def test_compat_aliased_top_power_as_in_r_lm() -> None:
    # compat: fewer distinct x values than the pilot polynomial needs on a side -> R's lm
    # aliases the top power (derivative 0) and fits the group means; no LinAlgError
    rng = np.random.default_rng(3)
    x = np.r_[rng.uniform(-1, 0, 200) - 1e-9, np.repeat([0.0, 0.5], 100)]
    y = 1 + x + rng.normal(0, 0.3, x.size)
    with pytest.raises(ValueError, match=r"plus side\) take only 2 distinct running-variable"):
        select_bandwidth(x, y, s=1)
    from estkit._bandwidth import _global_poly_aliased

    xp, yp = x[x >= 0], y[x >= 0]
    d, v = _global_poly_aliased(xp, yp[:, None], 2)
    resid = yp - np.where(xp == 0, yp[xp == 0].mean(), yp[xp == 0.5].mean())
    assert d[0] == 0.0
    assert v[0] == pytest.approx(np.var(resid, ddof=1), rel=1e-12)


# ----------------------------------------------- pilot moments: one padded product (issue 17)
@pytest.mark.parametrize("s", [0, 1, 2])
def test_pilot_moments_match_per_side_global_polynomials(s):
    # the one-product path (both sides' bases side by side, zero on the other side's rows)
    # against the per-side global polynomials of _pilot_terms (QR and residuals per side)
    import estkit._bandwidth as bw
    from estkit._kernels import get_kernel
    from estkit._locpoly import _center_scale

    rng = np.random.default_rng(30 + s)
    n, m = 5000, 7
    x = rng.uniform(-1, 1, n)
    Z = (1 + x + 2 * (x >= 0) - x**2)[:, None] + rng.standard_normal((n, m)) * np.arange(1, 8)
    Z, _, _ = _center_scale(Z)
    kern = get_kernel("epanechnikov")
    f, _ = bw._density(x, kern)
    ctx = bw._Context(
        xw=x, cw=0.0, xc=x, plus=x >= 0, minus=x < 0, s=s, n=n, kern=kern,
        kc=bw.kernel_constants(kern, s), f=f, rot=bw._rule_of_thumb(x, s), x_unit=1.0,
        rules=bw.DEFAULT_RULES,
    )  # fmt: skip
    C, Cp, var_z = bw._pilot_moments(ctx, Z, True)
    C_ref, Cp_ref = bw._pilot_terms(ctx, Z)
    np.testing.assert_allclose(C, C_ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(Cp, Cp_ref, rtol=1e-12)
    np.testing.assert_allclose(var_z, np.var(Z, axis=0), rtol=1e-12)


def test_padded_side_product_equals_the_selected_products():
    # the identity the pilot moments rely on: a row's product with both sides' bases side
    # by side (the other side's half zero) is its own side's product (the added terms are
    # exact zeros; bit for bit on OpenBLAS, within an ulp on any BLAS)
    from estkit._locpoly import polynomial_basis

    rng = np.random.default_rng(31)
    x = rng.uniform(-1, 1, 20000)
    plus = x >= 0
    X = polynomial_basis(x, 2)
    X2 = np.zeros((x.size, 6))
    X2[plus, :3], X2[~plus, 3:] = X[plus], X[~plus]
    cp, cm = rng.standard_normal((3, 40)), rng.standard_normal((3, 40))
    ref = np.where(plus[:, None], X @ cp, X @ cm)
    np.testing.assert_allclose(X2 @ np.concatenate([cp, cm]), ref, rtol=2.3e-16, atol=1e-300)
