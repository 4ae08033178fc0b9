"""Conditional-independence tests for constraint-based discovery (pure numerical core).

Three p-value engines, all vectorised over a batch of conditioning sets of the same size:

* :func:`fisher_z_pvalues`: the Fisher-z test of a zero partial correlation (linear-Gaussian);
  a stack of per-environment correlation matrices gives the environment-stratified version
  :func:`stratified_fisher_z_pvalues` (a test of ``X ⫫ Y | S, C`` for a categorical ``C``);
* :func:`context_lr_pvalues`: the Gaussian likelihood-ratio test of ``V ⫫ C | S`` for a
  categorical context ``C`` (environment-specific intercept, slopes and noise variance);
* :func:`kci_pvalue`: a kernel conditional-independence test in the style of KCI (Zhang,
  Peters, Janzing and Schölkopf, 2011) with a gamma approximation of its null distribution.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import linalg, stats

from estkit import check_2d, check_consistent_length, negligible_variation

__all__ = [
    "context_lr_pvalues",
    "delta_kernel",
    "fisher_z_pvalues",
    "fisher_z_test",
    "gaussian_kernel",
    "kci_pvalue",
    "kci_test",
    "stratified_fisher_z_pvalues",
]

_R_MAX = 1.0 - 1e-12
CONDITIONING_WIDTH = 0.5  # bandwidth multiplier of the conditioning variables in KCI


def _batched_inverse(sub: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(sub)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(sub, hermitian=True)


def _index_stack(x: int, y: int | None, conds: np.ndarray) -> np.ndarray:
    m = conds.shape[0]
    head = [np.full((m, 1), x)] + ([] if y is None else [np.full((m, 1), y)])
    return np.concatenate([*head, conds.astype(np.intp).reshape(m, -1)], axis=1)


def _as_conds(conds: Any) -> np.ndarray:
    arr = np.asarray(conds, dtype=np.intp)
    if arr.ndim == 1:  # one conditioning set
        arr = arr[None, :]
    return arr


def _strata(ns: Any, conds: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-environment sizes as floats, the conditioning sets as an array and their size."""
    arr = _as_conds(conds)
    return np.asarray(ns, dtype=float), arr, arr.shape[1]


def partial_correlations(corr: np.ndarray, x: int, y: int, conds: Any) -> np.ndarray:
    """Partial correlations of ``x`` and ``y`` given each conditioning set.

    Parameters
    ----------
    corr : ndarray of shape (..., p, p)
        Correlation (or covariance) matrix, or a stack of them (e.g. one per environment).
    x, y : int
        Column indices.
    conds : array-like of int, shape (m, d)
        ``m`` conditioning sets of the same size ``d`` (``d`` may be 0).

    Returns
    -------
    ndarray of shape (..., m)
        ``-P[0, 1] / sqrt(P[0, 0] P[1, 1])`` with ``P`` the inverse of the sub-matrix on
        ``(x, y, S)``, clipped to ``(-1, 1)``.
    """
    idx = _index_stack(x, y, _as_conds(conds))
    sub = corr[..., idx[:, :, None], idx[:, None, :]]
    prec = _batched_inverse(sub)
    denom = np.sqrt(np.abs(prec[..., 0, 0] * prec[..., 1, 1]))
    r = -prec[..., 0, 1] / np.where(denom > 0, denom, np.inf)
    return np.clip(r, -_R_MAX, _R_MAX)


def fisher_z_pvalues(corr: np.ndarray, n: int, x: int, y: int, conds: Any) -> np.ndarray:
    """Two-sided Fisher-z p-values of ``x ⫫ y | S`` for a batch of conditioning sets ``S``.

    With ``r`` the sample partial correlation, the statistic is
    ``sqrt(n - |S| - 3) |atanh(r)|``, standard normal under the null for jointly Gaussian data.

    Parameters
    ----------
    corr : ndarray of shape (p, p)
        Sample correlation matrix.
    n : int
        Sample size.
    x, y : int
        Column indices.
    conds : array-like of int, shape (m, d)
        Conditioning sets of equal size.

    Returns
    -------
    ndarray of shape (m,)
    """
    conds = _as_conds(conds)
    d = conds.shape[1]
    if n - d - 3 < 1:
        raise ValueError(f"Fisher-z needs n - |S| - 3 >= 1; got n={n}, |S|={d}.")
    z = np.arctanh(partial_correlations(corr, x, y, conds))
    return 2.0 * stats.norm.sf(np.sqrt(n - d - 3) * np.abs(z))


