# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The audio front ends: transformers from recordings to feature rows.

- :class:`~sklearn_prognet.EGeMAPSTransformer`: openSMILE's eGeMAPS
  functionals;
- :class:`~sklearn_prognet.SpeechEmbeddingTransformer` and
  :class:`~sklearn_prognet.TextEmbeddingTransformer`: pooled embeddings of
  pretrained speech and text encoders;
- :class:`~sklearn_prognet.SpeakerEncoderTransformer`: speaker d-vectors.

The package root re-exports them (``from sklearn_prognet import
EGeMAPSTransformer``); ``from sklearn_prognet.features import
EGeMAPSTransformer`` works too. They are imported lazily (PEP 562), and each
imports openSMILE, torch or transformers only when it first extracts, so
that importing this package imports none of them. What every audio
transformer shares (inputs, checks, caching, worker processes) is
``_audio.py``.
"""

from sklearn_prognet.utils import _lazy

# public name -> module that defines it (and what it imports to extract)
_LAZY_NAMES = {
    # openSMILE
    "EGeMAPSTransformer": "sklearn_prognet.features._features",
    # pretrained encoders of transformers
    "SpeechEmbeddingTransformer": "sklearn_prognet.features._embeddings",
    "TextEmbeddingTransformer": "sklearn_prognet.features._embeddings",
    # torch (a GE2E speaker encoder)
    "SpeakerEncoderTransformer": "sklearn_prognet.features._speaker",
}

__getattr__, __dir__, __all__ = _lazy.lazy_attributes(__name__, _LAZY_NAMES)
