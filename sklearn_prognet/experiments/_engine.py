# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""How the runner groups fits for the one training loop: batched, or one at a time.

``'batched'`` trains the networks of a group of tasks (one repeat of the
cross-validation) together with :func:`~sklearn_prognet.model_selection.fit_batched`:
the networks of one configuration are stacked along a model axis, and the
source networks trained inside the fits are batched too (and trained once
when two tasks would train the same one); the stacks are trained by
worker processes, or by a dask cluster's workers (``backend='dask'``).
``'per-fit'`` fits every task on its own (:func:`._fits.run_fit`: a
network's ``fit`` trains it as a stack of one, in the same loop), in worker
processes or on a dask cluster too; both give the same results to float
tolerance. Both build their records with :func:`._fits.fit_record`; each
record names its engine. Tasks whose estimator is not a network of the
package (a linear baseline) are fitted on their own. Residual adapters and
the multi-corpus experiment's joint network (a wrapper that declares the
:class:`~sklearn_prognet.MultiCorpusClassifier` it trains) are batched.
"""

import time

import sklearn

from sklearn_prognet.experiments._fits import (
    BATCHED,
    PER_FIT,
    fit_arguments,
    fit_record,
    make_estimator,
    quiet_fitting,
    torch_thread_limit,
)
from sklearn_prognet.experiments._inputs import ExperimentInputError
from sklearn_prognet.utils._messages import Message, Param
from sklearn_prognet.utils._warnings import warn

__all__ = ["ENGINES", "check_engine", "fit_tasks_batched", "resolve_engine"]

#: The training engines, the default first.
ENGINES = (BATCHED, PER_FIT)


def check_engine(engine):
    """Refuse an unknown engine."""
    if engine not in ENGINES:
        raise ExperimentInputError(
            Param("engine", engine), f" is not one of {list(ENGINES)}."
        )
    return engine


def resolve_engine(engine, backend, n_jobs=1, torch_threads=None):
    """The engine that trains the run's networks: ``engine``, checked.

    Both engines use a dask cluster: with ``backend='dask'`` the batched
    engine trains its stacks on the cluster's workers (one stack per
    worker, with its share of its machine's cores as torch threads), and
    the per-fit engine the single fits. The batched engine's worker
    processes (``n_jobs`` > 1, or a dask cluster) share the cores as torch
    threads, so ``torch_threads`` is then not used (with a warning).
    """
    check_engine(engine)
    if engine != BATCHED or torch_threads is None:
        return engine
    if backend == "dask":
        why = (
            Param("backend", "dask"),
            " the stacks of networks are trained by the cluster's workers, each "
            "with its share of its machine's cores as torch threads.",
        )
    elif n_jobs != 1:
        why = (
            Param("n_jobs", n_jobs),
            " the worker processes share the cores as torch threads "
            "(torch_threads applies with ",
            Param("n_jobs", 1),
            ").",
        )
    else:
        return engine
    unused = (Param("torch_threads", torch_threads), " is not used: with ")
    warn(Message(*unused, Param("engine", BATCHED), " and ", *why))
    return engine


def batchable(tasks, data):
    """Split ``tasks`` into those the batched engine trains and the others.

    Returns
    -------
    together : list of FitTask
        The tasks the batched engine trains.
    built : list of tuple
        Their ``(pipeline, fit params)``, built once here for
        :func:`fit_tasks_batched`.
    alone : list of FitTask
        The tasks to fit one by one.
    """
    # torch is imported when a network is first needed, not with the package
    from sklearn_prognet.networks._batched_fit import batch_refusal

    together, built, alone = [], [], []
    for task in tasks:
        pipe, fit_params = _estimator(task, data)
        if batch_refusal(pipe):
            alone.append(task)
        else:
            together.append(task)
            built.append((pipe, fit_params))
    return together, built, alone


def _estimator(task, data):
    """:func:`._fits.make_estimator` (its fit requests need metadata routing)."""
    with sklearn.config_context(enable_metadata_routing=True):
        return make_estimator(task, data)


def fit_tasks_batched(tasks, data, built, n_jobs=1, torch_threads=1):
    """Fit the tasks' networks together; yield their records as they are trained.

    A generator: the records of a group of similar networks come as soon
    as the group is trained, so that the caller can save them before the
    other groups end. ``n_jobs`` worker processes share every stack of
    networks (each with its share of the cores as torch threads, see
    ``fit_batched``); with one, the networks train in this process on
    ``torch_threads`` threads. Iterated inside joblib's dask backend
    (:func:`._execution.parallel_context`), the stacks are cut for the
    cluster's workers instead, and trained there. ``built`` holds the
    tasks' ``(pipeline, fit params)`` as :func:`batchable` returns them.
    A record's ``fit_time`` is its share of its stack's training time and
    of the preparation (see ``fit_batched_as_trained``), plus the task's
    own evaluation; as with per-fit training on several workers, the fit
    times add up to more than the time the run took.
    """
    from sklearn_prognet.networks._batched_fit import fit_batched_as_trained

    with torch_thread_limit(torch_threads):
        fits = [
            fit_arguments(task, data, fit_params)
            for task, (_, fit_params) in zip(tasks, built, strict=True)
        ]
        pipes = [pipe for pipe, _ in built]
        with quiet_fitting():
            trained = fit_batched_as_trained(pipes, fits, n_jobs=n_jobs)
            for positions, seconds in trained:
                for i, spent in zip(positions, seconds, strict=True):
                    own = time.perf_counter()
                    record = fit_record(tasks[i], data, pipes[i], BATCHED)
                    record["fit_time"] = round(spent + time.perf_counter() - own, 3)
                    yield record
