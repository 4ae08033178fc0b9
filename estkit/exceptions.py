"""Exceptions and warnings raised by estkit and the method packages."""

from __future__ import annotations

__all__ = ["DegenerateDataWarning", "EstimationError", "EstkitWarning", "NotFittedError"]


class EstimationError(ValueError):
    """The data cannot support the requested estimate (e.g. an empty kernel window).

    A subclass of ``ValueError``.

    Parameters
    ----------
    *args : object
        The message (as for any exception).

    Examples
    --------
    >>> from estkit import EstimationError
    >>> isinstance(EstimationError("no units in the kernel window"), ValueError)
    True
    """


class EstkitWarning(UserWarning):
    """Base class of the warnings this package emits.

    A subclass of ``UserWarning``: filter every estkit warning at once with it.

    Parameters
    ----------
    *args : object
        The message (as for any warning).

    Examples
    --------
    >>> import warnings
    >>> from estkit import DegenerateDataWarning, EstkitWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", EstkitWarning)
    ...     warnings.warn("constant outcome", DegenerateDataWarning)
    """


class DegenerateDataWarning(EstkitWarning):
    """Some estimand points carry no real variation (e.g. constant or top-coded outcomes).

    They are reported as exactly zero effect with zero width, never as an effect made of
    rounding residue.

    Parameters
    ----------
    *args : object
        The message (as for any warning).

    Examples
    --------
    >>> import warnings
    >>> from estkit import DegenerateDataWarning
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("quantile 0.9 is constant", DegenerateDataWarning)
    >>> caught[0].category.__name__
    'DegenerateDataWarning'
    """


try:  # one NotFittedError for the whole ecosystem
    from sklearn.exceptions import NotFittedError
except ImportError:  # pragma: no cover - scikit-learn is a hard dependency

    class NotFittedError(ValueError, AttributeError):  # type: ignore[no-redef]
        """Estimator used before ``fit``."""
