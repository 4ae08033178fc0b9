"""Docstring fragments shared by several public callables, written in one place.

:func:`fill_doc` replaces each docstring line that holds only ``%(name)s`` by the fragment
``name``, indented like the placeholder (the scheme of ``scipy._lib.doccer`` and pandas'
``Substitution``, without their string formatting of the whole docstring).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["fill_doc"]

F = TypeVar("F", bound=Callable[..., Any])


def fill_doc(**snippets: str) -> Callable[[F], F]:
    """Decorator: put the fragments ``snippets`` into a docstring's ``%(name)s`` lines.

    Parameters
    ----------
    **snippets : str
        Fragment per placeholder name, written without indentation (continuation lines
        indented relative to the first line, as in a numpydoc section).

    Returns
    -------
    callable
        A decorator that fills ``obj.__doc__`` in place and returns ``obj``; a placeholder
        without a fragment raises ``KeyError`` when the decorator is applied.

    Examples
    --------
    >>> @fill_doc(n="n : int\\n    Number of units.")
    ... def f(n):
    ...     '''Do nothing.
    ...
    ...     Parameters
    ...     ----------
    ...     %(n)s
    ...     '''
    >>> print(f.__doc__.splitlines()[5])
            Number of units.
    """
    fragments = {name: textwrap.dedent(text).strip("\n") for name, text in snippets.items()}

    def decorate(obj: F) -> F:
        doc = obj.__doc__
        if doc:
            lines = []
            for line in doc.split("\n"):
                key = line.strip()
                if key.startswith("%(") and key.endswith(")s"):
                    if key[2:-2] not in fragments:
                        raise KeyError(
                            f"docstring of {obj.__qualname__} names the fragment {key!r}; "
                            f"fill_doc has {sorted(fragments)}."
                        )
                    indent = line[: len(line) - len(line.lstrip())]
                    lines.append(textwrap.indent(fragments[key[2:-2]], indent))
                else:
                    lines.append(line)
            obj.__doc__ = "\n".join(lines)
        return obj

    return decorate
