import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# The parent starts two loky workers that sleep, writes their pids, then
# waits; the test kills the parent with SIGKILL, as an out-of-memory kill or
# `kill -9` would.
PARENT = textwrap.dedent(
    """
    import os, sys, time
    from joblib import Parallel, delayed, parallel_config
    from sklearn_prognet.utils._process import exit_with_parent

    def pid_then_sleep(_):
        with open(sys.argv[1], "a") as f:
            f.write(f"{os.getpid()}\\n")
        time.sleep(120)

    kwargs = {"initializer": exit_with_parent} if sys.argv[2] == "watch" else {}
    with parallel_config(backend="loky", **kwargs):
        Parallel(n_jobs=2)(delayed(pid_then_sleep)(i) for i in range(2))
    """
)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has exited; it only waits for its (new) parent to reap it
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def _workers_after_parent_killed(tmp_path, mode):
    pids_file = tmp_path / "pids"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(pids_file), mode])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if pids_file.exists() and len(pids_file.read_text().split()) == 2:
            break
        time.sleep(0.2)
    else:
        parent.kill()
        pytest.fail("the workers did not start within 60 s")
    workers = [int(pid) for pid in pids_file.read_text().split()]
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(map(_alive, workers)):
        time.sleep(0.2)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    return survivors


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_loky_workers_exit_when_their_parent_is_killed(tmp_path):
    assert _workers_after_parent_killed(tmp_path, "watch") == []


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_without_the_watch_loky_workers_outlive_their_parent(tmp_path):
    # The reason exit_with_parent exists: if loky ever cleans up after itself,
    # this fails and the watch can go.
    assert len(_workers_after_parent_killed(tmp_path, "none")) == 2
