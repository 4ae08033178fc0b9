"""Renamed arguments: old names keep working for a while, with a FutureWarning.

One place for the project's deprecations (functions: :func:`renamed_arguments`;
estimator parameters, which scikit-learn requires as plain ``__init__`` arguments:
:func:`deprecated_alias`).
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

__all__ = ["deprecated_alias", "renamed_arguments"]

F = TypeVar("F", bound=Callable[..., Any])


def renamed_arguments(
    renamed: dict[str, str], *, positional: tuple[str, ...] = ()
) -> Callable[[F], F]:
    """Keep old keyword names (and former positional slots) working, with a FutureWarning.

    Parameters
    ----------
    renamed : dict of str to str
        Old keyword name to new keyword name.
    positional : tuple of str, default ()
        Keyword-only parameters that used to accept a positional argument after the
        positional parameters, in that order.

    Returns
    -------
    callable
        A decorator; the decorated function's signature (``inspect.signature``) is the new
        one.

    Examples
    --------
    >>> import warnings
    >>> @renamed_arguments({"old": "new"})
    ... def f(*, new=1):
    ...     return new
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(old=3), w[0].category.__name__
    (3, 'FutureWarning')
    """

    def decorate(func: F) -> F:
        params = inspect.signature(func).parameters.values()
        n_pos = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            extra = args[n_pos:]
            if len(extra) > len(positional):
                raise TypeError(
                    f"{func.__name__}() takes {n_pos} positional arguments but {len(args)} "
                    "were given."
                )
            for new, value in zip(positional, extra, strict=False):
                _put(kwargs, new, value, func.__name__)
                _warn(f"passing `{new}` positionally to {func.__name__}()", f"{new}=...")
            for old, new in renamed.items():
                if old in kwargs:
                    _put(kwargs, new, kwargs.pop(old), func.__name__)
                    _warn(f"`{old}` of {func.__name__}() is renamed", f"{new}=...")
            return func(*args[:n_pos], **kwargs)

        return cast(F, wrapper)

    return decorate


def _warn(what: str, fix: str) -> None:
    warnings.warn(
        f"{what} and the old form will stop working in a future version; use {fix}.",
        FutureWarning,
        stacklevel=3,
    )


def _put(kwargs: dict[str, Any], name: str, value: Any, func: str) -> None:
    if name in kwargs:
        raise TypeError(f"{func}() got `{name}` twice (under its old and its new name).")
    kwargs[name] = value


def deprecated_alias(new: Any, old: Any, new_name: str, old_name: str, owner: str) -> Any:
    """The value of a renamed estimator parameter: ``old`` (with a FutureWarning) when it
    was set, else ``new``.

    Parameters
    ----------
    new, old : object
        The values of the new parameter and of its deprecated alias (None: not set).
    new_name, old_name : str
        Their names.
    owner : str
        The estimator's class name, for the messages.

    Returns
    -------
    object
        The value to use.
    """
    if old is None:
        return new
    warnings.warn(
        f"`{old_name}` of {owner} is renamed `{new_name}`; the old name will stop working in "
        f"a future version.",
        FutureWarning,
        stacklevel=3,
    )
    return old
