"""Inverses, behavioural models and the paper's misspecification claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from irl_sensitivity import (
    BoltzmannModel,
    ImageError,
    MCEModel,
    OptimalModel,
    boltzmann_inverse,
    boltzmann_policy,
    canonicalize,
    image_condition,
    max_error,
    mce_inverse,
    mce_policy,
    misspecification_sweep,
    normalized_regret,
    optimal_policy,
    optimality_inverse,
    optimality_preserving,
    perturb_transition,
    potential_shaping,
    random_mdp,
    representative_error,
    s_redistribution,
    separation_probe,
    standardize,
    starc_distance,
    worst_case_error,
    worst_case_lower_bound,
)


@pytest.fixture(params=[(3, 2, 0), (5, 3, 1), (6, 2, 2)], ids=lambda p: f"S{p[0]}A{p[1]}")
def setup(request):
    s, a, seed = request.param
    rng = np.random.default_rng(seed)
    return random_mdp(s, a, gamma=0.9, rng=rng), rng.normal(size=(s, a, s)), rng


# ------------------------------------------------------------------ inverses
@pytest.mark.parametrize("temperature", [0.3, 1.0, 5.0])
@pytest.mark.parametrize(
    "policy, inverse",
    [(boltzmann_policy, boltzmann_inverse), (mce_policy, mce_inverse)],
    ids=["boltzmann", "mce"],
)
def test_forward_inverse_roundtrip(setup, policy, inverse, temperature):
    mdp, r, _ = setup
    pi = policy(mdp, r, temperature)
    rh = inverse(mdp, pi, temperature)
    assert np.abs(policy(mdp, rh, temperature) - pi).max() < 1e-10
    assert starc_distance(mdp, r, rh) < 1e-7  # sqrt of round-off in 2 - 2 cos
    assert starc_distance(mdp, r, rh, "minimal") < 1e-7


def test_ambiguity_set_gives_same_policy(setup):
    mdp, r, rng = setup
    for model in (BoltzmannModel(beta=2.0), MCEModel(temperature=0.5)):
        pi = model.policy(mdp, r)
        inv = model.inverse(mdp, pi)
        assert inv.exact
        other = inv.representative + (
            inv.basis @ rng.normal(scale=3, size=inv.basis.shape[1])
        ).reshape(r.shape)
        assert np.abs(model.policy(mdp, other) - pi).max() < 1e-10
    shaped = s_redistribution(mdp, potential_shaping(mdp, r, rng.normal(size=mdp.n_states)), rng)
    np.testing.assert_allclose(boltzmann_policy(mdp, shaped), boltzmann_policy(mdp, r), atol=1e-10)


def test_optimality_inverse_and_preserving(setup):
    mdp, r, rng = setup
    pi = optimal_policy(mdp, r)
    assert OptimalModel().in_image(mdp, pi)
    np.testing.assert_array_equal(optimal_policy(mdp, optimality_inverse(mdp, pi)), pi)
    np.testing.assert_array_equal(optimal_policy(mdp, optimality_preserving(mdp, r, rng)), pi)


def test_inverse_needs_full_support():
    mdp = random_mdp(2, 2, rng=0)
    pi = np.array([[1.0, 0.0], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"zero probability at \(state 0, action 1\).*Smooth"):
        boltzmann_inverse(mdp, pi)
    with pytest.raises(ValueError, match="needs full support"):
        mce_inverse(mdp, pi)
    with pytest.raises(ValueError, match=r"`policy` must have shape \(S, A\) = \(2, 2\)"):
        boltzmann_inverse(mdp, np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="rows must sum to 1"):
        mce_inverse(mdp, np.full((2, 2), 0.4))


# ------------------------------------------------------------------ image condition
def test_image_condition():
    mdp = random_mdp(4, 3, rng=0)
    r = np.random.default_rng(0).normal(size=(4, 3))
    assert not image_condition(mdp, OptimalModel(), BoltzmannModel(), rng=0)
    assert not image_condition(mdp, BoltzmannModel(), OptimalModel(), rng=0)
    assert image_condition(mdp, MCEModel(temperature=2.0), BoltzmannModel(), rng=0)
    with pytest.raises(ImageError, match="not in the image"):
        representative_error(mdp, r, OptimalModel(), BoltzmannModel())


# ------------------------------------------------------------------ paper claims
@pytest.mark.parametrize(
    ("true", "assumed"),
    [
        (BoltzmannModel(beta=3.0), BoltzmannModel(beta=0.5)),
        (MCEModel(temperature=0.2), MCEModel(temperature=4.0)),
    ],
)
def test_temperature_misspecification_is_harmless(setup, true, assumed):
    mdp, r, _ = setup
    assert representative_error(mdp, r, true, assumed) < 1e-7
    assert worst_case_error(mdp, r, true, assumed) < 1e-7


def test_discount_misspecification_small_representative_large_worst_case(setup):
    mdp, r, _ = setup
    true, assumed = BoltzmannModel(), BoltzmannModel(gamma=0.89)
    rep = representative_error(mdp, r, true, assumed)
    worst = worst_case_error(mdp, r, true, assumed)
    assert rep < 0.01
    # with a non-trivial ambiguity direction the infimum cosine is <= 0, so the
    # supremum is at least 0.5 * sqrt(2) on the paper's [0, 1] scale
    assert worst >= np.sqrt(0.5) - 1e-12
    assert worst > 100 * rep
    assert max_error(mdp, true, assumed, rng=0, n_starts=1) > 0.99


def test_transition_misspecification(setup):
    mdp, r, _ = setup
    t2 = perturb_transition(mdp, 0.01, rng=123)
    true, assumed = MCEModel(), MCEModel(transition=t2)
    assert representative_error(mdp, r, true, assumed) < 0.01
    assert worst_case_error(mdp, r, true, assumed) > 0.99


def test_closed_form_worst_case_dominates_search(setup):
    mdp, r, rng = setup
    true, assumed = BoltzmannModel(), BoltzmannModel(gamma=0.85)
    closed = worst_case_error(mdp, r, true, assumed)
    inv = assumed.inverse(mdp, true.policy(mdp, r))
    found = max(
        starc_distance(
            mdp,
            r,
            inv.representative
            + (
                inv.basis @ (rng.normal(size=inv.basis.shape[1]) * 10 ** rng.uniform(-1, 4))
            ).reshape(r.shape),
        )
        for _ in range(300)
    )
    assert found <= closed + 1e-12
    assert found > 0.5 * closed


def test_optimal_model_worst_case_at_least_lower_bound():
    mdp = random_mdp(3, 2, rng=4)
    r = np.random.default_rng(4).normal(size=(3, 2))
    true, assumed = OptimalModel(), OptimalModel(gamma=0.85)
    lb = worst_case_lower_bound(mdp, r, true, assumed)
    wc = worst_case_error(mdp, r, true, assumed, n_starts=2, rng=0)
    assert wc >= lb > 0.5
    assert representative_error(mdp, r, true, assumed) <= wc


def test_max_error_temperature_is_zero():
    mdp = random_mdp(3, 2, rng=5)
    assert (
        max_error(mdp, MCEModel(temperature=2.0), MCEModel(temperature=1.0), rng=0, n_starts=1)
        < 1e-6
    )
    rep, r_star = max_error(
        mdp,
        BoltzmannModel(),
        BoltzmannModel(gamma=0.8),
        rng=0,
        kind="representative",
        n_starts=1,
        return_reward=True,
    )
    assert 0.0 < rep <= 1.0 and r_star.shape == (3, 2)


def test_perturbation_probe(setup):
    mdp, r, _ = setup
    res = separation_probe(mdp, r, BoltzmannModel(), np.logspace(0, -8, 5))
    f = res.frame
    assert f["policy_distance"].iloc[-1] < 1e-7
    assert np.all(np.diff(f["policy_distance"]) < 0)
    np.testing.assert_allclose(f["reward_distance"], 1.0, atol=1e-12)
    assert "Perturbation probe" in str(res.summary())


# ------------------------------------------------------------------ sweeps and results
def test_sweep_summary_and_plot():
    import matplotlib

    matplotlib.use("Agg")
    mdp = random_mdp(4, 2, rng=0)
    r = np.random.default_rng(1).normal(size=(4, 2))
    res = misspecification_sweep(
        mdp, r, BoltzmannModel(), BoltzmannModel(), "gamma", [0.85, 0.9, 0.95]
    )
    assert isinstance(res.frame, pd.DataFrame)
    row = res.frame.set_index("value")
    assert row.loc[0.9, "worst_case_error"] < 1e-7 < row.loc[0.85, "worst_case_error"]
    text = str(res.summary())
    assert "Misspecification sweep" in text and "gamma" in text
    ax = res.plot()
    assert len(ax.lines) == 2
    with pytest.raises(AttributeError, match="immutable"):
        res.param = "beta"
    bad = misspecification_sweep(mdp, r, OptimalModel(), BoltzmannModel(), "beta", [1.0])
    assert not bad.frame["in_image"].iloc[0] and np.isnan(bad.frame["worst_case_error"].iloc[0])
    with pytest.raises(ValueError, match="`param` must be one of"):
        misspecification_sweep(mdp, r, BoltzmannModel(), BoltzmannModel(), "tau", [1.0])


def test_transition_sweep_monotone_structure():
    mdp = random_mdp(4, 2, rng=0)
    r = np.random.default_rng(1).normal(size=(4, 2))
    res = misspecification_sweep(
        mdp, r, BoltzmannModel(), BoltzmannModel(), "transition", [0.0, 0.05], rng=9
    )
    wc = res.frame["worst_case_error"].to_numpy()
    assert wc[0] < 1e-7 and wc[1] > 0.99


def test_model_arguments_checked():
    mdp = random_mdp(3, 2, rng=0)
    with pytest.raises(TypeError, match="`true_model` must be"):
        representative_error(mdp, np.zeros(3), "boltzmann", BoltzmannModel())
    with pytest.raises(ValueError, match="`beta` must be finite and > 0"):
        BoltzmannModel(beta=-1.0).policy(mdp, np.zeros(3))
    with pytest.raises(ValueError, match="Unknown parameter"):
        BoltzmannModel().with_params(alpha=1.0)


def test_review_regressions_models_and_errors():
    import pytest as _pytest

    from irl_sensitivity import (
        BoltzmannModel,
        ImageError,
        MCEModel,
        OptimalModel,
        max_error,
        random_mdp,
        worst_case_error,
    )

    # a model's first positional argument is its own parameter
    assert BoltzmannModel(5.0).beta == 5.0 and BoltzmannModel(5.0).gamma is None
    assert MCEModel(0.5).temperature == 0.5
    mdp = random_mdp(3, 2, rng=0)
    R = np.random.default_rng(0).normal(size=(3, 2))
    # optimal policies are not in the Boltzmann image: an error, not "0 error"
    with _pytest.raises(ImageError):
        max_error(mdp, OptimalModel(), BoltzmannModel(), rng=0, n_starts=1)
    with _pytest.raises(ValueError, match="`scale` must be > 0"):
        worst_case_error(mdp, R, BoltzmannModel(), BoltzmannModel(gamma=0.5), scale=-1)
    with _pytest.raises(ValueError, match="`canonicalization` must be one of"):
        max_error(mdp, BoltzmannModel(), BoltzmannModel(), canonicalization="bogus")
    with _pytest.raises(ValueError, match="`n_starts` must be >= 1"):
        max_error(mdp, BoltzmannModel(), BoltzmannModel(), n_starts=0)


# ------------------------------------------------------------------ discount convention
def test_discount_convention_true_environment_is_the_default():
    """Skalse & Abate (2024) measure with d^STARC of the demonstrator's environment: when
    the true model overrides gamma, a correctly specified assumed model has zero error in
    that environment, while measuring in ``mdp.gamma`` reports a large error."""
    mdp = random_mdp(4, 2, gamma=0.9, rng=0)
    r = np.random.default_rng(1).normal(size=(4, 2))
    true, same = BoltzmannModel(gamma=0.5), BoltzmannModel(gamma=0.5)
    assert worst_case_error(mdp, r, true, same) < 1e-12  # default: distance_in="true"
    assert worst_case_error(mdp, r, true, same, distance_in="true") < 1e-12
    assert representative_error(mdp, r, true, same) < 1e-12
    in_mdp = worst_case_error(mdp, r, true, same, distance_in="mdp")
    assert in_mdp > 0.9
    # the two conventions on a misspecified pair (reviewer's set-up: true gamma != mdp.gamma)
    assumed = BoltzmannModel()
    wc_true = worst_case_error(mdp, r, true, assumed)
    wc_mdp = worst_case_error(mdp, r, true, assumed, distance_in="mdp")
    assert wc_true > 0.9 and wc_mdp < 0.05
    # "true" equals "mdp" evaluated on the true model's own environment
    env = true.environment(mdp)
    assert wc_true == pytest.approx(
        worst_case_error(
            env, r, BoltzmannModel(), assumed.with_params(gamma=0.9), distance_in="mdp"
        ),
        abs=1e-12,
    )
    lb = worst_case_lower_bound(mdp, r, true, assumed, distance_in="mdp")
    assert lb == pytest.approx(wc_mdp, abs=1e-12)
    sweep = misspecification_sweep(mdp, r, true, assumed, "gamma", [0.5], distance_in="true")
    assert sweep.frame["worst_case_error"].iloc[0] < 1e-12
    with pytest.raises(ValueError, match="`distance_in` must be one of"):
        worst_case_error(mdp, r, true, assumed, distance_in="assumed")


# ------------------------------------------------------------------ research scale
def test_optimal_search_exact_gradient_matches_derivative_free_search():
    from irl_sensitivity import Misspecification

    mdp = random_mdp(4, 2, rng=0)
    r = np.random.default_rng(1).normal(size=(4, 2))
    true, assumed = OptimalModel(), OptimalModel(gamma=0.85)
    fast = worst_case_error(mdp, r, true, assumed, rng=0)
    problem = Misspecification(mdp, true, assumed)
    slow = problem._dense_search(r, true.policy(mdp, r), 6, np.random.default_rng(0))
    assert fast >= slow - 1e-9
    # the value of the previous (derivative-free, 12.5 s) implementation on this case
    assert fast == pytest.approx(0.902548375872266, abs=1e-9)


def test_max_error_optimal_model_is_fast_and_bounds_worst_case():
    mdp = random_mdp(4, 2, rng=0)
    true, assumed = OptimalModel(), OptimalModel(gamma=0.85)
    m, r_star = max_error(mdp, true, assumed, rng=0, n_starts=1, maxiter=5, return_reward=True)
    r = np.random.default_rng(1).normal(size=(4, 2))
    assert worst_case_error(mdp, r_star, true, assumed, rng=0) >= m - 1e-9
    assert 0.5 < m <= 1.0
    assert m >= worst_case_lower_bound(mdp, r, true, assumed) - 0.2
    with pytest.raises(TypeError, match="`return_reward` must be True or False"):
        max_error(mdp, true, assumed, rng=0, return_reward="yes")


# ------------------------------------------------------------------ sparse MDPs
def _sparse_copy(mdp):
    import scipy.sparse as sp

    from irl_sensitivity import TabularMDP

    mats = [sp.csr_matrix(mdp.transition[:, a, :]) for a in range(mdp.n_actions)]
    return TabularMDP(mats, mdp.initial, mdp.gamma)


SPARSE_CASES = {
    "starc_val": lambda m, r, r2: starc_distance(m, r, r2),
    "starc_minimal": lambda m, r, r2: starc_distance(m, r, r2, "minimal"),
    "starc_minimal_l1": lambda m, r, r2: starc_distance(m, r, r2, "minimal", norm=1),
    "starc_val_inf": lambda m, r, r2: starc_distance(m, r, r2, norm=np.inf),
    "starc_epic": lambda m, r, r2: starc_distance(m, r, r2, "epic"),
    "starc_dard": lambda m, r, r2: starc_distance(m, r, r2, "dard"),
    "shaping_distance": lambda m, r, r2: starc_distance(
        m, r, potential_shaping(m, r, np.arange(m.n_states, dtype=float))
    ),
    "shaping_expectation": lambda m, r, r2: m.expected_reward(
        potential_shaping(m, r, np.arange(m.n_states, dtype=float))
    ),
    "redistribution_expectation": lambda m, r, r2: m.expected_reward(s_redistribution(m, r, rng=0)),
    "optimality_preserving": lambda m, r, r2: optimal_policy(m, optimality_preserving(m, r, rng=1)),
    "boltzmann_inverse": lambda m, r, r2: m.expected_reward(
        boltzmann_inverse(m, boltzmann_policy(m, r, 2.0), 2.0)
    ),
    "optimality_inverse": lambda m, r, r2: m.expected_reward(
        optimality_inverse(m, optimal_policy(m, r))
    ),
    "representative": lambda m, r, r2: representative_error(
        m, r, BoltzmannModel(), BoltzmannModel(gamma=0.8)
    ),
    "worst_case": lambda m, r, r2: worst_case_error(
        m, r, BoltzmannModel(), BoltzmannModel(gamma=0.8)
    ),
    "worst_case_mce_transition": lambda m, r, r2: worst_case_error(
        m, r, MCEModel(), MCEModel(transition=perturb_transition(m, 0.1, rng=3))
    ),
    "worst_case_optimal": lambda m, r, r2: worst_case_error(
        m, r, OptimalModel(), OptimalModel(gamma=0.8), rng=0
    ),
    "worst_case_minimal": lambda m, r, r2: worst_case_error(
        m, r, MCEModel(), MCEModel(gamma=0.7), canonicalization="minimal"
    ),
    "max_error": lambda m, r, r2: max_error(
        m, BoltzmannModel(), BoltzmannModel(gamma=0.8), rng=0, n_starts=1, maxiter=3
    ),
    "sweep": lambda m, r, r2: (
        misspecification_sweep(m, r, MCEModel(), MCEModel(), "gamma", [0.8, 0.9])
        .frame["worst_case_error"]
        .to_numpy()
    ),
    "probe": lambda m, r, r2: (
        separation_probe(m, r, BoltzmannModel(), [1.0, 1e-3]).frame["reward_distance"].to_numpy()
    ),
    "image_condition": lambda m, r, r2: image_condition(m, MCEModel(), BoltzmannModel(), r),
    "canonicalize_val": lambda m, r, r2: m.expected_reward(canonicalize(m, r)),
    "canonicalize_minimal": lambda m, r, r2: m.expected_reward(canonicalize(m, r, "minimal")),
    "standardize_minimal": lambda m, r, r2: m.expected_reward(standardize(m, r, "minimal")),
    "normalized_regret": lambda m, r, r2: normalized_regret(m, r, r2),
}


@pytest.mark.parametrize("case", sorted(SPARSE_CASES))
def test_sparse_and_dense_mdps_give_equal_results(case):
    mdp = random_mdp(5, 3, rng=7)
    rng = np.random.default_rng(8)
    r, r2 = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    dense = SPARSE_CASES[case](mdp, r, r2)
    sparse = SPARSE_CASES[case](_sparse_copy(mdp), r, r2)
    np.testing.assert_allclose(np.asarray(sparse, float), np.asarray(dense, float), atol=1e-9)


def test_sparse_irl_with_reference_matches_dense():
    from irl_sensitivity import BoltzmannIRL, sample_trajectories

    mdp = random_mdp(5, 2, rng=1)
    r = np.random.default_rng(2).normal(size=(5, 2))
    trajs = sample_trajectories(mdp, boltzmann_policy(mdp, r), 30, 10, rng=3)
    d = BoltzmannIRL().fit(mdp, trajs, reference=r).distance_
    s = BoltzmannIRL().fit(_sparse_copy(mdp), trajs, reference=r).distance_
    assert s == pytest.approx(d, abs=1e-12)
    sp_trajs = sample_trajectories(_sparse_copy(mdp), np.full((5, 2), 0.5), 3, 4, rng=0)
    assert len(sp_trajs) == 3 and sp_trajs[0].shape == (4, 2)


def test_inverse_set_on_sparse_mdp_is_in_the_sa_representation():
    mdp = random_mdp(4, 2, rng=3)
    sparse = _sparse_copy(mdp)
    r = np.random.default_rng(0).normal(size=(4, 2))
    model = BoltzmannModel(beta=2.0)
    inv = model.inverse(sparse, model.policy(sparse, r))
    assert inv.representative.shape == (4, 2) and inv.basis.shape == (8, 4)
    moved = inv.representative + (inv.basis @ np.arange(1.0, 5.0)).reshape(4, 2)
    np.testing.assert_allclose(model.policy(sparse, moved), model.policy(mdp, r), atol=1e-10)
