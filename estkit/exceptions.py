"""Exceptions and warnings raised by estkit and the method packages."""

from __future__ import annotations

__all__ = ["DegenerateDataWarning", "EstimationError", "EstkitWarning", "NotFittedError"]


class EstimationError(ValueError):
    """The data cannot support the requested estimate (e.g. an empty kernel window)."""


class EstkitWarning(UserWarning):
    """Base class of the warnings this package emits."""


class DegenerateDataWarning(EstkitWarning):
    """Some estimand points carry no real variation (e.g. constant or top-coded outcomes).

    They are reported as exactly zero effect with zero width, never as an effect made of
    rounding residue.
    """


try:  # one NotFittedError for the whole ecosystem
    from sklearn.exceptions import NotFittedError
except ImportError:  # pragma: no cover - scikit-learn is a hard dependency

    class NotFittedError(ValueError, AttributeError):  # type: ignore[no-redef]
        """Estimator used before ``fit``."""
