"""Kernels for local polynomial smoothing, with exact moment constants.

Every kernel is vectorised and normalised to integrate to one over its support. The
compactly supported kernels live on ``[-1, 1]`` (boundary included, as in R3D and
rdrobust). Moments ``int_a^b u^k K(u)^r du`` are computed in closed form: by exact
polynomial integration for the compact kernels and by the incomplete gamma function for
the Gaussian, never by quadrature or Riemann sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from math import gamma as _gamma
from math import pi, sqrt
from typing import Literal

import numpy as np
from numpy.polynomial import polynomial as P
from scipy.special import gammainc

from estkit._validation import _as_float_array, check_finite, check_int, check_option

__all__ = ["Kernel", "KernelName", "get_kernel", "kernel_names"]

KernelName = Literal["triangular", "epanechnikov", "uniform", "gaussian"]


@dataclass(frozen=True)
class Kernel:
    """A symmetric kernel ``K(u)``.

    Obtain kernels with :func:`get_kernel`; a frozen dataclass whose constructor arguments
    are stored as attributes of the same names.

    Parameters
    ----------
    name : str
        One of ``"triangular"``, ``"epanechnikov"``, ``"uniform"``, ``"gaussian"``.
    compact : bool
        True when the support is ``[-1, 1]``.
    _poly : tuple of float, default ()
        Internal: coefficients (increasing degree) of ``K(|u|)`` on ``[0, 1]`` for compact
        kernels.

    Examples
    --------
    >>> from estkit import get_kernel
    >>> k = get_kernel("triangular")
    >>> k([0.0, 0.5, 1.0, 2.0]).tolist()
    [1.0, 0.5, 0.0, 0.0]
    >>> k.moment(0, lower=0.0, upper=1.0)   # half the mass on [0, 1]
    0.5
    >>> round(k.moment(2), 12)              # variance 1/6
    0.166666666667
    """

    name: str
    compact: bool
    # polynomial coefficients (increasing degree) of K on [0, 1] for compact kernels;
    # K(u) = poly(|u|) there.
    _poly: tuple[float, ...] = field(default=(), repr=False)

    def __call__(self, u: np.ndarray | float) -> np.ndarray:
        """Evaluate the kernel at ``u`` (vectorised); NaN or infinite ``u`` is refused."""
        u = _as_float_array(u, "u")
        check_finite(u, "u")
        if not self.compact:
            return np.exp(-0.5 * u * u) / sqrt(2.0 * pi)
        a = np.abs(u)
        return np.where(a <= 1.0, P.polyval(a, np.asarray(self._poly)), 0.0)

    def moment(
        self, k: int, *, power: int = 1, lower: float = -np.inf, upper: float = np.inf
    ) -> float:
        """Exact ``int_lower^upper u^k K(u)^power du``.

        Parameters
        ----------
        k : int
            Power of ``u`` (>= 0).
        power : int, default 1
            Power of the kernel (2 gives the roughness-type constants of variances).
        lower, upper : float
            Integration limits; infinite limits are clipped to the support.

        Returns
        -------
        float
            The integral, exact (closed form for the polynomial kernels).
        """
        k = check_int(k, "k", minimum=0)
        power = check_int(power, "power", minimum=1)
        lo, hi = (_limit(v, n) for v, n in ((lower, "lower"), (upper, "upper")))
        return _moment(self.name, k, power, lo, hi)

    def moment_matrix(
        self, p: int, *, power: int = 1, side: Literal["plus", "minus"] = "plus"
    ) -> np.ndarray:
        """One-sided moment matrix ``int r(u) r(u)' K(u)^power du``, ``r(u) = (1, u, ..., u^p)``.

        ``side="plus"`` integrates over ``[0, 1]`` (``[0, inf)`` for the Gaussian) and
        ``side="minus"`` over ``[-1, 0]``.

        Parameters
        ----------
        p : int
            Polynomial order (>= 0).
        power : int, default 1
            Power of the kernel (2 gives the variance-type matrix).
        side : {"plus", "minus"}, default "plus"
            Right (``u >= 0``) or left (``u <= 0``) half of the support.

        Returns
        -------
        numpy.ndarray of shape (p + 1, p + 1)
            Hankel matrix with entries ``moment(i + j, power=power)`` over the side.
        """
        p = check_int(p, "p", minimum=0)
        power = check_int(power, "power", minimum=1)
        side = check_option(side, "side", ("plus", "minus"))
        lo, hi = (0.0, np.inf) if side == "plus" else (-np.inf, 0.0)
        m = np.array([self.moment(j, power=power, lower=lo, upper=hi) for j in range(2 * p + 1)])
        idx = np.add.outer(np.arange(p + 1), np.arange(p + 1))
        return m[idx]


def _limit(v: object, name: str) -> float:
    """An integration limit: a real number, possibly infinite, never NaN."""
    if isinstance(v, bool | np.bool_ | str) or not isinstance(v, int | float | np.number):
        raise TypeError(f"`{name}` must be a real number (or +/- inf); got {v!r}.")
    if np.isnan(v):
        raise ValueError(f"`{name}` must not be NaN.")
    return float(v)


_POLYS: dict[str, tuple[float, ...]] = {
    "triangular": (1.0, -1.0),
    "epanechnikov": (0.75, 0.0, -0.75),
    "uniform": (0.5,),
}


@lru_cache(maxsize=512)
def _moment(name: str, k: int, power: int, lower: float, upper: float) -> float:
    if k < 0 or power < 1:
        raise ValueError("moment order `k` must be >= 0 and `power` >= 1.")
    if lower > upper:
        return -_moment(name, k, power, upper, lower)
    if name == "gaussian":
        return _gauss_moment(k, power, lower, upper)
    lower, upper = max(lower, -1.0), min(upper, 1.0)
    if lower >= upper:
        return 0.0
    base = P.polypow(np.asarray(_POLYS[name]), power)
    total = 0.0
    # split at 0: on [0, 1] K(u) = poly(u); on [-1, 0] K(u) = poly(-u)
    if upper > 0:
        a, b = max(lower, 0.0), upper
        integ = P.polyint(P.polymul(base, _monomial(k)))
        total += float(P.polyval(b, integ) - P.polyval(a, integ))
    if lower < 0:
        a, b = lower, min(upper, 0.0)
        # substitute v = -u: int_a^b u^k poly(-u) du = (-1)^k int_{-b}^{-a} v^k poly(v) dv
        integ = P.polyint(P.polymul(base, _monomial(k)))
        total += (-1) ** k * float(P.polyval(-a, integ) - P.polyval(-b, integ))
    return float(total)


def _monomial(k: int) -> np.ndarray:
    c = np.zeros(k + 1)
    c[k] = 1.0
    return c


def _gauss_moment(k: int, power: int, lower: float, upper: float) -> float:
    # int u^k phi(u)^r du with phi(u)^r = (2 pi)^(-r/2) exp(-r u^2 / 2)
    r = float(power)
    const = (2.0 * pi) ** (-r / 2.0)
    s = (k + 1) / 2.0

    def half(t: float) -> float:  # int_0^t v^k exp(-r v^2/2) dv for t >= 0
        full = 0.5 * (2.0 / r) ** s * _gamma(s)
        return full if np.isinf(t) else full * float(gammainc(s, r * t * t / 2.0))

    total = 0.0
    if upper > 0:
        total += half(upper) - half(max(lower, 0.0))
    if lower < 0:
        total += (-1) ** k * (half(-lower) - half(max(-upper, 0.0)))
    return const * total


_KERNELS = {
    "triangular": Kernel("triangular", True, _POLYS["triangular"]),
    "epanechnikov": Kernel("epanechnikov", True, _POLYS["epanechnikov"]),
    "uniform": Kernel("uniform", True, _POLYS["uniform"]),
    "gaussian": Kernel("gaussian", False),
}


def kernel_names() -> tuple[str, ...]:
    """Names accepted by :func:`get_kernel`.

    Returns
    -------
    tuple of str
        The kernel names, in a fixed order.

    Examples
    --------
    >>> kernel_names()
    ('triangular', 'epanechnikov', 'uniform', 'gaussian')
    """
    return tuple(_KERNELS)


def get_kernel(kernel: KernelName | str | Kernel, name: str = "kernel") -> Kernel:
    """Look up a kernel by name (case-insensitive); a :class:`Kernel` passes through.

    Parameters
    ----------
    kernel : str or Kernel
        A name from :func:`kernel_names` (any case) or a kernel object.
    name : str, default "kernel"
        Argument name used in the error message.

    Returns
    -------
    Kernel
        The kernel.

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the accepted names.

    Examples
    --------
    >>> get_kernel("Epanechnikov").name
    'epanechnikov'
    """
    if isinstance(kernel, Kernel):
        return kernel
    return _KERNELS[check_option(kernel, name, KernelName)]
