# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The error of the experiments' inputs, below every module that raises it."""

__all__ = ["ExperimentInputError"]


class ExperimentInputError(ValueError):
    """Bad input to an experiment: unknown corpus, wrong path, too few speakers.

    The command line prints its message, without a traceback, and exits with
    status 2.
    """
