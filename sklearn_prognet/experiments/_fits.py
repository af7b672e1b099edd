# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""One fit: the methods, the paper's network, seeds, and a fit's record.

One task is one fit of one method on the training folds of one step of the
cross-validation (repeat, fold). It is evaluated on the step's test fold and
becomes one record (one line of ``fits.jsonl``). Nothing here knows which
experiment it serves: the experiments build the tasks, :mod:`._execution`
runs them.

Three words for three things: a *source task* is what a source network is
trained on in the paralinguistic experiment (speaker or gender labels); a
*source corpus* is the corpus of the cross-corpus source model; the *source
network* is the fitted estimator either gives the transfer methods.
"""

import contextlib
import os
import platform
import time
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_prognet.experiments._inputs import ExperimentInputError
from sklearn_prognet.metrics import uar_score
from sklearn_prognet.networks._knobs import PRESET, RECORDED, defaults, names
from sklearn_prognet.utils._messages import Param

__all__ = [
    "BASELINE_LABELS",
    "METHODS",
    "METHOD_LABELS",
    "DEFAULT_NORMALIZATION",
    "NORMALIZATIONS",
    "FitData",
    "FitTask",
    "NetworkWrapper",
    "derive_seed",
    "per_speaker",
    "fit_arguments",
    "fit_record",
    "network_params",
    "paper_network",
    "training_settings",
    "run_fit",
]

#: Method -> its name in reports and plots, in the reports' order.
METHOD_LABELS = {"dnn": "DNN", "ptft": "PT/FT", "prognet": "ProgNet"}
METHODS = tuple(METHOD_LABELS)
#: Baseline method (a linear model, opt-in) -> its name in reports.
BASELINE_LABELS = {"logreg": "LogReg"}
#: Normalisation -> the scaler of every fit's pipeline, in words. 'global' is
#: the paper's z-normalisation (fitted on the training folds here).
GLOBAL_NORMALIZATION, SPEAKER_NORMALIZATION = "global", "speaker"
NORMALIZATIONS = {
    GLOBAL_NORMALIZATION: "StandardScaler",
    SPEAKER_NORMALIZATION: "SpeakerStandardScaler",
}
#: The default of every experiment (and of the runs saved before the option).
DEFAULT_NORMALIZATION = GLOBAL_NORMALIZATION


def per_speaker(normalization):
    """Whether ``normalization`` standardises every speaker on their own rows."""
    return normalization == SPEAKER_NORMALIZATION


# The speaker column of the features of a fit with per-speaker normalisation.
SPEAKER_COLUMN = "speaker"
# Iterations of the logistic regression (lbfgs): enough to converge on
# standardised eGeMAPS features.
_LOGREG_MAX_ITER = 5000
#: Methods beyond the paper's, with their names in reports (the multi-corpus
#: experiment's): a frozen source with residual adapters, and one network
#: trained jointly on several corpora.
EXTRA_METHOD_LABELS = {"adapter": "Adapters", "multicorpus": "Multi-corpus"}
# The methods that transfer a source network (and need one).
_TRANSFER_METHODS = ("ptft", "prognet", "adapter")

# The network settings an experiment may change, recorded in every run's
# configuration; their defaults are the estimators' own (Table 1 of Gideon
# et al., 2017, and early stopping). Declared in sklearn_prognet/networks/_knobs.py.
NETWORK_SETTINGS = names(RECORDED)

# Training options of every network that a preset (``--preset``) may set
# beside NETWORK_SETTINGS; left out of the settings a run records otherwise.
TRAINING_OPTIONS = tuple(name for name in names(PRESET) if name not in NETWORK_SETTINGS)

#: The engines that train the networks of a run (see :mod:`._engine`): all
#: networks of a group of tasks at once, or every fit on its own.
BATCHED, PER_FIT = "batched", "per-fit"

# Decimals kept in the saved learning curves.
_CURVE_DECIMALS = 5


def paper_network():
    """The paper's network settings: the defaults of every network estimator.

    Examples
    --------
    >>> from sklearn_prognet.experiments._fits import paper_network
    >>> paper_network()["hidden_layer_sizes"], paper_network()["lr"]
    ((256, 256, 256, 256), 0.0005)
    """
    return defaults(NETWORK_SETTINGS)


def adapter_rank(network):
    """The adapters' rank: the default, or the narrowest layer's width if less.

    A rank above a layer's width is refused (it adds parameters and nothing
    the layer can use); small test networks have layers of 8 units.
    """
    from sklearn_prognet.networks._adapters import ResidualAdapterClassifier

    sizes = network.get("hidden_layer_sizes", paper_network()["hidden_layer_sizes"])
    return min(ResidualAdapterClassifier().adapter_rank, *sizes)


def training_settings(network):
    """``network`` (``config.json``'s) with every training option filled in.

    A run records the training options of :data:`TRAINING_OPTIONS` only when
    a preset sets them (so that the configuration of a run without one is
    that of the runs before they existed); the others are the estimators'
    defaults, declared once in ``sklearn_prognet/networks/_knobs.py``.

    Examples
    --------
    >>> from sklearn_prognet.experiments._fits import training_settings
    >>> settings = training_settings({"max_epochs": 50, "early_stopping": False})
    >>> settings["early_stopping"], settings["validation_fraction"]
    (False, 0.1)
    """
    return {**defaults(TRAINING_OPTIONS), **network}


def network_params(network=None, device="cpu"):
    """The paper's network settings, updated with ``network``, and the device."""
    params = paper_network()
    if network:
        # a preset may also set the estimators' other training options
        unknown = set(network) - set(params) - set(TRAINING_OPTIONS)
        if unknown:
            raise ExperimentInputError(
                f"Unknown network setting(s) {sorted(unknown)}; known: "
                f"{sorted(params)}."
            )
        params.update(network)
    params["hidden_layer_sizes"] = tuple(int(s) for s in params["hidden_layer_sizes"])
    # Checked before the results folder records it, not in the first fit;
    # torch is imported when a network is first needed, not with the package.
    from sklearn_prognet.networks._training import check_device

    try:
        params["device"] = check_device(device)
    except ValueError as error:
        raise ExperimentInputError(str(error)) from None
    return params


def check_normalization(normalization):
    """Refuse an unknown normalisation."""
    if normalization not in NORMALIZATIONS:
        raise ExperimentInputError(
            Param("normalization", normalization),
            f": choose among {list(NORMALIZATIONS)}.",
        )
    return normalization


def make_scaler(normalization):
    """The scaler of a pipeline: one StandardScaler, or per speaker.

    ``'speaker'`` standardises every speaker of the data it transforms with
    that speaker's own rows (test speakers with their test rows: the
    transductive assumption of :class:`SpeakerStandardScaler`); its input is
    a DataFrame with a ``speaker`` column (see :func:`feature_rows`).
    """
    if per_speaker(check_normalization(normalization)):
        # imports pandas, which the package does not load until it is needed
        from sklearn_prognet.preprocessing import SpeakerStandardScaler

        return SpeakerStandardScaler(speaker_column=SPEAKER_COLUMN)
    return StandardScaler()


def feature_rows(X, speaker, index, normalization):
    """Rows ``index`` of the features, as the pipeline's scaler takes them.

    With ``'global'`` the array itself (as before the option existed); with
    ``'speaker'`` a DataFrame of the features and the speaker ids.
    """
    index = slice(None) if index is None else index
    if not per_speaker(normalization):
        return X[index]
    import pandas as pd  # only per-speaker normalisation needs a DataFrame

    rows = np.asarray(X)[index]
    frame = pd.DataFrame(rows, columns=[f"x{i}" for i in range(rows.shape[1])])
    frame[SPEAKER_COLUMN] = np.asarray(speaker)[index]
    return frame


def n_global_fallback(speaker, min_samples):
    """How many of these rows a per-speaker scaler standardises globally.

    :class:`SpeakerStandardScaler` standardises a speaker with fewer than
    ``min_samples`` rows in the data it transforms with the training data's
    global statistics instead of their own. ``speaker`` holds the speaker
    of every row of that data (one test fold).

    Examples
    --------
    >>> from sklearn_prognet.experiments._fits import n_global_fallback
    >>> n_global_fallback(["a", "a", "a", "b", "b", "c"], min_samples=3)
    3
    """
    _, inverse, counts = np.unique(
        np.asarray(speaker), return_inverse=True, return_counts=True
    )
    return int((counts[inverse] < min_samples).sum())


def derive_seed(seed, *parts):
    """A 31-bit random state derived from ``seed`` and any labels.

    The same arguments always give the same value (no use of Python's
    salted ``hash``), and different labels give independent streams.

    Examples
    --------
    >>> from sklearn_prognet.experiments._fits import derive_seed
    >>> derive_seed(0, 1, 2, "dnn") == derive_seed(0, 1, 2, "dnn")
    True
    >>> derive_seed(0, 1, 2, "dnn") == derive_seed(0, 1, 2, "prognet")
    False
    """
    entropy = [int(seed)] + [zlib.crc32(str(part).encode()) for part in parts]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0] % (2**31 - 1))


