# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""``python -m sklearn_prognet``: the command line (``sklearn-prognet``)."""

import sys

from sklearn_prognet.experiments.cli import main

if __name__ == "__main__":
    sys.exit(main())
