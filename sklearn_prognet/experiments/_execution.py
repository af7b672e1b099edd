# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Running the fits: joblib or dask, torch threads, progress, messages.

Tasks (the batched engine's stacks of networks, or single fits) run
through joblib, locally (loky processes) or on a dask cluster (joblib's
dask backend); only the main process writes records, as results arrive,
so a dask cluster needs no shared file system.
"""

import contextlib
import socket
import sys
import urllib.parse

import joblib

from sklearn_prognet.experiments._engine import batchable, fit_tasks_batched
from sklearn_prognet.experiments._fits import BATCHED, PER_FIT, run_fit
from sklearn_prognet.experiments._inputs import ExperimentInputError
from sklearn_prognet.utils._messages import Param
from sklearn_prognet.utils._process import exit_with_parent

__all__ = [
    "check_backend",
    "check_execution",
    "execute",
    "log",
    "parallel_context",
    "threads_per_fit",
]

BACKENDS = ("loky", "dask")
# Seconds to wait for a dask scheduler's TCP port before a run starts.
_CONNECT_TIMEOUT = 10
# The transports whose scheduler address is a host and a port to connect to.
_SOCKET_SCHEMES = ("tcp", "tls")


def log(message):
    """Print a progress message on stderr."""
    print(message, file=sys.stderr, flush=True)


def check_execution(n_jobs, backend, scheduler, torch_threads):
    """Check the execution options before anything is loaded or written."""
    if backend not in BACKENDS:
        raise ExperimentInputError(
            Param("backend", backend), f" is not one of {list(BACKENDS)}."
        )
    if scheduler is not None and backend != "dask":
        raise ExperimentInputError(
            Param("scheduler", scheduler),
            " is only used with ",
            Param("backend", "dask"),
            ".",
        )
    if not isinstance(n_jobs, int) or n_jobs == 0:
        raise ExperimentInputError(
            Param("n_jobs", n_jobs), ": use 1, N or -1 (all cores)."
        )
    if torch_threads is not None and (
        not isinstance(torch_threads, int) or torch_threads < 1
    ):
        raise ExperimentInputError(
            Param("torch_threads", torch_threads),
            " must be None or a positive integer.",
        )


def check_backend(backend, scheduler):
    """Check that the backend can run, before anything is written.

    With ``backend='dask'``: dask.distributed is installed and the scheduler
    at ``scheduler``, if any, accepts a connection. Otherwise a run would
    write its results folder (configuration, lock) and then fail, and the
    corrected command would find the folder taken.
    """
    if backend != "dask":
        return
    _import_distributed()
    if scheduler is None:
        return
    address = scheduler if "://" in scheduler else f"tcp://{scheduler}"
    parts = urllib.parse.urlsplit(address)
    if parts.scheme not in _SOCKET_SCHEMES:
        # An in-process ("inproc://", a LocalCluster without processes) or
        # other transport has no socket to try: distributed reports its errors.
        return
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ExperimentInputError(Param("scheduler", scheduler), f": {exc}.") from None
    if not host or port is None:
        raise ExperimentInputError(
            Param("scheduler", scheduler),
            " needs a host and a port, e.g. 'tcp://10.0.0.1:8786'.",
        )
    try:
        with socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise ExperimentInputError(
            f"Cannot connect to the dask scheduler {scheduler!r}: {exc}"
        ) from None


def _import_distributed():
    """``distributed.Client`` and ``distributed.LocalCluster``, or a clear error."""
    try:
        from distributed import Client, LocalCluster  # an optional dependency
    except ImportError:
        raise ExperimentInputError(
            Param("backend", "dask"),
            " needs dask.distributed: pip install 'sklearn-prognet[dask]'.",
        ) from None
    return Client, LocalCluster


def threads_per_fit(torch_threads):
    """The torch threads of each fit: one, unless ``torch_threads`` says more.

    One thread whatever ``n_jobs`` is, so that the results do not depend on
    the number of workers: the thread count changes the order of torch's
    float summations, and so the last digits of the losses (a count derived
    from ``n_jobs`` once gave one fit a ``train_loss`` that differed in the
    fifth decimal between ``n_jobs=1`` and ``n_jobs=2``, with the same seed).
    It is also the fastest for these small networks (two threads make one fit
    of the paper's network only about 1.4 times as fast as one, and several
    times slower on a loaded machine); use ``n_jobs`` for speed.

    The batched engine keeps the same default when it trains in this process
    (``n_jobs=1``); with ``n_jobs`` > 1 its worker processes take the cores
    between them (one thread each on 2 cores). Measured on a 2-core machine
    shared with other jobs (``benchmarks/bench_runner_engine.py``: one repeat
    of the paralinguistic experiment on EmoDB, 10 folds, gender source, the
    paper's network, 60 epochs; two runs): batched with ``n_jobs=1`` took
    21.3 / 20.7 s on one thread and 39.9 / 12.1 s on two (threads suffer
    most from the other jobs), batched with ``n_jobs=2`` (one thread each)
    11.2 / 11.1 s, per fit with ``n_jobs=2`` 40.0 / 35.3 s. Two threads
    are thus no safe default; processes (``n_jobs``) are the way to use the
    cores, with either engine. The batched results did not depend on the
    threads or workers (equal UARs in all three variants).
    """
    return 1 if torch_threads is None else torch_threads


@contextlib.contextmanager
def parallel_context(n_jobs=1, backend="loky", scheduler=None, scatter=None):
    """Configure joblib for the run; yield the n_jobs to pass to Parallel.

    ``backend='dask'`` connects to ``scheduler`` (an address), or starts a
    :class:`distributed.LocalCluster` with ``n_jobs`` single-threaded worker
    processes.
    """
    check_execution(n_jobs, backend, scheduler, None)
    if backend != "dask":
        # loky's workers would outlive a main process killed with SIGKILL.
        with joblib.parallel_config(backend=backend, initializer=exit_with_parent):
            yield n_jobs
        return
    with contextlib.ExitStack() as stack:
        client = _dask_client(stack, n_jobs, scheduler)
        stack.enter_context(client)
        stack.enter_context(client.as_current())
        config = {"backend": "dask", "wait_for_workers_timeout": 60}
        if scatter:
            config["scatter"] = scatter
        with joblib.parallel_config(**config):
            yield -1


def _dask_client(stack, n_jobs, scheduler):
    """A client of the scheduler, or of a local cluster kept open by ``stack``."""
    Client, _ = _import_distributed()
    if scheduler is not None:
        try:
            return Client(scheduler, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExperimentInputError(
                f"Cannot connect to the dask scheduler {scheduler!r}: {exc}"
            ) from None
    cluster = stack.enter_context(_local_cluster(n_jobs))
    return Client(cluster, set_as_default=False)


def _local_cluster(n_jobs):
    """A local dask cluster of ``n_jobs`` single-threaded worker processes."""
    _, LocalCluster = _import_distributed()
    return LocalCluster(
        n_workers=joblib.effective_n_jobs(n_jobs),
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
    )


def _progress_bar(total, initial, desc, enabled):
    from tqdm.auto import tqdm  # an optional nicety, imported when shown

    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="fit",
        file=sys.stderr,
        disable=not enabled,
        dynamic_ncols=True,
        smoothing=0.05,
    )


def execute(
    store,
    tasks,
    data,
    *,
    engine=BATCHED,
    n_jobs=1,
    backend="loky",
    scheduler=None,
    progress=False,
    torch_threads=1,
    desc="fits",
    verbose=True,
    chunk=None,
):
    """Run the tasks not yet in ``store``, appending each record as it arrives.

    With ``engine='batched'`` the tasks are trained one chunk at a time
    (see :mod:`._engine`), and the records of a group of similar networks
    are saved as soon as the group is trained: an interrupted run loses at
    most the groups in progress. ``chunk(task)`` names a task's chunk (an
    experiment's :meth:`~._skeleton.Experiment.chunk`); None chunks by
    repeat. The tasks that the batched engine refuses are then fitted one
    by one. With ``backend='dask'`` both engines train on the cluster (the
    batched engine's stacks, or single fits); a local one, when
    ``scheduler`` is None, is started once for all the chunks.

    Returns
    -------
    n_run : int
        Number of fits run (and saved) by this call.
    """
    done = {record["key"] for record in store.records()}
    todo = [task for task in tasks if task.key not in done]
    n_done = len(tasks) - len(todo)
    if verbose:
        if n_done:
            log(
                f"Resuming: {n_done} of {len(tasks)} fits are already saved in "
                f"{store.fits_path}; {len(todo)} to run (engine: {engine})."
            )
        else:
            log(f"{len(todo)} fits to run ({engine}); results go to {store.folder}.")
    if not todo:
        return 0
    bar = _progress_bar(len(tasks), n_done, desc, progress)
    try:
        with _cluster(n_jobs, backend, scheduler) as scheduler:
            run = {"n_jobs": n_jobs, "backend": backend, "scheduler": scheduler,
                   "torch_threads": torch_threads}  # fmt: skip
            return _run(store, todo, data, bar, engine, chunk, run)
    finally:
        bar.close()


def _run(store, todo, data, bar, engine, chunk, run):
    """:func:`execute`'s fits, with the engine asked for; returns how many ran."""
    if engine == PER_FIT:
        return _run_per_fit(store, todo, data, bar, **run)
    n_run = 0
    for tasks_of_chunk in _chunks(todo, chunk or _repeat):
        together, built, alone = batchable(tasks_of_chunk, data)
        if together:
            records = fit_tasks_batched(
                together, data, built, run["n_jobs"], run["torch_threads"]
            )
            # on a dask cluster, the stacks are cut for its workers and
            # trained there (joblib's dask backend)
            with parallel_context(run["n_jobs"], run["backend"], run["scheduler"]):
                # closed on an error, so that the workers stop at once
                with contextlib.closing(records):
                    for record in records:
                        store.append(record)
                        bar.update(1)
        n_run += len(together)
        if alone:
            n_run += _run_per_fit(store, alone, data, bar, **run)
    return n_run


@contextlib.contextmanager
def _cluster(n_jobs, backend, scheduler):
    """The scheduler of the run's dask cluster, started once for all its fits.

    With ``backend='dask'`` and no ``scheduler``, a local cluster (see
    :func:`parallel_context`) that every chunk's fits then connect to,
    instead of one started, and its workers' torch imported, per chunk.
    Otherwise ``scheduler`` as it is.
    """
    if backend != "dask" or scheduler is not None:
        yield scheduler
        return
    with _local_cluster(n_jobs) as cluster:
        yield cluster.scheduler_address


def _repeat(task):
    """The default chunk of a task: its repeat."""
    return task.repeat


def _chunks(tasks, key):
    """The tasks in groups of one chunk ``key(task)``, in their order."""
    groups = {}
    for task in tasks:
        groups.setdefault(key(task), []).append(task)
    return list(groups.values())


def _run_per_fit(store, tasks, data, bar, *, n_jobs, backend, scheduler, torch_threads):
    """Fit the tasks one by one (in parallel); save each record as it arrives."""
    n_run = 0
    with parallel_context(n_jobs, backend, scheduler, scatter=[data]) as jobs:
        parallel = joblib.Parallel(n_jobs=jobs, return_as="generator_unordered")
        results = parallel(
            joblib.delayed(run_fit)(task, data, torch_threads) for task in tasks
        )
        for record in results:
            store.append(record)
            n_run += 1
            bar.update(1)
    return n_run