@dataclass(frozen=True, eq=False)
class FitTask:
    """One fit: a method on the training folds of one cross-validation step.

    ``source_task`` names the labels a source network is trained on inside
    the fit (paralinguistic); ``source_corpus`` names the corpus of an
    already fitted source network (cross-corpus). Both are None for a DNN.
    """

    key: str
    method: str
    repeat: int
    fold: int
    n_train_folds: int
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    random_state: int
    source_task: str | None = None
    source_corpus: str | None = None
    source_random_state: int | None = None
    target: str | None = None


@dataclass(eq=False)
class FitData:
    """Data shared by all tasks of a run (shipped once per task).

    ``source_task_labels`` maps a source task to its labels (one per
    utterance); ``source_network`` is a source network fitted beforehand,
    or ``source_networks`` one per source corpus (a task's
    ``source_corpus``). ``speaker`` holds the speaker ids that
    ``normalization='speaker'`` needs. ``networks(task, params)`` builds the
    networks of methods not known here (an experiment's own);
    ``record_predictions`` saves each test utterance's index and whether it
    was classified correctly (for McNemar's test).
    """

    X: np.ndarray
    y: np.ndarray
    network: dict
    lateral: str = "linear"
    source_task_labels: dict = field(default_factory=dict)
    source_network: object = None
    experiment: str = ""
    normalization: str = DEFAULT_NORMALIZATION
    speaker: np.ndarray | None = None
    source_networks: dict = field(default_factory=dict)
    networks: object = None
    record_predictions: bool = False

    def rows(self, index):
        """The features of rows ``index``, as the fit's pipeline takes them."""
        return feature_rows(self.X, self.speaker, index, self.normalization)

    def fitted_source(self, task):
        """The source network fitted beforehand for ``task``, or None."""
        if self.source_networks:
            return self.source_networks.get(task.source_corpus)
        return self.source_network


