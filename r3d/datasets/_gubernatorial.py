"""US gubernatorial elections 2002-2015 and state income distributions at the end of the term.

Public-data rebuild of the headline application of Van Dijcke (2025): does the party of a
narrowly elected governor change the state's income distribution? The processed tables are
built by ``data/build_gubernatorial.py`` (provenance in ``data/README.md``) and shipped in
``r3d/datasets/data/``.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Literal

import pandas as pd

from estkit import check_bool, check_int

__all__ = [
    "CPI_U_ANNUAL",
    "FAMILY_INCOME_QUANTILES",
    "POVERTY_RATIO_QUANTILES",
    "GubernatorialOutcome",
    "load_gubernatorial",
]

GubernatorialOutcome = Literal["family_income", "placebo", "poverty_ratio"]

#: CPI-U, US city average, all items, not seasonally adjusted, annual average (1982-84 = 100).
#: Source: US Bureau of Labor Statistics, series CUUR0000SA0 (typed in from the BLS tables).
CPI_U_ANNUAL: dict[int, float] = {
    2005: 195.3,
    2006: 201.6,
    2007: 207.342,
    2008: 215.303,
    2009: 214.537,
    2010: 218.056,
    2011: 224.939,
    2012: 229.594,
    2013: 232.957,
    2014: 236.736,
    2015: 237.017,
    2016: 240.007,
    2017: 245.120,
    2018: 251.107,
}

#: Dollar base year of the shipped family-income quantiles.
BASE_YEAR = 2018

#: Quantile levels of the family-income outcome: 0.05, 0.10, ..., 0.95.
FAMILY_INCOME_QUANTILES: tuple[float, ...] = tuple(round(0.05 * j, 2) for j in range(1, 20))

#: Quantile levels of the income-to-poverty-ratio outcome: 0.05, ..., 0.45 (the open top
#: bracket, ratio 5 and above, holds up to about 45% of a state's families).
POVERTY_RATIO_QUANTILES: tuple[float, ...] = tuple(round(0.05 * j, 2) for j in range(1, 10))

#: Names of the files in ``r3d/datasets/data/``.
ELECTIONS_FILE = "gubernatorial_elections.csv"
FAMILY_INCOME_FILE = "gubernatorial_family_income.csv"
POVERTY_RATIO_FILE = "gubernatorial_poverty_ratio.csv"

_SOURCES = (
    "Election returns: Algara & Amlani, county-level US gubernatorial returns 1865-2020 "
    "(Harvard Dataverse, doi:10.7910/DVN/DGUMFI), summed to states; cross-checked against the "
    "Correlates of State Policy Project (ranney3_gub_prop, 1938-2010); Missouri 2004, 2008 and "
    "2012 typed in from the Missouri Secretary of State's official returns.",
    "Income: American Community Survey 1-year estimates, US Census Bureau, tables B19101 "
    "(family income), B17026 (ratio of family income to poverty level), B19083 (household Gini);"
    " B19001/B19080 for validating the interpolation.",
    "Prices: BLS CPI-U annual averages (series CUUR0000SA0).",
)

_INTERPOLATION = (
    "Family-income quantiles from the 16 ACS B19101 brackets: linear (uniform) within brackets "
    "below $150,000 (the lowest bracket from $0); above $150,000 a Pareto law whose index is "
    "fitted from the two top brackets ($150-200k and $200k+), reproducing both counts. "
    "Poverty-ratio quantiles linear within the 12 B17026 brackets (lowest from 0). See "
    "r3d.datasets._brackets.bracket_quantiles (pareto_brackets=2) and data/README.md."
)


def _qcols(levels: tuple[float, ...]) -> list[str]:
    return [f"q{round(100 * p):02d}" for p in levels]


def _read(name: str) -> pd.DataFrame:
    path = files("r3d.datasets") / "data" / name
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"state": str, "seat_status": str, "share_source": str})


def load_gubernatorial(
    outcome: GubernatorialOutcome = "family_income",
    *,
    base_year: int = BASE_YEAR,
    dropna: bool = True,
    details: bool = False,
) -> pd.DataFrame:
    """US gubernatorial elections 2002-2015 with the state's income quantile function.

    One row per contested gubernatorial general election in 2002-2015 whose outcome year is
    covered by the ACS (189 elections in 49 states; 80 with ``|margin| < 0.05``). The running
    variable is the Democratic two-party vote share minus 0.5: ``margin > 0`` means a
    Democratic governor took office. The outcome is a state's quantile function measured by
    the American Community Survey (ACS) 1-year estimates at the end of the governor's term,
    interpolated from bracket counts.

    Parameters
    ----------
    outcome : {"family_income", "placebo", "poverty_ratio"}, default "family_income"
        ``"family_income"``: quantiles of family income (ACS table B19101) in the outcome year,
        the last full year of the term (election year + 3; + 1 for New Hampshire and Vermont,
        which elect governors for two years). ``"placebo"``: the same quantiles in the
        election year itself (income over the 12 months before the interview, i.e. before the
        new governor takes office in January); available for elections from 2005 on.
        ``"poverty_ratio"``: quantiles at 0.05, ..., 0.45 of the ratio of family income to the
        family's poverty threshold (ACS table B17026, 2009 on) in the outcome year; unitless.
    base_year : int, default 2018
        Dollar year of the income quantiles (2005-2018), deflated with the BLS CPI-U annual
        average (:data:`CPI_U_ANNUAL`). Ignored for ``"poverty_ratio"``.
    dropna : bool, default True
        Drop elections whose measurement year is not covered by the ACS table (none for
        ``"family_income"``; elections before 2005 for ``"placebo"``; outcome years before
        2009 for ``"poverty_ratio"``). With False they are kept with missing quantiles.
    details : bool, default False
        Also return ``dem_votes``, ``rep_votes``, ``share_source``, ``families`` and
        ``household_gini`` (see Returns).

    Returns
    -------
    pandas.DataFrame
        Sorted by ``election_year`` and ``state``, with columns:

        ``state`` : str
            Two-letter USPS state code.
        ``election_year`` : int
            Year of the November general election.
        ``outcome_year`` : int
            Year (ACS survey year) in which the quantiles are measured: election year + 3
            (+ 1 for NH and VT) for ``"family_income"`` and ``"poverty_ratio"``; the election
            year for ``"placebo"``.
        ``margin`` : float
            Democratic two-party vote share ``D / (D + R)`` minus 0.5, in [-0.5, 0.5].
        ``seat_status`` : str
            Seat status before the election, from the Algara-Amlani returns: party of the
            incumbent and whether the incumbent ran (``"Democratic Incumbent"``,
            ``"Republican Open Seat"``, ``"Third-Party/Independent Open Seat"``, ...).
        ``q05``, ``q10``, ..., ``q95`` : float
            Family-income quantiles at 0.05, ..., 0.95 in constant ``base_year`` dollars
            (``"family_income"``, ``"placebo"``), or income-to-poverty-ratio quantiles
            ``q05``, ..., ``q45`` (``"poverty_ratio"``).

        With ``details=True`` also:

        ``dem_votes``, ``rep_votes`` : int
            Votes of the Democratic and Republican candidates.
        ``share_source`` : str
            ``"algara"`` (county returns summed) or ``"hand"`` (official state returns
            typed in; Missouri 2004, 2008, 2012, whose county sums apparently omit the City of
            St. Louis).
        ``families`` : int
            ACS estimate of the number of families in the measurement year (B19101 total;
            B17026 total for ``"poverty_ratio"``).
        ``household_gini`` : float
            ACS household-income Gini index (B19083) of the measurement year; missing for
            2005 (not published); not returned for ``"poverty_ratio"``.

        ``DataFrame.attrs`` holds ``outcome``, ``quantile_levels``, ``quantile_columns``,
        ``units``, ``base_year``, ``cpi_series``, ``cpi``, ``interpolation``, ``sources``
        and ``n_dropped``.

    Notes
    -----
    Differences from the paper, whose microdata are not public: income quantiles are
    interpolated from the published ACS bracket counts (16 brackets; Pareto law above
    $150,000) rather than computed from microdata, so the top of the distribution is less
    precise (interpolated household quantiles overstate the exact ACS p20-p95 by about
    0.5-1.3% on average, see ``data/README.md``); the sample is limited to 2002-2015
    elections, because the ACS 1-year state estimates start in 2005; state-level ACS
    estimates carry sampling error (margins of error are published but not shipped); and
    Alaska is absent (the county returns do not cover it). Uncontested races, the 2003
    California recall and the 2010 Utah special election are excluded.

    Examples
    --------
    >>> from r3d.datasets import load_gubernatorial
    >>> df = load_gubernatorial()
    >>> df.shape
    (189, 24)
    >>> df.attrs["quantile_columns"][:3]
    ['q05', 'q10', 'q15']
    >>> int((df["margin"].abs() < 0.05).sum())
    80
    """
    if not isinstance(outcome, str) or outcome not in ("family_income", "placebo", "poverty_ratio"):
        raise ValueError(
            f"`outcome` must be 'family_income', 'placebo' or 'poverty_ratio', got {outcome!r}"
        )
    base_year = check_int(base_year, "base_year")
    if base_year not in CPI_U_ANNUAL:
        raise ValueError(
            f"`base_year` must be between {min(CPI_U_ANNUAL)} and {max(CPI_U_ANNUAL)}, "
            f"got {base_year!r}"
        )
    dropna = check_bool(dropna, "dropna")
    details = check_bool(details, "details")

    elections = _read(ELECTIONS_FILE)
    if outcome == "placebo":
        elections["outcome_year"] = elections["election_year"]

    if outcome == "poverty_ratio":
        levels = POVERTY_RATIO_QUANTILES
        panel = _read(POVERTY_RATIO_FILE)
        units = "ratio of family income to the family's poverty threshold"
    else:
        levels = FAMILY_INCOME_QUANTILES
        panel = _read(FAMILY_INCOME_FILE)
        units = f"family income in {base_year} US dollars (CPI-U)"
    qcols = _qcols(levels)

    if outcome != "poverty_ratio" and base_year != BASE_YEAR:
        panel[qcols] = panel[qcols] * (CPI_U_ANNUAL[base_year] / CPI_U_ANNUAL[BASE_YEAR])

    panel = panel.rename(columns={"year": "outcome_year"})
    df = elections.merge(panel, on=["state", "outcome_year"], how="left", validate="1:1")
    missing = df[qcols].isna().any(axis=1)
    n_dropped = int(missing.sum()) if dropna else 0
    if dropna:
        df = df.loc[~missing]

    base_cols = ["state", "election_year", "outcome_year", "margin", "seat_status"]
    extra = ["dem_votes", "rep_votes", "share_source", "families"]
    if outcome != "poverty_ratio":
        extra.append("household_gini")
    cols = base_cols + qcols + (extra if details else [])
    df = df.loc[:, cols].sort_values(["election_year", "state"]).reset_index(drop=True)
    if details:
        df["families"] = df["families"].astype("Int64")

    df.attrs = {
        "outcome": outcome,
        "quantile_levels": list(levels),
        "quantile_columns": qcols,
        "units": units,
        "base_year": base_year if outcome != "poverty_ratio" else None,
        "cpi_series": "BLS CPI-U, US city average, all items, annual average (CUUR0000SA0)",
        "cpi": dict(CPI_U_ANNUAL),
        "interpolation": _INTERPOLATION,
        "sources": list(_SOURCES),
        "n_dropped": n_dropped,
    }
    return df
