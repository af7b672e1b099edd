"""Shared test assets, declared once."""

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``corpora`` when ../shared/corpora is missing.

    Only outside CI: in CI, .ci/run has already failed when the folder is
    missing, so these tests can never be skipped silently there.
    """
    if CORPORA.is_dir() or IN_CI:
        return
    skip = pytest.mark.skip(reason=f"needs the real corpora in {CORPORA}")
    for item in items:
        if "corpora" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def corpora_dir():
    """The folder of real corpora (../shared/corpora)."""
    return CORPORA


@pytest.fixture(scope="module")
def small_data():
    """A tiny, separable 3-class problem as float32 (60 x 8)."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=90,
        n_features=8,
        n_informative=5,
        n_classes=3,
        class_sep=2.0,
        random_state=0,
    )
    groups = np.arange(len(y)) % 9
    return X.astype(np.float32), y, groups
