# %% [markdown]
# # Which invariance should we transfer? Causal minimax stable-subset selection
#
# Reproduces the simulation and the IMPC real-data experiment of Liu, Zheng, Sun, Fang and
# Wang (ICML 2023) with :class:`causalminimax.CausalMinimaxRegressor`, and compares the chosen
# subset with pooled ERM, the whole stable set, invariant causal prediction and anchor
# regression by the maximum test MSE over unseen environments.
#
# Environment variables: ``ESTKIT_VIGNETTE_FAST=1`` shrinks the work (for test runs; the
# default is the full protocol: 10 simulation splits, all 45 IMPC splits, the neural
# intervention class on 3 simulation splits); ``ESTKIT_OUTPUT`` sets the figure folder
# (default ``./output``).

# %%
from __future__ import annotations

import dataclasses
import itertools
import os
import time
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy.stats import spearmanr

from causalminimax import CausalMinimaxRegressor, InterventionModel
from causalminimax.baselines import (
    AnchorRegression,
    InvariantCausalPrediction,
    PooledERM,
    StableSetRegressor,
)
from causalminimax.datasets import impc_graph, load_impc, simulate_paper, simulation_graph
from causalminimax.datasets._impc import KNOCKOUTS
from causalminimax.evaluation import (
    in_raw_units,
    max_test_mse,
    standardize_split,
    subset_max_test_mse,
)

FAST = os.environ.get("ESTKIT_VIGNETTE_FAST", "0") == "1"
OUT = Path(os.environ.get("ESTKIT_OUTPUT", "output"))
OUT.mkdir(parents=True, exist_ok=True)
T_START, C_START = time.perf_counter(), time.process_time()

# Default intervention class: linear in the standardised parents, norm bound 3 sd, values kept
# inside the training range of each mutable variable (raw units), searched jointly for all
# representatives on common intervened samples.
LINEAR = InterventionModel()
MLP = InterventionModel(basis="mlp", n_components=8, n_restarts=2, n_steps=30)
if FAST:
    LINEAR = InterventionModel(n_restarts=2, n_iter=6, n_eval=200)
    MLP = InterventionModel(basis="mlp", n_components=4, n_restarts=1, n_steps=8, n_eval=150)
N_SIM, N_MLP, IMPC_STEP = (2, 1, 15) if FAST else (10, 3, 1)
# splits run in parallel worker processes (results do not depend on it: each split has its
# own seed); CAUSALMINIMAX_N_JOBS overrides
N_JOBS = int(os.environ.get("CAUSALMINIMAX_N_JOBS", "1" if FAST else "2"))
# IMPC test genotypes are standardised with their own statistics: evaluate the worst case in
# the same units (location and scale shifts, removed by that standardisation, are not risk);
# bound 4 sd, the setting of the earlier 45-split run (issue 6)
IMPC_MODEL = dataclasses.replace(LINEAR, standardize=True, bound=4.0)

# %% [markdown]
# ## One protocol for both data sets
# Train on some environments (standardised with pooled training statistics), test on the
# others (each standardised with its own statistics); a method's score is its maximum test MSE
# over the test environments. Because every test environment is standardised with its own
# mean and sd, **the constant predictor 0 scores exactly 1.000** (the variance of the
# standardised response): a method is only useful when it scores below 1. We also score every
# method in raw units, on the raw test rows (the constant predictor is then the training mean
# of Y, whose score is the largest test variance of Y). Every method's fit is equivariant under
# the pooled standardisation of the training rows (an affine change of units per column), so
# a method fitted on the raw training rows is the fit on the standardised rows with its inputs
# and prediction mapped back to raw units (``evaluation.in_raw_units``; the tests check it
# against refits on raw rows); the vignette maps back instead of fitting twice. (The one
# exception is the IMPC worst case, whose intervention model z-scores the intervened samples,
# ``standardize=True``: refitted on raw rows it would score raw-unit predictors on z-scored
# samples, a mismatch of units that an earlier version of this vignette made.)

# %%


