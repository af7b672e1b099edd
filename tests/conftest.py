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


# A tiny, randomly initialised wav2vec 2.0: HIDDEN units, 2 layers, and
# convolutions whose receptive field is 1 + 9 + 2*5 + 2*10 = 40 samples
# (2.5 ms at 16 kHz), one frame every 5*2*2 = 20 samples.
TINY_WAV2VEC2 = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 37,
    "conv_dim": (16, 16, 16),
    "conv_kernel": (10, 3, 3),
    "conv_stride": (5, 2, 2),
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 2,
}


def save_tiny_wav2vec2(folder, seed=0, sampling_rate=16000):
    """Save a tiny random wav2vec 2.0 model and its feature extractor."""
    import torch
    import transformers

    config = transformers.Wav2Vec2Config(**TINY_WAV2VEC2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.Wav2Vec2Model(config)
    transformers.utils.logging.disable_progress_bar()
    model.save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=sampling_rate, do_normalize=True
    ).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_wav2vec2(tmp_path_factory):
    """The folder of a tiny random wav2vec 2.0 model (never modified).

    Skips the test when transformers is not installed.
    """
    pytest.importorskip("transformers")
    return save_tiny_wav2vec2(tmp_path_factory.mktemp("wav2vec2"), seed=0)
