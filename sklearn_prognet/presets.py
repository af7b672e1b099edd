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

Importing this module never imports torch: the presets are plain dicts,
and the command line reads them before any network is trained.

Read more in the :ref:`User Guide <small_corpus>`.
"""

from sklearn_prognet._knobs import PRESET, defaults, names

__all__ = ["PAPER", "SMALL_CORPUS"]

# The training parameters a preset sets: the architecture, the optimisation
# and the regularisation, not the device, the validation split or seeds (the
# knobs with the preset role, declared in _knobs.py).
_PRESET_KEYS = names(PRESET)

#: The paper's Table 1 (Gideon et al. 2017) and our choices where it is
#: silent: the defaults of every network estimator, declared once in
#: ``_knobs.py`` (the tests check that the estimators' signatures agree).
PAPER = defaults(_PRESET_KEYS)

#: Settings for corpora of a few hundred to a few thousand utterances of
#: eGeMAPS functionals, chosen by the nested, speaker-independent study of
#: ``benchmarks/study_small_corpus.py`` (the User Guide has the rule and the
#: results): two tanh layers of 128, dropout 0.5, decoupled weight decay
#: 0.1 and label smoothing 0.1, trained for 50 epochs of 128-utterance
#: batches *without* early stopping. Holding out a tenth of 4 to 8 training
#: speakers to stop on is holding out one speaker, too noisy a signal.
SMALL_CORPUS = {
    "hidden_layer_sizes": (128, 128),
    "activation": "tanh",
    "dropout": 0.5,
    "lr": 0.001,
    "batch_size": 128,
    "max_epochs": 50,
    # unused without early stopping; the values the search drew with it
    "patience": 50,
    "early_stopping": False,
    "validation_fraction": 0.3,
    "input_dropout": 0.0,
    "weight_decay": 0.1,
    "input_noise": 0.0,
    "label_smoothing": 0.1,
}
