"""Numerical core: structural equations, interventional samples and worst-case risk.

All functions are pure: data are dictionaries ``node -> 1-D array``, models are fitted
scikit-learn regressors passed in, randomness comes from an explicit Generator.

The worst-case risk of a stable predictor ``f`` (a function of ``X_S'`` and ``X_M``) is

    sup_g E_g[(Y - f(X_S', X_M))^2],

where under ``g`` every mutable variable is set to ``X_m := g_m(PA_m)`` and every descendant
of the mutable variables is regenerated through its (stable, estimated) structural equation
with resampled residuals; all other variables keep their observed values. The functions
``g_m`` are ``g_m(pa) = mean_m + sd_m * w_m' phi_m(pa)`` with features ``phi_m`` of the
standardised parents (an intercept, the parents themselves and, for ``basis="rff"``, random
Fourier features approximating a Gaussian-kernel RKHS) and the norm bound
``||w_m||_2 <= bound``. The supremum is approximated by a batched, derivative-free local
search (a (1, lambda) evolution strategy with step-size halving) from several restarts.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sklearn.base import clone

__all__ = [
    "FeatureMap",
    "InterventionModel",
    "StructuralModel",
    "do_sample",
    "fit_structural_equations",
    "intervened_risk",
    "maximize_risk",
]

Basis = Literal["linear", "rff"]


@dataclass(frozen=True)
class InterventionModel:
    """Function class of the interventions on the mutable mechanisms, and its optimiser.

    Each mutable variable is replaced by ``g_m(pa) = mean_m + sd_m * w' phi(z)``, where ``z``
    are the parents standardised with the training means and standard deviations, ``phi(z)``
    is ``[1, z]`` (``basis="linear"``) or ``[1, z, sqrt(2/D) cos(Omega z + b)]`` with ``D``
    random Fourier features of a Gaussian kernel (``basis="rff"``), and ``||w||_2 <= bound``.
    ``bound`` is in units of the mutable variable's standard deviation; it sets how far the
    adversary may move the mutable mechanisms (the estimated worst-case risk grows with it).

    Parameters
    ----------
    basis : {"linear", "rff"}, default "linear"
    bound : float, default 4.0
        Norm bound of each ``w_m``.
    n_components : int, default 10
        Random Fourier features per mutable variable (``basis="rff"`` only).
    length_scale : float, default 1.0
        Kernel length scale of the random features (on the standardised parents).
    n_restarts : int, default 4
        Independent starting points of the maximisation.
    n_iter : int, default 12
        Iterations of the local search per restart.
    batch : int, default 8
        Candidate perturbations per restart and iteration (evaluated in one batch).
    n_eval : int, default 400
        Observations (subsampled) on which the intervened risk is evaluated.
    standardize : bool, default False
        Evaluate the loss in per-environment standardised units: under each intervention, the
        response, the kept stable variables and the mutable variables are z-scored within the
        intervened sample before the prediction and the squared error are computed. Use it when
        deployment data (test environments) are standardised with their own statistics, as in
        the paper's evaluation protocol: the worst case is then taken over the shifts that
        survive that standardisation (changes of dependence, not of location or scale).

    Examples
    --------
    >>> InterventionModel(bound=1.5).bound
    1.5
    """

    basis: Basis = "linear"
    bound: float = 4.0
    n_components: int = 10
    length_scale: float = 1.0
    n_restarts: int = 4
    n_iter: int = 12
    batch: int = 8
    n_eval: int = 400
    standardize: bool = False

    def validated(self) -> InterventionModel:
        """Return ``self`` after checking every field (raises a clear error otherwise)."""
        from causalminimax._door import check_real
        from estkit import check_bool, check_int, check_option

        check_option(self.basis, "intervention_model.basis", ("linear", "rff"))
        check_real(self.bound, "intervention_model.bound", positive=True)
        check_real(self.length_scale, "intervention_model.length_scale", positive=True)
        check_int(self.n_components, "intervention_model.n_components", minimum=1)
        check_int(self.n_restarts, "intervention_model.n_restarts", minimum=1)
        check_int(self.n_iter, "intervention_model.n_iter", minimum=0)
        check_int(self.batch, "intervention_model.batch", minimum=1)
        check_int(self.n_eval, "intervention_model.n_eval", minimum=10)
        check_bool(self.standardize, "intervention_model.standardize")
        return self


@dataclass
class StructuralModel:
    """Fitted structural equations of the regenerated variables.

    Attributes
    ----------
    order : tuple
        Topological order of all nodes.
    parents : dict
        Parents of each node (topological order).
    mutable : tuple
    regenerated : tuple
        Non-mutable descendants of the mutable variables, in topological order.
    models : dict
        Fitted regressor of each regenerated variable on its parents.
    residuals : dict
        In-sample residuals of each regenerated variable.
    mean, sd : dict
        Training mean and standard deviation of every node.
    """

    order: tuple[Hashable, ...]
    parents: dict[Hashable, tuple[Hashable, ...]]
    mutable: tuple[Hashable, ...]
    regenerated: tuple[Hashable, ...]
    models: dict[Hashable, Any] = field(default_factory=dict)
    residuals: dict[Hashable, np.ndarray] = field(default_factory=dict)
    mean: dict[Hashable, float] = field(default_factory=dict)
    sd: dict[Hashable, float] = field(default_factory=dict)


def _design(data: dict[Hashable, np.ndarray], cols: Sequence[Hashable], n: int) -> np.ndarray:
    if not cols:
        return np.zeros((n, 0))
    return np.column_stack([data[c] for c in cols])


def fit_structural_equations(
    data: dict[Hashable, np.ndarray],
    order: Sequence[Hashable],
    parents: dict[Hashable, tuple[Hashable, ...]],
    mutable: Sequence[Hashable],
    regenerated: Sequence[Hashable],
    estimator: Any,
) -> StructuralModel:
    """Fit ``X_v = f_v(PA_v) + e_v`` for every regenerated variable ``v``.

    Parameters
    ----------
    data : dict
        Node -> observed values (pooled over the training environments).
    order, parents, mutable, regenerated
        Graph information (see :class:`StructuralModel`).
    estimator : scikit-learn regressor
        Template cloned for each equation.

    Returns
    -------
    StructuralModel

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> m = rng.normal(size=200); x = 2 * m + 0.1 * rng.normal(size=200)
    >>> sm = fit_structural_equations({"M": m, "X": x}, ["M", "X"], {"M": (), "X": ("M",)},
    ...                               ["M"], ["X"], LinearRegression())
    >>> round(float(sm.models["X"].coef_[0]), 1)
    2.0
    """
    n = len(next(iter(data.values())))
    sm = StructuralModel(
        order=tuple(order),
        parents=dict(parents),
        mutable=tuple(mutable),
        regenerated=tuple(regenerated),
    )
    for v in order:
        sm.mean[v] = float(np.mean(data[v]))
        sd = float(np.std(data[v]))
        sm.sd[v] = sd if sd > 0 else 1.0
    for v in regenerated:
        xv = _design(data, parents[v], n)
        model = clone(estimator).fit(xv, data[v])
        sm.models[v] = model
        sm.residuals[v] = np.asarray(data[v] - model.predict(xv), dtype=float)
    return sm


def _regenerate(
    sm: StructuralModel,
    values: dict[Hashable, np.ndarray],
    noise: dict[Hashable, np.ndarray],
    set_mutable: Any,
) -> dict[Hashable, np.ndarray]:
    """Walk the topological order: mutable variables from ``set_mutable``, regenerated ones
    through their equation plus ``noise``; other nodes keep ``values``."""
    out = dict(values)
    n = len(next(iter(values.values())))
    regen = set(sm.regenerated)
    for v in sm.order:
        if v in sm.mutable:
            out[v] = set_mutable(v, out)
        elif v in regen:
            out[v] = sm.models[v].predict(_design(out, sm.parents[v], n)) + noise[v]
    return out


def do_sample(
    sm: StructuralModel,
    data: dict[Hashable, np.ndarray],
    n_samples: int,
    rng: np.random.Generator,
) -> dict[Hashable, np.ndarray]:
    """Sample from the graph-surgery distribution ``P(. | do(X_M))`` with random ``X_M``.

    Rows of the non-regenerated, non-mutable variables are resampled jointly; each mutable
    variable is drawn from its own marginal, independently of everything else (so the edges
    into ``M`` are cut); descendants of ``M`` are regenerated with resampled residuals.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=500); m = y + 0.1 * rng.normal(size=500)
    >>> sm = fit_structural_equations({"Y": y, "M": m}, ["Y", "M"], {"Y": (), "M": ("Y",)},
    ...                               ["M"], [], LinearRegression())
    >>> s = do_sample(sm, {"Y": y, "M": m}, 2000, rng)
    >>> bool(abs(np.corrcoef(s["Y"], s["M"])[0, 1]) < 0.1)
    True
    """
    n = len(next(iter(data.values())))
    rows = rng.integers(0, n, n_samples)
    values = {v: np.asarray(data[v])[rows] for v in sm.order}
    mut_rows = {m: rng.integers(0, n, n_samples) for m in sm.mutable}
    noise = {v: sm.residuals[v][rng.integers(0, n, n_samples)] for v in sm.regenerated}
    return _regenerate(sm, values, noise, lambda m, _: np.asarray(data[m])[mut_rows[m]])


@dataclass(frozen=True)
class FeatureMap:
    """Features ``phi_m`` of each mutable variable's standardised parents."""

    parents: dict[Hashable, tuple[Hashable, ...]]
    omega: dict[Hashable, np.ndarray]
    offset: dict[Hashable, np.ndarray]
    sizes: dict[Hashable, int]

    @classmethod
    def build(
        cls,
        sm: StructuralModel,
        model: InterventionModel,
        rng: np.random.Generator,
    ) -> FeatureMap:
        """Draw the random features (if any) for every mutable variable."""
        omega, offset, sizes = {}, {}, {}
        for m in sm.mutable:
            k = len(sm.parents[m])
            d = 1 + k
            if model.basis == "rff" and k > 0:
                omega[m] = rng.normal(0.0, 1.0 / model.length_scale, (model.n_components, k))
                offset[m] = rng.uniform(0.0, 2 * np.pi, model.n_components)
                d += model.n_components
            sizes[m] = d
        return cls({m: sm.parents[m] for m in sm.mutable}, omega, offset, sizes)

    @property
    def n_params(self) -> int:
        """Total number of intervention parameters."""
        return int(sum(self.sizes.values()))

    def blocks(self) -> list[slice]:
        """Slices of the parameter vector belonging to each mutable variable."""
        out, start = [], 0
        for m in self.sizes:
            out.append(slice(start, start + self.sizes[m]))
            start += self.sizes[m]
        return out

    def features(self, m: Hashable, values: dict[Hashable, np.ndarray], sm: StructuralModel):
        """``phi_m`` evaluated at the current parent values (rows x features)."""
        n = len(next(iter(values.values())))
        cols = [np.ones(n)]
        z = [(values[p] - sm.mean[p]) / sm.sd[p] for p in self.parents[m]]
        cols.extend(z)
        if m in self.omega:
            zz = np.column_stack(z)
            proj = zz @ self.omega[m].T + self.offset[m]
            rff = np.sqrt(2.0 / self.omega[m].shape[0]) * np.cos(proj)
            cols.extend(rff.T)
        return np.column_stack(cols)


