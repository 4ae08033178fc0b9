"""The non-L2 path of ``worst_case_error`` (norm=1 and norm=inf: a search over the inverse
set, not the L2 closed form).

``worst_case_error`` returns the value only (no maximising reward), so membership of the
searched rewards in the inverse set is checked on the set the search parametrises
(``assumed_model.inverse(mdp, pi)``: representative + span of the basis), and the returned
supremum is checked to dominate the distance to any member of that set.
"""

from __future__ import annotations

import numpy as np
import pytest

from irl_sensitivity import (
    BoltzmannModel,
    MCEModel,
    OptimalModel,
    random_mdp,
    representative_error,
    starc_distance,
    worst_case_error,
)

NORMS = pytest.mark.parametrize("norm", [1, np.inf], ids=["L1", "Linf"])
MISSPECIFIED = [
    (BoltzmannModel(), BoltzmannModel(gamma=0.85)),
    (MCEModel(), MCEModel(gamma=0.8)),
    (OptimalModel(), OptimalModel(gamma=0.85)),
]


@pytest.fixture(scope="module")
def env():
    rng = np.random.default_rng(1)
    mdp = random_mdp(3, 2, gamma=0.9, rng=rng)
    return mdp, rng.normal(size=(3, 2, 3))


@NORMS
@pytest.mark.parametrize(("true", "assumed"), MISSPECIFIED, ids=["boltzmann", "mce", "optimal"])
def test_in_unit_interval_and_above_representative(env, norm, true, assumed):
    mdp, r = env
    wc = worst_case_error(mdp, r, true, assumed, norm=norm, scale=0.5, n_starts=1, rng=0)
    rep = representative_error(mdp, r, true, assumed, norm=norm, scale=0.5)
    assert 0.0 <= rep <= wc <= 1.0
    # a discount misspecification leaves a large ambiguity: the sup is far from zero
    assert wc > 0.45


@pytest.mark.parametrize(
    ("norm", "model"), [(1, MCEModel(temperature=2.0)), (np.inf, BoltzmannModel(beta=0.5))]
)
def test_zero_when_models_agree(env, norm, model):
    mdp, r = env
    wc = worst_case_error(mdp, r, model, model, norm=norm, n_starts=1, rng=0)
    assert 0.0 <= wc < 1e-9
    assert representative_error(mdp, r, model, model, norm=norm) < 1e-9


@NORMS
@pytest.mark.parametrize(("true", "assumed"), MISSPECIFIED[:2], ids=["boltzmann", "mce"])
def test_searched_set_is_the_inverse_set_and_sup_dominates_it(env, norm, true, assumed):
    mdp, r = env
    pi = true.policy(mdp, r)
    inv = assumed.inverse(mdp, pi)
    wc = worst_case_error(mdp, r, true, assumed, norm=norm, n_starts=1, rng=0)
    g = np.random.default_rng(5)
    best = 0.0
    for _ in range(20):
        theta = g.normal(size=inv.basis.shape[1]) * 10 ** g.uniform(-1, 2)
        r1 = inv.representative + (inv.basis @ theta).reshape(inv.representative.shape)
        # a member of the inverse set: the assumed model maps it to the true policy
        np.testing.assert_allclose(assumed.policy(mdp, r1), pi, atol=1e-8)
        best = max(best, starc_distance(mdp, r, r1, norm=norm))
    assert best <= wc + 1e-9
    assert best > 0.3 * wc  # random members get a fair share of the way to the sup
