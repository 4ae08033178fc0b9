"""numpydoc sections on every public callable (issue 12, point 5).

Walks ``__all__`` of the four packages: the functions, the classes (their constructor
parameters), and the public methods of the public classes, including those inherited from
the project's own (possibly private) base classes. A callable that takes parameters needs a
``Parameters`` section, one that returns something a ``Returns`` (or ``Yields``) section, in
the docstring as :func:`inspect.getdoc` renders it (inherited docstrings and the
``irl_sensitivity._common.fill_doc`` fragments included). Written without numpydoc, so it
runs in the default test environment.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Callable, Iterator
from itertools import pairwise
from typing import Any

import pytest

PACKAGES = ("estkit", "r3d", "causalminimax", "irl_sensitivity")

# Callables known to lack a section, each with the reason. Remove an entry once its docstring
# is complete: test_allow_list_is_current fails on stale entries.
ALLOWED: dict[str, str] = {}


def _sections(doc: str) -> set[str]:
    """Titles of the numpydoc sections of a docstring (a title line over a dash rule)."""
    lines = [line.strip() for line in doc.splitlines()]
    return {
        title for title, rule in pairwise(lines) if title and len(rule) >= 3 and set(rule) == {"-"}
    }


def _parameters(obj: Any) -> list[str]:
    """Names of the documented-worthy parameters (``self`` / ``cls`` left out)."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [name for name in sig.parameters if name not in ("self", "cls")]


class _Returns(ast.NodeVisitor):
    """Finds ``return <value>`` and ``yield`` in a function body, not in nested scopes."""

    def __init__(self) -> None:
        self.returns = self.yields = False
        self.depth = 0

    def _scope(self, node: ast.AST) -> None:
        self.depth += 1
        if self.depth == 1:
            self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = _scope

    def visit_Return(self, node: ast.Return) -> None:
        value = node.value
        if value is not None and not (isinstance(value, ast.Constant) and value.value is None):
            self.returns = True

    def visit_Yield(self, node: ast.Yield) -> None:
        self.yields = True

    def visit_YieldFrom(self, node: ast.YieldFrom) -> None:
        self.yields = True


def _returns_something(func: Callable[..., Any]) -> bool:
    """Whether a function returns or yields a value (from its annotation, else its source)."""
    try:
        ann = inspect.signature(func).return_annotation
    except (TypeError, ValueError):
        ann = inspect.Signature.empty
    if ann is not inspect.Signature.empty:
        return ann not in (None, "None", "NoReturn", "Never")
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return False
    finder = _Returns()
    finder.visit(ast.parse(source))
    return finder.returns or finder.yields


def _ours(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in PACKAGES


def _methods(cls: type) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Public methods of a class, its own and those of the project's base classes."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not _ours(klass):
            continue
        for name, raw in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            func = raw.__func__ if isinstance(raw, staticmethod | classmethod) else raw
            if inspect.isfunction(func):
                seen.add(name)
                yield name, getattr(cls, name)


def _callables(package: str) -> Iterator[tuple[str, Any, bool]]:
    """``(qualified name, object, is_class)`` for every public callable of a package."""
    module = importlib.import_module(package)
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj):
            if _ours(obj):
                yield f"{package}.{name}", obj, True
                for meth, func in _methods(obj):
                    yield f"{package}.{name}.{meth}", func, False
        elif inspect.isfunction(obj) and _ours(obj):
            yield f"{package}.{name}", obj, False


def _missing(obj: Any, is_class: bool) -> list[str]:
    """The sections a callable's rendered docstring lacks."""
    sections = _sections(inspect.getdoc(obj) or "")
    missing = []
    if _parameters(obj) and "Parameters" not in sections:
        missing.append("Parameters")
    if not is_class and _returns_something(obj) and not sections & {"Returns", "Yields"}:
        missing.append("Returns")
    return missing


def _failures(package: str) -> dict[str, list[str]]:
    return {
        qualname: missing
        for qualname, obj, is_class in _callables(package)
        if (missing := _missing(obj, is_class))
    }


@pytest.mark.parametrize("package", PACKAGES)
def test_public_callables_have_parameters_and_returns(package: str) -> None:
    failures = {k: v for k, v in _failures(package).items() if k not in ALLOWED}
    assert not failures, "numpydoc sections missing (callable: sections):\n" + "\n".join(
        f"  {name}: {', '.join(missing)}" for name, missing in sorted(failures.items())
    )


def test_walk_covers_functions_classes_and_methods() -> None:
    names = {q for p in PACKAGES for q, _, _ in _callables(p)}
    # a function, a class, a method, an inherited method and a classmethod
    assert {
        "estkit.density_test",
        "estkit.BootstrapInference",
        "estkit.BootstrapInference.sup_test",
        "irl_sensitivity.BoltzmannModel.in_image",
        "estkit.BootstrapInference.from_replicates",
    } <= names
    assert len(names) > 100


def test_allow_list_is_current() -> None:
    failing = {k for p in PACKAGES for k in _failures(p)}
    stale = sorted(set(ALLOWED) - failing)
    assert not stale, f"documented now, remove from ALLOWED in {__file__}: {stale}"


def test_the_check_detects_missing_sections() -> None:
    def documented(a: int) -> int:
        """Double.

        Parameters
        ----------
        a : int
            Number.

        Returns
        -------
        int
            Twice ``a``.
        """
        return 2 * a

    def bare(a):  # no annotation: the return is found in the source
        """Double."""
        return 2 * a

    def generator(n: int):
        """Count.

        Parameters
        ----------
        n : int
            Stop.
        """
        yield from range(n)

    def procedure(a: int) -> None:
        """Nothing returned.

        Parameters
        ----------
        a : int
            Ignored.
        """

    class Holder:
        """No Parameters section although the constructor takes one."""

        def __init__(self, x: int) -> None:
            self.x = x

    assert _missing(documented, False) == []
    assert _missing(bare, False) == ["Parameters", "Returns"]
    assert _missing(generator, False) == ["Returns"]
    assert _missing(procedure, False) == []
    assert _missing(Holder, True) == ["Parameters"]