def fit_all(X, y, e, graph, seed, model, space):
    est = CausalMinimaxRegressor(
        graph=graph,
        intervention_model=model,
        search="always",
        search_space=space,
        random_state=seed,
    ).fit(X, y, environment=e)
    return {
        "causal minimax": est,
        "whole stable set": StableSetRegressor(graph=graph, random_state=seed).fit(X, y, e),
        "pooled ERM": PooledERM().fit(X, y, e),
        "ICP": InvariantCausalPrediction().fit(X, y, e),
        "anchor (gamma=5)": AnchorRegression().fit(X, y, e),
    }


def selection(name, m):
    if name == "causal minimax":
        return m.selected_subset_
    if name == "whole stable set":
        return m.subset_
    if name == "ICP":
        return m.selected_subset_
    return ("all",)


def run_split(data, graph, covariates, train_envs, test_envs, seed, space="classes", model=None):
    model = model or LINEAR
    cols = ["Y", *covariates]
    tr, tests = standardize_split(data, train_envs, cols, test_envs=test_envs)
    methods = fit_all(tr[covariates], tr["Y"], tr["E"], graph, seed, model, space)
    est = methods["causal minimax"]
    observed = subset_max_test_mse(est, tests)
    scores = {k: max_test_mse(m.predict, tests) for k, m in methods.items()}
    scores["best subset (oracle)"] = float(observed.min())
    scores["constant 0"] = max_test_mse(lambda d: np.zeros(len(d)), tests)
    chosen = {k: selection(k, m) for k, m in methods.items()}
    # raw units: every method's fit is equivariant under the pooled standardisation of the
    # training rows (affine in each column), so the method fitted on the raw training rows is
    # the fit above with its inputs and prediction mapped back to raw units (to rounding)
    raw_tr = data[data["E"].isin(train_envs)]
    raw_tests = [data[data["E"] == t] for t in test_envs]
    raw_scores = {
        k: max_test_mse(in_raw_units(m.predict, raw_tr, cols), raw_tests)
        for k, m in methods.items()
    }
    ybar = float(raw_tr["Y"].mean())
    raw_scores["constant (training mean)"] = max_test_mse(
        lambda d: np.full(len(d), ybar), raw_tests
    )
    return est, observed, scores, raw_scores, chosen


def fit_class(data, k, train, test, model):
    """The causal minimax fit of simulation split ``k`` under intervention class ``model``."""
    tr, tests = standardize_split(data, train, ["Y", *sim_cov], test_envs=test)
    est = CausalMinimaxRegressor(
        graph=simulation_graph(), intervention_model=model, random_state=k
    ).fit(tr[sim_cov], tr["Y"], environment=tr["E"])
    return est, subset_max_test_mse(est, tests)


def class_row(k, label, est, obs):
    wc = est.worst_case_risk_
    return {
        "split": k,
        "class": label,
        "estimated ratio": wc[WHOLE] / wc.min(),
        "observed ratio": obs[WHOLE] / obs.min(),
        "Spearman": spearmanr(wc, obs).statistic,
        "choice": _fmt(est.selected_subset_),
        "choice max test MSE": obs[est.selected_subset_],
        "fit s": est.fit_time_,
    }


def report(rows, raw_rows, chosen_rows, name):
    std = pd.DataFrame(rows)
    raw = pd.DataFrame(raw_rows)
    methods = [
        "causal minimax", "whole stable set", "pooled ERM", "ICP", "anchor (gamma=5)",
    ]  # fmt: skip
    table = pd.DataFrame(
        {
            "standardised: mean": std[[*methods, "best subset (oracle)", "constant 0"]].mean(),
            "standardised: max": std[[*methods, "best subset (oracle)", "constant 0"]].max(),
            "raw units: mean": raw[[*methods, "constant (training mean)"]].mean(),
        }
    )
    picks = {k: Counter(_fmt(c[k]) for c in chosen_rows).most_common(2) for k in chosen_rows[0]}
    table["most frequent selection (count)"] = pd.Series(
        {k: ", ".join(f"{s} ({n})" for s, n in v) for k, v in picks.items()}
    )
    print(f"\n{name}: maximum test MSE over the test environments ({len(std)} splits)")
    print(table.to_string(float_format=lambda v: f"{v:.4g}", na_rep="-"))
    return std, raw, table


def _fmt(s):
    return "{" + ", ".join(map(str, s)) + "}" if s else "{} (empty: constant)"


