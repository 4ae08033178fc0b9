"""Build the gubernatorial-elections dataset shipped in ``r3d/datasets/data/``.

Reads the raw public inputs (election returns and ACS 1-year state tables) from
``../shared/data/gubernatorial`` relative to the repository root (``--raw`` to change it) and
writes three CSV files, byte-for-byte deterministic:

* ``gubernatorial_elections.csv``: one row per election (state, years, margin, seat status,
  votes, source of the vote share);
* ``gubernatorial_family_income.csv``: state-year panel of family-income quantiles
  q05, ..., q95 in constant 2018 dollars (CPI-U), family counts and household Gini;
* ``gubernatorial_poverty_ratio.csv``: state-year panel of income-to-poverty-ratio quantiles
  q05, ..., q45.

It also prints the validation of the bracket interpolation against the exact household
quantiles of ACS table B19080. Provenance and every choice are documented in
``data/README.md``. Usage::

    python data/build_gubernatorial.py [--raw DIR] [--out DIR] [--check]
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from r3d.datasets._brackets import bracket_quantiles
from r3d.datasets._gubernatorial import (
    BASE_YEAR,
    CPI_U_ANNUAL,
    ELECTIONS_FILE,
    FAMILY_INCOME_FILE,
    FAMILY_INCOME_QUANTILES,
    POVERTY_RATIO_FILE,
    POVERTY_RATIO_QUANTILES,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
RAW_DEFAULT = REPO_ROOT.parent / "shared" / "data" / "gubernatorial"
OUT_DEFAULT = REPO_ROOT / "r3d" / "datasets" / "data"

ELECTION_YEARS = range(2002, 2016)
ACS_YEARS = range(2005, 2019)
TWO_YEAR_TERMS = frozenset({"NH", "VT"})
#: Largest tolerated |Algara share - CSPP share| before a hand decision is required.
DISAGREEMENT_TOL = 0.01
#: Income brackets following the Pareto law fitted from the two top brackets: 2 = both the
#: $150-200k and the $200k+ brackets (validated against B19080 in data/README.md: mean
#: household p95 error 0.9% instead of 2.4% when $150-200k is spread uniformly).
PARETO_BRACKETS = 2

#: Income brackets of B19101 / B19001 (US dollars); the lowest bracket (under $10,000, which
#: includes zero and negative incomes) starts at 0, the top one ($200,000+) is open.
INCOME_BOUNDS = (
    np.array([0, 10, 15, 20, 25, 30, 35, 40, 45, 50, 60, 75, 100, 125, 150, 200, np.inf]) * 1000.0
)
#: Ratio-of-income-to-poverty brackets of B17026; the top one (5.00 and over) is open.
POVERTY_BOUNDS = np.array([0, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 1.85, 2, 3, 4, 5, np.inf])
#: B19080 columns: upper limits of the household-income quintiles and the lower limit of the
#: top 5 percent; Census codes values above $250,000 as 250001 ("250,000+").
B19080_LEVELS = {"p20": 0.20, "p40": 0.40, "p60": 0.60, "p80": 0.80, "p95": 0.95}
B19080_TOPCODE = 250001

#: State FIPS code -> (USPS code, name); DC included for the validation, Puerto Rico excluded.
FIPS = {
    "01": ("AL", "Alabama"), "02": ("AK", "Alaska"), "04": ("AZ", "Arizona"),
    "05": ("AR", "Arkansas"), "06": ("CA", "California"), "08": ("CO", "Colorado"),
    "09": ("CT", "Connecticut"), "10": ("DE", "Delaware"), "11": ("DC", "District of Columbia"),
    "12": ("FL", "Florida"), "13": ("GA", "Georgia"), "15": ("HI", "Hawaii"),
    "16": ("ID", "Idaho"), "17": ("IL", "Illinois"), "18": ("IN", "Indiana"),
    "19": ("IA", "Iowa"), "20": ("KS", "Kansas"), "21": ("KY", "Kentucky"),
    "22": ("LA", "Louisiana"), "23": ("ME", "Maine"), "24": ("MD", "Maryland"),
    "25": ("MA", "Massachusetts"), "26": ("MI", "Michigan"), "27": ("MN", "Minnesota"),
    "28": ("MS", "Mississippi"), "29": ("MO", "Missouri"), "30": ("MT", "Montana"),
    "31": ("NE", "Nebraska"), "32": ("NV", "Nevada"), "33": ("NH", "New Hampshire"),
    "34": ("NJ", "New Jersey"), "35": ("NM", "New Mexico"), "36": ("NY", "New York"),
    "37": ("NC", "North Carolina"), "38": ("ND", "North Dakota"), "39": ("OH", "Ohio"),
    "40": ("OK", "Oklahoma"), "41": ("OR", "Oregon"), "42": ("PA", "Pennsylvania"),
    "44": ("RI", "Rhode Island"), "45": ("SC", "South Carolina"), "46": ("SD", "South Dakota"),
    "47": ("TN", "Tennessee"), "48": ("TX", "Texas"), "49": ("UT", "Utah"),
    "50": ("VT", "Vermont"), "51": ("VA", "Virginia"), "53": ("WA", "Washington"),
    "54": ("WV", "West Virginia"), "55": ("WI", "Wisconsin"), "56": ("WY", "Wyoming"),
}  # fmt: skip

#: Rows of the 2002-2015 window without Algara returns: dropped, with the reason.
NO_ALGARA = {
    ("AK", 2002): "Alaska is not in the Algara-Amlani county returns (no votes, no seat status)",
    ("AK", 2006): "Alaska is not in the Algara-Amlani county returns (no votes, no seat status)",
    ("AK", 2010): "Alaska is not in the Algara-Amlani county returns (no votes, no seat status)",
    ("AK", 2014): "Alaska, and no Democratic candidate (Walker-Mallott independent ticket)",
    ("CA", 2003): "recall election, not a regular race; the CSPP value 0.5271 repeats CA 2002",
    ("UT", 2010): "special election for the two remaining years of the term; outside the "
    "election + 3 design (and not in the Algara returns)",
    ("UT", 2014): "empty placeholder row: Utah held no gubernatorial election in 2014",
}

#: Official statewide returns typed in where the Algara county sums are wrong. Missouri's
#: county sums apparently omit the City of St. Louis (an independent city): they fall short of
#: the official Democratic vote by about 106k, 120k and 107k votes, the size of St. Louis
#: City's Democratic vote. Source: Missouri Secretary of State certified totals (as reproduced
#: by OurCampaigns and the Wikipedia election pages); see data/README.md.
HAND_VOTES = {
    ("MO", 2004): (1_301_442, 1_382_419, "McCaskill (D) vs Blunt (R); CSPP 0.4849 agrees"),
    ("MO", 2008): (1_680_611, 1_136_364, "Nixon (D) vs Hulshof (R); CSPP 0.5948 (0.002 off)"),
    ("MO", 2012): (1_494_056, 1_160_265, "Nixon (D) vs Spence (R); no CSPP value after 2010"),
}


def _outcome_year(state: str, election_year: int) -> int:
    return election_year + (1 if state in TWO_YEAR_TERMS else 3)


def _qcols(levels: Sequence[float]) -> list[str]:
    return [f"q{round(100 * p):02d}" for p in levels]


def read_elections(raw: Path) -> pd.DataFrame:
    """Clean election table, one row per election, and check every documented decision.

    Raises
    ------
    RuntimeError
        If a row of the window lacks Algara returns without a documented reason, or if the
        two sources disagree by more than ``DISAGREEMENT_TOL`` without a hand decision.
    """
    d = pd.read_csv(raw / "elections_state_year.csv", dtype={"state": str, "seat": str})
    d = d.loc[d["election_year"].isin(ELECTION_YEARS)].copy()
    if d.duplicated(["state", "election_year"]).any():
        raise RuntimeError("duplicate state-year rows in the election file")

    keys = list(zip(d["state"], d["election_year"], strict=True))
    no_algara = d["algara_dem_share"].isna().to_numpy()
    undocumented = sorted({k for k, m in zip(keys, no_algara, strict=True) if m} - set(NO_ALGARA))
    if undocumented:
        raise RuntimeError(f"rows without Algara returns and no documented reason: {undocumented}")
    d = d.loc[~no_algara]

    # uncontested races: either major party without votes (also flagged in `seat`)
    uncontested = (
        d["seat"].str.contains("Uncontested", regex=False) | (d["dem"] <= 0) | (d["rep"] <= 0)
    )
    d = d.loc[~uncontested].copy()

    share = d["dem"] / (d["dem"] + d["rep"])
    if (share - d["algara_dem_share"]).abs().max() > 1e-6:
        raise RuntimeError("algara_dem_share does not equal dem / (dem + rep)")
    diff = (d["algara_dem_share"] - d["cspp_dem_share"]).abs()
    flagged = {
        (s, int(y))
        for s, y, f in zip(d["state"], d["election_year"], diff > DISAGREEMENT_TOL, strict=True)
        if f
    }
    unresolved = sorted(flagged - set(HAND_VOTES))
    if unresolved:
        raise RuntimeError(f"source disagreements > {DISAGREEMENT_TOL} unresolved: {unresolved}")

    d["share_source"] = "algara"
    for (state, year), (dem, rep, _) in HAND_VOTES.items():
        row = (d["state"] == state) & (d["election_year"] == year)
        if row.sum() != 1:
            raise RuntimeError(f"hand fix {state} {year} matches {int(row.sum())} rows")
        d.loc[row, ["dem", "rep"]] = [float(dem), float(rep)]
        d.loc[row, "share_source"] = "hand"

    d["outcome_year"] = [
        _outcome_year(s, int(y)) for s, y in zip(d["state"], d["election_year"], strict=True)
    ]
    d = d.loc[d["outcome_year"].isin(ACS_YEARS)]  # drops NH and VT 2002 (outcome year 2003)

    out = pd.DataFrame(
        {
            "state": d["state"].astype(str),
            "election_year": d["election_year"].astype(int),
            "outcome_year": d["outcome_year"].astype(int),
            "margin": d["dem"] / (d["dem"] + d["rep"]) - 0.5,
            "seat_status": d["seat"].astype(str),
            "dem_votes": d["dem"].astype(np.int64),
            "rep_votes": d["rep"].astype(np.int64),
            "share_source": d["share_source"].astype(str),
        }
    )
    return out.sort_values(["election_year", "state"]).reset_index(drop=True)


def read_acs(raw: Path, table: str, year: int, n_cols: int) -> pd.DataFrame:
    """Estimates ``<table>_001E .. <table>_<n_cols>E`` of one ACS file, indexed by state code.

    Rows are matched on the FIPS ``state`` column (``NAME`` is checked where present);
    Puerto Rico is dropped.
    """
    path = raw / "acs_state_1yr" / f"{table}_{year}.csv"
    d = pd.read_csv(path, dtype={"state": str, "NAME": str})
    d = d.loc[d["state"] != "72"]
    if set(d["state"]) != set(FIPS) or d["state"].duplicated().any():
        raise RuntimeError(f"{path.name}: unexpected set of state codes")
    if "NAME" in d.columns:
        bad = d.loc[d["NAME"] != d["state"].map(lambda f: FIPS[f][1]), "state"].tolist()
        if bad:
            raise RuntimeError(f"{path.name}: NAME does not match the FIPS code for {bad}")
    cols = [f"{table}_{k:03d}E" for k in range(1, n_cols + 1)]
    est = d[cols].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    out = pd.DataFrame(est, columns=cols, index=d["state"].map(lambda f: FIPS[f][0]).to_numpy())
    return out.sort_index()


def bracket_panel(
    raw: Path,
    table: str,
    years: Sequence[int],
    bounds: np.ndarray,
    levels: Sequence[float],
    pareto_brackets: int = PARETO_BRACKETS,
) -> pd.DataFrame:
    """State-year panel of bracket-interpolated quantiles plus the table total (``n``)."""
    n_br = bounds.size - 1
    frames = []
    for year in years:
        t = read_acs(raw, table, year, n_br + 1)
        counts = t.iloc[:, 1:].to_numpy()
        if not np.array_equal(counts.sum(axis=1), t.iloc[:, 0].to_numpy()):
            raise RuntimeError(f"{table}_{year}: brackets do not add up to the total")
        q = bracket_quantiles(counts, bounds, levels, pareto_brackets=pareto_brackets)
        f = pd.DataFrame(q, columns=_qcols(levels), index=t.index)
        f.insert(0, "n", t.iloc[:, 0].astype(np.int64))
        f.insert(0, "year", year)
        frames.append(f)
    panel = pd.concat(frames).rename_axis("state").reset_index()
    return panel.sort_values(["state", "year"]).reset_index(drop=True)


def validation_table(raw: Path, pareto_brackets: int = PARETO_BRACKETS) -> pd.DataFrame:
    """Absolute % error of interpolated household quantiles (B19001) against B19080.

    One row per year 2006-2018 plus ``"all"``; columns ``<p>_mean`` and ``<p>_max`` for
    p20, p40, p60, p80, p95 over the 50 states and DC. Top-coded p95 values are left out
    (``p95_n`` counts the p95 values used).
    """
    levels = list(B19080_LEVELS.values())
    rows = []
    errors: dict[str, list[np.ndarray]] = {p: [] for p in B19080_LEVELS}
    signed: dict[str, list[np.ndarray]] = {p: [] for p in B19080_LEVELS}
    for year in range(2006, 2019):
        hh = read_acs(raw, "B19001", year, 17)
        exact = read_acs(raw, "B19080", year, 5).loc[hh.index]
        est = bracket_quantiles(
            hh.iloc[:, 1:].to_numpy(), INCOME_BOUNDS, levels, pareto_brackets=pareto_brackets
        )
        row: dict[str, object] = {"year": str(year)}
        for j, p in enumerate(B19080_LEVELS):
            x = exact.iloc[:, j].to_numpy()
            keep = x != B19080_TOPCODE
            err = np.abs(est[keep, j] / x[keep] - 1.0) * 100.0
            errors[p].append(err)
            row[f"{p}_mean"] = err.mean()
            signed[p].append((est[keep, j] / x[keep] - 1.0) * 100.0)
            row[f"{p}_bias"] = signed[p][-1].mean()
            row[f"{p}_max"] = err.max()
            if p == "p95":
                row["p95_n"] = int(keep.sum())
        rows.append(row)
    total: dict[str, object] = {"year": "all"}
    for p, errs in errors.items():
        e = np.concatenate(errs)
        total[f"{p}_mean"] = e.mean()
        total[f"{p}_bias"] = np.concatenate(signed[p]).mean()
        total[f"{p}_max"] = e.max()
    total["p95_n"] = int(np.concatenate(errors["p95"]).size)
    rows.append(total)
    return pd.DataFrame(rows)


def _fmt(values: pd.Series, decimals: int) -> pd.Series:
    return values.map(lambda v: "" if pd.isna(v) else f"{v:.{decimals}f}")


def _to_csv(df: pd.DataFrame) -> str:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def build_tables(raw: Path) -> dict[str, str]:
    """The processed CSV files as text, keyed by file name (no file is written)."""
    raw = Path(raw)
    elections = read_elections(raw)
    states = sorted(elections["state"].unique())

    fam_cols = _qcols(FAMILY_INCOME_QUANTILES)
    fam = bracket_panel(raw, "B19101", ACS_YEARS, INCOME_BOUNDS, FAMILY_INCOME_QUANTILES)
    fam = fam.loc[fam["state"].isin(states)].reset_index(drop=True)
    deflator = fam["year"].map(lambda y: CPI_U_ANNUAL[BASE_YEAR] / CPI_U_ANNUAL[y])
    gini = {
        (s, y): v
        for y in range(2006, 2019)
        for s, v in read_acs(raw, "B19083", y, 1).iloc[:, 0].items()
    }
    fam_out = pd.DataFrame({"state": fam["state"], "year": fam["year"], "families": fam["n"]})
    for c in fam_cols:
        fam_out[c] = _fmt(fam[c] * deflator, 2)
    fam_out["household_gini"] = _fmt(
        pd.Series([gini.get(k, np.nan) for k in zip(fam["state"], fam["year"], strict=True)]), 3
    )

    pov_cols = _qcols(POVERTY_RATIO_QUANTILES)
    pov = bracket_panel(raw, "B17026", range(2009, 2019), POVERTY_BOUNDS, POVERTY_RATIO_QUANTILES)
    pov = pov.loc[pov["state"].isin(states)].reset_index(drop=True)
    # identification: every level must lie below the share of families under ratio 5
    top_share = {}
    for y in range(2009, 2019):
        t = read_acs(raw, "B17026", y, 13)
        top_share.update({(s, y): v for s, v in (t.iloc[:, -1] / t.iloc[:, 0]).items()})
    below5 = 1 - np.array([top_share[k] for k in zip(pov["state"], pov["year"], strict=True)])
    if below5.min() <= max(POVERTY_RATIO_QUANTILES):
        raise RuntimeError("a poverty-ratio quantile falls in the open top bracket")
    pov_out = pd.DataFrame({"state": pov["state"], "year": pov["year"], "families": pov["n"]})
    for c in pov_cols:
        pov_out[c] = _fmt(pov[c], 4)

    el_out = elections.copy()
    el_out["margin"] = _fmt(el_out["margin"], 6)

    return {
        ELECTIONS_FILE: _to_csv(el_out),
        FAMILY_INCOME_FILE: _to_csv(fam_out),
        POVERTY_RATIO_FILE: _to_csv(pov_out),
    }


def summary(raw: Path) -> str:
    """Counts and the interpolation validation table, as markdown text."""
    el = read_elections(Path(raw))
    close = int((el["margin"].abs() < 0.05).sum())
    lines = [
        f"elections: {len(el)}, states: {el['state'].nunique()}, |margin| < 0.05: {close}",
        "",
        "| year | " + " | ".join(B19080_LEVELS) + " |",
        "|---|" + "---|" * len(B19080_LEVELS),
    ]
    for _, r in validation_table(Path(raw)).iterrows():
        cells = [f"{r[f'{p}_mean']:.2f} / {r[f'{p}_max']:.2f}" for p in B19080_LEVELS]
        cells[-1] += f" (n={r['p95_n']})"
        lines.append(f"| {r['year']} | " + " | ".join(cells) + " |")
    lines += ["", "signed mean % error (bias), all years, by Pareto brackets:"]
    for m in (1, 2):
        r = validation_table(Path(raw), pareto_brackets=m).iloc[-1]
        cells = [
            f"{p} {r[f'{p}_bias']:+.2f} (abs {r[f'{p}_mean']:.2f}, max {r[f'{p}_max']:.2f})"
            for p in B19080_LEVELS
        ]
        lines.append(f"pareto_brackets={m}: " + ", ".join(cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: build, write (or ``--check``) and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, default=RAW_DEFAULT, help="raw data directory")
    parser.add_argument("--out", type=Path, default=OUT_DEFAULT, help="output directory")
    parser.add_argument(
        "--check", action="store_true", help="compare with the files in --out, write nothing"
    )
    args = parser.parse_args(argv)
    tables = build_tables(args.raw)
    status = 0
    for name, text in tables.items():
        path = args.out / name
        if args.check:
            same = path.exists() and path.read_bytes() == text.encode("utf-8")
            print(f"{name}: {'identical' if same else 'DIFFERS'}")
            status |= not same
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            print(f"wrote {path} ({len(text.encode('utf-8'))} bytes)")
    print(summary(args.raw))
    return status


if __name__ == "__main__":
    sys.exit(main())
