"""Regenerate the rdrobust / rddensity reference numbers used by the estkit parity tests.

Run in a separate virtual environment that holds the GPL-3 oracles (never a dependency of
this project, never imported by the package):

    python3 -m venv /work/oracles/rd
    /work/oracles/rd/bin/pip install rdrobust==2.1.1 rddensity==3.0
    /work/oracles/rd/bin/python benchmarks/rd_oracles.py rdrobust rdrobust.json
    /work/oracles/rd/bin/python benchmarks/rd_oracles.py rddensity rddensity.json

The data sets are generated here and, identically, in tests/estkit/test_rd.py and
tests/estkit/test_density.py (numpy default_rng with fixed seeds).
"""

import json
import sys
import warnings

import numpy as np


def rd_data(k):
    """Simulated RD data sets shared with tests/estkit/test_rd.py."""
    rng = np.random.default_rng(200 + k)
    n = (1000, 600, 800)[k]
    if k == 0:
        x = rng.uniform(-1, 1, n)
        c = 0.0
    elif k == 1:
        x = rng.normal(0.2, 1, n)
        c = 0.3
    else:
        x = np.round(rng.uniform(-1, 1, n), 2)  # mass points
        c = 0.0
    above = x >= c
    z = np.column_stack([rng.normal(size=n), rng.uniform(size=n)])
    t = (rng.uniform(size=n) < np.where(above, 0.8, 0.25)).astype(float)
    u = x - c
    y = 1 + u + 0.6 * u**2 - 0.4 * u**3 + 0.5 * t + 0.4 * z[:, 0] + rng.normal(0, 0.4, n)
    cl = rng.integers(0, 40, n)
    w = rng.uniform(0.5, 2.0, n)
    return dict(x=x, y=y, c=c, z=z, t=t, cl=cl, w=w)


def rd_cases():
    cases = []
    for k in (0, 1):
        for p in (1, 2):
            for kern in ("triangular", "epanechnikov", "uniform"):
                for vce in ("nn", "hc0", "hc1", "hc2", "hc3"):
                    cases.append(dict(k=k, p=p, kernel=kern, vce=vce))
    for k in (0, 1):
        for vce in ("nn", "hc0", "hc2"):
            cases.append(dict(k=k, p=1, kernel="triangular", vce=vce, h=0.4, b=0.6))
        for p in (1, 2):
            for kern in ("triangular", "epanechnikov", "uniform"):
                cases.append(dict(k=k, p=p, kernel=kern, vce="hc1", cluster=True))
            cases.append(dict(k=k, p=p, kernel="triangular", vce="hc1", cluster=True, h=0.5))
            for vce in ("nn", "hc1", "hc3"):
                cases.append(dict(k=k, p=p, kernel="triangular", vce=vce, fuzzy=True))
                cases.append(dict(k=k, p=p, kernel="triangular", vce=vce, covs=True))
            cases.append(dict(k=k, p=p, kernel="epanechnikov", vce="nn", fuzzy=True, covs=True))
            cases.append(dict(k=k, p=p, kernel="triangular", vce="hc1", fuzzy=True, cluster=True))
            cases.append(dict(k=k, p=p, kernel="triangular", vce="nn", covs=True, cluster=True))
            cases.append(dict(k=k, p=p, kernel="uniform", vce="nn", weights=True))
    for p in (1, 2):
        for vce in ("nn", "hc1"):
            cases.append(dict(k=2, p=p, kernel="triangular", vce=vce))
    return cases


def run_rdrobust():
    from rdrobust import rdrobust

    out = []
    for case in rd_cases():
        d = rd_data(case["k"])
        kw = dict(c=d["c"], p=case["p"], kernel=case["kernel"], vce=case["vce"])
        if "h" in case:
            kw["h"] = case["h"]
            kw["b"] = case.get("b", case["h"])
        if case.get("cluster"):
            kw["cluster"] = d["cl"]
        if case.get("fuzzy"):
            kw["fuzzy"] = d["t"]
        if case.get("covs"):
            kw["covs"] = d["z"]
        if case.get("weights"):
            kw["weights"] = d["w"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = rdrobust(d["y"], d["x"], **kw)
        coef = r.coef.to_numpy().ravel()
        se = r.se.to_numpy().ravel()
        ci = r.ci.to_numpy()
        out.append(
            dict(
                case=case,
                tau_cl=float(coef[0]),
                tau_bc=float(coef[1]),
                se_cl=float(se[0]),
                se_rb=float(se[2]),
                ci_cl=[float(v) for v in ci[0]],
                ci_rb=[float(v) for v in ci[2]],
                h=float(r.bws.iloc[0, 0]),
                b=float(r.bws.iloc[1, 0]),
                n_h=[int(v) for v in r.N_h],
            )
        )
    return out


def density_data(k):
    """Data sets shared with tests/estkit/test_density.py."""
    rng = np.random.default_rng(100 + k)
    if k == 0:
        return rng.normal(size=1000), 0.0
    if k == 1:
        return rng.uniform(-1, 1, 600), 0.2
    if k == 2:
        return np.r_[rng.normal(-0.5, 1, 700), rng.uniform(0, 1, 300)], 0.0
    if k == 3:
        return rng.exponential(size=800) - 1, 0.0
    if k == 4:
        return np.round(rng.normal(size=1500), 2), 0.0
    return rng.beta(2, 3, 400), 0.35


def run_rddensity():
    from rddensity import rddensity

    out = []
    for k in range(6):
        x, c = density_data(k)
        for kern in ("triangular", "epanechnikov", "uniform"):
            for p in (1, 2, 3):
                for h in (None, 0.5):
                    r = rddensity(
                        x, c=c, p=p, kernel=kern, h=[] if h is None else [h], bino_flag=False
                    )
                    out.append(
                        dict(
                            k=k,
                            kernel=kern,
                            p=p,
                            h=h,
                            T=float(r.test["t_jk"]),
                            pv=float(r.test["p_jk"]),
                            hl=float(r.h["left"]),
                            hr=float(r.h["right"]),
                            fl=float(r.hat["left"]),
                            fr=float(r.hat["right"]),
                            nl=int(r.n["eff_left"]),
                            nr=int(r.n["eff_right"]),
                        )
                    )
    return out


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "rdrobust"
    res = run_rdrobust() if which == "rdrobust" else run_rddensity()
    with open(sys.argv[2], "w") as fh:  # rdrobust prints notes on stdout
        json.dump(res, fh)