def _project(theta: np.ndarray, blocks: list[slice], bound: float) -> np.ndarray:
    """Project each block of each row of ``theta`` onto the ball of radius ``bound``."""
    out = theta.copy()
    for b in blocks:
        nrm = np.linalg.norm(out[:, b], axis=1, keepdims=True)
        scale = np.minimum(1.0, bound / np.maximum(nrm, 1e-300))
        out[:, b] *= scale
    return out


def _zscore(a: np.ndarray, k: int, n: int) -> np.ndarray:
    """Standardise each of the ``k`` blocks of ``n`` values (a constant block becomes 0)."""
    b = np.asarray(a, dtype=float).reshape(k, n)
    sd = b.std(axis=1, keepdims=True)
    sd[sd <= 1e-12 * np.maximum(1.0, np.abs(b).max(axis=1, keepdims=True))] = 1.0
    return ((b - b.mean(axis=1, keepdims=True)) / sd).ravel()


def intervened_risk(
    thetas: np.ndarray,
    sm: StructuralModel,
    fmap: FeatureMap,
    base: dict[Hashable, np.ndarray],
    noise: dict[Hashable, np.ndarray],
    predictor: Any,
    inputs: Sequence[Hashable],
    target: Hashable,
    standardize: bool = False,
) -> np.ndarray:
    """Mean squared error of ``predictor`` under each intervention in ``thetas`` (batched).

    Parameters
    ----------
    thetas : ndarray of shape (k, n_params)
    sm : StructuralModel
    fmap : FeatureMap
    base : dict
        Observed values (evaluation sample of size n) of every node.
    noise : dict
        Fixed residual draws (size n) of each regenerated variable.
    predictor : fitted regressor
        The stable predictor, a function of ``inputs``.
    inputs : sequence
        Predictor columns (``S' ∪ M``).
    target : hashable
    standardize : bool, default False
        z-score the target and the inputs within each intervened sample (see
        :class:`InterventionModel`).

    Returns
    -------
    ndarray of shape (k,)
    """
    thetas = np.atleast_2d(thetas)
    k = thetas.shape[0]
    n = len(next(iter(base.values())))
    values = {v: np.tile(np.asarray(a), k) for v, a in base.items()}
    noise_k = {v: np.tile(a, k) for v, a in noise.items()}
    blocks = dict(zip(fmap.sizes, fmap.blocks(), strict=True))

    def set_mutable(m: Hashable, cur: dict[Hashable, np.ndarray]) -> np.ndarray:
        phi = fmap.features(m, cur, sm).reshape(k, n, -1)
        w = thetas[:, blocks[m]]
        return sm.mean[m] + sm.sd[m] * np.einsum("knd,kd->kn", phi, w).ravel()

    out = _regenerate(sm, values, noise_k, set_mutable)
    if standardize:
        out = {v: _zscore(out[v], k, n) for v in (*inputs, target)}
    pred = predictor.predict(_design(out, inputs, n * k))
    err = (out[target] - pred).reshape(k, n)
    return np.mean(err**2, axis=1)


