# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The error of the experiments' inputs, below every module that raises it."""

from sklearn_prognet.utils._messages import Message

__all__ = ["ExperimentInputError"]


class ExperimentInputError(ValueError):
    """Bad input to an experiment: unknown corpus, wrong path, too few speakers.

    Its message names the parameters of the Python API; given as parts
    (strings and ``utils._messages.Param``), they stay structured data:
    ``ExperimentInputError(Param("n_splits", 2), ": use at least 3.")``
    reads ``n_splits=2: use at least 3.``, and the command line, which prints
    the message without a traceback and exits with status 2, names the flag
    instead (``--n-splits 2``).

    Parameters
    ----------
    *parts : str or Param
        The message, in parts: text, and the parameters it names.
    """

    def __init__(self, *parts):
        super().__init__(Message(*parts))