def stratified_fisher_z_pvalues(
    corrs: np.ndarray, ns: np.ndarray, x: int, y: int, conds: Any
) -> np.ndarray:
    """Environment-stratified Fisher-z p-values of ``x ⫫ y | S, C`` for categorical ``C``.

    Within each of the ``K`` environments the partial correlation ``r_c`` gives
    ``z_c = sqrt(n_c - |S| - 3) atanh(r_c)``, standard normal under the null; the statistic
    ``sum_c z_c²`` is referred to a chi-square with ``K`` degrees of freedom. Mechanisms may
    differ across environments (the slopes are not pooled).

    Parameters
    ----------
    corrs : ndarray of shape (K, p, p)
        Per-environment correlation matrices.
    ns : ndarray of shape (K,)
        Per-environment sample sizes.
    x, y : int
        Column indices of the tested pair.
    conds : array-like of int, shape (m, d)

    Returns
    -------
    ndarray of shape (m,)
    """
    ns, conds, d = _strata(ns, conds)
    if np.any(ns - d - 3 < 1):
        raise ValueError(f"Every environment needs n_c - |S| - 3 >= 1; got min n_c={ns.min():g}.")
    z = np.arctanh(partial_correlations(corrs, x, y, conds))  # (K, m)
    stat = np.sum((ns - d - 3)[:, None] * z**2, axis=0)
    return stats.chi2.sf(stat, df=len(ns))


def _conditional_variances(cov: np.ndarray, v: int, conds: np.ndarray) -> np.ndarray:
    idx = _index_stack(v, None, conds)
    sub = cov[..., idx[:, :, None], idx[:, None, :]]
    prec = _batched_inverse(sub)
    return 1.0 / prec[..., 0, 0]


def context_lr_pvalues(
    covs: np.ndarray, ns: np.ndarray, pooled_cov: np.ndarray, v: int, conds: Any
) -> np.ndarray:
    """Gaussian likelihood-ratio p-values of ``v ⫫ C | S`` for a categorical context ``C``.

    Under the alternative the regression of ``v`` on ``S`` has an environment-specific
    intercept, slopes and noise variance; under the null they are common. With ``s²_c`` the
    maximum-likelihood residual variance in environment ``c`` and ``s²`` the pooled one, the
    statistic ``n log s² - sum_c n_c log s²_c`` is referred to a chi-square with
    ``(K - 1)(|S| + 2)`` degrees of freedom. This is the linear-Gaussian counterpart of a
    kernel test with a delta kernel on ``C``: it detects changes of the conditional mean
    (linear in ``S``) and of the conditional variance.

    Parameters
    ----------
    covs : ndarray of shape (K, p, p)
        Per-environment maximum-likelihood covariance matrices (divisor ``n_c``).
    ns : ndarray of shape (K,)
        Per-environment sample sizes.
    pooled_cov : ndarray of shape (p, p)
        Maximum-likelihood covariance of the pooled data (divisor ``n``).
    v : int
        Column index of the tested variable.
    conds : array-like of int, shape (m, d)
        Conditioning sets ``S`` of equal size.

    Returns
    -------
    ndarray of shape (m,)
    """
    ns, conds, d = _strata(ns, conds)
    s2_env = np.maximum(_conditional_variances(covs, v, conds), 1e-300)  # (K, m)
    s2_pool = np.maximum(_conditional_variances(pooled_cov, v, conds), 1e-300)  # (m,)
    stat = ns.sum() * np.log(s2_pool) - np.sum(ns[:, None] * np.log(s2_env), axis=0)
    return stats.chi2.sf(np.maximum(stat, 0.0), df=(len(ns) - 1) * (d + 2))