class NetworkWrapper:
    """Mixin of an experiment's estimator whose ``fit`` trains one network.

    The estimator declares that network, so that the batched engine
    (:func:`~sklearn_prognet.model_selection.fit_batched`) trains it with the
    other networks: ``inner_estimator()`` returns it unfitted and
    ``inner_fit_arguments(X, y, X_val, y_val)`` gives its fit arguments;
    ``set_inner_fitted(network, arguments)`` makes the estimator fitted from
    it. ``fit`` is these three in a row, so that it cannot drift from the
    engine's.
    """

    def fit(self, X, y, X_val=None, y_val=None):
        """Train the network on ``X, y``; ``X_val, y_val``: the validation fold."""
        arguments = self.inner_fit_arguments(X, y, X_val, y_val)
        network = self.inner_estimator().fit(**arguments)
        return self.set_inner_fitted(network, arguments)

    def set_inner_fitted(self, network, arguments):
        """Make this estimator fitted from its fitted network; return self."""
        self.net_ = network
        for name in ("classes_", "n_trainable_params_", "best_epoch_", "n_iter_",
                     "history_"):  # fmt: skip
            setattr(self, name, getattr(network, name))
        return self


def make_estimator(task, data):
    """The Pipeline (scaler + network) of a task, and its fit params.

    The scaler (see :func:`make_scaler`) is fitted on the training folds
    only; ``transform_input`` passes the validation fold through it before it
    reaches the network, which uses it for early stopping. A baseline
    (``logreg``) is fitted on the training folds and ignores the validation
    fold.
    """
    if task.method in BASELINE_LABELS:
        model = LogisticRegression(max_iter=_LOGREG_MAX_ITER)
        scaler = make_scaler(data.normalization)
        return Pipeline([("scale", scaler), ("net", model)]), {}
    from sklearn_prognet.networks._adapters import ResidualAdapterClassifier
    from sklearn_prognet.networks._estimators import (
        DNNClassifier,
        FineTunedClassifier,
        ProgressiveNetClassifier,
    )

    params = dict(data.network)
    fit_params = {}
    source = None
    if task.method in _TRANSFER_METHODS:
        if data.fitted_source(task) is not None:
            source = data.fitted_source(task)
        else:
            # Trained inside fit, on the training folds only, from source_y.
            source = DNNClassifier(**params, random_state=task.source_random_state)
            fit_params["source_y"] = data.source_task_labels[task.source_task][
                task.train
            ]
    if task.method == "dnn":
        net = DNNClassifier(**params, random_state=task.random_state)
    elif task.method == "ptft":
        net = FineTunedClassifier(
            source=source, **params, random_state=task.random_state
        )
    elif task.method == "prognet":
        net = ProgressiveNetClassifier(
            sources=[source],
            lateral=data.lateral,
            **params,
            random_state=task.random_state,
        )
    elif task.method == "adapter":
        net = ResidualAdapterClassifier(
            source=source,
            adapter_rank=adapter_rank(params),
            **params,
            random_state=task.random_state,
        )
    elif data.networks is not None:
        net = data.networks(task, params)
    else:  # pragma: no cover - tasks are built by this package
        raise ValueError(f"Unknown method {task.method!r}.")
    request = {"X_val": True, "y_val": True}
    if "source_y" in fit_params:
        request["source_y"] = True
    net.set_fit_request(**request)
    pipe = Pipeline(
        [("scale", make_scaler(data.normalization)), ("net", net)],
        transform_input=["X_val"],
    )
    return pipe, fit_params


