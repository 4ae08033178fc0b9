"""The selector's first stage split over two threads gives the serial numbers bit for bit.

``estkit._locpoly._center_scale`` (large float64 matrices: extremes and the centring pass in
two halves of rows) and ``estkit._bandwidth._pilot_moments`` (the row blocks' sums in two
threads, added in row order) are compared with the serial paths of the same functions (below
the size threshold; outside the one-thread BLAS limit), which are the code before the threads.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pytest

import estkit._bandwidth as bw
import estkit._locpoly as lp
from estkit._kernels import get_kernel
from estkit._parallel import blas_single_thread
from estkit._windowed import both_sides

_PILOT_MOMENTS = bw._pilot_moments


def _serial_center_scale(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``_center_scale`` on its serial path (the one below the size threshold)."""
    saved = lp._THREADED_SIZE
    lp._THREADED_SIZE = 2**62
    try:
        return lp._center_scale(Y)
    finally:
        lp._THREADED_SIZE = saved


def _serial_pilot_moments(ctx, Z, want_var):
    """``_pilot_moments`` on its serial loop (the one taken outside the BLAS limit), run
    under the caller's BLAS configuration."""
    saved = bw._parallel.blas_limited
    bw._parallel.blas_limited = lambda: False
    try:
        return _PILOT_MOMENTS(ctx, Z, want_var)
    finally:
        bw._parallel.blas_limited = saved


def _matrix(n: int, m: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    Y = (3e4 + x + 2 * (x >= 0))[:, None] + rng.standard_normal((n, m)) * rng.uniform(0.1, 5, m)
    Y[:, 1] = 7.25  # an exactly constant column
    Y[:, 2] = 1e6 * (1 + 1e-17 * rng.standard_normal(n))  # constant up to rounding residue
    return Y


@pytest.mark.parametrize("n", [2001, 4000])
def test_center_scale_threaded_is_serial_bit_for_bit(monkeypatch, n):
    Y = _matrix(n, 9)
    monkeypatch.setattr(lp, "_THREADED_SIZE", 1)
    Z, c, a = lp._center_scale(Y)
    Zs, cs, as_ = _serial_center_scale(Y)
    assert Z.tobytes() == Zs.tobytes()
    assert c.tobytes() == cs.tobytes()
    assert a == as_
    assert np.all(Z[:, 1] == 0.0) and np.all(Z[:, 2] == 0.0)
    # the input is left alone
    assert np.array_equal(Y, _matrix(n, 9))


def test_center_scale_threaded_edge_cases(monkeypatch):
    monkeypatch.setattr(lp, "_THREADED_SIZE", 1)
    for Y in (
        np.full((1000, 3), 2.5),  # every column flat: no scaling
        _matrix(1000, 4) * 1e299 * 5,  # beyond 1e300: the serial rescaling path
        _matrix(1000, 4) * -1e-300,
    ):
        Z, c, a = lp._center_scale(Y)
        Zs, cs, as_ = _serial_center_scale(Y)
        assert Z.tobytes() == Zs.tobytes()
        assert c.tobytes() == cs.tobytes()
        assert a == as_


def test_center_scale_one_row_above_the_threshold(monkeypatch):
    # one row cannot be halved: the serial pass (it used to reduce an empty half)
    monkeypatch.setattr(lp, "_THREADED_SIZE", 1)
    Y = np.array([[1.0, 2.0, 5.0]])
    Z, c, a = lp._center_scale(Y)
    np.testing.assert_array_equal(Z, np.zeros((1, 3)))
    np.testing.assert_array_equal(c, Y[0])
    assert a == 1.0


def test_center_scale_default_threshold_matches_serial():
    Y = _matrix(2**22 // 8 + 3, 8)  # above the default threshold: the threaded path
    assert Y.size >= lp._THREADED_SIZE
    Z, c, a = lp._center_scale(Y)
    Zs, cs, as_ = _serial_center_scale(Y)
    assert Z.tobytes() == Zs.tobytes() and c.tobytes() == cs.tobytes() and a == as_


def _context(x: np.ndarray, s: int = 1) -> bw._Context:
    kern = get_kernel("triangular")
    f, _ = bw._density(x, kern)
    return bw._Context(
        xw=x,
        cw=0.0,
        xc=x,
        plus=x >= 0,
        minus=x < 0,
        s=s,
        n=x.size,
        kern=kern,
        kc=bw.kernel_constants(kern, s),
        f=f,
        rot=bw._rule_of_thumb(x, s),
        x_unit=1.0,
        rules=bw.DEFAULT_RULES,
    )


@pytest.mark.parametrize("limited", [True, False])
@pytest.mark.parametrize(("n", "m", "want_var", "s"), [(2600, 2100, True, 1), (700, 3, False, 2)])
def test_pilot_moments_threads_are_serial_bit_for_bit(n, m, want_var, s, limited):
    # 2600 x 2100: blocks of 998 rows, three blocks split 2 + 1 over the threads (under the
    # one-thread BLAS limit of r3d's fit; without it the serial loop runs)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, n)
    Z = (x + 2 * (x >= 0) + x**2)[:, None] + rng.standard_normal((n, m))
    Z, _, _ = lp._center_scale(Z)
    ctx = _context(x, s)
    with blas_single_thread() if limited else nullcontext():
        got = bw._pilot_moments(ctx, Z, want_var)
        ref = _serial_pilot_moments(ctx, Z, want_var)
    for g, r in zip(got, ref, strict=True):
        if r is None:
            assert g is None
        else:
            assert g.tobytes() == r.tobytes()
    assert got[0].shape == (m,) and np.all(np.isfinite(got[1]))


def test_select_bandwidth_large_matrix_matches_serial_first_stage(monkeypatch):
    # end to end: the selector with the threaded first stage against the serial one
    rng = np.random.default_rng(2)
    n, m = 30000, 200  # three blocks of rows in the pilot moments
    x = rng.uniform(-1, 1, n)
    Y = (5 + x + 2 * (x >= 0))[:, None] + rng.standard_normal((n, m)) * np.linspace(0.5, 2, m)
    q = np.linspace(0.02, 0.98, m)
    monkeypatch.setattr(lp, "_THREADED_SIZE", 1)
    calls = []

    def spy(plus, minus):
        calls.append(1)
        return both_sides(plus, minus)

    monkeypatch.setattr(bw, "both_sides", spy)
    with blas_single_thread():  # as in r3d's fit: both first-stage passes threaded
        new = bw.select_bandwidth(x, Y, criterion="imse", q=q)
    assert len(calls) == 2  # the threaded pilot moments, then the Step-2 sides
    with blas_single_thread():
        monkeypatch.setattr(lp, "_THREADED_SIZE", 2**62)
        monkeypatch.setattr(bw, "_pilot_moments", _serial_pilot_moments)
        old = bw.select_bandwidth(x, Y, criterion="imse", q=q)
    for name in ("h", "pilot_h", "B_plus", "B_minus", "V_plus", "V_minus"):
        assert getattr(new, name).tobytes() == getattr(old, name).tobytes(), name
    assert 0.05 < new.h[0] < 1.5
