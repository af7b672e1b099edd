# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Warnings that point at the user's line, not at a line of this package."""

import sys
import warnings

# Frames of these packages are skipped: a warning raised inside a fit that
# sklearn's wrappers (parameter validation, set_output, Pipeline) called
# should name the line of user code that started it.
_INTERNAL = frozenset({"sklearn", "sklearn_prognet"})


def warn(message, category=UserWarning):
    """Emit ``message`` as a warning attributed to the first outside caller."""
    frame, stacklevel = sys._getframe(1), 1
    while frame is not None and _package(frame) in _INTERNAL:
        frame, stacklevel = frame.f_back, stacklevel + 1
    # warnings.warn counts from its caller (this function) as 1.
    warnings.warn(message, category, stacklevel=stacklevel + 1)


def _package(frame):
    return frame.f_globals.get("__name__", "").partition(".")[0]
