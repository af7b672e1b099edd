# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Where joblib's tasks run: in local processes or on a dask cluster.

The batched engine cuts its networks into one stack per worker and gives
each stack its share of the worker's cores as torch threads. Locally
(loky) the workers are processes of this machine. When joblib runs on a
dask cluster (``joblib.parallel_config(backend="dask")``), the workers and
their cores are the cluster's, which only the cluster's client knows; this
module asks it, so that the training code needs no dask of its own.
"""

import functools
import socket
import threading
from collections import Counter

import joblib
from joblib.parallel import get_active_backend

__all__ = ["cluster_client", "one_at_a_time", "stack_threads", "stack_workers"]

# Held by a dask worker's process while it trains a stack (one_at_a_time).
_TRAINING = threading.Lock()


def cluster_client():
    """The dask client that joblib's active backend submits to, or None.

    None for every backend but joblib's dask backend (whose ``client`` is
    the one set up by ``parallel_config(backend="dask")``).
    """
    backend, _ = get_active_backend()
    return getattr(backend, "client", None)


def stack_workers(n_jobs):
    """The workers that train stacks side by side: one stack each.

    None trains in this process (one). On a dask cluster, its workers
    (their number, whatever ``n_jobs`` is, as joblib's dask backend does);
    a worker's threads do not count, since a worker trains one stack at a
    time (:func:`one_at_a_time`). Otherwise ``n_jobs`` as joblib counts
    it (-1: all cores).
    """
    if n_jobs is None:
        return 1
    client = cluster_client()
    if client is None:
        return joblib.effective_n_jobs(n_jobs)
    # every worker, with its threads (scheduler_info lists only a few of
    # them by default in some versions of distributed)
    return max(1, len(client.nthreads()))


def stack_threads(n_workers):
    """The torch threads of a stack trained by one of ``n_workers`` workers.

    Locally, the cores of this machine shared by the workers. On a dask
    cluster, the cores of a worker's machine shared by the dask workers on
    that machine, so that ``dask worker --nworkers 4`` on 16 cores gives
    every stack 4 threads, and a single worker all 16, however many threads
    dask gives it. The fewest of any machine: a stack may land on any
    worker. A local cluster of ``n`` workers thus gives the threads that
    ``n`` local processes get, and the same stacks the same bits.
    """
    client = cluster_client()
    if client is None:
        return max(1, joblib.cpu_count() // n_workers)
    machines = client.run(_machine)  # worker address -> (machine, its cores)
    workers_on = Counter(name for name, _ in machines.values())
    return max(1, min(cores // workers_on[name] for name, cores in machines.values()))


def _machine():
    """The name and the cores (as joblib counts them) of this machine."""
    return socket.gethostname(), joblib.cpu_count()


def one_at_a_time(function):
    """``function``, run by one thread of a process at a time.

    A dask worker runs its tasks in threads (several, if it has several),
    and an in-process cluster runs every worker in this process. Training
    seeds torch's global random generator while it builds a stack's
    networks and sets torch's (process-wide) thread count, so two stacks in
    one process at once could draw each other's weights; a worker's process
    therefore trains one stack at a time, with all its cores. Picklable
    when ``function`` is.
    """
    return functools.partial(_locked, function)


def _locked(function, *args, **kwargs):
    with _TRAINING:
        return function(*args, **kwargs)