# %% [markdown]
# ## Simulation (section 6.1): 20 environments, 10 for training
# The worst-case risk estimated by the method should track the observed one. Per split: the
# estimated whole-stable-set / best-subset ratio against the observed ratio, and the
# Spearman correlation between estimated and observed worst-case risk over the 45
# representatives.
# %%
sim = simulate_paper(rng=2023)
sim_cov = [f"X{i}" for i in range(1, 11)]
rng = np.random.default_rng(0)
sim_splits = []
for _ in range(N_SIM):
    train = sorted(rng.choice(np.arange(1, 21), 10, replace=False).tolist())
    sim_splits.append((train, [e for e in range(1, 21) if e not in train]))
WHOLE = ("X6", "X5", "X1")  # representative of the whole stable set {X1..X8}
sim_rows, sim_raw, sim_chosen, sim_pairs, sim_check = [], [], [], [], []
impc = load_impc()
impc_cov = ["X1", "X2", "X3", "X4", "X5"]
fixed = ["0"] + [KNOCKOUTS[i - 1] for i in (2, 4, 7)]
rest = [k for i, k in enumerate(KNOCKOUTS, 1) if i not in (2, 4, 7)]
pairs = list(itertools.combinations(rest, 2))[::IMPC_STEP]
# All the vignette's fits (these simulation splits, the neural intervention class and the IMPC
# splits below) run in one pool, longest first, so that both workers stay busy to the end; each
# task has its own seed, so the results do not depend on N_JOBS or on the order.
t0 = time.perf_counter()
results = Parallel(n_jobs=N_JOBS)(
    [
        delayed(fit_class)(sim, k, train, test, MLP)
        for k, (train, test) in enumerate(sim_splits[:N_MLP])
    ]
    + [
        delayed(run_split)(sim, simulation_graph(), sim_cov, train, test, k)
        for k, (train, test) in enumerate(sim_splits)
    ]
    + [
        delayed(run_split)(
            impc,
            impc_graph(),
            impc_cov,
            fixed + list(pair),
            [e for e in rest if e not in pair],
            k,
            "all",
            IMPC_MODEL,
        )
        for k, pair in enumerate(pairs)
    ]
)
mlp_results = results[:N_MLP]
sim_results = results[N_MLP : N_MLP + N_SIM]
impc_results = results[N_MLP + N_SIM :]
print(
    f"{N_SIM} simulation splits, {N_MLP} neural-class fits and {len(pairs)} IMPC splits in "
    f"{time.perf_counter() - t0:.1f} s ({N_JOBS} worker processes)"
)
for est, observed, scores, raw_scores, chosen in sim_results:
    sim_rows.append(scores)
    sim_raw.append(raw_scores)
    sim_chosen.append(chosen)
    wc = est.worst_case_risk_
    sim_pairs.append(pd.DataFrame({"estimated": wc, "observed": observed}))
    sim_check.append(
        {
            "estimated ratio": wc[WHOLE] / wc.min(),
            "observed ratio": observed[WHOLE] / observed.min(),
            "Spearman": spearmanr(wc, observed).statistic,
            "choice excludes X1": "X1" not in est.selected_subset_,
            "fit s": est.fit_time_,
        }
    )
check = pd.DataFrame(sim_check)
check["estimated / observed ratio"] = check["estimated ratio"] / check["observed ratio"]
# ceiling of the rank agreement: the same predictors' observed risks on an independent draw of
# the same test environments (same size); the estimate cannot be expected to agree with the
# observed ranking better than the observed ranking agrees with itself
sim_new = simulate_paper(rng=2024)


check["Spearman ceiling (new test draw)"] = [
    spearmanr(
        pair["observed"],
        subset_max_test_mse(est, standardize_split(sim_new, tr, ["Y", *sim_cov], test_envs=te)[1]),
    ).statistic
    for (est, *_), pair, (tr, te) in zip(sim_results, sim_pairs, sim_splits, strict=True)
]
print(check.round(3).to_string())
sim_std, sim_rawt, sim_table = report(sim_rows, sim_raw, sim_chosen, "Simulation")
gap = sim_std["causal minimax"] / sim_std["best subset (oracle)"] - 1
print(f"choice vs oracle best subset: mean gap {100 * gap.mean():.1f}%, max {100 * gap.max():.1f}%")

