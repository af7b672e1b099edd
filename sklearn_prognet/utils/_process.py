# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Worker processes that do not outlive the process that started them."""

import os
import threading
import time

# How often a worker looks for its parent. A dead parent's workers then stop
# within about this long; the check itself (one getppid call) costs nothing.
POLL_SECONDS = 1.0


def exit_with_parent(poll_seconds=POLL_SECONDS):
    """Make this process exit when the process that started it dies.

    Meant as the ``initializer`` of loky worker processes
    (``joblib.parallel_config(backend="loky", initializer=exit_with_parent)``).
    When the main process is killed (``kill -9``, out of memory), loky's
    workers are re-parented and live on, each holding a network and its
    memory, for as long as their idle timeout or longer: one was seen alive
    15 minutes later. A daemon thread here watches the parent's process id and
    ends the worker once it changes. Polling is used because it is portable,
    and because Linux's ``PR_SET_PDEATHSIG`` fires when the *thread* that
    forked the worker exits, which need not be the main thread.

    Parameters
    ----------
    poll_seconds : float, default=1.0
        Seconds between two looks at the parent.
    """
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        # Not sys.exit: it would only end this thread. The worker's results
        # have nowhere to go once the parent is gone, so nothing is lost.
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
