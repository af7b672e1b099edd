"""The feature cache follows the audio content, not the file's size or name.

``make mutants`` (scripts/mutants.py) keys the cache on something weaker on
purpose and checks that this test notices.
"""

import os

import numpy as np
import pytest
import soundfile

from sklearn_prognet import EGeMAPSTransformer

pytest.importorskip("opensmile")

SR = 16000


def _sine(path, frequency):
    t = np.arange(SR) / SR  # one second: every file has the same size
    soundfile.write(path, 0.5 * np.sin(2 * np.pi * frequency * t), SR, "PCM_16")
    return str(path)


def test_files_of_equal_size_and_other_content_get_their_own_features(tmp_path):
    low = _sine(tmp_path / "low.wav", 220)
    high = _sine(tmp_path / "high.wav", 880)
    assert os.path.getsize(low) == os.path.getsize(high)
    uncached = EGeMAPSTransformer().transform([low, high])
    assert not np.allclose(uncached[0], uncached[1], equal_nan=True)
    cached = EGeMAPSTransformer(memory=str(tmp_path / "cache"))
    np.testing.assert_array_equal(cached.transform([low]), uncached[:1])
    np.testing.assert_array_equal(cached.transform([high]), uncached[1:])