# %% [markdown]
# Reading the simulation (full run: 10 splits). The stable predictors are fitted on the
# graph-surgery sample (3,000 rows drawn with replacement from the ~1,000 training rows, so
# each training row appears about 3 times); their ridge penalty is chosen by leave-one-out in
# which all copies of a training row are left out together, on the grid ``logspace(-4, 6,
# 21)``. (An earlier version left out one copy at a time, which rewarded weak penalties: the
# whole stable set's penalty ranged from 0.03 to 32 across random states on the same split.
# A later one searched only up to 100, where 78-100% of the predictors per split stopped at
# the grid's edge.) Now every optimum below the top lies between 1e-4 and 3.2e5, and a
# predictor whose cross-validated error still falls at 1e6 (0-84% of the 45 per split; the
# error keeps falling up to 1e10) is practically the constant predictor: its inputs carry no
# signal that survives leaving out a training row. The whole stable set's penalty is
# 10-1e6 over the splits and random states.
#
# The estimated worst-case risk tracks the observed one: the estimated whole-stable-set /
# best-subset ratio is within 25% of the observed ratio on all 10 splits (0.96-1.10 times it;
# grid up to 100: 0.95-1.05; before the grouped leave-one-out 0.84-1.13; before the support
# constraint 0.9 to 203 times it), and Spearman over the 45 representatives is >= 0.75 on 8
# of 10 splits (0.81-0.97; grid up to 100: 4 of 10; before the grouped leave-one-out 6 of
# 10). On the slow test's 10 fresh splits: ratio within 25% on 10 of 10 (1.00-1.21 times
# it), Spearman >= 0.75 on 9 of 10. Why the rest miss (``python
# benchmarks/bench_causalminimax.py --stability``, and the slow tests):
#
# - On splits 0 and 1 (Spearman 0.68 and 0.69) the observed ranking is noise itself: the 45
#   observed risks lie within 1% of each other, and the same predictors ranked on an
#   independent draw of the same test environments (column "Spearman ceiling") agree with it
#   by only 0.57 and 0.50. The estimate agrees with the observed ranking better than that.
# - Not search or Monte Carlo noise: given the predictors, another search seed, other
#   evaluation rows and 4 times the restarts reproduce the estimated ranking.
# - On the fresh split that misses (Spearman 0.49, ceiling 0.76) the observed ranking is not
#   a property of the split: a refit with another ``random_state`` (another graph-surgery
#   sample) ranks the 45 on the same test data with Spearman 0.05 against it.
#
# So "Spearman >= 0.75 on every split" is not attained, but where it is missed the observed
# ranking is not reproducible; the table reports the ceiling beside it.
#
# What the method chooses: with the cross-validated penalty in range, the choice is a
# near-constant predictor and scores 1.000 on average (at most 1.001), the constant
# predictor's score and the oracle best subset's (mean gap 0.0%, at most 0.1%). The stable
# variables carry no transferable signal on Y here, and the method now finds that out
# instead of fitting noise (grid up to 100: 1.041 on average, 1.120 at most). The whole
# stable set scores 1.042 on average (at most 1.087): the qualitative claim of the paper
# reproduces, weakly: the whole stable set is not optimal, observed whole-set / best-subset
# ratio 1.00-1.31 over the 10 splits (mean 1.09; exactly 1 on splits 0 and 3, where the whole
# stable set's own predictor is the constant; grid up to 100: 1.02-1.21), and the choice
# never contains X1. The paper's "several times" magnitude does not reproduce: it comes from
# the authors' regeneration of X1 without its noise term (raw-scale coefficients applied to
# standardised inputs); keeping X1's noise (the correct do-intervention) gives ratios of about
# 1.07-1.21 across three learners and three worst-case measures, while the noise-free recipe
# gives 4x to 2,000x depending on the learner (both figures from issue 15's independent
# check, not recomputed here).
#
# ICP selects the empty set, i.e. the constant predictor, which scores exactly 1.000 by
# construction of the per-environment standardisation; the method's choice now ties with it
# (1.000) instead of losing to it. In raw units too the constant is as good as anything
# (0.01133 against 0.01134 for the choice and 0.0116 for the whole stable set): in this
# simulation the stable variables carry almost no information on Y that survives the shifts
# (Y reaches them only through X1, whose 0.63 coefficient on Y is swamped by X1's own noise),
# so the best any stable predictor can do is about the constant. The comparison that matters
# is against the whole stable set (1.042 on average, up to 1.087), pooled ERM (5.38) and
# anchor regression (1.54).

