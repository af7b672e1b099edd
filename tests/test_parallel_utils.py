"""Where the batched engine's stacks run: local processes or a dask cluster."""

import pickle
import threading
import time

import joblib

from sklearn_prognet.utils import _parallel
from sklearn_prognet.utils._parallel import (
    cluster_client,
    one_at_a_time,
    stack_threads,
    stack_workers,
)


class _FakeClient:
    """The two calls of a dask client that the helpers make."""

    def __init__(self, workers):
        # address -> (machine, nthreads, cores of the machine)
        self.workers = workers

    def nthreads(self):
        return {address: n for address, (_, n, _) in self.workers.items()}

    def run(self, function):
        assert function is _parallel._machine
        return {a: (machine, cores) for a, (machine, _, cores) in self.workers.items()}


def test_locally_the_cores_are_shared_by_the_processes():
    assert cluster_client() is None
    assert stack_workers(None) == 1
    assert stack_workers(3) == 3
    assert stack_workers(-1) == joblib.cpu_count()
    assert stack_threads(1) == joblib.cpu_count()
    assert stack_threads(10 * joblib.cpu_count()) == 1


def test_on_a_cluster_each_machine_shares_its_cores_among_its_workers(monkeypatch):
    client = _FakeClient(
        {
            # 16 cores, 4 workers (dask worker --nworkers 4): 4 threads each
            "tcp://a:1": ("a", 4, 16),
            "tcp://a:2": ("a", 4, 16),
            "tcp://a:3": ("a", 4, 16),
            "tcp://a:4": ("a", 4, 16),
            # one worker with all 12 cores of its machine, as 12 threads
            "tcp://b:1": ("b", 12, 12),
        }
    )
    monkeypatch.setattr(_parallel, "cluster_client", lambda: client)
    # one stack per worker, whatever n_jobs and the workers' threads are
    assert stack_workers(1) == stack_workers(-1) == 5
    assert stack_workers(None) == 1  # fit_batched's default: this process
    # the fewest of any machine (a stack may land on any worker)
    assert stack_threads(5) == 4
    client.workers["tcp://b:1"] = ("b", 2, 2)
    assert stack_threads(5) == 2


def test_a_process_trains_one_stack_at_a_time():
    inside, overlaps = [], []

    def train(seconds):
        inside.append(1)
        overlaps.append(len(inside))
        time.sleep(seconds)
        inside.pop()
        return seconds

    serial = one_at_a_time(train)
    threads = [threading.Thread(target=serial, args=(0.05,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [1, 1, 1, 1]
    assert serial(0.0) == 0.0
    # sent to dask's workers by reference
    assert pickle.loads(pickle.dumps(one_at_a_time(joblib.cpu_count)))() == (
        joblib.cpu_count()
    )
