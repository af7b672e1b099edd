"""The gallery examples run to the end, without FutureWarnings.

Each ``examples/*/plot_*.py`` runs in its own process, from its own folder
(as sphinx-gallery runs it), with a non-interactive matplotlib backend. The
docs build runs them too; this test catches a broken example without
building the documentation.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*/plot_*.py"))
# Each example is meant to run in well under a minute on a laptop CPU; this
# limit only stops a hung example.
TIMEOUT = 300


def test_examples_found():
    assert len(EXAMPLES) >= 7


@pytest.mark.slow
@pytest.mark.parametrize(
    "example", EXAMPLES, ids=[str(p.relative_to(ROOT / "examples")) for p in EXAMPLES]
)
def test_example_runs(example):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        # small networks: one torch thread is fastest (docs/conf.py does the same)
        "OMP_NUM_THREADS": "1",
        # an example must not use deprecated API
        "PYTHONWARNINGS": "error::FutureWarning",
    }
    result = subprocess.run(
        [sys.executable, example.name],
        cwd=example.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