def maximize_risk(
    risk: Any,
    fmap: FeatureMap,
    model: InterventionModel,
    rng: np.random.Generator,
) -> tuple[float, np.ndarray]:
    """Maximise ``risk(thetas) -> risks`` over the norm-bounded intervention parameters.

    A batched (1, lambda) evolution strategy from ``model.n_restarts`` random starting
    points on the boundary of the ball; each iteration evaluates ``model.batch`` Gaussian
    perturbations of every restart's current point in one call, moves to the best
    improvement or halves the step size.

    Returns
    -------
    (float, ndarray)
        The largest risk found and its parameter vector.

    Examples
    --------
    >>> fm = FeatureMap({"M": ()}, {}, {}, {"M": 1})
    >>> best, theta = maximize_risk(lambda t: (t[:, 0] - 0.5) ** 2, fm,
    ...                             InterventionModel(bound=1.0), np.random.default_rng(0))
    >>> round(best, 2), round(float(theta[0]), 2)
    (2.25, -1.0)
    """
    blocks = fmap.blocks()
    p = fmap.n_params
    r = model.n_restarts
    start = rng.normal(size=(r, p))
    for b in blocks:
        start[:, b] *= model.bound / np.maximum(
            np.linalg.norm(start[:, b], axis=1, keepdims=True), 1e-12
        )
    start[0] = 0.0  # one restart from the observational-like centre
    cur = _project(start, blocks, model.bound)
    cur_val = np.asarray(risk(cur), dtype=float)
    step = np.full(r, model.bound / 2.0)
    for _ in range(model.n_iter):
        cand = cur[:, None, :] + step[:, None, None] * rng.normal(size=(r, model.batch, p))
        cand = _project(cand.reshape(r * model.batch, p), blocks, model.bound)
        vals = np.asarray(risk(cand), dtype=float).reshape(r, model.batch)
        j = np.argmax(vals, axis=1)
        best = vals[np.arange(r), j]
        better = best > cur_val
        cur[better] = cand.reshape(r, model.batch, p)[better, j[better]]
        cur_val[better] = best[better]
        step[~better] *= 0.5
    i = int(np.argmax(cur_val))
    return float(cur_val[i]), cur[i].copy()
