"""Issue 12: StarcMetric / Misspecification, one vocabulary, results objects."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import irl_sensitivity as irl
from irl_sensitivity import (
    BoltzmannIRL,
    BoltzmannModel,
    FeatureMCEIRL,
    IRLResults,
    MaxCausalEntropyIRL,
    MCEModel,
    Misspecification,
    OptimalModel,
    StarcMetric,
    TabularIRL,
    boltzmann_policy,
    image_condition,
    max_error,
    mce_inverse,
    mce_policy,
    misspecification_sweep,
    random_mdp,
    representative_error,
    sample_trajectories,
    soft_value_iteration,
    standardize,
    starc_distance,
    worst_case_error,
    worst_case_lower_bound,
)

MDP = random_mdp(4, 2, rng=0)
R = np.random.default_rng(1).normal(size=(4, 2))
R3 = np.random.default_rng(2).normal(size=(4, 2, 4))


# ------------------------------------------------------------------ StarcMetric
@pytest.mark.parametrize("canon", ["val", "minimal", "epic", "dard"])
@pytest.mark.parametrize("norm", [1, 2, np.inf])
def test_starc_metric_matches_functions(canon, norm):
    metric = StarcMetric(MDP, canon, norm, scale=1.0)
    assert metric.distance(R, R3) == starc_distance(MDP, R, R3, canon, norm, 1.0)
    np.testing.assert_array_equal(metric.standardize(R3), standardize(MDP, R3, canon, norm))
    # the cached map is reused: a second call gives the same number
    assert metric.distance(R, R3) == metric.distance(R, R3)


def test_starc_metric_attributes_repr_and_validation():
    metric = StarcMetric(MDP, "minimal", 1, scale=0.25)
    assert (metric.canonicalization, metric.norm, metric.scale) == ("minimal", 1.0, 0.25)
    assert metric.weights is None and metric.policy is None and metric.mdp is MDP
    assert repr(metric) == (
        "StarcMetric(canonicalization='minimal', norm=1.0, scale=0.25, weights=None, policy=None)"
    )
    assert round(metric.distance(R, -R), 12) == 0.5  # 2 * scale
    with pytest.raises(ValueError, match="`canonicalization` must be one of"):
        StarcMetric(MDP, "bogus")
    with pytest.raises(ValueError, match=r"`norm` must be 1, 2 or numpy\.inf"):
        StarcMetric(MDP, "val", 3)
    with pytest.raises(ValueError, match="`scale` must be > 0"):
        StarcMetric(MDP, scale=0.0)
    with pytest.raises(TypeError, match="`mdp` must be a TabularMDP"):
        StarcMetric(np.ones((2, 1, 2)))


# ------------------------------------------------------------------ Misspecification
CASES = [
    (BoltzmannModel(), BoltzmannModel(gamma=0.8)),
    (MCEModel(2.0), MCEModel(0.5, gamma=0.7)),
    (OptimalModel(), OptimalModel(gamma=0.85)),
]


@pytest.mark.parametrize(("g", "f"), CASES)
def test_misspecification_methods_equal_the_functions(g, f):
    problem = Misspecification(MDP, g, f)
    assert problem.representative(R3) == representative_error(MDP, R3, g, f)
    assert problem.lower_bound(R) == worst_case_lower_bound(MDP, R, g, f)
    wc = problem.worst_case(R, n_starts=2, rng=0)
    assert wc == worst_case_error(MDP, R, g, f, n_starts=2, rng=0)
    # no warm start carried from one call to the next: the same rng gives the same value
    assert problem.worst_case(R, n_starts=2, rng=0) == wc
    m = problem.max_error(n_starts=1, maxiter=3, rng=0)
    assert m == max_error(MDP, g, f, n_starts=1, maxiter=3, rng=0)
    assert problem.image_condition(rng=0) == image_condition(MDP, g, f, rng=0)


def test_misspecification_metric_carries_the_environment_and_options():
    g, f = MCEModel(gamma=0.6), MCEModel(gamma=0.8)
    metric = StarcMetric(MDP, "minimal", 1, scale=1.0)  # measured in `mdp`, not g's env
    problem = Misspecification(MDP, g, f, metric)
    assert problem.metric is metric
    expected = representative_error(
        MDP, R, g, f, canonicalization="minimal", norm=1, scale=1.0, distance_in="mdp"
    )
    assert problem.representative(R) == expected
    # the default metric is the paper's: "val", L2, scale 0.5 in the true model's environment
    default = Misspecification(MDP, g, f)
    assert default.metric.mdp.gamma == 0.6
    assert (default.metric.canonicalization, default.metric.norm, default.metric.scale) == (
        "val",
        2.0,
        0.5,
    )
    assert "Misspecification(true_model=MCE(" in repr(default)


def test_misspecification_validation():
    with pytest.raises(TypeError, match="`metric` must be a StarcMetric"):
        Misspecification(MDP, BoltzmannModel(), BoltzmannModel(), "val")
    with pytest.raises(ValueError, match="`metric` is defined on an MDP with 3 states"):
        Misspecification(MDP, BoltzmannModel(), BoltzmannModel(), StarcMetric(random_mdp(3, 2)))
    with pytest.raises(TypeError, match="`assumed_model` must be a BoltzmannModel"):
        Misspecification(MDP, BoltzmannModel(), "Boltzmann")
    problem = Misspecification(MDP, BoltzmannModel(), MCEModel(), StarcMetric(MDP, norm=1))
    with pytest.raises(ValueError, match="needs an L2 metric"):
        problem.lower_bound(R)
    with pytest.raises(irl.ImageError, match="not in the image"):
        Misspecification(MDP, OptimalModel(), BoltzmannModel()).representative(R)
    with pytest.raises(ValueError, match="`kind` must be one of"):
        problem.max_error(kind="bogus")


# ------------------------------------------------------------------ vocabulary
def test_max_error_rng_keyword_and_deprecated_forms():
    g, f = BoltzmannModel(), BoltzmannModel(gamma=0.8)
    new = max_error(MDP, g, f, rng=3, n_starts=1, maxiter=3)
    with pytest.warns(FutureWarning, match="random_state"):
        assert max_error(MDP, g, f, random_state=3, n_starts=1, maxiter=3) == new
    with pytest.warns(FutureWarning, match="passing `rng` positionally"):
        assert max_error(MDP, g, f, 3, n_starts=1, maxiter=3) == new
    with pytest.raises(TypeError, match="takes 3 positional arguments but 5"):
        max_error(MDP, g, f, 3, 4)
    # a call naming both forms is an error, raised before any deprecation warning
    with pytest.raises(TypeError, match="got `rng` twice"):
        max_error(MDP, g, f, random_state=3, rng=3)
    assert "rng" in inspect.signature(max_error).parameters


def test_temperature_is_one_name():
    assert MCEModel(0.5).temperature == 0.5
    with pytest.warns(FutureWarning, match="`alpha` of MCEModel is renamed `temperature`"):
        old = MCEModel(alpha=0.5)
    assert old == MCEModel(temperature=0.5)
    new = mce_policy(MDP, R, temperature=0.5)
    with pytest.warns(FutureWarning, match="`alpha` of mce_policy"):
        np.testing.assert_array_equal(mce_policy(MDP, R, alpha=0.5), new)
    with pytest.warns(FutureWarning, match="`alpha` of mce_inverse"):
        np.testing.assert_array_equal(
            mce_inverse(MDP, new, alpha=0.5), mce_inverse(MDP, new, temperature=0.5)
        )
    with pytest.warns(FutureWarning, match="`alpha` of soft_value_iteration"):
        soft_value_iteration(MDP, R, alpha=0.5)
    with pytest.warns(FutureWarning, match="param='alpha' is renamed 'temperature'"):
        res = misspecification_sweep(MDP, R, MCEModel(), MCEModel(), "alpha", [0.5])
    assert res.param == "temperature"
    for func in (mce_policy, mce_inverse, soft_value_iteration, irl.soft_value_iteration_fh):
        assert "temperature" in inspect.signature(func).parameters
    assert "temperature" in inspect.signature(MaxCausalEntropyIRL).parameters
    assert "temperature" in inspect.signature(FeatureMCEIRL).parameters
    with pytest.raises(ValueError, match="`temperature` must be finite and > 0"):
        MCEModel(temperature=0.0)


def _demos(policy, n=30):
    return sample_trajectories(MDP, policy, n, 10, rng=1)


def test_tabular_irl_takes_a_model_and_aliases_fix_it():
    trajs = _demos(boltzmann_policy(MDP, R, 2.0))
    a = TabularIRL(model=BoltzmannModel(beta=2.0), n_bootstrap=20, random_state=0)
    b = BoltzmannIRL(beta=2.0, n_bootstrap=20, random_state=0)
    a.fit(MDP, trajs, reference=R)
    b.fit(MDP, trajs, reference=R)
    np.testing.assert_array_equal(a.reward_, b.reward_)
    assert a.distance_ == b.distance_ and a.distance_interval_ == b.distance_interval_
    assert isinstance(b, TabularIRL) and "model" not in b.get_params()
    c = TabularIRL(model=MCEModel(temperature=0.5)).fit(MDP, trajs)
    d = MaxCausalEntropyIRL(temperature=0.5).fit(MDP, trajs)
    np.testing.assert_array_equal(c.reward_, d.reward_)
    assert c.results_.model == "Maximal causal entropy"
    assert c.results_.temperature == ("temperature", 0.5)
    # default model: Boltzmann with beta = 1
    np.testing.assert_array_equal(
        TabularIRL().fit(MDP, trajs).reward_, BoltzmannIRL().fit(MDP, trajs).reward_
    )
    with pytest.raises(ValueError, match="`model` must be a BoltzmannModel or MCEModel"):
        TabularIRL(model=OptimalModel()).fit(MDP, trajs)


def test_tabular_irl_keyword_only_and_n_boot_deprecated():
    with pytest.raises(TypeError):
        TabularIRL(BoltzmannModel())
    trajs = _demos(boltzmann_policy(MDP, R))
    new = BoltzmannIRL(n_bootstrap=20, random_state=0).fit(MDP, trajs, reference=R)
    with pytest.warns(FutureWarning, match="`n_boot` of BoltzmannIRL is renamed `n_bootstrap`"):
        old = BoltzmannIRL(n_boot=20, random_state=0).fit(MDP, trajs, reference=R)
    assert old.distance_interval_ == new.distance_interval_
    assert new.results_.n_bootstrap == 20
    with pytest.warns(FutureWarning, match="IRLResults.n_boot is renamed"):
        assert new.results_.n_boot == 20


def test_results_are_set_by_fit_and_attributes_are_views():
    trajs = _demos(boltzmann_policy(MDP, R))
    est = BoltzmannIRL().fit(MDP, trajs, reference=R)
    res = est.results_
    assert isinstance(res, IRLResults)
    assert est.reward_ is res.reward and est.policy_ is res.policy
    assert est.distance_ == res.distance and est.n_trajectories_ == res.n_trajectories
    assert isinstance(res.distance_table, pd.DataFrame)
    assert "Boltzmann IRL" in str(est.summary())
    occ = irl.occupancy_measure(MDP, mce_policy(MDP, R)).state_action
    fe = FeatureMCEIRL().fit(MDP, occupancy=occ)
    assert fe.theta_ is fe.results_.theta and fe.reward_ is fe.results_.reward
    assert isinstance(fe.results_.params, pd.Series)
    with pytest.raises(ValueError, match="not fitted"):
        FeatureMCEIRL().summary()


def test_feature_irl_positional_arguments_deprecated():
    occ = irl.occupancy_measure(MDP, mce_policy(MDP, R)).state_action
    phi = np.eye(4)
    new = FeatureMCEIRL(features=phi).fit(MDP, occupancy=occ)
    with pytest.warns(FutureWarning, match="passing `features` positionally"):
        old = FeatureMCEIRL(phi).fit(MDP, occupancy=occ)
    np.testing.assert_array_equal(old.theta_, new.theta_)


def test_missing_column_is_a_value_error():
    frame = pd.DataFrame({"state": [0, 1], "act": [0, 1]})
    with pytest.raises(ValueError, match=r"without the column\(s\) \['action'\]"):
        BoltzmannIRL().fit(MDP, frame)


def test_docstrings_are_filled_and_complete():
    for name in irl.__all__:
        obj = getattr(irl, name)
        members = [obj]
        if inspect.isclass(obj):
            members += [v for k, v in vars(obj).items() if not k.startswith("_") and callable(v)]
        for m in members:
            doc = inspect.getdoc(m) or ""
            assert "%(" not in doc, (name, m)
            if callable(m) and not inspect.isclass(m):
                assert "Returns\n-------" in doc, (name, m)


def test_irl_results_conf_int_on_demand():
    trajs = _demos(boltzmann_policy(MDP, R))
    est = BoltzmannIRL(n_bootstrap=40, random_state=0).fit(MDP, trajs, reference=R)
    ci = est.results_.conf_int()
    assert list(ci.columns) == ["lower", "upper"]
    assert (ci["lower"].iloc[0], ci["upper"].iloc[0]) == est.distance_interval_
    wide, narrow = est.results_.conf_int(0.05), est.results_.conf_int(0.2)
    assert wide["lower"].iloc[0] <= narrow["lower"].iloc[0] <= narrow["upper"].iloc[0]
    assert narrow["upper"].iloc[0] <= wide["upper"].iloc[0]
    with pytest.raises(ValueError, match="`n_bootstrap`=40 is too small"):
        est.results_.conf_int(0.01)
    with pytest.raises(ValueError, match="conf_int needs the bootstrap draws"):
        BoltzmannIRL().fit(MDP, trajs, reference=R).results_.conf_int()


def test_metric_and_problem_edges_nan_and_constant_rewards():
    metric = irl.StarcMetric(MDP)
    problem = irl.Misspecification(MDP, irl.BoltzmannModel(), irl.BoltzmannModel(beta=2.0))
    nan = np.full((4, 2), np.nan)
    with pytest.raises(ValueError, match="`r1` contains non-finite values"):
        metric.distance(nan, R)
    with pytest.raises(ValueError, match="`reward` contains non-finite values"):
        problem.representative(nan)
    # a constant reward is equivalent to zero (every policy optimal): its standardisation is 0,
    # so its distance to any non-trivial reward is the scale 0.5, and the model pair
    # misidentifies nothing
    const = np.full((4, 2), 3.0)
    assert metric.distance(const, R) == pytest.approx(0.5, abs=1e-12)
    assert metric.distance(const, np.zeros((4, 2))) == 0.0
    assert problem.representative(const) == 0.0
    with pytest.raises(TypeError, match="`assumed_model` must be a BoltzmannModel"):
        irl.Misspecification(MDP, irl.BoltzmannModel(), "boltzmann")
