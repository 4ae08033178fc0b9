"""Docstring substitution: numpydoc fragments written once, shared by many callables.

:func:`doc_filler` builds a decorator (as ``scipy._lib.doccer`` and pandas' ``Substitution``
do) that replaces each docstring line holding only ``%(name)s`` by the fragment ``name``,
indented like the placeholder, so a parameter shared by many public callables is described
in one place. Each package keeps its own table of fragments and its own decorator.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["doc_filler", "fill_docstring"]

F = TypeVar("F", bound=Callable[..., Any])


def fill_docstring(doc: str, fragments: Mapping[str, str]) -> str:
    """``doc`` with each line that holds only ``%(name)s`` replaced by ``fragments[name]``.

    Parameters
    ----------
    doc : str
        The docstring.
    fragments : mapping of str to str
        The fragments, by name (unindented; the placeholder's indentation is added).

    Returns
    -------
    str
        The filled docstring. Other lines, including ``%`` signs elsewhere, are kept as
        they are.

    Raises
    ------
    KeyError
        If a placeholder names no fragment.

    Examples
    --------
    >>> from estkit._docstrings import fill_docstring
    >>> print(fill_docstring("Parameters\\n    %(x)s", {"x": "x : int\\n    A number."}))
    Parameters
        x : int
            A number.
    """
    lines = []
    for line in doc.split("\n"):
        key = line.strip()
        if key.startswith("%(") and key.endswith(")s"):
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(textwrap.indent(fragments[key[2:-2]], indent))
        else:
            lines.append(line)
    return "\n".join(lines)


def doc_filler(fragments: Mapping[str, str]) -> Callable[[F], F]:
    """A decorator that fills the docstring of a function or class from ``fragments``.

    Parameters
    ----------
    fragments : mapping of str to str
        The fragments, by name; read when the decorator is applied, so fragments added to
        the mapping later are seen by later uses.

    Returns
    -------
    callable
        The decorator: it fills ``obj.__doc__`` in place (see :func:`fill_docstring`) and
        returns ``obj``.

    Examples
    --------
    >>> from estkit._docstrings import doc_filler
    >>> fill_doc = doc_filler({"n": "n : int\\n    Sample size."})
    >>> @fill_doc
    ... def f(n):
    ...     '''Do nothing.
    ...
    ...     Parameters
    ...     ----------
    ...     %(n)s
    ...     '''
    >>> print(f.__doc__.splitlines()[4])
        n : int
    """

    def fill_doc(obj: F) -> F:
        if obj.__doc__:
            obj.__doc__ = fill_docstring(obj.__doc__, fragments)
        return obj

    return fill_doc
