"""Random-state handling: one helper turns any seed into a ``numpy.random.Generator``."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["RandomStateLike", "check_random_state", "spawn"]

RandomStateLike = None | int | np.integer | np.random.SeedSequence | np.random.Generator


def check_random_state(
    random_state: RandomStateLike, name: str = "random_state"
) -> np.random.Generator:
    """Turn ``random_state`` into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        ``None`` draws fresh OS entropy; an integer or a ``SeedSequence`` seeds a new
        PCG64 generator; a ``Generator`` is returned unchanged (so that the caller's stream
        advances). Global NumPy random state is never touched.
    name : str, default "random_state"
        Argument name used in the error message (functions call this helper with
        ``name="rng"``).

    Returns
    -------
    numpy.random.Generator
        The generator (``random_state`` itself when it is one).

    Examples
    --------
    >>> from estkit import check_random_state
    >>> g = check_random_state(42)
    >>> float(g.standard_normal()) == float(check_random_state(42).standard_normal())
    True
    >>> check_random_state(g) is g
    True
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if int(random_state) < 0:
            raise ValueError(f"`{name}` must be a non-negative integer seed; got {random_state}.")
        return np.random.default_rng(int(random_state))
    if isinstance(random_state, np.random.RandomState):
        raise TypeError(
            f"`{name}` is a legacy numpy.random.RandomState; pass an int seed or a "
            "numpy.random.Generator (e.g. numpy.random.default_rng(seed)) instead."
        )
    raise TypeError(
        f"`{name}` must be None, an int, a numpy.random.SeedSequence or a "
        f"numpy.random.Generator; got {type(random_state).__name__}."
    )


def spawn(
    random_state: RandomStateLike, n: int, name: str = "random_state"
) -> list[np.random.Generator]:
    """Return ``n`` statistically independent generators derived from ``random_state``.

    Used to hand one stream to each parallel task so results do not depend on the number
    of workers.

    Parameters
    ----------
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        Source of the streams (see :func:`check_random_state`); a Generator is advanced.
    n : int
        Number of generators (>= 0).
    name : str, default "random_state"
        Argument name used in error messages.

    Returns
    -------
    list of numpy.random.Generator
        ``n`` generators spawned from the source (``Generator.spawn``).

    Examples
    --------
    >>> from estkit import spawn
    >>> [float(g.random()) for g in spawn(0, 2)] == [float(g.random()) for g in spawn(0, 2)]
    True
    """
    from estkit._validation import check_int

    n = check_int(n, "n", minimum=0)
    gen = check_random_state(random_state, name)
    return list(gen.spawn(n))
