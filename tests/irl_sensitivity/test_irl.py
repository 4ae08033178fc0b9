"""IRL estimators."""

from __future__ import annotations

import numpy as np
import pytest

from estkit.exceptions import NotFittedError
from irl_sensitivity import (
    BoltzmannIRL,
    MaxCausalEntropyIRL,
    boltzmann_policy,
    mce_policy,
    random_mdp,
    sample_trajectories,
)


@pytest.fixture(scope="module")
def data():
    mdp = random_mdp(4, 2, rng=0)
    r = np.random.default_rng(0).normal(size=(4, 2))
    return mdp, r


def test_init_only_stores():
    est = BoltzmannIRL(beta=-3.0, smoothing="x")
    assert est.get_params()["beta"] == -3.0


def test_boltzmann_irl_consistency_and_bootstrap(data):
    mdp, r = data
    pi = boltzmann_policy(mdp, r, 2.0)
    small = sample_trajectories(mdp, pi, 20, 20, rng=1)
    large = sample_trajectories(mdp, pi, 400, 50, rng=1)
    d_small = BoltzmannIRL(beta=2.0).fit(mdp, small, reference=r).distance_
    est = BoltzmannIRL(beta=2.0, n_bootstrap=30, random_state=0).fit(mdp, large, reference=r)
    assert est.distance_ < d_small
    assert est.distance_ < 0.1
    lo, hi = est.distance_interval_
    assert 0.0 <= lo <= hi <= 1.0
    assert np.abs(est.policy_ - pi).max() < 0.05
    again = BoltzmannIRL(beta=2.0, n_bootstrap=30, random_state=0).fit(mdp, large, reference=r)
    assert again.distance_interval_ == est.distance_interval_
    text = str(est.summary())
    assert "Boltzmann IRL" in text and "STARC" in text


def test_mce_irl_plot(data):
    import matplotlib

    matplotlib.use("Agg")
    mdp, r = data
    trajs = sample_trajectories(mdp, mce_policy(mdp, r), 100, 30, rng=2)
    est = MaxCausalEntropyIRL().fit(mdp, trajs, reference=r)
    assert est.reward_.shape == (4, 2, 4)
    assert est.distance_ < 0.2
    ax = est.results_.plot()
    assert ax.get_xlabel() == "standardised reference reward"
    plain = MaxCausalEntropyIRL().fit(mdp, trajs)
    assert plain.distance_ is None and plain.distance_interval_ is None
    assert "Distance" not in str(plain.summary())


def test_bad_trajectories(data):
    mdp, _ = data
    with pytest.raises(ValueError, match="non-empty list"):
        BoltzmannIRL().fit(mdp, [])
    with pytest.raises(ValueError, match=r"indices outside 0..3"):
        BoltzmannIRL().fit(mdp, [np.array([[5, 0]])])
    with pytest.raises(ValueError, match=r"shape \(T, 2\)"):
        BoltzmannIRL().fit(mdp, [np.array([1, 0])])
    with pytest.raises(ValueError, match="`smoothing` must be > 0"):
        BoltzmannIRL(smoothing=0.0).fit(mdp, [np.array([[0, 0]])])
    with pytest.raises(NotFittedError):
        BoltzmannIRL().summary()


@pytest.mark.parametrize(
    ("cls", "param"), [(BoltzmannIRL, "beta"), (MaxCausalEntropyIRL, "temperature")]
)
def test_alias_constructors_follow_tabular_irl(cls, param):
    # one construction for the aliases: TabularIRL's keyword-only parameters, with the
    # model's temperature in the place of `model`
    import inspect

    from irl_sensitivity import TabularIRL

    base = inspect.signature(TabularIRL).parameters
    sig = inspect.signature(cls).parameters
    assert list(sig) == [param, *list(base)[1:]]
    assert sig[param].default == 1.0 and sig[param].annotation == "float"
    for name in list(base)[1:]:
        assert sig[name] == base[name]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in sig.values())
    est = cls(**{param: 2.5}, n_bootstrap=7)
    assert vars(est) == {**cls().get_params(), param: 2.5, "n_bootstrap": 7}
    changed = ", ".join(sorted([f"{param}=2.5", "n_bootstrap=7"]))  # sklearn sorts by name
    assert repr(est) == f"{cls.__name__}({changed})"
    with pytest.raises(TypeError, match=rf"{cls.__name__}.__init__\(\) got an unexpected"):
        cls(model=None)
    with pytest.raises(TypeError, match="takes 1 positional argument but 2 were given"):
        cls(2.0)
