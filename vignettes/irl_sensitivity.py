# %% [markdown]
# # How sensitive is IRL to misspecification?
#
# This vignette reproduces, on small random MDPs, the claims of Skalse & Abate (2024),
# "Quantifying the Sensitivity of Inverse Reinforcement Learning to Misspecification",
# with the `irl_sensitivity` package. Distances are STARC distances with the paper's
# scale (0.5 * L2 of standardised VAL canonical rewards, values in [0, 1]).
# Figures go to `$ESTKIT_OUTPUT` (default `./output`); `ESTKIT_VIGNETTE_FAST=1` shrinks
# the grids.

# %%
import os
import sys
from pathlib import Path

# this file shares its name with the package: keep its folder off the import path
_HERE = Path(globals().get("__file__", "missing")).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from irl_sensitivity import (
    BoltzmannIRL,
    BoltzmannModel,
    FeatureMCEIRL,
    MCEModel,
    OptimalModel,
    TabularMDP,
    boltzmann_inverse,
    boltzmann_policy,
    canonicalize,
    image_condition,
    max_error,
    mce_policy,
    misspecification_sweep,
    occupancy_measure,
    potential_shaping,
    random_mdp,
    representative_error,
    s_redistribution,
    sample_trajectories,
    separation_probe,
    starc_distance,
    worst_case_error,
)

FAST = os.environ.get("ESTKIT_VIGNETTE_FAST") == "1"
OUT = Path(os.environ.get("ESTKIT_OUTPUT", "output"))
OUT.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(2024)
mdp = random_mdp(5, 3, gamma=0.9, rng=rng)
R = rng.normal(size=(5, 3, 5))

# %% [markdown]
# ## 1. Canonicalisations are invariant; EPIC is not invariant to S'-redistribution

# %%
phi = rng.normal(size=5)
for method in ["val", "minimal", "epic", "dard"]:
    c = canonicalize(mdp, R, method)
    shaping = np.abs(canonicalize(mdp, potential_shaping(mdp, R, phi), method) - c).max()
    moved = np.abs(canonicalize(mdp, s_redistribution(mdp, R, rng), method) - c).max()
    print(f"{method:8s} shaping change {shaping:.1e}   S'-redistribution change {moved:.1e}")
print("d(R, R) =", starc_distance(mdp, R, R), "  d(R, -R) =", starc_distance(mdp, R, -R))

# %% [markdown]
# ## 2. Forward model then inverse reproduces the policy

# %%
pi = boltzmann_policy(mdp, R, beta=2.0)
R_hat = boltzmann_inverse(mdp, pi, beta=2.0)
print("max policy error:", np.abs(boltzmann_policy(mdp, R_hat, 2.0) - pi).max())
print("STARC distance to the truth:", starc_distance(mdp, R, R_hat))

# %% [markdown]
# ## 3. Temperature misspecification is harmless; discount misspecification is not

# %%
print(
    "beta 3 vs 1, worst case:",
    worst_case_error(mdp, R, BoltzmannModel(beta=3.0), BoltzmannModel(beta=1.0)),
)
true, assumed = BoltzmannModel(), BoltzmannModel(gamma=0.89)
print(
    "gamma 0.9 vs 0.89: representative",
    representative_error(mdp, R, true, assumed),
    " worst case",
    worst_case_error(mdp, R, true, assumed),
)
print(
    "max error over rewards:",
    max_error(mdp, true, assumed, rng=0, n_starts=1 if FAST else 3),
)
print(
    "Optimal policies lie in Im(Boltzmann)?",
    image_condition(mdp, OptimalModel(), BoltzmannModel(), rng=0),
)

# %%
r_sa = mdp.expected_reward(R)
grid = np.linspace(0.8, 0.98, 5 if FAST else 19)
sweep_g = misspecification_sweep(mdp, r_sa, BoltzmannModel(), BoltzmannModel(), "gamma", grid)
print(sweep_g.summary())
ax = sweep_g.plot()
ax.axvline(mdp.gamma, color="0.5", lw=0.8, ls=":")
ax.set_title("Error versus discount misspecification (true gamma = 0.9)")
ax.figure.savefig(OUT / "irl_error_vs_gamma.png", dpi=120, bbox_inches="tight")
plt.close(ax.figure)

