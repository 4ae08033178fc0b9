"""Edge cases for every public callable of irl_sensitivity owned by the trust work (issue 11).

Each case is data: a thunk that calls the library and the expected outcome, either a
``Raises`` (exception type and a fragment naming the argument) or an ``Ok`` (a check of the
returned value). The same table is run against the original code by
``python tests/edge/test_irl_sensitivity.py --classify`` (run it from outside the
worktree with the code to classify first on ``PYTHONPATH``), which sorts every case into
clear error / handled well / silently wrong / obscure error / hang (60 s per call).

The planning cores of ``_planning.py`` (``value_iteration`` ...) belong to another suite.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import irl_sensitivity as irl
from irl_sensitivity import (
    BoltzmannIRL,
    BoltzmannModel,
    MaxCausalEntropyIRL,
    MCEModel,
    OptimalModel,
    TabularMDP,
)

# ---------------------------------------------------------------------------- fixtures
MDP = irl.random_mdp(4, 2, rng=0)
SPARSE = TabularMDP([sp.csr_matrix(MDP.transition[:, a, :]) for a in range(2)], MDP.initial, 0.9)
R = np.random.default_rng(1).normal(size=(4, 2))
R2 = np.random.default_rng(2).normal(size=(4, 2))
R3 = np.random.default_rng(3).normal(size=(4, 2, 4))
ONE = TabularMDP(np.ones((1, 1, 1)), None, 0.9)  # one state, one action
ABSORB = TabularMDP(np.stack([np.eye(3), np.eye(3)], axis=1), None, 0.9)  # every state absorbing
PI = irl.boltzmann_policy(MDP, R)
TRAJS = irl.sample_trajectories(MDP, PI, 20, 8, rng=0)
BIG = irl.random_mdp(50, 4, rng=0)
R_BIG = np.random.default_rng(1).normal(size=(50, 4))


@dataclass
class Raises:
    exc: type[BaseException] | tuple[type[BaseException], ...]
    match: str  # fragment naming the argument (regex)


@dataclass
class Ok:
    check: Callable[[Any], bool]
    what: str = ""


def _close(ref: Any, atol: float = 1e-9) -> Callable[[Any], bool]:
    def check(out: Any) -> bool:
        out = np.asarray(out, dtype=float)
        ref_arr = np.asarray(ref() if callable(ref) else ref, dtype=float)
        return out.shape == ref_arr.shape and bool(np.allclose(out, ref_arr, atol=atol, rtol=0))

    return check


def _expect_sa(mdp: TabularMDP, x: Any) -> np.ndarray:
    """(S, A) expectation of a reward under the MDP's kernel (any representation)."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 3:
        return np.einsum("sat,sat->sa", mdp.transition, x)
    return x


def add_sparse(name: str, call: Callable[[TabularMDP], Any]) -> None:
    """A case where ``call(SPARSE)`` is ``call(MDP)`` in the (S, A) representation."""
    add(
        name,
        lambda: _expect_sa(MDP, call(SPARSE)),
        Ok(_close(lambda: _expect_sa(MDP, call(MDP)), 1e-12)),
    )


def _valid_policy(p: Any) -> bool:
    p = np.asarray(p, dtype=float)
    return bool(np.all(np.isfinite(p)) and np.allclose(p.sum(axis=1), 1.0) and p.min() >= 0)


def _in01(x: Any) -> bool:
    return bool(np.isfinite(x) and 0.0 <= x <= 1.0)