def _curve(values):
    values = np.asarray(values, dtype=float)
    return [
        None if not np.isfinite(v) else round(float(v), _CURVE_DECIMALS) for v in values
    ]


@contextlib.contextmanager
def torch_thread_limit(n_threads):
    """Run torch with ``n_threads`` intra-op threads, then restore the count.

    None or 0 leaves torch's setting alone.
    """
    import torch  # only in the process that fits, after the lazy imports

    threads = torch.get_num_threads()
    if n_threads:
        torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def best_valid_uar(valid_uar):
    """The best validation UAR of a learning curve, or None if it has none.

    A network trained without early stopping and without validation data
    (no ``X_val``) scores nothing: its curve is all NaN, and there is no
    best score (nor best epoch) to record.

    Examples
    --------
    >>> from sklearn_prognet.experiments._fits import best_valid_uar
    >>> best_valid_uar([0.25, 0.5, float("nan")]), best_valid_uar([float("nan")])
    (0.5, None)
    """
    values = np.asarray(valid_uar, dtype=float)
    if not np.isfinite(values).any():
        return None
    return float(np.nanmax(values))


def training_record(net):
    """The fields of a fit's record that describe the network's training."""
    return {
        "n_trainable_params": int(net.n_trainable_params_),
        "best_epoch": int(net.best_epoch_),
        "n_epochs": int(net.n_iter_),
        "best_valid_uar": best_valid_uar(net.history_["valid_uar"]),
        "history": {
            key: _curve(net.history_[key])
            for key in ("valid_uar", "train_loss", "valid_loss")
        },
    }


def fit_arguments(task, data, fit_params):
    """The arguments of a task's fit (``X``, ``y`` and ``fit_params``).

    ``X`` and ``y`` are the training folds; a network also gets the
    validation fold (``X_val``, ``y_val``), on which it stops early.
    """
    arguments = {"X": data.rows(task.train), "y": data.y[task.train], **fit_params}
    if task.method not in BASELINE_LABELS:
        arguments.update(X_val=data.rows(task.validation),
                         y_val=data.y[task.validation])  # fmt: skip
    return arguments


def run_fit(task, data, torch_threads=1):
    """Fit and evaluate one task on its own; return its record.

    The engine ``'per-fit'``; see :func:`fit_record` for the record.
    """
    import sklearn

    start = time.perf_counter()
    with torch_thread_limit(torch_threads):
        with sklearn.config_context(enable_metadata_routing=True):
            pipe, fit_params = make_estimator(task, data)
            with quiet_fitting():
                pipe.fit(**fit_arguments(task, data, fit_params))
        record = fit_record(task, data, pipe, PER_FIT)
    record["fit_time"] = round(time.perf_counter() - start, 3)
    return record


