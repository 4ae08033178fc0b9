"""Brute-force check: subsets in one class share the population regression function.

On a linear-Gaussian SEM in which the mutable variables are intervened on (independent of
their parents), ``E[Y | X_S', X_M]`` is linear with exact coefficients computed from the
covariance matrix. Members of one class must give identical coefficients (zero on variables
outside the representative), and different classes different ones.
"""

from __future__ import annotations

import numpy as np

from causalminimax import equivalence_classes
from causalminimax.datasets import simulation_graph


def _interventional_covariance(g, order, mutable, rng):
    idx = {v: i for i, v in enumerate(order)}
    p = len(order)
    b = np.zeros((p, p))
    for u, v in g.edges:
        if v in mutable:
            continue  # graph surgery: the mutable variables lose their parents
        b[idx[v], idx[u]] = rng.choice([-1, 1]) * rng.uniform(0.5, 1.5)
    a = np.linalg.inv(np.eye(p) - b)
    return a @ np.diag(rng.uniform(0.5, 1.5, p)) @ a.T


def _coefficients(sigma, order, inputs):
    idx = {v: i for i, v in enumerate(order)}
    z = [idx[v] for v in inputs]
    beta = np.linalg.solve(sigma[np.ix_(z, z)], sigma[z, idx["Y"]])
    return dict(zip(inputs, beta, strict=True))


def test_members_of_a_class_share_the_gaussian_regression_function():
    g = simulation_graph(augmented=False)
    mutable = ["X9", "X10"]
    order = ["Y", *[f"X{i}" for i in range(1, 11)]]
    rng = np.random.default_rng(7)
    sigma = _interventional_covariance(g, order, set(mutable), rng)
    stable = [f"X{i}" for i in range(1, 9)]
    heads = []
    for cls in equivalence_classes(g, target="Y", mutable=mutable):
        ref = None
        for subset in cls:
            inputs = [v for v in stable if v in subset] + mutable
            coef = _coefficients(sigma, order, inputs)
            full = np.array([coef.get(v, 0.0) for v in stable + mutable])
            if ref is None:
                ref = full
            np.testing.assert_allclose(full, ref, atol=1e-10, rtol=0)
        # variables of the representative all carry signal
        assert all(abs(ref[stable.index(v)]) > 1e-8 for v in cls[0])
        heads.append(ref)
    heads = np.array(heads)
    dist = np.abs(heads[:, None, :] - heads[None, :, :]).max(axis=2)
    assert np.all(dist[~np.eye(len(heads), dtype=bool)] > 1e-6)


def test_ols_on_large_sample_agrees_within_a_class():
    # finite-sample version on the small graph: Y -> X1 -> X2, Y -> X3 -> X4, X1 -> X3
    rng = np.random.default_rng(0)
    n = 200_000
    y = rng.normal(size=n)
    x1 = 0.8 * y + rng.normal(size=n)
    x2 = 0.9 * x1 + rng.normal(size=n)
    x3 = 0.7 * y - 0.6 * x1 + rng.normal(size=n)
    x4 = 1.1 * x3 + rng.normal(size=n)
    cols = {"X1": x1, "X2": x2, "X3": x3, "X4": x4}
    edges = [("Y", "X1"), ("X1", "X2"), ("Y", "X3"), ("X3", "X4"), ("X1", "X3")]
    for cls in equivalence_classes(edges, target="Y", mutable=[]):
        fits = []
        for subset in cls:
            names = sorted(subset)
            design = np.column_stack([np.ones(n)] + [cols[c] for c in names])
            beta = np.linalg.lstsq(design, y, rcond=None)[0]
            fits.append({c: b for c, b in zip(names, beta[1:], strict=True)})
        for f in fits[1:]:
            for c in ["X1", "X2", "X3", "X4"]:
                assert abs(f.get(c, 0.0) - fits[0].get(c, 0.0)) < 0.02
