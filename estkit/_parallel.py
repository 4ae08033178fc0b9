"""Optional parallelism for embarrassingly parallel work, through joblib (off by default).

joblib also runs on a Dask cluster: ``with joblib.parallel_backend("dask"): ...`` after
creating a ``dask.distributed.Client``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Any

__all__ = ["blas_single_thread", "parallel_map"]


def parallel_map(
    func: Callable[..., Any],
    items: Iterable[Any],
    *,
    n_jobs: int | None = None,
    progress: bool | None = None,
    desc: str = "",
) -> list[Any]:
    """``[func(item) for item in items]``, in parallel through joblib when ``n_jobs`` is set.

    Parameters
    ----------
    func : callable
        Called once per item.
    items : iterable
        The inputs (materialised into a list first).
    n_jobs : int, optional
        ``None`` or ``1`` runs serially (default); ``-1`` uses every core.
    progress : bool, optional
        Show a progress line on stderr. ``None`` shows it only in an interactive terminal.
    desc : str, default ""
        Label of the progress line.

    Returns
    -------
    list
        ``func(item)`` for every item, in the order of ``items``.

    Examples
    --------
    >>> parallel_map(abs, [-1, 2, -3])
    [1, 2, 3]
    """
    from estkit._validation import check_callable, check_n_jobs, check_optional_bool

    check_callable(func, "func")
    n_jobs = check_n_jobs(n_jobs)
    progress = check_optional_bool(progress, "progress")
    if not isinstance(desc, str):
        raise TypeError(f"`desc` must be a string; got {type(desc).__name__}.")
    try:
        seq: Sequence[Any] = list(items)
    except TypeError:
        raise TypeError(f"`items` must be iterable; got {type(items).__name__}.") from None
    show = _want_progress(progress)
    if n_jobs is None or n_jobs == 1:
        out = []
        for i, it in enumerate(seq):
            out.append(func(it))
            if show:
                _progress(i + 1, len(seq), desc)
        return out
    from joblib import Parallel, delayed

    verbose = 5 if show else 0
    return list(Parallel(n_jobs=n_jobs, verbose=verbose)(delayed(func)(it) for it in seq))


def _want_progress(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    import os
    import sys

    if os.environ.get("PYTEST_CURRENT_TEST") or os.environ.get("CI"):
        return False
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _progress(done: int, total: int, desc: str) -> None:
    import sys

    width = 30
    fill = int(width * done / max(total, 1))
    sys.stderr.write(f"\r{desc} [{'#' * fill}{'.' * (width - fill)}] {done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS has one, e.g. a
    container or ``taskset`` limit; else every core), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity API (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def memory_budget_bytes(memory_budget: int | None, n: int, m: int) -> int:
    """Bytes of temporaries a computation over an ``(n, m)`` float64 matrix may use: the
    given ``memory_budget``, or by default the matrix's own size, at least 64 MiB.

    Examples
    --------
    >>> memory_budget_bytes(None, 10, 3) == 64 * 2**20, memory_budget_bytes(10**6, 10, 3)
    (True, 1000000)
    """
    return max(64 * 2**20, 8 * n * m) if memory_budget is None else int(memory_budget)


def thread_map(
    func: Callable[[Any], Any], items: Iterable[Any], max_workers: int | None = None
) -> list[Any]:
    """``[func(item) for item in items]``, in threads (at most ``max_workers``; by default
    one per item) when there are several items and workers.

    For array work that releases the GIL (NumPy, SciPy's compiled routines), each call
    writing its own outputs or disjoint slices of shared ones: the results do not depend
    on the threads.

    Examples
    --------
    >>> thread_map(abs, [-1, 2, -3])
    [1, 2, 3]
    """
    seq = list(items)
    workers = len(seq) if max_workers is None else min(max_workers, len(seq))
    if workers < 2:
        return [func(it) for it in seq]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, seq))


_CONTROLLER: list[Any] = []
_LIMIT_LOCK = threading.Lock()
_LIMIT_STATE: dict[str, Any] = {"depth": 0, "limiter": None}


def blas_single_thread(size: int | None = None, *, threshold: int = 5000) -> Any:
    """Context limiting the BLAS to one thread, for small or skinny dense algebra.

    Thread wake-ups of a multi-threaded BLAS cost far more than small products (10-15x
    measured on a loaded 2-core machine). The one place the project uses threadpoolctl: its
    controller is built once per process, and since its limit applies to the whole process,
    nested or concurrent uses (e.g. two threads fitting the two sides of a cutoff) share one
    limit, released when the last of them exits.

    Parameters
    ----------
    size : int, optional
        Size of the problem (e.g. states x actions); above ``threshold`` the BLAS is left
        as it is (a null context). ``None`` always limits.
    threshold : int, default 5000
        See ``size``.

    Returns
    -------
    context manager
        The shared one-thread BLAS limit, or a null context.

    Examples
    --------
    >>> import numpy as np
    >>> with blas_single_thread():
    ...     float(np.ones((3, 3)) @ np.ones(3) @ np.ones(3))
    9.0
    """
    if size is not None and size > threshold:
        return nullcontext()
    return _shared_limit()


def blas_limited() -> bool:
    """Whether :func:`blas_single_thread`'s shared limit is active in this process (work
    that splits itself over threads only then: the BLAS leaves the cores to it)."""
    return bool(_LIMIT_STATE["depth"] > 0)


def both_sides(plus: Callable[[], Any], minus: Callable[[], Any]) -> tuple[Any, Any]:
    """Run two callables without arguments (e.g. the two sides' fits of an RD) and return
    their results.

    With more than one core they run in two threads (NumPy releases the GIL in the array
    work; the callables must touch disjoint parts of shared output arrays), under one BLAS
    limit of one thread each (:func:`blas_single_thread`); the results do not depend on it.

    Examples
    --------
    >>> both_sides(lambda: 1, lambda: 2)
    (1, 2)
    """
    if available_cores() < 2:
        return plus(), minus()
    with blas_single_thread(), ThreadPoolExecutor(max_workers=2) as pool:
        fm = pool.submit(minus)
        rp = plus()
        return rp, fm.result()


@contextmanager
def _shared_limit() -> Iterator[None]:
    with _LIMIT_LOCK:
        if _LIMIT_STATE["depth"] == 0:
            from threadpoolctl import ThreadpoolController

            if not _CONTROLLER:
                _CONTROLLER.append(ThreadpoolController())
            _LIMIT_STATE["limiter"] = _CONTROLLER[0].limit(limits=1, user_api="blas")
        _LIMIT_STATE["depth"] += 1
    try:
        yield
    finally:
        with _LIMIT_LOCK:
            _LIMIT_STATE["depth"] -= 1
            if _LIMIT_STATE["depth"] == 0:
                _LIMIT_STATE["limiter"].restore_original_limits()
                _LIMIT_STATE["limiter"] = None
