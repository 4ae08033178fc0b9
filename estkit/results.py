"""Results objects: immutable containers with statsmodels-style summaries.

Estimators produce results; results own presentation. Subclasses expose their public
quantities as typed properties returning pandas objects and implement
:meth:`ResultsBase._summary_parts`, from which :meth:`ResultsBase.summary` builds a
``statsmodels.iolib.summary.Summary`` (text, HTML and LaTeX for free).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ResultsBase", "SummaryParts", "TestResult", "format_number", "make_summary"]


def format_number(v: Any, digits: int = 4) -> str:
    """Format a number compactly for summary tables (``'-'`` for None/NaN)."""
    if v is None:
        return "-"
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return "-"
        a = abs(float(v))
        if a != 0 and (a >= 1e6 or a < 10 ** (-digits)):
            return f"{float(v):.{digits}g}"
        return f"{float(v):.{digits}f}"
    return str(v)


@dataclass(frozen=True)
class SummaryParts:
    """What a summary shows: a title, header facts, tables and notes.

    A frozen dataclass whose constructor arguments are stored as attributes of the same
    names; :func:`make_summary` renders it.

    Parameters
    ----------
    title : str
        Title printed above the header.
    header : sequence of (str, object) pairs
        Label and value of each header fact, split over two columns.
    tables : sequence of (str or None, pandas.DataFrame) pairs, default ()
        Title and content of each table, rendered in order.
    notes : sequence of str, default ()
        Notes printed at the bottom, numbered ``[1]``, ``[2]``, ...

    Examples
    --------
    >>> import pandas as pd
    >>> parts = SummaryParts(
    ...     title="Demo",
    ...     header=[("Units", 100), ("Kernel", "triangular")],
    ...     tables=[("Estimates", pd.DataFrame({"coef": [0.5]}, index=["tau"]))],
    ...     notes=["A note."],
    ... )
    >>> len(parts.tables), parts.notes
    (1, ['A note.'])
    """

    title: str
    header: Sequence[tuple[str, Any]]
    tables: Sequence[tuple[str | None, pd.DataFrame]] = ()
    notes: Sequence[str] = ()


def make_summary(parts: SummaryParts, digits: int = 4):
    """Render :class:`SummaryParts` as a ``statsmodels.iolib.summary.Summary``.

    The header facts fill two columns (first half left, rest right); each table is a
    ``SimpleTable`` with its index as row stubs; notes are numbered. Numbers are formatted
    with ``digits`` decimals (general format for very large or small magnitudes; ``-`` for
    None or NaN).

    Parameters
    ----------
    parts : SummaryParts
        What to show.
    digits : int, default 4
        Decimals of the numbers (>= 0).

    Returns
    -------
    statsmodels.iolib.summary.Summary
        Printable summary (``str``, ``.as_html()``, ``.as_latex()``).

    Raises
    ------
    TypeError
        If ``parts`` is not a :class:`SummaryParts`.

    Examples
    --------
    >>> import pandas as pd
    >>> parts = SummaryParts(
    ...     title="Demo",
    ...     header=[("Units", 100), ("Alpha", 0.05)],
    ...     tables=[("Estimates", pd.DataFrame({"coef": [0.5]}, index=["tau"]))],
    ... )
    >>> print(make_summary(parts, digits=2))
                Demo
    ============================
    Units:   100   Alpha:   0.05
          Estimates
    =====================
                     coef
    ---------------------
    tau              0.50
    ---------------------
    """
    from statsmodels.iolib.table import SimpleTable

    from estkit._validation import check_int

    if not isinstance(parts, SummaryParts):
        raise TypeError(f"`parts` must be a SummaryParts; got {type(parts).__name__}.")
    digits = check_int(digits, "digits", minimum=0)
    smry = _summary_class()()
    header = [(str(k), format_number(v, digits)) for k, v in parts.header]
    half = (len(header) + 1) // 2
    left, right = header[:half], header[half:]
    right = right + [("", "")] * (len(left) - len(right))
    rows = [
        [f"{lk}:", lv, f"{rk}:" if rk else "", rv]
        for (lk, lv), (rk, rv) in zip(left, right, strict=True)
    ]
    if rows:
        smry.tables.append(SimpleTable(rows, title=parts.title, txt_fmt=_HEADER_FMT))
    for title, df in parts.tables:
        data = [[format_number(v, digits) for v in row] for row in df.itertuples(index=False)]
        stubs = [format_number(i, digits) if not isinstance(i, str) else i for i in df.index]
        smry.tables.append(
            SimpleTable(
                data,
                headers=[str(c) for c in df.columns],
                stubs=stubs,
                title=title or "",
                txt_fmt=_TABLE_FMT,
            )
        )
    if parts.notes:
        smry.add_extra_txt([f"[{i + 1}] {n}" for i, n in enumerate(parts.notes)])
    return smry


def _summary_class():
    from statsmodels.iolib.summary import Summary

    class _Summary(Summary):
        """statsmodels ``Summary`` whose LaTeX output handles tables of unequal width."""

        def as_latex(self) -> str:
            body = "\n".join(t.as_latex_tabular() for t in self.tables)
            if self.extra_txt:
                body += "\n" + "\n".join(self.extra_txt).replace("\n", "\n\n")
            return body

    return _Summary


_HEADER_FMT = {
    "data_fmts": ["%s", "%s", "%s", "%s"],
    "colwidths": None,
    "colsep": "   ",
    "row_pre": "",
    "row_post": "",
    "table_dec_above": "=",
    "table_dec_below": "-",  # statsmodels drops the last line of every table but the last
    "header_dec_below": None,
    "header_fmt": "%s",
    "stub_fmt": "%s",
    "title_align": "c",
    "header_align": "r",
    "data_aligns": ["l", "r", "l", "r"],
    "stubs_align": "l",
    "fmt": "txt",
}

_TABLE_FMT = {
    "data_fmts": ["%s"],
    "colwidths": 10,
    "colsep": " ",
    "row_pre": "",
    "row_post": "",
    "table_dec_above": "=",
    "table_dec_below": "-",
    "header_dec_below": "-",
    "header_fmt": "%s",
    "stub_fmt": "%s",
    "title_align": "c",
    "header_align": "r",
    "data_aligns": "r",
    "stubs_align": "l",
    "fmt": "txt",
}


class ResultsBase:
    """Base class of every results object.

    Subclasses implement :meth:`_summary_parts`. Instances are read-only after
    construction: attributes cannot be rebound (use the documented properties).
    ``str(res)`` is the text summary and ``res._repr_html_()`` the HTML one.

    Examples
    --------
    >>> class Mean(ResultsBase):
    ...     def __init__(self, value):
    ...         self.value = value
    ...         self._freeze()
    ...     def _summary_parts(self):
    ...         return SummaryParts(title="Mean", header=[("Value", self.value)])
    >>> res = Mean(1.5)
    >>> res.value = 2.0
    Traceback (most recent call last):
    ...
    AttributeError: Mean is immutable; cannot set 'value'.
    >>> print(res)
             Mean
    =====================
    Value:   1.5000
    ---------------------
    """

    _frozen: bool = False

    def _freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, key: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"{type(self).__name__} is immutable; cannot set {key!r}.")
        object.__setattr__(self, key, value)

    def _summary_parts(self) -> SummaryParts:  # pragma: no cover - abstract
        raise NotImplementedError

    def summary(self, digits: int = 4):
        """Summary of the results as a ``statsmodels`` ``Summary``.

        Use ``print(res.summary())`` for text, ``.as_html()`` or ``.as_latex()`` for
        other formats.

        Parameters
        ----------
        digits : int, default 4
            Decimals of the numbers in the tables (>= 0), as in :func:`make_summary`.

        Returns
        -------
        statsmodels.iolib.summary.Summary
            Title, header facts, tables and notes of the results.
        """
        return make_summary(self._summary_parts(), digits=digits)

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} at {hex(id(self))}>"


@dataclass(frozen=True, repr=False)
class TestResult(ResultsBase):
    """Result of a hypothesis test.

    A frozen dataclass whose constructor arguments are stored as attributes of the same
    names; ``reject`` and ``to_series()`` derive from them.

    Parameters
    ----------
    name : str
        Test name, e.g. ``"nullity"``.
    statistic : float
        Observed test statistic.
    critical_value : float
        Critical value at level ``alpha``.
    pvalue : float
        p-value in [0, 1] (NaN if undefined: never a rejection).
    alpha : float
        Significance level the critical value refers to.
    null : str
        The null hypothesis in words.
    quantile_range : tuple of float or None, default None
        Range of the index (e.g. quantile levels) over which the test is taken.
    method : str, default ""
        How the reference distribution was obtained (e.g. "multiplier bootstrap, B=2000").
    label : str, default ""
        Display label (e.g. R3D's ``"nullity:[0.05, 0.95]"``); ``name`` if empty.
    null_distribution : numpy.ndarray or None, default None
        The bootstrap statistics the statistic is compared with (shape ``(B,)``).
    details : mapping, default {}
        Test-specific values (e.g. the two Gini coefficients of R3D's Gini test).

    Examples
    --------
    >>> t = TestResult("nullity", 3.2, 2.5, 0.01, 0.05, "tau(q) = 0 for all q", (0.1, 0.9))
    >>> t.reject
    True
    >>> print(t)  # doctest: +ELLIPSIS
    Test: nullity ...
    """

    __test__ = False  # not a pytest test class

    name: str
    statistic: float
    critical_value: float
    pvalue: float
    alpha: float
    null: str
    quantile_range: tuple[float, float] | None = None
    method: str = ""
    label: str = ""
    null_distribution: np.ndarray | None = field(default=None, compare=False)
    details: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        from estkit._validation import check_alpha

        check_alpha(self.alpha)
        p = self.pvalue
        if isinstance(p, bool | np.bool_) or not isinstance(p, int | float | np.number):
            raise TypeError(f"`pvalue` must be a number in [0, 1]; got {p!r}.")
        if not (0.0 <= float(p) <= 1.0 or np.isnan(p)):  # NaN: undefined, never a rejection
            raise ValueError(f"`pvalue` must lie in [0, 1] (or be NaN if undefined); got {p!r}.")
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @property
    def p_value(self) -> float:
        """Alias of ``pvalue`` (the name of r3d's reference-port code)."""
        return self.pvalue

    @property
    def boot_stats(self) -> np.ndarray | None:
        """Alias of ``null_distribution`` (the name of r3d's reference-port code)."""
        return self.null_distribution

    @property
    def reject(self) -> bool:
        """Whether the null is rejected at level ``alpha`` (p-value <= alpha)."""
        return bool(self.pvalue <= self.alpha)

    def to_series(self) -> pd.Series:
        """The result as a pandas Series.

        Returns
        -------
        pandas.Series
            ``statistic``, ``critical_value``, ``pvalue``, ``alpha`` and ``reject``, named
            ``name``.
        """
        return pd.Series(
            {
                "statistic": self.statistic,
                "critical_value": self.critical_value,
                "pvalue": self.pvalue,
                "alpha": self.alpha,
                "reject": self.reject,
            },
            name=self.name,
        )

    def _summary_parts(self) -> SummaryParts:
        rng = (
            "-"
            if self.quantile_range is None
            else f"[{self.quantile_range[0]:g}, {self.quantile_range[1]:g}]"
        )
        return SummaryParts(
            title=f"Test: {self.name}",
            header=[
                ("Null", self.null),
                ("Range", rng),
                ("Statistic", self.statistic),
                ("Critical value", self.critical_value),
                ("P-value", self.pvalue),
                ("Alpha", self.alpha),
                ("Reject", self.reject),
                ("Method", self.method or "-"),
            ],
        )

    def __str__(self) -> str:
        return str(self.summary())
