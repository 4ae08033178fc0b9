"""Causal discovery with the environment as a context variable (CD-NOD style).

:func:`discover_graph` estimates the graph that :class:`~causalminimax.CausalMinimaxRegressor`
takes as input, together with the mutable set, from multi-environment data. It follows the
constraint-based procedure of CD-NOD (Zhang, Huang, Zhang, Glymour and Schölkopf, 2017; Huang
et al., 2020): the environment index ``C`` is added as a node, the PC skeleton search runs over
``X ∪ {Y} ∪ {C}``, the variables left adjacent to ``C`` are those whose mechanism changes
across environments (the mutable set), their edges are oriented ``C -> V``, and the remaining
edges are oriented by v-structures and Meek's rules.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd

from causalminimax._ci import (
    CONDITIONING_WIDTH,
    context_lr_pvalues,
    delta_kernel,
    fisher_z_test,
    gaussian_kernel,
    kci_pvalue,
    kci_test,
    stratified_fisher_z_pvalues,
)
from causalminimax._door import check_frame, check_unique_columns, reworded_warnings
from causalminimax._pc import extend_to_dag, orient, pc_skeleton
from estkit import (
    RandomStateLike,
    ResultsBase,
    SummaryParts,
    align_by_label,
    check_alpha,
    check_int,
    check_option,
    check_random_state,
    negligible_variation,
)
from estkit._deprecation import renamed_arguments

__all__ = ["DiscoveryResult", "discover_graph", "fisher_z_test", "kci_test"]

CITestName = Literal["fisherz", "kci"]
UndirectedPolicy = Literal["raise", "extend"]
CONTEXT = "E"

_ASSUMPTIONS = (
    "Assumes causal sufficiency (no hidden common causes of the observed variables, beyond "
    "what the environment index captures), acyclicity, and faithfulness of the augmented graph "
    "with the environment node; mechanisms change only through the environment index, which "
    "is exogenous."
)


def _fmt(s: Any) -> str:
    s = tuple(s)
    return "{" + ", ".join(map(str, s)) + "}" if s else "{}"


class _FisherZTester:
    """Linear-Gaussian tests: stratified Fisher-z between variables, Gaussian LR with ``C``."""

    batch_size: int | None = None
    name = "Fisher-z (stratified by environment) / Gaussian LR for the environment"

    def __init__(self, x: np.ndarray, codes: np.ndarray) -> None:
        self.context = x.shape[1]
        groups = [x[codes == k] for k in range(codes.max() + 1)]
        self.ns = np.array([len(g) for g in groups], dtype=float)
        self.covs = np.stack([np.cov(g, rowvar=False, bias=True) for g in groups])
        sd = np.sqrt(np.einsum("kii->ki", self.covs))
        self.corrs = self.covs / (sd[:, :, None] * sd[:, None, :])
        self.pooled = np.cov(x, rowvar=False, bias=True)

    def __call__(self, i: int, j: int, conds: list[tuple[int, ...]]) -> np.ndarray:
        c = self.context
        if j == c:  # i ⫫ C | S
            return context_lr_pvalues(self.covs, self.ns, self.pooled, i, np.array(conds))
        sets = np.array([[k for k in s if k != c] for s in conds], dtype=np.intp)
        return stratified_fisher_z_pvalues(self.corrs, self.ns, i, j, sets)


class _KernelTester:
    """KCI-style tests with Gaussian kernels and a delta kernel on the environment."""

    batch_size = 1
    name = "KCI (Gaussian kernels, delta kernel on the environment, gamma approximation)"

    def __init__(self, x: np.ndarray, codes: np.ndarray, ridge: float = 1e-3) -> None:
        self.context = x.shape[1]
        self.ridge = ridge
        self.kx = [gaussian_kernel(x[:, k]) for k in range(x.shape[1])]
        self.kz = [gaussian_kernel(x[:, k], CONDITIONING_WIDTH) for k in range(x.shape[1])]
        self.kz.append(delta_kernel(codes))

    def __call__(self, i: int, j: int, conds: list[tuple[int, ...]]) -> np.ndarray:
        out = []
        for s in conds:
            kz = np.prod([self.kz[k] for k in s], axis=0) if s else None
            ky = self.kz[self.context] if j == self.context else self.kx[j]
            kx = self.kx[i] if kz is None else self.kx[i] * kz
            out.append(kci_pvalue(kx, ky, kz, self.ridge))
        return np.array(out)


def _validate(
    data: Any, environment: Any, target: Hashable
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    try:
        hash(target)
    except TypeError:
        raise TypeError(f"`target` must be a column name (hashable); got {target!r}.") from None
    if isinstance(data, pd.DataFrame):
        df = data.copy()
    elif isinstance(data, str | bytes) or np.ndim(data) != 2:
        raise TypeError(
            "`data` must be a pandas DataFrame (one named column per variable) or a 2-D "
            f"array; got {type(data).__name__}."
        )
    else:
        df = pd.DataFrame(data)
    check_unique_columns(df, "data")
    if isinstance(environment, str | int) and not isinstance(environment, bool):
        if environment not in df.columns:
            raise ValueError(
                f"`environment` {environment!r} is not a column of `data`; pass the column "
                "name or an array of environment labels (one per row)."
            )
        env = df.pop(environment).to_numpy()
    else:
        if np.ndim(environment) == 0:
            raise TypeError(
                "`environment` must be the name of a column of `data` or one label per row; "
                f"got {environment!r}."
            )
        aligned, _ = align_by_label({"data": df, "environment": environment})
        env_in = aligned["environment"]
        env = env_in.to_numpy() if isinstance(env_in, pd.Series) else np.asarray(env_in)
        if env.ndim != 1 or env.shape[0] != len(df):
            raise ValueError(
                f"`environment` must be one label per row of `data` ({len(df)}); "
                f"got shape {env.shape}."
            )
    if pd.isna(pd.Series(env, dtype=object)).any():
        raise ValueError("`environment` contains missing labels; drop those rows first.")
    labels, codes = np.unique(env.astype(str) if env.dtype == object else env, return_inverse=True)
    if labels.size < 2:
        raise ValueError(
            "`environment` has a single environment; discovery with the environment as a "
            "context variable needs data from at least two environments."
        )
    if target not in df.columns:
        raise ValueError(f"`target` {target!r} is not a column of `data`: {list(df.columns)}.")
    if CONTEXT in df.columns:
        raise ValueError(
            f"A variable is named {CONTEXT!r}, the name of the environment node; rename it."
        )
    df = check_frame(df, name="data", what="columns")
    x = df.to_numpy()
    if x.shape[1] < 2:
        raise ValueError("`data` needs at least two variables.")
    p = x.shape[1]
    sizes = np.bincount(codes)
    if sizes.min() < p + 3:
        raise ValueError(
            f"Every environment needs at least {p + 3} observations (number of variables + 3); "
            f"the smallest has {int(sizes.min())}."
        )
    for k in range(labels.size):
        flat = negligible_variation(x[codes == k], axis=0) | (x[codes == k].std(axis=0) == 0)
        if np.any(flat):
            raise ValueError(
                f"Columns {list(df.columns[flat])} are constant in environment "
                f"{labels[k]!r}; drop them."
            )
    return df, codes, labels


@renamed_arguments({"random_state": "rng"})
def discover_graph(
    data: Any,
    environment: Any,
    *,
    target: Hashable = "Y",
    alpha: float = 0.01,
    test: CITestName = "fisherz",
    max_condition_size: int | None = None,
    max_samples: int = 600,
    rng: RandomStateLike = None,
) -> DiscoveryResult:
    """Discover the causal graph and the mutable set with the environment as a context node.

    CD-NOD-style constraint-based search (Zhang et al., 2017):

    1. add the environment index ``C`` as a node; it is exogenous (never a child);
    2. PC-stable skeleton search over the variables and ``C``: the edge ``V - C`` is removed
       when ``V ⫫ C | S`` for some ``S`` among the neighbours; every test between two
       variables conditions on ``C`` as well (``C`` is a root, so this never opens a path and
       leaves the skeleton unchanged, while letting the tests stratify by environment);
    3. the variables left adjacent to ``C`` have mechanisms that change across environments:
       they form the estimated mutable set;
    4. orient ``C -> V``, then unshielded colliders ``A -> B <- D`` (``B`` not in the
       separating set of ``A, D``; this includes ``C -> V <- A``, the main source of
       orientations in CD-NOD), then Meek's rules R1-R4.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric variables, one column each (the target and the covariates); may include the
        environment column if ``environment`` names it.
    environment : str or array-like
        Name of the environment column of ``data``, or one environment label per row.
    target : hashable, default "Y"
        The response column (treated like any other variable in the search).
    alpha : float, default 0.01
        Level of every conditional-independence test.
    test : {"fisherz", "kci"}, default "fisherz"
        ``"fisherz"``: for two variables, the Fisher-z test of zero partial correlation within
        each environment, combined as ``Σ_c z_c² ~ χ²_K``; for a variable and ``C``, the
        Gaussian likelihood-ratio test of equal intercept, slopes and residual variance across
        environments. Valid when the data are linear-Gaussian within every environment.
        ``"kci"``: a kernel conditional-independence test (KCI-style, Gaussian kernels with
        median-distance bandwidths, a delta kernel on ``C``, gamma approximation of the null),
        valid for nonlinear mechanisms and non-Gaussian noise; ``O(n³)`` per test, so run on a
        random subsample of ``max_samples`` rows.
    max_condition_size : int, optional
        Largest conditioning set (not counting ``C``); ``None`` for no limit.
    max_samples : int, default 600
        Rows used by ``test="kci"`` (a random subsample when there are more).
    rng : None, int or numpy.random.Generator
        Seed of the KCI subsample (Fisher-z is deterministic). Its former name
        ``random_state=`` still works, with a FutureWarning (functions take ``rng``,
        estimators ``random_state``).

    Returns
    -------
    DiscoveryResult
        The partially directed graph, the estimated mutable set and the test record.

    Notes
    -----
    Assumptions: causal sufficiency (no hidden confounders of the observed variables), an
    acyclic graph, and the causal Markov and faithfulness conditions for the graph augmented
    with the environment node; the mechanisms change only as functions of the environment
    index (the environment is exogenous and is not caused by the variables); the environment
    index is categorical (labels carry no order). ``test="fisherz"`` additionally assumes
    linear mechanisms with Gaussian noise within every environment (its variance part is
    sensitive to heavy tails); ``test="kci"`` only needs smooth dependences that the Gaussian
    kernels can detect at the given sample size. With finite samples, errors of the tests
    propagate: a wrong adjacency can flip orientations elsewhere. Edges that the data cannot
    orient stay undirected (:attr:`DiscoveryResult.undirected_edges`).

    References
    ----------
    Zhang, K., Huang, B., Zhang, J., Glymour, C. and Schölkopf, B. (2017). Causal discovery
    from nonstationary/heterogeneous data: skeleton estimation and orientation determination.
    IJCAI.
    Zhang, K., Peters, J., Janzing, D. and Schölkopf, B. (2011). Kernel-based conditional
    independence test and application in causal discovery. UAI.
    Meek, C. (1995). Causal inference and causal explanation with background knowledge. UAI.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> rows = []
    >>> for e in range(4):
    ...     y = rng.normal(size=400)
    ...     m = (1 + e) * y + rng.normal(size=400)      # mutable: its mechanism changes
    ...     x = m + rng.normal(size=400)
    ...     rows.append(pd.DataFrame({"Y": y, "M": m, "X": x, "env": e}))
    >>> df = pd.concat(rows, ignore_index=True)
    >>> res = discover_graph(df, "env", target="Y")
    >>> res.mutable, sorted(res.graph.edges)
    (('M',), [('M', 'X'), ('Y', 'M')])
    >>> sorted(res.to_augmented_graph().edges)
    [('E', 'M'), ('M', 'X'), ('Y', 'M')]
    """
    t0 = time.perf_counter()
    test = check_option(test, "test", CITestName)
    alpha = check_alpha(alpha)
    if max_condition_size is not None:
        max_condition_size = check_int(max_condition_size, "max_condition_size", minimum=0)
    max_samples = check_int(max_samples, "max_samples", minimum=20)
    df, codes, labels = _validate(data, environment, target)
    x = df.to_numpy(dtype=float)
    n_used = len(x)
    if test == "fisherz":
        tester: Any = _FisherZTester(x, codes)
    else:
        gen = check_random_state(rng, "rng")
        if len(x) > max_samples:
            keep = np.sort(gen.choice(len(x), max_samples, replace=False))
            x, codes = x[keep], codes[keep]
            n_used = max_samples
            if np.unique(codes).size < 2:
                raise ValueError("The KCI subsample holds a single environment; raise it.")
        tester = _KernelTester(x, codes)
    p = x.shape[1]
    with reworded_warnings("running the conditional-independence tests"):
        sk = pc_skeleton(
            p + 1,
            tester,
            alpha,
            context=p,
            max_condition_size=max_condition_size,
            batch_size=tester.batch_size,
        )
    pdag, conflicts = orient(sk.adjacency, sk.sepsets, context=p)
    names = [*df.columns.tolist(), CONTEXT]
    return DiscoveryResult(
        variables=tuple(df.columns),
        target=target,
        pdag=pdag,
        sepsets={
            (names[i], names[j]): tuple(names[k] for k in s) for (i, j), s in sk.sepsets.items()
        },
        max_pvalue=sk.max_pvalue,
        conflicts=[(names[i], names[k], names[j]) for i, k, j in conflicts],
        test=tester.name,
        alpha=alpha,
        n_obs=len(df),
        n_used=n_used,
        n_environments=labels.size,
        n_tests=sk.n_tests,
        fit_time=time.perf_counter() - t0,
    )


class DiscoveryResult(ResultsBase):
    """Immutable result of :func:`discover_graph`.

    Parameters
    ----------
    variables : tuple
        Variable names (columns of the data, without the environment).
    target : hashable
        The response variable.
    pdag : ndarray of shape (p + 1, p + 1)
        Partially directed graph over the variables and the environment node (last);
        ``pdag[i, j] = pdag[j, i] = 1`` for an undirected edge.
    sepsets : dict
        ``(a, b)`` -> separating set of every removed edge (the environment node is ``"E"``).
    max_pvalue : ndarray of shape (p + 1, p + 1)
        Largest p-value over the tests of each pair.
    conflicts : list of tuple
        Unshielded colliders that clashed with earlier orientations.
    test : str
        Description of the conditional-independence test used.
    alpha : float
        Level of every test.
    n_obs, n_used, n_environments, n_tests : int
        Rows of the data, rows used by the tests, number of environments and number of
        tests run.
    fit_time : float
        Wall time of the search, in seconds.

    Attributes
    ----------
    graph : networkx.DiGraph
        Partially directed graph over the variables (without the environment node). An
        undirected edge ``a - b`` appears as both ``a -> b`` and ``b -> a``, each with edge
        attribute ``directed=False``; oriented edges have ``directed=True``.
    mutable : tuple
        Variables adjacent to the environment node (changing mechanisms), in column order.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from causalminimax import discover_graph
    >>> rng = np.random.default_rng(0)
    >>> env = np.repeat([0, 1, 2], 200)
    >>> x1 = rng.normal(size=600) + 2.0 * env
    >>> y = x1 + rng.normal(size=600)
    >>> x2 = y + rng.normal(size=600)
    >>> res = discover_graph(pd.DataFrame({"X1": x1, "Y": y, "X2": x2}), env)
    >>> res.variables, res.mutable, res.n_environments
    (('X1', 'Y', 'X2'), ('X1',), 3)
    >>> sorted(res.graph.edges(data="directed"))
    [('X1', 'Y', True), ('Y', 'X2', True)]
    """

    def __init__(
        self,
        *,
        variables: tuple[Hashable, ...],
        target: Hashable,
        pdag: np.ndarray,
        sepsets: dict[tuple[Hashable, Hashable], tuple[Hashable, ...]],
        max_pvalue: np.ndarray,
        conflicts: list[tuple[Hashable, Hashable, Hashable]],
        test: str,
        alpha: float,
        n_obs: int,
        n_used: int,
        n_environments: int,
        n_tests: int,
        fit_time: float,
    ) -> None:
        self.variables = tuple(variables)
        self.target = target
        self.pdag = np.array(pdag, dtype=np.int8)
        self.pdag.setflags(write=False)
        self.sepsets = dict(sepsets)
        self.max_pvalue = np.array(max_pvalue)
        self.max_pvalue.setflags(write=False)
        self.conflicts = list(conflicts)
        self.test = test
        self.alpha = float(alpha)
        self.n_obs = int(n_obs)
        self.n_used = int(n_used)
        self.n_environments = int(n_environments)
        self.n_tests = int(n_tests)
        self.fit_time = float(fit_time)
        p = len(self.variables)
        self.mutable = tuple(v for k, v in enumerate(self.variables) if self.pdag[p, k])
        g = nx.DiGraph()
        g.add_nodes_from(self.variables)
        for i in range(p):
            for j in range(p):
                if self.pdag[i, j]:
                    g.add_edge(self.variables[i], self.variables[j], directed=not self.pdag[j, i])
        self._graph = g
        self._freeze()

    @property
    def graph(self) -> nx.DiGraph:
        """Partially directed graph over the variables (a copy; see the class docstring)."""
        return self._graph.copy()

    def _pairs(self, *, directed: bool) -> list[tuple[Hashable, Hashable]]:
        """Edges between the variables: oriented ``(parent, child)`` ones, or each undirected
        one once in column order."""
        v, g = self.variables, self.pdag
        return [
            (v[i], v[j])
            for i in range(len(v))
            for j in (range(len(v)) if directed else range(i + 1, len(v)))
            if g[i, j] and bool(g[j, i]) != directed
        ]

    @property
    def undirected_edges(self) -> list[tuple[Hashable, Hashable]]:
        """Edges the data leave unoriented, each once as ``(a, b)`` in column order."""
        return self._pairs(directed=False)

    @property
    def directed_edges(self) -> list[tuple[Hashable, Hashable]]:
        """Oriented edges ``(parent, child)`` between the variables."""
        return self._pairs(directed=True)

    def separating_set(self, a: Hashable, b: Hashable) -> tuple[Hashable, ...] | None:
        """Separating set of ``a`` and ``b``.

        Parameters
        ----------
        a, b : hashable
            Two variables (or the environment node ``"E"``).

        Returns
        -------
        tuple or None
            The conditioning set that removed the edge ``a - b``; ``None`` if they are
            adjacent.
        """
        return self.sepsets.get((a, b), self.sepsets.get((b, a)))

    @property
    def edges(self) -> pd.DataFrame:
        """One row per edge (including the environment edges) with its largest p-value."""
        names = [*self.variables, CONTEXT]
        rows, index = [], []
        q = len(names)
        for i in range(q):
            for j in range(i + 1, q):
                if not (self.pdag[i, j] or self.pdag[j, i]):
                    continue
                und = bool(self.pdag[i, j] and self.pdag[j, i])
                a, b = (i, j) if self.pdag[i, j] else (j, i)
                index.append(f"{names[a]} {'—' if und else '→'} {names[b]}")
                rows.append({"directed": not und, "max p-value": float(self.max_pvalue[i, j])})
        return pd.DataFrame(
            rows, index=pd.Index(index, name="edge"), columns=["directed", "max p-value"]
        )

    def to_augmented_graph(
        self, environment_node: Hashable = CONTEXT, undirected: UndirectedPolicy = "raise"
    ) -> nx.DiGraph:
        """DAG augmented with the environment node, as accepted by ``CausalMinimaxRegressor``.

        Parameters
        ----------
        environment_node : hashable, default "E"
            Name of the environment node; its children are :attr:`mutable`.
        undirected : {"raise", "extend"}, default "raise"
            What to do with undirected edges: ``"raise"`` a ValueError listing them, or
            ``"extend"`` them into one DAG of the equivalence class (Dor-Tarsi, keeping the
            v-structures; the choice among the members is arbitrary, and it matters for the
            causal minimax analysis when it touches the target's children).

        Returns
        -------
        networkx.DiGraph

        Raises
        ------
        ValueError
            If edges remain undirected with ``undirected="raise"``, if the orientations admit no
            DAG, or if the target is estimated mutable (the method assumes it is stable).
        """
        undirected = check_option(undirected, "undirected", UndirectedPolicy)
        if self.target in self.mutable:
            raise ValueError(
                f"The target {self.target!r} is adjacent to the environment (its mechanism "
                "appears to change), but causal minimax learning assumes a stable response."
            )
        if environment_node in self.variables:
            raise ValueError(f"`environment_node` {environment_node!r} is a variable name.")
        und = self.undirected_edges
        if und and undirected == "raise":
            raise ValueError(
                f"The discovered graph has undirected edges {und}; orient them (e.g. "
                "build the graph by hand) or pass undirected='extend' to pick one DAG of the "
                "equivalence class."
            )
        dag = extend_to_dag(self.pdag)
        names = [*self.variables, environment_node]
        g = nx.DiGraph()
        g.add_nodes_from(names)
        g.add_edges_from((names[i], names[j]) for i, j in zip(*np.nonzero(dag), strict=True))
        if not nx.is_directed_acyclic_graph(g):  # pragma: no cover - guarded by extend_to_dag
            raise ValueError("The discovered orientations contain a cycle.")
        return g

    def _summary_parts(self) -> SummaryParts:
        n_dir = len(self.directed_edges)
        n_und = len(self.undirected_edges)
        header = [
            ("Method", "CD-NOD (PC-stable + context node)"),
            ("Test", self.test),
            ("Alpha", self.alpha),
            ("Target", self.target),
            ("Variables", len(self.variables)),
            ("No. observations", self.n_obs),
            ("Observations used", self.n_used),
            ("No. environments", self.n_environments),
            ("CI tests run", self.n_tests),
            ("Directed edges", n_dir),
            ("Undirected edges", n_und),
            ("Mutable (adjacent to E)", _fmt(self.mutable)),
            ("Time (s)", round(self.fit_time, 2)),
        ]
        notes = [_ASSUMPTIONS]
        if self.conflicts:
            notes.append(f"Conflicting unshielded colliders (left as found): {self.conflicts}.")
        if self.target in self.mutable:
            notes.append(f"The target {self.target!r} appears mutable (adjacent to E).")
        return SummaryParts(
            title="Causal discovery with the environment as a context variable",
            header=header,
            tables=[("Edges (max p-value over the tests of each pair)", self.edges)],
            notes=notes,
        )
