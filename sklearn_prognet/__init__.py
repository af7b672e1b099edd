# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Transfer learning for speech emotion recognition as scikit-learn estimators.

Implements the methods of Gideon et al., "Progressive Neural Networks for
Transfer Learning in Emotion Recognition" (Interspeech 2017): a plain DNN,
pre-training / fine-tuning and progressive neural networks, with eGeMAPS
feature extraction, speaker-aware repeated cross-validation and the corrected
repeated cross-validation t-test.

The public names are imported lazily (PEP 562), so that ``import
sklearn_prognet`` stays cheap and never imports torch, openSMILE,
transformers or matplotlib before they are needed.
"""

import importlib

__version__ = "0.2.0.dev0"

# public name -> module that defines it
_LAZY_NAMES = {
    "DNNClassifier": "sklearn_prognet._estimators",
    "FineTunedClassifier": "sklearn_prognet._estimators",
    "ProgressiveNetClassifier": "sklearn_prognet._estimators",
    "ResidualAdapterClassifier": "sklearn_prognet._adapters",
    "MultiCorpusClassifier": "sklearn_prognet._adapters",
    "EGeMAPSTransformer": "sklearn_prognet._features",
    "SpeechEmbeddingTransformer": "sklearn_prognet._embeddings",
    "SpeakerEncoderTransformer": "sklearn_prognet._speaker",
    "TextEmbeddingTransformer": "sklearn_prognet._embeddings",
    "SpeakerStandardScaler": "sklearn_prognet.preprocessing",
    "RepeatedStratifiedGroupKFold": "sklearn_prognet.model_selection",
    "FoldRoles": "sklearn_prognet.model_selection",
    "cross_validate_batched": "sklearn_prognet.model_selection",
    "corrected_repeated_cv_ttest": "sklearn_prognet.stats",
    "compare_cv_results": "sklearn_prognet.stats",
    "summarize_repeated_cv": "sklearn_prognet.stats",
    "bayesian_correlated_ttest": "sklearn_prognet.stats",
    "mcnemar_test": "sklearn_prognet.stats",
    "uar_score": "sklearn_prognet.metrics",
    "ccc_score": "sklearn_prognet.metrics",
    "save_model": "sklearn_prognet._persistence",
    "load_model": "sklearn_prognet._persistence",
}
_SUBMODULES = [
    "datasets",
    "experiments",
    "metrics",
    "model_selection",
    "plotting",
    "preprocessing",
    "presets",
    "stats",
]

__all__ = [*_LAZY_NAMES, *_SUBMODULES, "__version__"]


def __getattr__(name):
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"sklearn_prognet.{name}")
    else:
        raise AttributeError(f"module 'sklearn_prognet' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
