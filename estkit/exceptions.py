"""Exceptions and warnings raised by estkit and the method packages."""

from __future__ import annotations

from estkit._docstrings import doc_filler

__all__ = ["DegenerateDataWarning", "EstimationError", "EstkitWarning", "NotFittedError"]

#: The constructor of an exception or warning class, as its docstring's Parameters section
#: (shared with the exception classes of the method packages).
MESSAGE_PARAMETERS = """\
Parameters
----------
*args : object
    The message (as for any exception or warning)."""

_fill_doc = doc_filler({"message_parameters": MESSAGE_PARAMETERS})


@_fill_doc
class EstimationError(ValueError):
    """The data cannot support the requested estimate (e.g. an empty kernel window).

    A subclass of ``ValueError``.

    %(message_parameters)s

    Examples
    --------
    >>> from estkit import EstimationError
    >>> isinstance(EstimationError("no units in the kernel window"), ValueError)
    True
    """


@_fill_doc
class EstkitWarning(UserWarning):
    """Base class of the warnings this package emits.

    A subclass of ``UserWarning``: filter every estkit warning at once with it.

    %(message_parameters)s

    Examples
    --------
    >>> import warnings
    >>> from estkit import DegenerateDataWarning, EstkitWarning
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", EstkitWarning)
    ...     warnings.warn("constant outcome", DegenerateDataWarning)
    """


@_fill_doc
class DegenerateDataWarning(EstkitWarning):
    """Some estimand points carry no real variation (e.g. constant or top-coded outcomes).

    They are reported as exactly zero effect with zero width, never as an effect made of
    rounding residue.

    %(message_parameters)s

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