def _shuffled_frame(x: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(x)
    return df.iloc[::-1]  # labels kept, rows reversed


CASES: dict[str, tuple[Callable[[], Any], Raises | Ok]] = {}


def case(name: str, expect: Raises | Ok) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    def deco(fn: Callable[[], Any]) -> Callable[[], Any]:
        assert name not in CASES, name
        CASES[name] = (fn, expect)
        return fn

    return deco


def add(name: str, fn: Callable[[], Any], expect: Raises | Ok) -> None:
    assert name not in CASES, name
    CASES[name] = (fn, expect)


T = MDP.transition
nan_t = T.copy()
nan_t[0, 0, 0] = np.nan

# ---------------------------------------------------------------------------- TabularMDP
add("mdp/transition_nan", lambda: TabularMDP(nan_t), Raises(ValueError, "`transition`"))
add("mdp/transition_inf", lambda: TabularMDP(T * np.inf), Raises(ValueError, "`transition`"))
add("mdp/transition_none", lambda: TabularMDP(None), Raises(TypeError, "`transition`"))
add("mdp/transition_empty_list", lambda: TabularMDP([]), Raises(ValueError, "`transition`"))
add("mdp/transition_2d", lambda: TabularMDP(np.eye(3)), Raises(ValueError, "`transition`"))
add(
    "mdp/transition_rows_not_one",
    lambda: TabularMDP(T * 2),
    Raises(ValueError, "`transition`"),
)
add(
    "mdp/transition_strings",
    lambda: TabularMDP(np.full((2, 1, 2), "a")),
    Raises(TypeError, "`transition`"),
)
add(
    "mdp/transition_dataframe",
    lambda: TabularMDP(pd.DataFrame(np.eye(2))),
    Raises((TypeError, ValueError), "`transition`"),
)
add(
    "mdp/single_sparse_matrix",
    lambda: TabularMDP(sp.csr_matrix(np.eye(3))),
    Raises(TypeError, "`transition`"),
)
_T3 = [np.random.default_rng(i).dirichlet(np.ones(3), size=3) for i in range(3)]
add(
    "mdp/per_action_list_S_equals_A",
    lambda: TabularMDP(_T3).transition,
    Ok(_close(np.stack(_T3, axis=1)), "a list is read per action"),
)
add(
    "mdp/per_action_list_S_ne_A",
    lambda: TabularMDP(_T3[:2]).transition,
    Ok(_close(np.stack(_T3[:2], axis=1))),
)
add(
    "mdp/sparse_list_nan",
    lambda: TabularMDP([sp.csr_matrix(nan_t[:, 0]), sp.csr_matrix(T[:, 1])]),
    Raises(ValueError, "`transition`"),
)
add("mdp/float32", lambda: TabularMDP(T.astype(np.float32)).n_states, Ok(lambda n: n == 4))
add(
    "mdp/int_identity",
    lambda: TabularMDP(np.stack([np.eye(3, dtype=int)] * 2, axis=1)).n_actions,
    Ok(lambda n: n == 2),
)
add("mdp/gamma_nan", lambda: TabularMDP(T, None, np.nan), Raises(ValueError, "`gamma`"))
add("mdp/gamma_one", lambda: TabularMDP(T, None, 1.0), Raises(ValueError, "`gamma`"))
add("mdp/gamma_negative", lambda: TabularMDP(T, None, -0.5), Raises(ValueError, "`gamma`"))
add(
    "mdp/gamma_bool",
    lambda: TabularMDP(T, None, True),
    Raises((TypeError, ValueError), "`gamma`"),
)
add("mdp/gamma_none", lambda: TabularMDP(T, None, None), Raises(TypeError, "`gamma`"))
add(
    "mdp/initial_nan",
    lambda: TabularMDP(T, [np.nan, 0.5, 0.5, 0.0]),
    Raises(ValueError, "`initial`"),
)
add("mdp/initial_shape", lambda: TabularMDP(T, [1.0, 0.0]), Raises(ValueError, "`initial`"))
add(
    "mdp/initial_series_by_label",
    lambda: TabularMDP(T, pd.Series([0.1, 0.2, 0.3, 0.4], index=[3, 2, 1, 0])).initial,
    Ok(_close([0.4, 0.3, 0.2, 0.1])),
)
add(
    "mdp/initial_series_wrong_labels",
    lambda: TabularMDP(T, pd.Series([0.25] * 4, index=list("abcd"))),
    Raises(ValueError, "`initial`"),
)
add("mdp/replace_gamma_nan", lambda: MDP.replace(gamma=np.nan), Raises(ValueError, "`gamma`"))
add(
    "mdp/from_tabular_env_not_env",
    lambda: TabularMDP.from_tabular_env(object()),
    Raises(TypeError, "`env`"),
)
add(
    "mdp/reward_none",
    lambda: MDP.expected_reward(None),
    Raises(TypeError, "`reward`"),
)
add(
    "mdp/reward_strings",
    lambda: MDP.expected_reward(np.full((4, 2), "x")),
    Raises(TypeError, "`reward`"),
)
add(
    "mdp/reward_dataframe_by_label",
    lambda: MDP.expected_reward(_shuffled_frame(R)),
    Ok(_close(R)),
)
add(
    "mdp/reward_dataframe_wrong_labels",
    lambda: MDP.expected_reward(pd.DataFrame(R, index=list("abcd"))),
    Raises(ValueError, "`reward`"),
)
add("random_mdp/zero_states", lambda: irl.random_mdp(0, 2), Raises(ValueError, "`n_states`"))
add(
    "random_mdp/float_states",
    lambda: irl.random_mdp(2.5, 2),
    Raises((TypeError, ValueError), "`n_states`"),
)
add(
    "random_mdp/bool_actions",
    lambda: irl.random_mdp(3, True),
    Raises(TypeError, "`n_actions`"),
)
add(
    "random_mdp/too_large_to_address",
    lambda: irl.random_mdp(10**9, 2),
    Raises(ValueError, "`n_states` = 1000000000 and `n_actions` = 2 give a dense transition"),
)
add(
    "example_problem/too_large_to_address",
    lambda: irl.example_problem(10**9, 2),
    Raises(ValueError, "use fewer states, or build a sparse TabularMDP"),
)
add(
    "random_mdp/concentration_negative",
    lambda: irl.random_mdp(3, 2, concentration=-1.0),
    Raises(ValueError, "`concentration`"),
)
add(
    "random_mdp/gamma_nan",
    lambda: irl.random_mdp(3, 2, gamma=np.nan),
    Raises(ValueError, "`gamma`"),
)
add(
    "perturb/epsilon_nan",
    lambda: irl.perturb_transition(MDP, np.nan),
    Raises(ValueError, "`epsilon`"),
)
add(
    "perturb/epsilon_string",
    lambda: irl.perturb_transition(MDP, "a"),
    Raises((TypeError, ValueError), "`epsilon`"),
)
add(
    "perturb/sparse",
    lambda: irl.perturb_transition(SPARSE, 0.0, rng=1),
    Ok(_close(T)),
)
add(
    "random_reward/next_state_sparse",
    lambda: irl.random_reward(SPARSE, rng=0, next_state=True),
    Raises(ValueError, "`next_state=True`"),
)
add(
    "random_reward/sparse",
    lambda: irl.random_reward(SPARSE, rng=1),
    Ok(_close(R)),
)
add(
    "random_reward/next_state_string",
    lambda: irl.random_reward(MDP, rng=0, next_state="yes"),
    Raises(TypeError, "`next_state`"),
)
add(
    "random_reward/not_an_mdp",
    lambda: irl.random_reward(MDP.transition, rng=0),
    Raises(TypeError, "`mdp`"),
)
add(
    "example_problem/zero_states",
    lambda: irl.example_problem(0, 2),
    Raises(ValueError, "`n_states`"),
)
add(
    "example_problem/negative_seed",
    lambda: irl.example_problem(reward_rng=-1),
    Raises(ValueError, "`rng`"),
)
add(
    "example_problem/bool_states",
    lambda: irl.example_problem(True),
    Raises(TypeError, "`n_states`"),
)
add(
    "example_problem/float_states",
    lambda: irl.example_problem(2.5),
    Raises(TypeError, "`n_states`"),
)
add(
    "example_problem/zero_actions",
    lambda: irl.example_problem(3, 0),
    Raises(ValueError, "`n_actions`"),
)
add(
    "example_problem/one_state_one_action",
    lambda: irl.example_problem(1, 1)[1],
    Ok(lambda r: r.shape == (1, 1) and bool(np.isfinite(r).all())),
)
add(
    "random_reward/next_state_int",
    lambda: irl.random_reward(MDP, rng=0, next_state=1),
    Raises(TypeError, "`next_state`"),
)
add(
    "random_reward/float_rng",
    lambda: irl.random_reward(MDP, rng=1.5),
    Raises(TypeError, "`rng`"),
)

# ---------------------------------------------------------------------------- models, policies
for _bad, _exc in (
    (np.nan, ValueError),
    (np.inf, ValueError),
    (-1.0, ValueError),
    (0.0, ValueError),
    (True, (TypeError, ValueError)),
):
    add(
        f"model/boltzmann_beta_{_bad}",
        lambda b=_bad: BoltzmannModel(beta=b).policy(MDP, R),
        Raises(_exc, "`beta`"),
    )
    add(
        f"model/mce_temperature_{_bad}",
        lambda b=_bad: MCEModel(temperature=b).policy(MDP, R),
        Raises(_exc, "`temperature`"),
    )
add(
    "model/optimal_tol_nan",
    lambda: OptimalModel(tol=np.nan).policy(MDP, R),
    Raises(ValueError, "`tol`"),
)
add(
    "model/optimal_tol_negative",
    lambda: OptimalModel(tol=-1.0).policy(MDP, R),
    Raises(ValueError, "`tol`"),
)
add(
    "model/gamma_out_of_range",
    lambda: BoltzmannModel(gamma=1.5).policy(MDP, R),
    Raises(ValueError, "`gamma`"),
)
add(
    "model/gamma_nan",
    lambda: MCEModel(gamma=np.nan).policy(MDP, R),
    Raises(ValueError, "`gamma`"),
)
add(
    "model/transition_wrong_shape",
    lambda: MCEModel(transition=irl.random_mdp(3, 2, rng=1).transition).policy(MDP, R),
    Raises(ValueError, "`transition`"),
)
add("model/mdp_not_mdp", lambda: BoltzmannModel().policy("mdp", R), Raises(TypeError, "`mdp`"))
add(
    "model/boltzmann_beta_tiny_is_uniform",
    lambda: BoltzmannModel(beta=1e-300).policy(MDP, R),
    Ok(_close(np.full((4, 2), 0.5))),
)
add(
    "model/boltzmann_beta_huge_is_greedy",
    lambda: BoltzmannModel(beta=1e308).policy(MDP, R),
    Ok(_close(lambda: irl.optimal_policy(MDP, R))),
)
add(
    "model/mce_reward_1e307_is_greedy",
    lambda: MCEModel().policy(MDP, 1e307 * R),
    Ok(_close(lambda: irl.optimal_policy(MDP, R))),
)
add(
    "model/mce_alpha_1e-310_is_greedy",
    lambda: irl.mce_policy(MDP, R, temperature=1e-310),
    Ok(_close(lambda: irl.optimal_policy(MDP, R))),
)
add(
    "model/optimal_reward_1e-300",
    lambda: OptimalModel().policy(MDP, 1e-300 * R),
    Ok(_close(lambda: irl.optimal_policy(MDP, R))),
)
add(
    "model/with_params_unknown",
    lambda: BoltzmannModel().with_params(alpha=1.0),
    Raises(ValueError, "alpha"),
)
add(
    "policy/boltzmann_reward_nan",
    lambda: irl.boltzmann_policy(MDP, np.full((4, 2), np.nan)),
    Raises(ValueError, "`reward`"),
)
add(
    "policy/boltzmann_reward_shape",
    lambda: irl.boltzmann_policy(MDP, np.zeros((3, 2))),
    Raises(ValueError, "`reward`"),
)
add(
    "policy/boltzmann_constant_is_uniform",
    lambda: irl.boltzmann_policy(MDP, np.full((4, 2), 7.3), beta=50.0),
    Ok(_close(np.full((4, 2), 0.5))),
)
add(
    "policy/mce_int_reward",
    lambda: irl.mce_policy(MDP, np.arange(8).reshape(4, 2)),
    Ok(_close(lambda: irl.mce_policy(MDP, np.arange(8.0).reshape(4, 2)))),
)
add(
    "policy/mce_float32_reward",
    lambda: irl.mce_policy(MDP, R.astype(np.float32)),
    Ok(_close(lambda: irl.mce_policy(MDP, R.astype(np.float32).astype(float)), 1e-12)),
)
add(
    "policy/optimal_tol_string",
    lambda: irl.optimal_policy(MDP, R, tol="1e-8"),
    Raises(TypeError, "`tol`"),
)
add(
    "policy/optimal_one_state",
    lambda: irl.optimal_policy(ONE, [3.0]),
    Ok(_close([[1.0]])),
)
add(
    "policy/boltzmann_absorbing",
    lambda: irl.boltzmann_policy(ABSORB, np.zeros((3, 2))),
    Ok(_close(np.full((3, 2), 0.5))),
)
add("policy/mce_sparse", lambda: irl.mce_policy(SPARSE, R), Ok(_close(irl.mce_policy(MDP, R))))
add(
    "policy/boltzmann_reward_dataframe",
    lambda: irl.boltzmann_policy(MDP, _shuffled_frame(R)),
    Ok(_close(PI)),
)

# ---------------------------------------------------------------------------- canonical / STARC
for _f in (1e300, 1e-300, 1e-160):
    add(
        f"starc/negation_x{_f:g}",
        lambda f=_f: irl.starc_distance(MDP, f * R, -f * R),
        Ok(lambda d: abs(d - 1.0) < 1e-12, "d(R, -R) = 1"),
    )
    add(
        f"starc/scaling_x{_f:g}",
        lambda f=_f: irl.starc_distance(MDP, f * R, R),
        Ok(lambda d: abs(d) < 1e-7, "d(cR, R) = 0"),
    )
    add(
        f"starc/in_unit_interval_x{_f:g}",
        lambda f=_f: irl.starc_distance(MDP, f * R, f * R2, "minimal"),
        Ok(lambda d: _in01(d) and abs(d - irl.starc_distance(MDP, R, R2, "minimal")) < 1e-12),
    )
    add(
        f"standardize/x{_f:g}",
        lambda f=_f: irl.standardize(MDP, f * R),
        Ok(_close(lambda: irl.standardize(MDP, R), 1e-12)),
    )
add(
    "canonicalize/x1e-300",
    lambda: irl.canonicalize(MDP, 1e-300 * R) / 1e-300,
    Ok(_close(lambda: irl.canonicalize(MDP, R), 1e-12)),
)
add(
    "starc/norm_3",
    lambda: irl.starc_distance(MDP, R, R2, norm=3),
    Raises(ValueError, "`norm`"),
)
add(
    "starc/norm_bool",
    lambda: irl.starc_distance(MDP, R, R2, norm=True),
    Raises(ValueError, "`norm`"),
)
add(
    "starc/scale_nan",
    lambda: irl.starc_distance(MDP, R, R2, scale=np.nan),
    Raises(ValueError, "`scale`"),
)
add(
    "starc/scale_zero",
    lambda: irl.starc_distance(MDP, R, R2, scale=0.0),
    Raises(ValueError, "`scale`"),
)
add(
    "starc/scale_string",
    lambda: irl.starc_distance(MDP, R, R2, scale="1"),
    Raises((TypeError, ValueError), "`scale`"),
)
add(
    "starc/canonicalization_bogus",
    lambda: irl.starc_distance(MDP, R, R2, "pearson"),
    Raises(ValueError, "`canonicalization`"),
)
add(
    "starc/canonicalization_none",
    lambda: irl.starc_distance(MDP, R, R2, None),
    Raises(ValueError, "`canonicalization`"),
)
add(
    "starc/r1_nan",
    lambda: irl.starc_distance(MDP, np.full((4, 2), np.nan), R2),
    Raises(ValueError, "`r1`|`reward`"),
)
add(
    "starc/r2_inf",
    lambda: irl.starc_distance(MDP, R, np.full((4, 2), np.inf)),
    Raises(ValueError, "`r2`|`reward`"),
)
add(
    "starc/r1_none",
    lambda: irl.starc_distance(MDP, None, R2),
    Raises(TypeError, "`r1`|`reward`"),
)
add(
    "starc/r1_empty",
    lambda: irl.starc_distance(MDP, np.zeros((0,)), R2),
    Raises(ValueError, "`r1`|`reward`"),
)
add(
    "starc/shape_mismatch",
    lambda: irl.starc_distance(MDP, np.zeros((4, 3)), R2),
    Raises(ValueError, "`r1`|`reward`"),
)
add(
    "starc/constant_reward_is_trivial",
    lambda: irl.starc_distance(MDP, np.full((4, 2), 5.0), R),
    Ok(lambda d: abs(d - 0.5) < 1e-12, "s(constant) = 0, so d = scale"),
)
add(
    "starc/one_state_mdp",
    lambda: irl.starc_distance(ONE, [1.0], [-1.0]),
    Ok(lambda d: d == 0.0, "every reward of a 1x1 MDP is trivial"),
)
add(
    "starc/absorbing_mdp",
    lambda: irl.starc_distance(ABSORB, np.arange(6.0).reshape(3, 2), -np.arange(6.0).reshape(3, 2)),
    Ok(lambda d: abs(d - 1.0) < 1e-12),
)
add(
    "starc/int_rewards",
    lambda: irl.starc_distance(MDP, np.arange(8).reshape(4, 2), np.ones((4, 2), dtype=int)),
    Ok(
        lambda d: (
            abs(d - irl.starc_distance(MDP, np.arange(8.0).reshape(4, 2), np.ones((4, 2)))) < 1e-15
        )
    ),
)
add(
    "starc/float32_rewards",
    lambda: irl.starc_distance(MDP, R.astype(np.float32), R2.astype(np.float32)),
    Ok(lambda d: abs(d - irl.starc_distance(MDP, R, R2)) < 1e-6),
)
add(
    "starc/dataframe_by_label",
    lambda: irl.starc_distance(MDP, _shuffled_frame(R), R2),
    Ok(lambda d: abs(d - irl.starc_distance(MDP, R, R2)) < 1e-15),
)
for _m in ("val", "minimal", "epic", "dard"):
    add(
        f"starc/sparse_{_m}",
        lambda m=_m: irl.starc_distance(SPARSE, R, R2, m),
        Ok(lambda d, m=_m: abs(d - irl.starc_distance(MDP, R, R2, m)) < 1e-12),
    )
add(
    "starc/weights_nan",
    lambda: irl.starc_distance(MDP, R, R2, weights=np.full((4, 2, 4), np.nan)),
    Raises(ValueError, "`weights`"),
)
add(
    "starc/policy_not_distribution",
    lambda: irl.starc_distance(MDP, R, R2, policy=np.ones((4, 2))),
    Raises(ValueError, "`policy`"),
)
add("starc/mdp_not_mdp", lambda: irl.starc_distance(None, R, R2), Raises(TypeError, "`mdp`"))
add_sparse("canonicalize/sparse_minimal", lambda m: irl.canonicalize(m, R, "minimal"))
add_sparse("standardize/sparse_val", lambda m: irl.standardize(m, R))
add(
    "regret/reward_1e307",
    lambda: irl.normalized_regret(MDP, 1e307 * R, R2),
    Ok(lambda v: abs(v - irl.normalized_regret(MDP, R, R2)) < 1e-12),
)
add(
    "regret/tol_nan",
    lambda: irl.normalized_regret(MDP, R, R2, tol=np.nan),
    Raises(ValueError, "`tol`"),
)
add(
    "regret/constant_true_reward",
    lambda: irl.normalized_regret(MDP, np.full((4, 2), 2.0), R2),
    Ok(lambda v: v == 0.0),
)
add(
    "regret/sparse",
    lambda: irl.normalized_regret(SPARSE, R, R2),
    Ok(lambda v: abs(v - irl.normalized_regret(MDP, R, R2)) < 1e-12),
)

# ---------------------------------------------------------------------------- transforms
add(
    "shaping/potential_nan",
    lambda: irl.potential_shaping(MDP, R, [np.nan] * 4),
    Raises(ValueError, "`potential`"),
)
add(
    "shaping/potential_shape",
    lambda: irl.potential_shaping(MDP, R, [1.0, 2.0]),
    Raises(ValueError, "`potential`"),
)
add(
    "shaping/gamma_two",
    lambda: irl.potential_shaping(MDP, R, np.ones(4), gamma=2.0),
    Raises(ValueError, "`gamma`"),
)
add_sparse("shaping/sparse", lambda m: irl.potential_shaping(m, R, np.arange(4.0)))
add(
    "redistribution/scale_negative",
    lambda: irl.s_redistribution(MDP, R, rng=0, scale=-1.0),
    Raises(ValueError, "`scale`"),
)
add(
    "redistribution/sparse",
    lambda: _expect_sa(MDP, irl.s_redistribution(SPARSE, R, rng=0)),
    Ok(_close(R, 1e-12)),
)
add(
    "scaling/c_nan",
    lambda: irl.positive_scaling(R, np.nan),
    Raises(ValueError, "`c`"),
)
add(
    "scaling/reward_nan",
    lambda: irl.positive_scaling(np.full(3, np.nan), 2.0),
    Raises(ValueError, "`reward`"),
)
add(
    "potential/scale_negative",
    lambda: irl.random_potential(MDP, rng=0, scale=-1.0),
    Raises(ValueError, "`scale`"),
)
add(
    "optimality_preserving/tol_nan",
    lambda: irl.optimality_preserving(MDP, R, rng=0, tol=np.nan),
    Raises(ValueError, "`tol`"),
)
add(
    "optimality_preserving/sparse",
    lambda: irl.optimal_policy(SPARSE, irl.optimality_preserving(SPARSE, R, rng=0)),
    Ok(_close(lambda: irl.optimal_policy(MDP, R))),
)

# ---------------------------------------------------------------------------- inverses
_PI0 = PI.copy()
_PI0[0] = [1.0, 0.0]
add(
    "inverse/boltzmann_zero_probability",
    lambda: irl.boltzmann_inverse(MDP, _PI0),
    Raises(ValueError, "`policy`"),
)
add(
    "inverse/boltzmann_policy_nan",
    lambda: irl.boltzmann_inverse(MDP, np.full((4, 2), np.nan)),
    Raises(ValueError, "`policy`"),
)
add(
    "inverse/boltzmann_beta_zero",
    lambda: irl.boltzmann_inverse(MDP, PI, 0.0),
    Raises(ValueError, "`beta`"),
)
add(
    "inverse/mce_temperature_bool",
    lambda: irl.mce_inverse(MDP, PI, True),
    Raises(TypeError, "`temperature`"),
)
add(
    "inverse/optimality_tol_nan",
    lambda: irl.optimality_inverse(MDP, PI, tol=np.nan),
    Raises(ValueError, "`tol`"),
)
add(
    "inverse/policy_none",
    lambda: irl.mce_inverse(MDP, None),
    Raises(TypeError, "`policy`"),
)
add_sparse("inverse/boltzmann_sparse", lambda m: irl.boltzmann_inverse(m, PI))
add(
    "inverse/ambiguity_basis_not_mdp",
    lambda: irl.ambiguity_basis("mdp"),
    Raises(TypeError, "`mdp`"),
)

# ---------------------------------------------------------------------------- misspecification
add(
    "misspec/true_model_string",
    lambda: irl.representative_error(MDP, R, "boltzmann", BoltzmannModel()),
    Raises(TypeError, "`true_model`"),
)
add(
    "misspec/reward_nan",
    lambda: irl.worst_case_error(MDP, np.full((4, 2), np.nan), BoltzmannModel(), MCEModel()),
    Raises(ValueError, "`reward`"),
)
add(
    "misspec/norm_3",
    lambda: irl.worst_case_error(MDP, R, BoltzmannModel(), MCEModel(), norm=3),
    Raises(ValueError, "`norm`"),
)
add(
    "misspec/n_starts_zero",
    lambda: irl.worst_case_error(MDP, R, BoltzmannModel(), MCEModel(), n_starts=0),
    Raises(ValueError, "`n_starts`"),
)
add(
    "misspec/worst_case_reward_1e300",
    lambda: irl.worst_case_error(
        MDP, 1e300 * R, BoltzmannModel(1e-300), BoltzmannModel(1e-300, gamma=0.8)
    ),
    Ok(
        lambda v: (
            abs(v - irl.worst_case_error(MDP, R, BoltzmannModel(), BoltzmannModel(gamma=0.8)))
            < 1e-9
        )
    ),
)
add(
    "misspec/reward_1e300_beta_1_is_greedy",
    lambda: irl.worst_case_error(MDP, 1e300 * R, BoltzmannModel(), BoltzmannModel(gamma=0.8)),
    Raises(irl.ImageError, "image"),
)
add(
    "misspec/representative_reward_1e-300",
    lambda: irl.representative_error(
        MDP, 1e-300 * R, MCEModel(temperature=1e-300), MCEModel(temperature=3e-300)
    ),
    Ok(lambda v: abs(v) < 1e-7, "temperature misspecification is harmless"),
)
add(
    "misspec/worst_case_constant_reward",
    lambda: irl.worst_case_error(MDP, np.full((4, 2), 3.0), BoltzmannModel(), BoltzmannModel()),
    Ok(lambda v: v == 0.0, "a trivial reward and a well-specified model"),
)
add(
    "misspec/worst_case_one_state",
    lambda: irl.worst_case_error(ONE, [1.0], BoltzmannModel(), BoltzmannModel(gamma=0.5)),
    Ok(lambda v: v == 0.0),
)
for _error in (irl.worst_case_error, irl.representative_error):  # sparse == dense
    add(
        f"misspec/{_error.__name__.removesuffix('_error')}_sparse",
        lambda f=_error: f(SPARSE, R, BoltzmannModel(), BoltzmannModel(gamma=0.8)),
        Ok(
            lambda v, f=_error: (
                abs(v - f(MDP, R, BoltzmannModel(), BoltzmannModel(gamma=0.8))) < 1e-9
            )
        ),
    )
add(
    "misspec/worst_case_optimal_50x4",
    lambda: irl.worst_case_error(BIG, R_BIG, OptimalModel(), OptimalModel(gamma=0.85), rng=0),
    Ok(lambda v: 0.5 < v <= 1.0),
)
add(
    "misspec/max_error_optimal_4x2",
    lambda: irl.max_error(
        MDP, OptimalModel(), OptimalModel(gamma=0.85), rng=0, n_starts=1, maxiter=3
    ),
    Ok(lambda v: 0.5 < v <= 1.0),
)
add(
    "misspec/max_error_kind_bogus",
    lambda: irl.max_error(MDP, BoltzmannModel(), MCEModel(), kind="bogus"),
    Raises(ValueError, "`kind`"),
)
add(
    "misspec/max_error_return_reward_string",
    lambda: irl.max_error(
        MDP, BoltzmannModel(), MCEModel(), rng=0, n_starts=1, return_reward="yes"
    ),
    Raises(TypeError, "`return_reward`"),
)
add(
    "misspec/max_error_maxiter_zero",
    lambda: irl.max_error(MDP, BoltzmannModel(), MCEModel(), maxiter=0),
    Raises(ValueError, "`maxiter`"),
)
add(
    "misspec/image_condition_n_rewards_zero",
    lambda: irl.image_condition(MDP, OptimalModel(), BoltzmannModel(), n_rewards=0),
    Raises(ValueError, "`n_rewards`"),
)
add(
    "misspec/lower_bound_scale_zero",
    lambda: irl.worst_case_lower_bound(MDP, R, BoltzmannModel(), MCEModel(), scale=0.0),
    Raises(ValueError, "`scale`"),
)
add(
    "misspec/mdp_none",
    lambda: irl.representative_error(None, R, BoltzmannModel(), MCEModel()),
    Raises(TypeError, "`mdp`"),
)

# ---------------------------------------------------------------------------- sweeps, probes
add(
    "sweep/param_unknown",
    lambda: irl.misspecification_sweep(MDP, R, MCEModel(), MCEModel(), "tau", [1.0]),
    Raises(ValueError, "`param`"),
)
add(
    "sweep/param_not_of_model",
    lambda: irl.misspecification_sweep(MDP, R, MCEModel(), BoltzmannModel(), "temperature", [1.0]),
    Raises(ValueError, "`param`|temperature"),
)
add(
    "sweep/values_empty",
    lambda: irl.misspecification_sweep(MDP, R, MCEModel(), MCEModel(), "gamma", []),
    Raises(ValueError, "`values`"),
)
add(
    "sweep/values_nan",
    lambda: irl.misspecification_sweep(MDP, R, MCEModel(), MCEModel(), "gamma", [np.nan]),
    Raises(ValueError, "`values`|`gamma`"),
)
add(
    "sweep/values_string",
    lambda: irl.misspecification_sweep(MDP, R, MCEModel(), MCEModel(), "gamma", "0.9"),
    Raises((TypeError, ValueError), "`values`"),
)
add(
    "sweep/sparse",
    lambda: irl.misspecification_sweep(SPARSE, R, MCEModel(), MCEModel(), "gamma", [0.8]).frame[
        "worst_case_error"
    ],
    Ok(
        _close(
            lambda: irl.misspecification_sweep(
                MDP, R, MCEModel(), MCEModel(), "gamma", [0.8]
            ).frame["worst_case_error"]
        )
    ),
)
add(
    "sweep/summary_and_plot",
    lambda: _summary_and_plot(
        irl.misspecification_sweep(MDP, R, MCEModel(), MCEModel(), "temperature", [0.5, 2.0])
    ),
    Ok(lambda out: "Misspecification sweep" in out[0] and out[1] == 2),
)
add(
    "probe/lambda_zero",
    lambda: irl.separation_probe(MDP, R, BoltzmannModel(), [0.0]),
    Raises(ValueError, "`lambdas`"),
)
add(
    "probe/model_string",
    lambda: irl.separation_probe(MDP, R, "boltzmann"),
    Raises(TypeError, "`model`"),
)
add(
    "probe/scale_negative",
    lambda: irl.separation_probe(MDP, R, BoltzmannModel(), [1.0], scale=-1.0),
    Raises(ValueError, "`scale`"),
)
add(
    "probe/summary_and_plot",
    lambda: _summary_and_plot(irl.separation_probe(MDP, R, BoltzmannModel(), [1.0, 1e-3])),
    Ok(lambda out: "Perturbation probe" in out[0] and out[1] == 2),
)


def _summary_and_plot(res: Any) -> tuple[str, int]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = res.plot()
    n = len(ax.lines)
    plt.close(ax.figure)
    return str(res.summary()), n


# ---------------------------------------------------------------------------- IRL estimators
def _fit(est: Any, mdp: TabularMDP = MDP, trajs: Any = None, **kw: Any) -> Any:
    return est.fit(mdp, TRAJS if trajs is None else trajs, **kw)


add(
    "irl/n_boot_one",
    lambda: _fit(BoltzmannIRL(n_bootstrap=1, random_state=0), reference=R),
    Raises(ValueError, "`n_bootstrap`"),
)
add(
    "irl/n_boot_bool",
    lambda: _fit(BoltzmannIRL(n_bootstrap=True), reference=R),
    Raises(TypeError, "`n_bootstrap`"),
)
add("irl/beta_nan", lambda: _fit(BoltzmannIRL(beta=np.nan)), Raises(ValueError, "`beta`"))
add(
    "irl/beta_bool",
    lambda: _fit(BoltzmannIRL(beta=True)),
    Raises(TypeError, "`beta`"),
)
add(
    "irl/temperature_negative",
    lambda: _fit(MaxCausalEntropyIRL(temperature=-1.0)),
    Raises(ValueError, "`temperature`"),
)
add(
    "irl/smoothing_zero",
    lambda: _fit(BoltzmannIRL(smoothing=0.0)),
    Raises(ValueError, "`smoothing`"),
)
add(
    "irl/alpha_95",
    lambda: _fit(BoltzmannIRL(n_bootstrap=50, alpha=95), reference=R),
    Raises(ValueError, "`alpha`"),
)
add(
    "irl/scale_zero",
    lambda: _fit(BoltzmannIRL(scale=0.0), reference=R),
    Raises(ValueError, "`scale`"),
)
add(
    "irl/trajectories_empty",
    lambda: _fit(BoltzmannIRL(), trajs=[]),
    Raises(ValueError, "`trajectories`"),
)
add(
    "irl/trajectories_negative_index",
    lambda: _fit(BoltzmannIRL(), trajs=[np.array([[0, 0], [-1, 1]])]),
    Raises(ValueError, "`trajectories`"),
)
add(
    "irl/trajectories_bool",
    lambda: _fit(BoltzmannIRL(), trajs=[np.array([[True, False]])]),
    Raises(TypeError, "`trajectories`"),
)
add(
    "irl/trajectories_frames_by_label",
    lambda: (
        _fit(
            BoltzmannIRL(),
            trajs=[pd.DataFrame({"action": t[:, 1], "state": t[:, 0]}) for t in TRAJS],
        ).reward_
    ),
    Ok(_close(lambda: _fit(BoltzmannIRL()).reward_)),
)
add(
    "irl/trajectories_long_frame",
    lambda: (
        _fit(
            BoltzmannIRL(),
            trajs=pd.DataFrame(
                {
                    "trajectory": np.repeat(np.arange(len(TRAJS)), 8),
                    "action": np.concatenate([t[:, 1] for t in TRAJS]),
                    "state": np.concatenate([t[:, 0] for t in TRAJS]),
                }
            ),
        ).reward_
    ),
    Ok(_close(lambda: _fit(BoltzmannIRL()).reward_)),
)
add(
    "irl/reference_nan",
    lambda: _fit(BoltzmannIRL(), reference=np.full((4, 2), np.nan)),
    Raises(ValueError, "`reference`"),
)
add(
    "irl/reference_sparse",
    lambda: _fit(BoltzmannIRL(), mdp=SPARSE, reference=R).distance_,
    Ok(lambda d: abs(d - _fit(BoltzmannIRL(), reference=R).distance_) < 1e-12),
)
add(
    "irl/reference_1e300",
    lambda: _fit(MaxCausalEntropyIRL(), reference=1e300 * R).distance_,
    Ok(lambda d: abs(d - _fit(MaxCausalEntropyIRL(), reference=R).distance_) < 1e-12),
)
add("irl/mdp_string", lambda: BoltzmannIRL().fit("mdp", TRAJS), Raises(TypeError, "`mdp`"))
add(
    "irl/summary_before_fit",
    lambda: BoltzmannIRL().summary(),
    Raises(ValueError, "not fitted"),
)
add(
    "irl/results_summary_and_plot",
    lambda: _summary_and_plot(
        _fit(BoltzmannIRL(n_bootstrap=40, random_state=0), reference=R).results_
    ),
    Ok(lambda out: "STARC" in out[0] and out[1] >= 1),
)
add(
    "irl/sample_n_trajectories_zero",
    lambda: irl.sample_trajectories(MDP, PI, 0, 5),
    Raises(ValueError, "`n_trajectories`"),
)
add(
    "irl/sample_horizon_bool",
    lambda: irl.sample_trajectories(MDP, PI, 2, True),
    Raises(TypeError, "`horizon`"),
)
add(
    "irl/sample_policy_nan",
    lambda: irl.sample_trajectories(MDP, np.full((4, 2), np.nan), 2, 3),
    Raises(ValueError, "`policy`"),
)
add(
    "irl/sample_sparse",
    lambda: irl.sample_trajectories(SPARSE, PI, 3, 4, rng=0),
    Ok(lambda out: len(out) == 3 and all(t.shape == (4, 2) for t in out)),
)


# ---------------------------------------------------------------------------- the test
@pytest.mark.parametrize("name", sorted(CASES))
def test_edge_case(name: str) -> None:
    fn, expect = CASES[name]
    if isinstance(expect, Raises):
        with pytest.raises(expect.exc, match=expect.match):
            fn()
    else:
        out = fn()
        assert expect.check(out), f"{name}: wrong answer {out!r} ({expect.what})"


# ---------------------------------------------------------------------------- properties
_finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
_rewards = arrays(np.float64, (4, 2), elements=_finite)
_exponent = st.integers(-300, 300)
_methods = st.sampled_from(["val", "minimal", "epic", "dard"])


@settings(max_examples=40, deadline=None)
@given(r1=_rewards, r2=_rewards, e1=_exponent, e2=_exponent, method=_methods)
def test_property_starc_in_unit_interval(r1, r2, e1, e2, method):
    d = irl.starc_distance(MDP, r1 * 10.0**e1, r2 * 10.0**e2, method)
    assert 0.0 <= d <= 1.0
    assert irl.starc_distance(MDP, r1 * 10.0**e1, r1 * 10.0**e1, method) == 0.0


@settings(max_examples=40, deadline=None)
@given(
    r=_rewards,
    other=_rewards,
    c=st.floats(1e-6, 1e6),
    phi=arrays(np.float64, 4, elements=_finite),
    method=_methods,
)
def test_property_invariance_to_scaling_and_shaping(r, other, c, phi, method):
    # c * r must be the same reward up to scale: a subnormal entry (hypothesis finds 5e-324)
    # loses its value or underflows to 0 when scaled, which is another reward, not rounding
    tiny = np.finfo(float).tiny
    assume(np.all((r == 0) | (np.abs(r) >= tiny / min(c, 1.0))))
    base = irl.starc_distance(MDP, r, other, method)
    assert abs(irl.starc_distance(MDP, c * r, other, method) - base) < 1e-9
    shaped = irl.potential_shaping(MDP, r, phi)
    # shaping moves a reward of norm |phi| by rounding residue ~ eps * |phi| / |c(R)|
    c_norm = np.linalg.norm(irl.canonicalize(MDP, r, method))
    if c_norm > 1e-6 * (1.0 + np.abs(phi).max()):
        assert abs(irl.starc_distance(MDP, shaped, other, method) - base) < 1e-6


# ---------------------------------------------------------------------------- classification
def _outcome(name: str) -> tuple[str, str]:
    """Class and detail of one case, run in this process."""
    import re

    fn, expect = CASES[name]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn()
    except Exception as exc:
        msg = str(exc)
        named = isinstance(exc, ValueError | TypeError) and "`" in msg
        if isinstance(expect, Raises) and isinstance(exc, expect.exc):
            named = named or bool(re.search(expect.match, msg))
        return ("clear error" if named else "obscure error"), f"{type(exc).__name__}: {msg[:90]}"
    try:
        shown = repr(str(out)[:60])
    except Exception:
        shown = f"a {type(out).__name__} that cannot be printed"
    if isinstance(expect, Raises):
        return "silently wrong", f"returned {shown}"
    try:
        good = bool(expect.check(out))
    except Exception:
        good = False
    return ("handled well", "") if good else ("silently wrong", shown)


def classify(timeout: int = 60) -> dict[str, list[str]]:
    """Run every case in a forked child (killed after ``timeout`` s: a hang) and sort it
    into the issue's five classes: clear error (ValueError/TypeError naming an argument),
    handled well (the right answer), silently wrong (a wrong answer, or a value where a
    refusal is due), obscure error (any other exception), hang."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    classes: dict[str, list[str]] = {
        k: [] for k in ("clear error", "handled well", "silently wrong", "obscure error", "hang")
    }
    for name in sorted(CASES):
        print("..", name, flush=True)
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=lambda n=name, c=child: c.send(_outcome(n)))
        proc.start()
        cls, detail = "hang", f"> {timeout} s"
        for _ in range(10 * timeout):
            if parent.poll(0.1):
                cls, detail = parent.recv()
                break
            if not proc.is_alive() and not parent.poll(0.1):
                cls, detail = "obscure error", "the process died"
                break
        proc.kill()
        proc.join()
        classes[cls].append(f"{name}: {detail}" if detail else name)
    return classes


if __name__ == "__main__" and "--classify" in sys.argv:
    res = classify()
    print({k: len(v) for k, v in res.items()}, "total", len(CASES))
    for k, v in res.items():
        print(f"== {k} ({len(v)})")
        for line in v:
            print("  ", line)


def test_sweep_summary_with_no_point_in_the_image_has_no_numpy_warning():
    res = irl.misspecification_sweep(MDP, R, OptimalModel(), BoltzmannModel(), "beta", [1.0])
    text = str(res.summary())  # filterwarnings=error: a raw numpy warning would fail here
    assert "n/a" in text and not res.frame["in_image"].iloc[0]