# %% [markdown]
# ## The authors' intervention class: one-hidden-layer networks
# ``basis="mlp"``: each mutable mechanism becomes ``mean + sd * (v0 + v' tanh(A z + c))`` with
# an L2 penalty on the weights, maximised by Adam on exact gradients through the fitted
# structural equations, from common initialisations, then every predictor is scored against
# every predictor's worst case.
# %%


# the linear class's rows are the simulation fits above (same split, seed and class)
mlp_rows = [class_row(k, "mlp", est, obs) for k, (est, obs) in enumerate(mlp_results)] + [
    class_row(k, "linear", est, observed)
    for k, (est, observed, *_) in enumerate(sim_results[:N_MLP])
]
mlp_table = pd.DataFrame(mlp_rows).sort_values(["split", "class"])
print(f"linear vs neural intervention class, {N_MLP} splits")
print(mlp_table.round(3).to_string(index=False))

# %% [markdown]
# Under the neural class (full run, 3 splits) the estimated ratios are close to the linear
# class's (1.000, 1.034, 1.088 against 1.000, 1.032, 1.079; observed 1.000, 1.009, 1.119),
# the choice is the same on all 3 splits, and the rank agreement is the same (Spearman 0.71,
# 0.69, 0.96 against 0.68, 0.69, 0.96), at 2 to 3 times the fitting time (2.2-2.5 s of CPU
# per fit against 0.7-1.2 s, fits run one at a time; the "fit s" column is wall time in the
# worker processes and grows with the machine's load).

# %% [markdown]
# ## Discovering the graph and the mutable set (CD-NOD style)
# The analyses above take the graph as given. :func:`causalminimax.discover_graph` estimates it
# from the pooled training data with the environment as a context node: the variables left
# adjacent to the environment are the mutable ones. Fisher-z assumes linear-Gaussian
# mechanisms, which the simulation's sigmoid/tanh mechanisms only approximate.
# %%
from causalminimax import discover_graph

disc = discover_graph(sim, "E", target="Y", alpha=0.01, test="fisherz")
true_skeleton = {frozenset(e) for e in simulation_graph(augmented=False).edges}
found_skeleton = {frozenset(e) for e in disc.graph.to_undirected().edges}
print(f"estimated mutable set: {list(disc.mutable)} (truth: ['X9', 'X10'])")
print(f"missing edges: {sorted(tuple(sorted(e)) for e in true_skeleton - found_skeleton)}")
print(f"extra edges: {sorted(tuple(sorted(e)) for e in found_skeleton - true_skeleton)}")
print(f"undirected edges: {disc.undirected_edges}")

# %% [markdown]
# ## IMPC hematology (genotypes as environments)
# Train on the wild type, knockouts 2, 4, 7 and a pair of the other ten; test on the other
# eight: 45 splits (one per pair). As in the authors' code, all 16 stable subsets are fitted
# and scored (``search_space="all"``): the assumed graph makes Y independent of X1 and X3 (X2 is
# a collider), which the data contradict (wild-type correlations 0.49 and 0.42), so merging
# subsets by the graph's equivalence classes would discard real information.
# %%
impc_rows, impc_raw, impc_chosen, impc_pairs = [], [], [], []
for est, observed, scores, raw_scores, chosen in impc_results:
    scores["Spearman (16 subsets)"] = spearmanr(est.worst_case_risk_, observed).statistic
    impc_rows.append(scores)
    impc_raw.append(raw_scores)
    impc_chosen.append(chosen)
    impc_pairs.append(pd.DataFrame({"estimated": est.worst_case_risk_, "observed": observed}))
