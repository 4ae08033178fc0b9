"""The prepared sample of an R3D fit: checked once at the door, trusted by the cores.

:meth:`r3d.R3D.fit` (and the door of :func:`r3d._estimate.estimate_r3d`) turn the user's
inputs into one :class:`R3DSample`: the running variable, the unit quantile matrix on a
checked grid, the treatment, cluster codes (factorised once) and the degenerate grid
points. The numerical cores (:func:`r3d._estimate._estimate` and the estkit cores it calls)
do not check them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from estkit._validation import check_grid, check_scalar, check_sides

__all__ = ["R3DSample"]

#: distance of the running variable to the cutoff handled by the selector and the fits
X_SPAN = (1e-150, 1e150)


@dataclass(frozen=True, eq=False)
class R3DSample:
    """One R3D sample, checked (a frozen dataclass; arrays are not copied).

    Parameters
    ----------
    x : ndarray, shape (n,)
        Finite running variable.
    Q : ndarray, shape (n, m)
        Finite unit quantile functions on ``q``.
    q : ndarray, shape (m,)
        Quantile levels, strictly increasing inside (0, 1).
    cutoff : float
        The cutoff (``x >= cutoff`` is above).
    T : ndarray, shape (n,), optional
        Finite treatment (fuzzy designs).
    Q_bandwidth : ndarray, shape (n, m), optional
        Quantile matrix used for bandwidth selection only.
    cluster : ndarray of int, shape (n,), optional
        Cluster codes ``0 .. n_clusters - 1`` (factorised once, in order of appearance).
    unit_ids : ndarray, shape (n,)
        Unit labels (positions when none were given).
    n_dropped : int
        Units dropped as missing before this sample.
    degenerate : ndarray of bool, shape (m,)
        Grid points at which every unit has the same quantile.
    n_below : int
        Units below the cutoff.
    """

    x: np.ndarray
    Q: np.ndarray
    q: np.ndarray
    cutoff: float
    T: np.ndarray | None
    Q_bandwidth: np.ndarray | None
    cluster: np.ndarray | None
    unit_ids: np.ndarray
    n_dropped: int
    degenerate: np.ndarray
    n_below: int

    @property
    def n(self) -> int:
        """Number of units."""
        return int(self.x.size)

    @property
    def n_above(self) -> int:
        """Units at or above the cutoff."""
        return self.n - self.n_below

    @property
    def n_clusters(self) -> int | None:
        """Number of clusters (``None`` without clusters)."""
        return None if self.cluster is None else int(self.cluster.max()) + 1

    @classmethod
    def build(
        cls, x: np.ndarray, Q: np.ndarray, q: np.ndarray, cutoff: float, **facts: Any
    ) -> R3DSample:
        """Check the pieces once and build the sample (the door of the cores); ``facts``
        are the keywords of :meth:`from_checked`.

        ``x``, ``Q``, ``T`` must be finite and conformable, ``Q_bandwidth`` shaped like
        ``Q``, with units on both sides of the cutoff; ``cluster`` labels are factorised;
        ``degenerate`` (e.g. :func:`estkit.negligible_variation` of the columns of ``Q``)
        defaults to none.
        """
        xv = np.asarray(x, dtype=float)
        Qm = np.asarray(Q, dtype=float)
        qv = check_grid(q, "q")
        if xv.ndim != 1:
            raise ValueError(f"`x` must be one-dimensional; got shape {xv.shape}.")
        if Qm.ndim == 1:
            Qm = Qm[:, None]
        if Qm.shape != (xv.size, qv.size):
            raise ValueError(
                f"`Q` must have shape (n, m) = ({xv.size}, {qv.size}) to match `x` and `q`; "
                f"got {Qm.shape}."
            )
        if not (np.all(np.isfinite(xv)) and np.all(np.isfinite(Qm))):
            raise ValueError("`x` and `Q` must be finite.")
        c = check_scalar(cutoff, "cutoff")
        if facts.get("T") is not None:
            Tv = facts["T"] = np.asarray(facts["T"], dtype=float).reshape(-1)
            if Tv.size != xv.size or not np.all(np.isfinite(Tv)):
                raise ValueError(f"`treatment` must be finite with one value per unit ({xv.size}).")
        if facts.get("Q_bandwidth") is not None:
            Qb = facts["Q_bandwidth"] = np.asarray(facts["Q_bandwidth"], dtype=float)
            if Qb.shape != Qm.shape:
                raise ValueError(f"`Q_bandwidth` must have shape {Qm.shape}; got {Qb.shape}.")
        return cls.from_checked(xv, Qm, qv, c, **facts)

    @classmethod
    def from_checked(
        cls,
        x: np.ndarray,
        Q: np.ndarray,
        q: np.ndarray,
        cutoff: float,
        *,
        T: np.ndarray | None = None,
        Q_bandwidth: np.ndarray | None = None,
        cluster: np.ndarray | None = None,
        unit_ids: np.ndarray | None = None,
        n_dropped: int = 0,
        degenerate: np.ndarray | None = None,
        purpose: str = "R3D",
    ) -> R3DSample:
        """The sample from pieces a door has already checked (finite, conformable arrays;
        a checked grid): only the sample-level facts are established here (cluster codes,
        units on both sides of the cutoff)."""
        xv, Qm, qv, c = x, Q, q, cutoff
        codes = None
        if cluster is not None:
            codes = pd.factorize(np.asarray(cluster))[0].astype(np.intp)
            if codes.max(initial=-1) < 1:
                raise ValueError(
                    "`cluster` has a single cluster: the cluster bootstrap needs at least two "
                    "(leave cluster=None for independent units)."
                )
        n_below, _ = check_sides(xv, c, purpose, span=X_SPAN)
        if degenerate is None:
            deg = np.zeros(qv.size, dtype=bool)
        else:
            deg = np.asarray(degenerate, dtype=bool).reshape(-1)
            if deg.shape != (qv.size,):
                raise ValueError(f"`degenerate` must have one flag per quantile ({qv.size}).")
        return cls(
            x=xv,
            Q=Qm,
            q=qv,
            cutoff=c,
            T=T,
            Q_bandwidth=Q_bandwidth,
            cluster=codes,
            unit_ids=np.arange(xv.size) if unit_ids is None else np.asarray(unit_ids),
            n_dropped=int(n_dropped),
            degenerate=deg,
            n_below=n_below,
        )
