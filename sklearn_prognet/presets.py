# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Named sets of training parameters for every network estimator.

Each preset is a plain dict that every network estimator accepts as keyword
arguments (:class:`~sklearn_prognet.DNNClassifier`,
:class:`~sklearn_prognet.FineTunedClassifier`,
:class:`~sklearn_prognet.ProgressiveNetClassifier`,
:class:`~sklearn_prognet.ResidualAdapterClassifier` and
:class:`~sklearn_prognet.MultiCorpusClassifier`)::

    from sklearn_prognet import DNNClassifier
    from sklearn_prognet.presets import SMALL_CORPUS

    clf = DNNClassifier(**SMALL_CORPUS, random_state=0)

Parameters given next to a preset override it only if the dict is unpacked
first into a new one, ``DNNClassifier(**{**SMALL_CORPUS, "lr": 0.01})``;
Python refuses the same keyword twice.

Read more in the :ref:`User Guide <small_corpus>`.
"""

from sklearn_prognet._estimators import DNNClassifier

__all__ = ["PAPER", "SMALL_CORPUS"]

# The training parameters a preset sets: the architecture, the optimisation
# and the regularisation, not the device, the validation split or seeds.
_PRESET_KEYS = (
    "hidden_layer_sizes",
    "activation",
    "dropout",
    "lr",
    "batch_size",
    "max_epochs",
    "patience",
    "early_stopping",
    "validation_fraction",
    "input_dropout",
    "weight_decay",
    "input_noise",
    "label_smoothing",
)

#: The paper's Table 1 (Gideon et al. 2017) and our choices where it is
#: silent: the defaults of every network estimator, read from
#: :class:`~sklearn_prognet.DNNClassifier` so that they have one home.
PAPER = {name: DNNClassifier().get_params()[name] for name in _PRESET_KEYS}

#: Settings for corpora of a few hundred to a few thousand utterances of
#: eGeMAPS functionals, chosen by the nested, speaker-independent study of
#: ``benchmarks/study_small_corpus.py`` (the User Guide has the rule and the
#: results): a small, regularised network that stops early.
SMALL_CORPUS = {
    "hidden_layer_sizes": (64,),
    "activation": "relu",
    "dropout": 0.5,
    "lr": 0.001,
    "batch_size": 64,
    "max_epochs": 200,
    "patience": 50,
    "early_stopping": True,
    "validation_fraction": 0.3,
    "input_dropout": 0.1,
    "weight_decay": 0.01,
    "input_noise": 0.3,
    "label_smoothing": 0.0,
}
