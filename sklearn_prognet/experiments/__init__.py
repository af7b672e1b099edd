# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The experiments of Gideon et al. (2017): runner, results store and reports.

- :func:`run_paralinguistic`: speaker and gender as source tasks for emotion
  recognition (the paper's Table 2 and Figure 3);
- :func:`run_cross_corpus`: transfer from one emotion corpus to another with
  8, 4, 2 and 1 target training folds (Figure 4);
- :func:`run_multi_corpus`: each corpus the target of the others pooled,
  with residual adapters and a jointly trained multi-corpus network beside
  the paper's methods;
- :func:`run_multitask`: a DNN that also learns the corpus's dimensional
  ratings (arousal, valence, dominance) against a single-task DNN;
- :func:`render_report` and :func:`load_results`: the report and the saved
  per-fit scores of a results folder;
- :func:`load_corpus`: the embedded EmoDB features, an audio corpus read by
  :mod:`sklearn_prognet.datasets`, a manifest, or a feature table;
- :func:`train_model` and :func:`predict_files`: one final model fitted on a
  whole corpus, from audio to label, and the labels of new recordings.

The same is available on the command line: ``sklearn-prognet --help`` (or
``python -m sklearn_prognet``).
"""

# Importing an experiment's module registers it, with its command (see
# _skeleton.register): the command line lists the commands in this order.
# isort: off
from sklearn_prognet.experiments._paralinguistic import run_paralinguistic
from sklearn_prognet.experiments._cross_corpus import run_cross_corpus
from sklearn_prognet.experiments._multi_corpus import run_multi_corpus
from sklearn_prognet.experiments._multitask import run_multitask

# isort: on
from sklearn_prognet.experiments._deploy import (
    TrainedModel,
    predict_files,
    train_model,
)
from sklearn_prognet.experiments._inputs import (
    PAPER_EMOTIONS,
    Corpus,
    ExperimentInputError,
    load_corpus,
)
from sklearn_prognet.experiments._skeleton import (
    ExperimentResult,
    load_results,
    render_report,
)
from sklearn_prognet.experiments._transfer import default_train_folds

__all__ = [
    "PAPER_EMOTIONS",
    "Corpus",
    "ExperimentInputError",
    "ExperimentResult",
    "TrainedModel",
    "default_train_folds",
    "load_corpus",
    "load_results",
    "predict_files",
    "render_report",
    "run_cross_corpus",
    "run_multi_corpus",
    "run_multitask",
    "run_paralinguistic",
    "train_model",
]
