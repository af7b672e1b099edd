# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Utilities for developers of sklearn_prognet (estimator discovery)."""