def fisher_z_test(data: Any, x: int, y: int, condition_set: Sequence[int] = ()) -> float:
    """Fisher-z test of ``X_x ⫫ X_y | X_S`` on a data matrix.

    Parameters
    ----------
    data : array-like of shape (n, p)
        Numeric data, one column per variable.
    x, y : int
        Column indices of the tested pair.
    condition_set : sequence of int, default ()
        Column indices of the conditioning set ``S``.

    Returns
    -------
    float
        Two-sided p-value; exact under joint Gaussianity up to the normal approximation of
        ``atanh(r)``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=500)
    >>> d = np.column_stack([z + rng.normal(size=500), z + rng.normal(size=500), z])
    >>> fisher_z_test(d, 0, 1) < 1e-6, fisher_z_test(d, 0, 1, [2]) > 0.01
    (True, True)
    """
    arr = check_2d(data, "data")
    p = arr.shape[1]
    x = _column(x, "x", p)
    y = _column(y, "y", p)
    if isinstance(condition_set, str | bytes) or np.ndim(condition_set) > 1:
        raise TypeError(
            f"`condition_set` must be a sequence of column indices; got {condition_set!r}."
        )
    conds = [_column(k, "condition_set", p) for k in np.atleast_1d(condition_set).tolist()]
    if x == y or x in conds or y in conds or len(set(conds)) != len(conds):
        raise ValueError(
            f"`x`, `y` and `condition_set` must be distinct columns; got x={x}, y={y}, "
            f"condition_set={conds}."
        )
    n = arr.shape[0]
    if n - len(conds) - 3 < 1:
        raise ValueError(
            f"`data` has {n} rows; the Fisher-z test with {len(conds)} conditioning variables "
            f"needs at least {len(conds) + 4}."
        )
    cols = [x, y, *conds]
    flat = [k for k in cols if negligible_variation(arr[:, k]) or np.ptp(arr[:, k]) == 0]
    if flat:
        raise ValueError(
            f"`data` columns {flat} are constant: a correlation with a constant is undefined."
        )
    sub = arr[:, cols] / np.max(np.abs(arr[:, cols]), axis=0)  # scale-free: no overflow
    sub = (sub - sub.mean(axis=0)) / sub.std(axis=0)
    corr = np.corrcoef(sub, rowvar=False)
    return float(fisher_z_pvalues(corr, n, 0, 1, [list(range(2, len(cols)))])[0])


def _unit_scale(a: np.ndarray) -> np.ndarray:
    m = np.max(np.abs(a), axis=0)
    return a / np.where(m > 0, m, 1.0)


def _column(k: Any, name: str, p: int) -> int:
    if not isinstance(k, numbers.Integral) or isinstance(k, bool | np.bool_):
        raise TypeError(f"`{name}` must hold integer column indices; got {k!r}.")
    if not -p <= int(k) < p:
        raise ValueError(f"`{name}` index {k} is out of range for `data` with {p} columns.")
    return int(k) % p


# --------------------------------------------------------------------------------------------
# Kernel test