def fit_record(task, data, pipe, engine):
    """Evaluate a task's fitted pipeline; return its record (a JSON-able dict).

    The record's ``source`` field holds the source task or the source corpus
    (its name predates the distinction; old results folders use it),
    ``confusion`` the test fold's confusion counts (rows are the true
    emotions, columns the predicted ones, both in sorted order), and
    ``engine`` the engine that trained it (records of older runs have none:
    they were trained per fit). A network with a ``record_fields(X)``
    method (an experiment's own) adds that method's fields, given the test
    fold as the network sees it (after the pipeline's scaler). The caller
    adds ``fit_time``.
    """
    y = data.y
    net = pipe[-1]
    with quiet_fitting():
        # once: the predictions, the source's score and record_fields use it
        X_test = pipe[:-1].transform(data.rows(task.test))
        y_pred = net.predict(X_test)
    record = {
        "key": task.key,
        "experiment": data.experiment,
        "method": task.method,
        "source": task.source_task or task.source_corpus,
        "repeat": task.repeat,
        "fold": task.fold,
        "n_train_folds": task.n_train_folds,
        "uar": uar_score(y[task.test], y_pred),
        "n_train": len(task.train),
        "n_val": len(task.validation),
        "n_test": len(task.test),
        "random_state": task.random_state,
    }
    if task.target is not None:
        record["target"] = task.target
    source_network = _source_network(net)
    if source_network is not None:
        record.update(_source_scores(task, data, X_test, source_network))
    if task.method not in BASELINE_LABELS:
        record.update(training_record(net))
    if hasattr(net, "record_fields"):
        record.update(net.record_fields(X_test))
    if per_speaker(data.normalization):
        # test rows the scaler standardised with the training folds' global
        # statistics: the report gives their share
        record["n_test_global"] = n_global_fallback(
            data.speaker[task.test], pipe[0].min_samples
        )
    if data.record_predictions:
        record.update(prediction_record(task.test, y[task.test], y_pred))
    record["confusion"] = confusion_matrix(y[task.test], y_pred, labels=np.unique(y))
    record["engine"] = engine
    record["worker"] = f"{platform.node()}:{os.getpid()}"
    return record


@contextlib.contextmanager
def quiet_fitting():
    """Silence SpeakerStandardScaler's warning on speakers with few rows.

    Their global fallback is the documented behaviour, stated in the reports;
    one warning per fit from every worker would bury the progress bar.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r".*fewer than min_samples=", UserWarning)
        yield


def prediction_record(test, y_true, y_pred):
    """The test utterances and which were classified correctly, compactly.

    ``test_index``: the row of each test utterance in the fit's data;
    ``test_correct``: one character per utterance, ``'1'`` when its
    prediction is right, ``'0'`` when wrong.

    Examples
    --------
    >>> from sklearn_prognet.experiments._fits import prediction_record
    >>> prediction_record([4, 7, 9], ["sad", "angry", "sad"], ["sad", "sad", "sad"])
    {'test_index': [4, 7, 9], 'test_correct': '101'}
    """
    correct = np.asarray(y_true) == np.asarray(y_pred)
    return {
        "test_index": [int(i) for i in test],
        "test_correct": "".join("1" if c else "0" for c in correct),
    }


def _source_network(net):
    if hasattr(net, "sources_"):
        return net.sources_[0] if net.sources_ else None
    return getattr(net, "source_", None)


def _source_scores(task, data, X_test, source_network):
    """How well the source network does its own task on the test fold.

    Paralinguistic: speaker or gender UAR (skipped when the test fold has
    labels the source never saw, as with unseen speakers, or one class
    only). Cross-corpus: the source emotion model applied to the target's
    test fold without any adaptation (a zero-shot cross-corpus score).
    """
    scores = {
        "source_n_epochs": int(source_network.n_iter_),
        "source_best_epoch": int(source_network.best_epoch_),
    }
    if data.fitted_source(task) is not None:
        labels = data.y
    else:
        labels = data.source_task_labels[task.source_task]
    y_test = labels[task.test]
    # A UAR over one class (a single-gender test fold) is that class's recall,
    # not comparable with the others: no score then.
    if np.isin(y_test, source_network.classes_).all() and len(np.unique(y_test)) > 1:
        with warnings.catch_warnings():
            # predicted speakers that are absent from this fold
            warnings.filterwarnings("ignore", "y_pred contains classes not in y_true")
            scores["source_test_uar"] = uar_score(
                y_test, source_network.predict(X_test)
            )
    return scores
