"""Simulation designs of the R3D paper (Van Dijcke 2025), with exact true effect curves.

Every generator returns a :class:`SimulatedRD`: the running variable, the unit samples as a
:class:`~r3d.Distributions` (one sample per unit), the treatment for fuzzy designs, and
the true local average quantile treatment effect as a function of the quantile level.
Draws are vectorised (one call per random quantity, no loop over units).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from estkit import RandomStateLike, check_bool, check_int, check_random_state
from estkit._docstrings import doc_filler
from estkit._validation import check_real
from r3d._data import Distributions

__all__ = ["SimulatedRD", "simulate_dgp1", "simulate_dgp2", "simulate_normal"]


@dataclass(frozen=True)
class SimulatedRD:
    """A simulated regression discontinuity sample with distribution-valued outcomes.

    Returned by the ``simulate_*`` generators; a frozen dataclass whose constructor
    arguments are stored as attributes of the same names.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Running variable (cutoff 0).
    y : Distributions
        Unit samples (``y.running`` is ``x``).
    treatment : ndarray of shape (n,) or None
        Treatment indicator (fuzzy designs only).
    true_effect : callable
        ``true_effect(q)`` returns the true effect curve at levels ``q``.

    Examples
    --------
    >>> sim = simulate_normal(n=30, n_draws=4, rng=0)
    >>> sim.x.shape, sim.y.n_units, sim.treatment is None
    ((30,), 30, True)
    >>> sim.true_effect([0.25, 0.75]).tolist()
    [3.0, 3.0]
    """

    x: np.ndarray
    y: Distributions
    treatment: np.ndarray | None
    true_effect: Callable[[np.ndarray], np.ndarray]


def _real(value: float, name: str, *, minimum: float | None = None) -> float:
    """A finite real parameter of a design (text and bools refused)."""
    out = check_real(value, name)
    if minimum is not None and out < minimum:
        raise ValueError(f"`{name}` must be >= {minimum:g}; got {value!r}.")
    return out


def _pack(x: np.ndarray, draws: np.ndarray, treatment=None) -> Distributions:
    n, k = draws.shape
    return Distributions(draws.reshape(-1), np.arange(n + 1) * k, running=x, treatment=treatment)


def _sizes(n: int, n_draws: int) -> tuple[int, int]:
    """The number of units (>= 2) and the size of each unit's sample (>= 1)."""
    return check_int(n, "n", minimum=2), check_int(n_draws, "n_draws", minimum=1)


def _running(n: int, rng: RandomStateLike) -> tuple[np.random.Generator, np.ndarray]:
    """The generator of a design and its running variable ``X ~ U(-1, 1)`` (its first draw)."""
    g = check_random_state(rng, "rng")
    return g, g.uniform(-1.0, 1.0, n)


def _constant_effect(value: float) -> Callable[[np.ndarray], np.ndarray]:
    """The true effect curve of a pure location shift: ``value`` at every level."""
    return lambda q: np.full(np.shape(np.atleast_1d(q)), float(value))


# numpydoc fragments shared by the generators (``%(name)s`` lines in their docstrings)
_fill_doc = doc_filler(
    {
        "n_units": """\
n : int, default 500
    Number of units (>= 2).""",
        "n_draws": """\
n_draws : int, default 50
    Size of each unit's sample (>= 1).""",
        "rng_returns": """\
rng : None, int, SeedSequence or Generator
    Seed or generator.

Returns
-------
SimulatedRD
    Running variable, unit samples, treatment (None for sharp designs) and the true
    effect curve.""",
    }
)


@_fill_doc
def simulate_dgp1(
    n: int = 500, n_draws: int = 50, delta: float = 0.0, *, rng: RandomStateLike = None
) -> SimulatedRD:
    """DGP 1 of the paper: Gaussian units with a location shift at the cutoff.

    ``X ~ U(-1, 1)``; unit mean ``mu_i ~ N(5 + 5 X_i + delta 1{X_i >= 0}, 1)``; unit sd
    ``sigma_i = |N(1 + X_i, 1)|``; unit sample ``N(mu_i, sigma_i^2)`` of size ``n_draws``.
    The true effect is ``delta`` at every quantile.

    Parameters
    ----------
    %(n_units)s
    %(n_draws)s
    delta : float, default 0.0
        Location shift at the cutoff (the true effect).
    %(rng_returns)s

    Examples
    --------
    >>> sim = simulate_dgp1(n=100, n_draws=20, delta=1.0, rng=0)
    >>> sim.y.n_units, sim.true_effect([0.1, 0.9]).tolist()
    (100, [1.0, 1.0])
    """
    n, k = _sizes(n, n_draws)
    delta = _real(delta, "delta")
    g, x = _running(n, rng)
    mu = g.normal(5.0 + 5.0 * x + delta * (x >= 0), 1.0)
    sigma = np.abs(g.normal(1.0 + x, 1.0))
    draws = mu[:, None] + sigma[:, None] * g.standard_normal((n, k))
    return SimulatedRD(x, _pack(x, draws), None, _constant_effect(delta))


