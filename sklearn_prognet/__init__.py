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

from sklearn_prognet import _moved
from sklearn_prognet.utils import _lazy

__version__ = "0.2.0.dev0"

# public name -> the module it is loaded from (networks and features name
# the module that defines each of theirs)
_LAZY_NAMES = {
    "DNNClassifier": "sklearn_prognet.networks",
    "FineTunedClassifier": "sklearn_prognet.networks",
    "ProgressiveNetClassifier": "sklearn_prognet.networks",
    "ResidualAdapterClassifier": "sklearn_prognet.networks",
    "MultiCorpusClassifier": "sklearn_prognet.networks",
    "EGeMAPSTransformer": "sklearn_prognet.features",
    "SpeechEmbeddingTransformer": "sklearn_prognet.features",
    "SpeakerEncoderTransformer": "sklearn_prognet.features",
    "TextEmbeddingTransformer": "sklearn_prognet.features",
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
    "features",
    "metrics",
    "model_selection",
    "networks",
    "plotting",
    "preprocessing",
    "presets",
    "stats",
]

__getattr__, __dir__, __all__ = _lazy.lazy_attributes(
    __name__, _LAZY_NAMES, _SUBMODULES
)
__all__ += ["__version__"]

# Pickles and model files of 0.1.0 name the modules that have moved since.
_moved.install()