def gaussian_kernel(a: np.ndarray, width: float = 1.0) -> np.ndarray:
    """Gaussian kernel matrix of standardised data with the median-distance bandwidth.

    Parameters
    ----------
    a : ndarray of shape (n,) or (n, q)
    width : float, default 1.0
        Multiplier of the median-distance bandwidth.

    Returns
    -------
    ndarray of shape (n, n)
        ``exp(-||a_s - a_t||² / (2 h²))`` with ``h`` equal to ``width`` times the median of
        the non-zero pairwise distances of the standardised columns.
    """
    a = np.asarray(a, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    sd = a.std(axis=0)
    a = (a - a.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    sq = np.sum(a**2, axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * a @ a.T, 0.0)
    off = d2[np.triu_indices_from(d2, k=1)]
    off = off[off > 0]
    h2 = (float(np.median(off)) if off.size else 1.0) * width**2
    return np.exp(-d2 / (2.0 * h2))


def delta_kernel(labels: Any) -> np.ndarray:
    """Delta kernel ``1{c_s = c_t}`` of a categorical variable (e.g. an environment index)."""
    lab = np.asarray(labels)
    return (lab[:, None] == lab[None, :]).astype(float)


def _center(k: np.ndarray) -> np.ndarray:
    return k - k.mean(axis=0, keepdims=True) - k.mean(axis=1, keepdims=True) + k.mean()


def kci_pvalue(
    kx: np.ndarray, ky: np.ndarray, kz: np.ndarray | None = None, ridge: float = 1e-3
) -> float:
    """Kernel conditional-independence p-value from kernel matrices (KCI-style).

    With ``H`` the centring matrix and, when ``kz`` is given,
    ``R = ridge (H kz H + ridge I)^{-1}`` (the residual operator of a kernel ridge regression on
    ``Z``), the residualised kernels are ``A = R H kx H R`` and ``B = R H ky H R`` (without
    ``Z``: ``A = H kx H``, ``B = H ky H``). The statistic is ``T = tr(A B)``. Writing
    ``A = ΨΨᵀ`` and ``B = ΦΦᵀ``, ``T = ||Σ_t ψ_t ⊗ φ_t||²``; under the null the summands are
    approximately centred and independent, so ``T`` is approximately a weighted sum of
    chi-squares whose mean ``Σ_t A_tt B_tt`` and variance ``2 Σ_st (A_st B_st)²`` come from the
    empirical covariance of ``ψ_t ⊗ φ_t``. The p-value uses the gamma distribution with these
    two moments (as KCI does). ``kx`` should be the kernel of ``(X, Z)`` for conditional tests
    (KCI's ``Ẍ``), e.g. the elementwise product of the kernels of ``X`` and ``Z``.

    Parameters
    ----------
    kx, ky : ndarray of shape (n, n)
        Kernel matrices of ``X`` (or ``(X, Z)``) and ``Y``.
    kz : ndarray of shape (n, n), optional
        Kernel matrix of the conditioning variables ``Z``.
    ridge : float, default 1e-3
        Regularisation of the kernel ridge regression on ``Z``.

    Returns
    -------
    float
    """
    a = _center(kx)
    b = _center(ky)
    if kz is not None:
        n = kz.shape[0]
        kzc = _center(kz)
        r = ridge * linalg.solve(kzc + ridge * np.eye(n), np.eye(n), assume_a="pos")
        r = 0.5 * (r + r.T)
        a = r @ a @ r
        b = r @ b @ r
    stat = float(np.sum(a * b))
    mean = float(np.sum(np.diag(a) * np.diag(b)))
    var = 2.0 * float(np.sum((a * b) ** 2))
    if mean <= 0 or var <= 0:
        return 1.0
    shape, scale = mean**2 / var, var / mean
    return float(stats.gamma.sf(stat, shape, scale=scale))


def kci_test(x: Any, y: Any, z: Any = None, *, ridge: float = 1e-3) -> float:
    """Kernel conditional-independence test of ``X ⫫ Y | Z`` with Gaussian kernels.

    Gaussian kernels with the median-distance bandwidth on standardised data (half of it for
    each conditioning variable, so that the regression on ``Z`` is flexible enough); the
    kernel of ``Ẍ = (X, Z)`` is the product of the kernels of ``X`` and ``Z``. See
    :func:`kci_pvalue` for the statistic and its gamma approximation. Cost ``O(n³)``:
    subsample beyond a few thousand observations.

    Parameters
    ----------
    x, y : array-like of shape (n,) or (n, q)
        The two variables tested.
    z : array-like of shape (n,) or (n, q), optional
        Conditioning variables; None tests unconditional independence.
    ridge : float, default 1e-3
        Regularisation of the kernel ridge regression on ``Z`` (positive).

    Returns
    -------
    float
        The p-value (gamma approximation of the null distribution).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.uniform(-2, 2, 200)
    >>> x = z + 0.3 * rng.normal(size=200)
    >>> y = z**2 + 0.3 * rng.normal(size=200)  # uncorrelated with x, but dependent
    >>> kci_test(x, y) < 0.01, kci_test(x, y, z) > 0.01
    (True, True)
    """
    x, y = check_2d(x, "x"), check_2d(y, "y")
    z = None if z is None else check_2d(z, "z")
    check_consistent_length(x=x, y=y, z=z)
    if x.shape[0] < 4:
        raise ValueError(f"`x` has {x.shape[0]} rows; the kernel test needs at least 4.")
    if not isinstance(ridge, numbers.Real) or isinstance(ridge, bool) or not ridge > 0:
        raise ValueError(f"`ridge` must be a positive number; got {ridge!r}.")
    if not np.isfinite(ridge):
        raise ValueError(f"`ridge` must be finite; got {ridge!r}.")
    # the kernels standardise their inputs: dividing by the largest magnitude first avoids
    # overflow at extreme scales without changing the test
    x, y = _unit_scale(x), _unit_scale(y)
    z = None if z is None else _unit_scale(z)
    kx, ky = gaussian_kernel(x), gaussian_kernel(y)
    if z is None:
        return kci_pvalue(kx, ky, None, ridge)
    kz = np.prod([gaussian_kernel(z[:, k], CONDITIONING_WIDTH) for k in range(z.shape[1])], axis=0)
    return kci_pvalue(kx * kz, ky, kz, ridge)