# %%
betas = np.logspace(-1, 1, 5 if FAST else 13)
sweep_b = misspecification_sweep(
    mdp, r_sa, BoltzmannModel(beta=2.0), BoltzmannModel(), "beta", betas
)
sweep_a = misspecification_sweep(
    mdp, r_sa, MCEModel(temperature=0.5), MCEModel(), "temperature", betas
)
fig, ax = plt.subplots(figsize=(6.4, 4.0))
ax.semilogx(betas, sweep_b.frame["worst_case_error"], "o-", label="Boltzmann, worst case")
ax.semilogx(betas, sweep_a.frame["worst_case_error"], "s--", label="MCE, worst case")
ax.set_ylim(-0.02, 1.02)
ax.set_xlabel("assumed temperature parameter (true: beta = 2, temperature = 0.5)")
ax.set_ylabel("STARC distance")
ax.set_title("Error versus temperature misspecification")
ax.legend(frameon=False)
fig.savefig(OUT / "irl_error_vs_temperature.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# ## 4. Transition misspecification
# The Boltzmann representative ``Q_hat(s, a) - gamma * V_hat(s')`` is a shaping of
# ``Q_hat`` under any dynamics, so its error is zero; the worst case is not.

# %%
eps = np.array([0.0, 0.001, 0.01, 0.05, 0.1, 0.3])[: 3 if FAST else None]
sweep_t = misspecification_sweep(
    mdp, r_sa, BoltzmannModel(), BoltzmannModel(), "transition", eps, rng=11
)
print(sweep_t.frame)
ax = sweep_t.plot()
ax.set_title("Error versus transition perturbation")
ax.figure.savefig(OUT / "irl_error_vs_transition.png", dpi=120, bbox_inches="tight")
plt.close(ax.figure)

# %% [markdown]
# ## 5. The perturbation probe: lambda R versus -lambda R

# %%
probe = separation_probe(mdp, R, BoltzmannModel(), np.logspace(0, -6, 4 if FAST else 13))
print(probe.summary())
ax = probe.plot()
ax.figure.savefig(OUT / "irl_separation_probe.png", dpi=120, bbox_inches="tight")
plt.close(ax.figure)

# %% [markdown]
# ## 6. IRL from demonstrations with a bootstrap interval

# %%
trajs = sample_trajectories(mdp, pi, 50 if FAST else 300, 30, rng=rng)
est = BoltzmannIRL(beta=2.0, n_bootstrap=20 if FAST else 200, random_state=0).fit(
    mdp, trajs, reference=R
)
print(est.summary())
ax = est.results_.plot()
ax.figure.savefig(OUT / "irl_estimate.png", dpi=120, bbox_inches="tight")
plt.close(ax.figure)

# %% [markdown]
# ## 7. Feature-based MCE IRL on a gridworld
# A 5 x 5 gridworld with four moves that slip to another direction with probability 0.1.
# The reward is linear in three state features: the goal corner, a wall of "lava" cells
# and the distance travelled from the start. A maximal causal entropy demonstrator
# (discounted, temperature 1) produces trajectories; `FeatureMCEIRL` fits the weights by
# matching expected feature counts (from an exact occupancy measure) or by the causal
# likelihood (from the sampled trajectories), with the exact gradient and L-BFGS.


# %%
def gridworld(side: int = 5, slip: float = 0.1, gamma: float = 0.9) -> TabularMDP:
    """Moves up / down / left / right; with probability ``slip`` a random other move."""
    moves = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    t = np.zeros((side * side, 4, side * side))
    for s in range(side * side):
        i, j = divmod(s, side)
        for a in range(4):
            for b, (di, dj) in enumerate(moves):
                ni = min(max(i + di, 0), side - 1)
                nj = min(max(j + dj, 0), side - 1)
                t[s, a, ni * side + nj] += 1 - slip if a == b else slip / 3
    return TabularMDP(t, None, gamma)


side = 5
grid = gridworld(side)
row, col = np.divmod(np.arange(side * side), side)
features = np.stack(
    [(row == 4) & (col == 4), (row == 2) & (col >= 1) & (col <= 3), (row + col) / 8.0], axis=1
).astype(float)
theta_true = np.array([2.0, -1.5, 0.0])
R_grid = features @ theta_true
pi_grid = mce_policy(grid, R_grid)

exact = FeatureMCEIRL(features=features).fit(grid, occupancy=occupancy_measure(grid, pi_grid))
print("from the exact occupancy: theta =", exact.theta_.round(6))
print("  STARC distance to the truth:", starc_distance(grid, R_grid, exact.reward_))

demos = sample_trajectories(grid, pi_grid, 100 if FAST else 400, 40, rng=rng)
fitted = FeatureMCEIRL(features=features).fit(grid, demos)
print(fitted.summary())
print("from trajectories: STARC distance", starc_distance(grid, R_grid, fitted.reward_))

# %%
fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.4))
for ax, rew, title in [
    (axes[0], R_grid, "true reward"),
    (axes[1], fitted.reward_[:, 0], "FeatureMCEIRL from trajectories"),
]:
    img = (rew / np.abs(rew).max()).reshape(side, side)
    im = ax.imshow(img, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_title(f"{title}\n(scaled to max |r| = 1)")
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(im, ax=axes, shrink=0.8)
fig.savefig(OUT / "irl_gridworld_reward.png", dpi=120, bbox_inches="tight")
plt.close(fig)

# %% [markdown]
# ## 8. Misspecification on the gridworld
# The same demonstrations, fitted under a wrong discount or a wrong temperature. As the
# theory predicts (section 3), a wrong temperature only rescales the reward (the STARC
# distance does not move), while a wrong discount distorts it, with or without sampling
# noise (the dashed curve fits the exact occupancy measure, discounted as assumed).

# %%
gammas = np.array([0.5, 0.7, 0.8, 0.9, 0.95, 0.99])[:: 2 if FAST else 1]
temps = np.array([0.25, 0.5, 1.0, 2.0, 4.0])[:: 2 if FAST else 1]
d_gamma = [
    starc_distance(
        grid, R_grid, FeatureMCEIRL(features=features, discount=g).fit(grid, demos).reward_
    )
    for g in gammas
]
population = [
    starc_distance(
        grid,
        R_grid,
        FeatureMCEIRL(features=features, discount=g)
        .fit(grid, occupancy=occupancy_measure(grid, pi_grid, discount=g))
        .reward_,
    )
    for g in gammas
]
d_temp = [
    starc_distance(
        grid, R_grid, FeatureMCEIRL(features=features, temperature=t).fit(grid, demos).reward_
    )
    for t in temps
]
fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.4), sharey=True)
axes[0].plot(gammas, d_gamma, "o-", label="FeatureMCEIRL from trajectories")
axes[0].plot(gammas, population, "s--", label="from the exact occupancy (no sampling)")
axes[0].axvline(grid.gamma, color="0.5", lw=0.8, ls=":")
axes[0].set_xlabel("assumed discount (true 0.9)")
axes[0].set_ylabel("STARC distance to the true reward")
axes[0].legend(frameon=False, fontsize=8)
axes[1].semilogx(temps, d_temp, "o-")
axes[1].set_xticks(temps, [f"{t:g}" for t in temps])
axes[1].minorticks_off()
axes[1].set_xlabel("assumed temperature (true 1)")
for ax in axes:
    ax.set_ylim(-0.02, 1.02)
fig.suptitle("Gridworld: discount misspecification hurts, temperature does not")
fig.savefig(OUT / "irl_gridworld_misspecification.png", dpi=120, bbox_inches="tight")
plt.close(fig)
print(pd.DataFrame({"assumed gamma": gammas, "from trajectories": d_gamma, "exact": population}))