def _exgauss_ppf(q: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Quantiles of N(0, 1) + 2 Exp(rate), by numerical inversion of the exact CDF."""
    return stats.exponnorm.ppf(q, 2.0 / rate)


def dgp2_effect(q, delta: float, delta_lambda: float, n_nodes: int = 64) -> np.ndarray:
    """True effect curve of DGP 2 at levels ``q``.

    The unit quantile function is ``mu_i + delta 1{X >= 0} + F_lambda^{-1}(q)`` with
    ``F_lambda`` the CDF of ``N(0, 1) + 2 Exp(lambda)``; ``E[mu_i | X = 0] = 0`` on both
    sides and ``lambda ~ U(0.5, 1.5)`` (shifted by ``delta_lambda`` above the cutoff), so the
    effect is ``delta + E_lambda[F^{-1}_{lambda + delta_lambda}(q) - F^{-1}_lambda(q)]``.
    The expectation over ``lambda`` uses Gauss-Legendre quadrature with ``n_nodes`` nodes
    (the integrand is smooth in ``lambda``); each quantile is found by root-finding on the
    exact exponentially-modified-Gaussian CDF.
    """
    q = np.atleast_1d(np.asarray(q, dtype=float))
    nodes, wts = special.roots_legendre(n_nodes)
    lam = 1.0 + 0.5 * nodes  # U(0.5, 1.5)
    w = wts / wts.sum()
    up = _exgauss_ppf(q[:, None], lam[None, :] + delta_lambda) @ w
    lo = _exgauss_ppf(q[:, None], lam[None, :]) @ w
    return delta + up - lo


@_fill_doc
def simulate_dgp2(
    n: int = 500,
    n_draws: int = 50,
    delta: float = 0.0,
    delta_lambda: float = 0.0,
    *,
    rng: RandomStateLike = None,
) -> SimulatedRD:
    """DGP 2 of the paper: skewed units (Gaussian plus exponential) with shape effects.

    ``X ~ U(-1, 1)``; ``mu_i = U(-5, 5) + 2 X_i``; ``lambda_i ~ U(0.5, 1.5)``; unit sample
    ``N(mu_i + delta 1{X_i >= 0}, 1) + 2 Exp(rate = lambda_i + delta_lambda 1{X_i >= 0})``.
    The true effect curve (:func:`dgp2_effect`) is not constant when ``delta_lambda != 0``.

    Parameters
    ----------
    %(n_units)s
    %(n_draws)s
    delta : float, default 0.0
        Location shift at the cutoff.
    delta_lambda : float, default 0.0
        Shift of the exponential rate at the cutoff (> -0.5, so the rate stays positive).
    %(rng_returns)s

    Examples
    --------
    >>> sim = simulate_dgp2(n=50, n_draws=10, delta=0.5, delta_lambda=0.3, rng=1)
    >>> bool(np.all(np.diff(sim.true_effect([0.1, 0.5, 0.9])) < 0))
    True
    """
    n, k = _sizes(n, n_draws)
    delta = _real(delta, "delta")
    delta_lambda = _real(delta_lambda, "delta_lambda")
    if not 0.5 + delta_lambda > 0:
        raise ValueError("`delta_lambda` must keep the exponential rate positive (> -0.5).")
    g, x = _running(n, rng)
    treated = x >= 0
    mu = g.uniform(-5.0, 5.0, n) + 2.0 * x
    lam = g.uniform(0.5, 1.5, n) + delta_lambda * treated
    draws = (
        (mu + delta * treated)[:, None]
        + g.standard_normal((n, k))
        + 2.0 * g.standard_exponential((n, k)) / lam[:, None]
    )
    return SimulatedRD(x, _pack(x, draws), None, lambda q: dgp2_effect(q, delta, delta_lambda))


@_fill_doc
def simulate_normal(
    n: int = 200,
    n_draws: int = 50,
    effect: float = 3.0,
    *,
    slope: float = 0.5,
    sd: float = 0.5,
    fuzzy: bool = False,
    rng: RandomStateLike = None,
) -> SimulatedRD:
    """The R package's test design: draws ``N(5 + slope X + effect D, sd^2)``.

    Sharp: ``D = 1{X >= 0}``. Fuzzy: ``D ~ Bernoulli(0.1 + 0.8 1{X >= 0})``, so the
    first-stage jump is 0.8 and the local effect on compliers is ``effect``.
    ``X ~ U(-1, 1)``.

    Parameters
    ----------
    n : int, default 200
        Number of units (>= 2).
    %(n_draws)s
    effect : float, default 3.0
        The true effect at every quantile.
    slope : float, default 0.5
        Slope of the outcome in the running variable.
    sd : float, default 0.5
        Standard deviation of the draws (>= 0).
    fuzzy : bool, default False
        Fuzzy design (treatment returned) instead of a sharp one.
    %(rng_returns)s

    Examples
    --------
    >>> sim = simulate_normal(n=40, n_draws=5, fuzzy=True, rng=0)
    >>> set(np.unique(sim.treatment)) <= {0.0, 1.0}
    True
    """
    n, k = _sizes(n, n_draws)
    effect = _real(effect, "effect")
    slope = _real(slope, "slope")
    sd = _real(sd, "sd", minimum=0.0)
    fuzzy = check_bool(fuzzy, "fuzzy")
    g, x = _running(n, rng)
    if fuzzy:
        d = (g.random(n) < 0.1 + 0.8 * (x >= 0)).astype(float)
    else:
        d = (x >= 0).astype(float)
    draws = 5.0 + slope * x[:, None] + effect * d[:, None] + sd * g.standard_normal((n, k))
    t = d if fuzzy else None
    return SimulatedRD(
        x,
        _pack(x, draws, t),
        t,
        _constant_effect(effect),
    )