print(f"\nIMPC: {len(pairs)} splits")
impc_std, impc_rawt, impc_table = report(impc_rows, impc_raw, impc_chosen, "IMPC")
wins = int((impc_std["causal minimax"] < impc_std["whole stable set"]).sum())
print(
    f"causal minimax beats the whole stable set in {wins} of {len(impc_std)} splits "
    f"(mean {impc_std['causal minimax'].mean():.3f} vs "
    f"{impc_std['whole stable set'].mean():.3f})"
)
first9 = impc_std.iloc[::5] if len(impc_std) == 45 else impc_std
print(
    f"the 9-split subsample (every 5th pair): {first9['causal minimax'].mean():.3f} vs "
    f"{first9['whole stable set'].mean():.3f}"
)
# the authors rank the subsets by their split-averaged estimated risk against their
# split-averaged max test MSE
avg = pd.concat(impc_pairs).groupby(level=0).mean()
no_x2 = avg[[("X2" not in s) for s in avg.index]]
rho_split = impc_std["Spearman (16 subsets)"].mean()
rho_avg = spearmanr(avg).statistic
rho_no_x2 = spearmanr(no_x2).statistic
print(
    f"Spearman(estimated, observed): per split {rho_split:.2f} (mean), split-averaged risks "
    f"{rho_avg:.2f} (16 subsets), {rho_no_x2:.2f} (8 subsets without X2)"
)
print(avg.sort_values("estimated").round(3).to_string())

# %% [markdown]
# Reading IMPC (full run). Over all 45 splits the choice ({X1, X3} on every split) beats the
# whole stable set in 33 (mean 1.048 against 1.108; oracle best subset 0.982; before the
# penalty fix 34 of 45, 1.059 against 1.136); ICP again selects the empty set, the constant
# predictor at exactly 1.000, which the choice does not beat on average (extending the
# penalty grid from 100 to 1e6 changed only the oracle best subset, from 0.984). Agreement between
# estimated and observed risks is weak: Spearman 0.28 per split, 0.33 on split-averaged risks
# and 0.14 without the 8 subsets containing X2 (before the fix 0.25, 0.30, 0.14). The authors'
# reported 0.93 is driven by those 8 subsets, whose regenerated values are noise-free in their
# code (their split-averaged Spearman without them is 0.74, per issue 15's independent
# check); our estimate keeps the noise, the assumed graph is contradicted by the data (see
# above), and the test genotypes have 12-14 mice each with a maximum over 8 of them. In raw
# units anchor regression is best (0.0013 against 0.0022 for the choice, 0.0026 for the
# constant and 0.0029 for the whole stable set; before the penalty fix the whole stable set
# scored 0.037). The choice's 0.0022 is its standardised fit in raw units; an earlier version
# refitted it on raw rows and scored those raw-unit predictors on z-scored intervened samples
# (see the protocol above), which chose other subsets on some splits ({X1} instead of
# {X1, X3} on the first) and reported 0.0046.

# %% [markdown]
# ## Figure: estimated worst-case risk versus observed maximum test MSE
# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, pairs_, name in [(axes[0], sim_pairs, "simulation"), (axes[1], impc_pairs, "IMPC")]:
    both = pd.concat(pairs_)
    ax.scatter(both["estimated"], both["observed"], s=10, alpha=0.5)
    ax.axhline(
        1.0, color="grey", ls="--", lw=1, label="constant predictor (= 1 by standardisation)"
    )
    ax.set_xlabel("estimated worst-case risk")
    ax.set_ylabel("observed max test MSE")
    rho = np.mean([spearmanr(p["estimated"], p["observed"]).statistic for p in pairs_])
    ax.set_title(f"{name}: mean Spearman {rho:.2f}")
    ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "causalminimax_estimated_vs_observed.png", dpi=100)
plt.close(fig)
print(f"figure written to {OUT / 'causalminimax_estimated_vs_observed.png'}")

# %% [markdown]
# ## Checks the test suite relies on
# %%
table = pd.DataFrame(
    {"simulation": sim_std.mean(numeric_only=True), "IMPC": impc_std.mean(numeric_only=True)}
)
main = ["causal minimax", "whole stable set", "pooled ERM", "best subset (oracle)"]
if not np.all(np.isfinite(table.loc[main].to_numpy())):
    raise RuntimeError("non-finite maximum test MSE in the results table")
if not table.loc["causal minimax", "simulation"] < table.loc["whole stable set", "simulation"]:
    raise RuntimeError("causal minimax does not beat the whole stable set in the simulation")
if not np.isclose(table.loc["constant 0", "simulation"], 1.0):
    raise RuntimeError("the constant predictor should score exactly 1 after standardisation")
print(
    f"total: {time.perf_counter() - T_START:.1f} s wall, "
    f"{time.process_time() - C_START:.1f} s CPU in the main process (workers not counted)"
)
