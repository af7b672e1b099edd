# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The three methods of Gideon et al. (2017) as scikit-learn classifiers.

This module is the sklearn layer only: parameters, validation, label encoding,
sources, fitted state and the order of the steps of ``fit``. The columns of a
new network are assembled by :mod:`sklearn_prognet.networks._columns`; training and
inference run in a skorch net driven by :mod:`sklearn_prognet.networks._training`; the
torch modules live in :mod:`sklearn_prognet.networks._modules`. Nothing here touches a
tensor.
"""

from numbers import Integral

import numpy as np
import pandas as pd
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from sklearn_prognet.networks._batched import train_nets
from sklearn_prognet.networks._columns import (
    exported_columns,
    fine_tuned_columns,
    progressive_columns,
    single_column,
)
from sklearn_prognet.networks._knobs import ENGINE, names, parameter_constraints
from sklearn_prognet.networks._ratings import (
    Ratings,
    check_dimensions,
    check_rated,
    standardise,
)
from sklearn_prognet.networks._training import (
    check_device,
    fitted_attributes,
    inner_validation_split,
    predict_logits,
    predict_ratings,
)
from sklearn_prognet.utils._compat import HasMethods, Interval, StrOptions, _fit_context
from sklearn_prognet.utils._docstring import Substitution
from sklearn_prognet.utils._warnings import warn

# The networks compute in float32, so X is validated as float32: a float64
# value beyond float32's range is then an error, not an infinity in training.
_DTYPES = np.float32

# The paper's architecture (Table 1), the default of every estimator.
_PAPER_LAYERS = (256, 256, 256, 256)
_PAPER_ACTIVATION = "sigmoid"
_PAPER_ARCHITECTURE = (_PAPER_LAYERS, _PAPER_ACTIVATION)

_TRAINING_PARAMETERS = """
    hidden_layer_sizes : tuple of int, default=(256, 256, 256, 256)
        Widths of the hidden layers of the new column. The paper uses four
        layers of 256 units (Table 1).

    activation : {'sigmoid', 'tanh', 'relu'}, default='sigmoid'
        Hidden non-linearity. The output layer is a softmax (cross-entropy
        on the logits).

    dropout : float, default=0.5
        Dropout probability after every hidden layer of the trained column.

    lr : float, default=0.0005
        Learning rate of Adam (the paper's Table 1; the paper does not name
        its optimiser).

    batch_size : int, default=64
        Samples per mini-batch (the paper does not give it). Measured on
        2 CPU cores with the paper's network and 5531 utterances (see the
        benchmarks page), an epoch takes 0.2 to 0.3 s at 64 and about 0.12 s
        at 256; 64 is the default all the same because it gives the
        slow-starting sigmoid network more updates per epoch, which matters
        on corpora of a few hundred utterances such as EmoDB (about five
        updates per epoch at 64). Raise it for large corpora.

    max_epochs : int, default=600
        Maximum number of epochs.

    early_stopping : bool, default=True
        Hold out a validation set, monitor its unweighted average recall
        (UAR) after every epoch, stop after ``patience`` epochs without
        improvement and restore the weights of the best epoch. With
        ``groups`` passed to ``fit`` the held-out part shares no group
        (speaker) with the training part; otherwise it is stratified. Pass
        ``X_val`` and ``y_val`` to ``fit`` to choose it yourself. If False,
        training runs for ``max_epochs`` epochs and keeps the last weights;
        ``X_val`` and ``y_val``, if passed, are only scored (``history_``).

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping. It is a
        target, not a bound: at least one sample per class is held out, and
        with ``groups`` whole groups are, at least one of them (with three
        speakers, a third of the data).

    patience : int, default=100
        Epochs without improvement of the validation UAR before stopping.
        The paper does not state its patience; its learning curves still
        rise after 300 epochs, and on small corpora the validation UAR of
        the sigmoid network stays flat for tens of epochs before it climbs,
        so a short patience stops too early.

    device : str, default='cpu'
        The torch device to train on, e.g. ``'cuda'``. Fitted models always
        predict on CPU after unpickling on a machine without CUDA.

    random_state : int, RandomState instance or None, default=None
        Controls weight initialisation, dropout, batch order and the
        validation split. Pass an int for reproducible results across
        multiple function calls. Training runs in a forked torch random
        state, so fitting never changes torch's global random state. See
        :term:`Glossary <random_state>`.

    verbose : int, default=0
        Print skorch's per-epoch table when positive.

    input_dropout : float, default=0.0
        Dropout probability on the input features of the trained column,
        during training only. The paper has none. Columns of frozen sources
        always see the clean inputs.

        .. versionadded:: 0.1

    weight_decay : float, default=0.0
        Decoupled weight decay (AdamW; Loshchilov and Hutter 2019): every
        step multiplies the trained weights and biases by
        ``1 - lr * weight_decay``, apart from Adam's gradient step. The
        paper has none.

        .. versionadded:: 0.1

    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the input features
        during training only (inputs should be standardised, so it is in
        units of a feature's standard deviation). The paper has none.

        .. versionadded:: 0.1

    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy loss
        (as :class:`torch.nn.CrossEntropyLoss`): the target puts
        ``1 - label_smoothing`` on the true class and spreads the rest
        evenly over all the row's classes (for a multi-corpus network, those
        of the row's corpus). It also enters the validation loss of
        ``history_``, not the validation UAR. The paper has none.

        .. versionadded:: 0.1
"""

_FIT_PARAMETERS = """
        X_val : array-like of shape (n_val_samples, n_features), default=None
            Explicit validation data for early stopping (for example the
            paper's validation fold). All of ``X`` is then used for training.

        y_val : array-like of shape (n_val_samples,), default=None
            Labels of ``X_val``.

        dimensions : array-like of shape (n_samples, n_dimensions), default=None
            Continuous ratings of every sample (arousal, valence, dominance,
            ...), NaN where a rating is missing, learned by a regression head
            when ``dimensional_weight > 0`` (multi-task learning). The names
            of a DataFrame's columns become ``dimension_names_``. Ignored,
            with a warning, when ``dimensional_weight=0``. Request it with
            ``set_fit_request(dimensions=True)`` when metadata routing is on.

            .. versionadded:: 0.1
"""

_DIMENSIONAL_PARAMETERS = """
    dimensional_weight : float, default=0.0
        Weight of the loss on the ratings passed to :meth:`fit` as
        ``dimensions`` (multi-task learning): the network minimises
        ``cross-entropy + dimensional_weight * dimensional loss`` with a
        linear regression head on the last hidden layer of the trained
        column. 0 switches multi-task learning off: no head is built and
        training is exactly that of a classifier alone.

        .. versionadded:: 0.1

    dimensional_loss : {'mse', 'ccc'}, default='mse'
        The dimensional loss, averaged over the dimensions: the mean squared
        error of the standardised ratings, or ``1 - CCC`` (concordance
        correlation coefficient), both over the ratings present in each
        mini-batch. CCC is computed per mini-batch, so it estimates the CCC
        of the whole data only with batches of a few dozen samples or more
        (see the User Guide).

        .. versionadded:: 0.1
"""

_INPUT_COLUMNS = """
    input_columns : array-like of int, bool or str, default=None
        The features (columns of ``X``) that this network's own column
        reads: their indices, a boolean mask of length ``n_features``, or
        their names when ``X`` is a DataFrame. None reads every feature.
        ``X`` keeps all its columns; the others are not seen by this column.
        A fitted network used as a source keeps its selection when it
        becomes a frozen column of a :class:`ProgressiveNetClassifier`
        fitted on the same ``X``: each column then reads its own features,
        for example a frozen column on a speaker embedding and the new
        column on acoustic features. A :class:`FineTunedClassifier` or
        :class:`ResidualAdapterClassifier` with a source reuses the
        source's first layer, so it reads the source's features (None), or
        the same selection given again.

        .. versionadded:: 0.1
"""

_ATTRIBUTES = """
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is the torch module.

    history_ : dict of ndarray
        Per-epoch learning curves: ``'epoch'``, ``'train_loss'``,
        ``'valid_loss'`` and ``'valid_uar'`` (NaN without validation data).

    best_epoch_ : int
        Epoch whose weights were kept (the last one without early stopping).

    n_iter_ : int
        Number of epochs run.

    n_trainable_params_ : int
        Number of parameters the optimizer updated: frozen columns and
        frozen layers are left out.

        .. versionadded:: 0.1

    dimension_names_ : ndarray of shape (n_dimensions,)
        Names of the ratings learned (a DataFrame's column names, or
        ``'dimensions_0'``, ...). Defined only when fitted with
        ``dimensional_weight > 0``.

        .. versionadded:: 0.1

    dimension_mean_, dimension_scale_ : ndarray of shape (n_dimensions,)
        Mean and standard deviation of the training ratings (NaN ignored):
        the head learns standardised ratings and :meth:`predict_dimensions`
        scales them back. Defined only when fitted with
        ``dimensional_weight > 0``.

        .. versionadded:: 0.1
"""

# The fields that the docstring of every network estimator of the package
# fills in, for @Substitution (a network adds its own, such as source_y).
_NETWORK_FIELDS = {
    "training_parameters": _TRAINING_PARAMETERS,
    "fit_parameters": _FIT_PARAMETERS,
    "attributes": _ATTRIBUTES,
    "dimensional_parameters": _DIMENSIONAL_PARAMETERS,
    "input_columns": _INPUT_COLUMNS,
}


def _has_regression_head(estimator):
    """Whether ``predict_dimensions`` can work: the availability check.

    A fitted estimator has a head if it was fitted with ratings; an unfitted
    one will have one if ``dimensional_weight > 0`` (then calling
    ``predict_dimensions`` raises :class:`~sklearn.exceptions.NotFittedError`).
    """
    if _is_fitted(estimator):
        if not hasattr(estimator, "dimension_names_"):
            raise AttributeError(
                f"This {type(estimator).__name__} was fitted with "
                "dimensional_weight=0: it has no regression head. Fit it with "
                "dimensional_weight > 0 and dimensions=... to predict ratings."
            )
    elif estimator.dimensional_weight == 0:
        raise AttributeError(
            "predict_dimensions needs a regression head: set "
            "dimensional_weight > 0 and pass dimensions to fit."
        )
    return True


def source_seed(network, position):
    """The random state of an unfitted source that has none, from its target's.

    The same in ``fit`` and in the batched engine's fits, so that a network
    fitted alone and the same fold's network of
    :func:`~sklearn_prognet.model_selection.cross_validate_batched` train the
    same sources. With an integer ``random_state``, the seed depends on it
    and the source's position only; otherwise it is drawn from it.
    """
    state = network.random_state
    if isinstance(state, Integral):
        entropy = [int(state), 0x50C, position]
        return int(np.random.SeedSequence(entropy).generate_state(1)[0] % (2**31 - 1))
    return int(check_random_state(state).randint(np.iinfo(np.int32).max))


def training_options(network):
    """The options of a training job that a network's training parameters give.

    Shared by every network estimator's preparation of its training job
    (the single home of this mapping): the knobs with the engine role
    (:data:`~sklearn_prognet.networks._knobs.ENGINE`).
    """
    options = {name: getattr(network, name) for name in names(ENGINE)}
    if not network.early_stopping:
        options["patience"] = None
    return options


class _BaseNetwork(ClassifierMixin, BaseEstimator):
    """Shared fit/predict logic; subclasses say how the columns are built."""

    _parameter_constraints: dict = {
        # the training knobs, declared once in _knobs.py
        **parameter_constraints(),
        "random_state": ["random_state"],
        "input_columns": ["array-like", None],
    }

    # names of the parameters that hold source networks
    _source_params = ()

    def __init__(
        self,
        *,
        hidden_layer_sizes=_PAPER_LAYERS,
        activation=_PAPER_ACTIVATION,
        dropout=0.5,
        lr=0.0005,
        batch_size=64,
        max_epochs=600,
        early_stopping=True,
        validation_fraction=0.1,
        patience=100,
        device="cpu",
        random_state=None,
        verbose=0,
        input_dropout=0.0,
        weight_decay=0.0,
        input_noise=0.0,
        label_smoothing=0.0,
        dimensional_weight=0.0,
        dimensional_loss="mse",
        input_columns=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.input_dropout = input_dropout
        self.weight_decay = weight_decay
        self.input_noise = input_noise
        self.label_smoothing = label_smoothing
        self.dimensional_weight = dimensional_weight
        self.dimensional_loss = dimensional_loss
        self.input_columns = input_columns

    # -- sklearn protocol -------------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

    def __sklearn_clone__(self):
        # sklearn's clone would re-create fitted sources unfitted, and a
        # ProgressiveNetClassifier inside cross_val_score would silently lose
        # its pre-trained source. Fitted sources are never modified by fit, so
        # the clone shares them; unfitted ones are cloned as usual.
        new = super().__sklearn_clone__()
        for name in self._source_params:
            setattr(new, name, _clone_sources(getattr(self, name)))
        return new

    def __sklearn_is_fitted__(self):
        # net_ is set last, so a fit that failed half-way is not "fitted"
        return hasattr(self, "net_")

    def set_params(self, **params):
        """Set the parameters of this estimator.

        As :meth:`sklearn.base.BaseEstimator.set_params`, except that the
        parameters of a fitted source cannot be set through this estimator
        (``source__lr=...``): clones share a fitted source, so the change
        would reach the user's own network and leave its weights unchanged.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator instance
            Estimator instance.
        """
        for key in params:
            name, _, nested = key.partition("__")
            if nested and name in self._source_params:
                source = _unwrap(params.get(name, getattr(self, name)))
                if isinstance(source, _BaseNetwork) and _is_fitted(source):
                    raise ValueError(
                        f"Cannot set {key}: {name} is a fitted network, used as "
                        "it is and shared by clones. Pass an unfitted source to "
                        "tune its parameters, or a new fitted one."
                    )
        return super().set_params(**params)

    # -- fitting ------------------------------------------------------------

    def _fit(self, X, y, groups, source_y, X_val, y_val, dimensions=None):
        job = self._prepare_fit(X, y, groups, source_y, X_val, y_val, dimensions)
        # a fit alone is a stack of one: the loop of fit_batched
        (net,) = train_nets([job])
        return self._set_fitted(net)

    def _prepare_fit(self, X, y, groups, source_y, X_val, y_val, dimensions=None):
        """Everything of ``fit`` before training: its training job.

        The training loop (:mod:`sklearn_prognet.networks._batched`) trains the job,
        alone (``fit``) or with the jobs of other prepared estimators
        (``fit_batched``); :meth:`_set_fitted` then takes the trained net.
        """
        # A failed refit must not pair the old network with new classes_.
        for name in [k for k in vars(self) if k.endswith("_") and k[0] != "_"]:
            delattr(self, name)
        X, y = validate_data(self, X, y, dtype=_DTYPES)
        check_classification_targets(y)
        # What the inputs looked like, to catch a network later used as a
        # source on inputs scaled differently (see _check_source_scale).
        self._input_mean = X.mean(axis=0, dtype=np.float64)
        self._input_std = X.std(axis=0, dtype=np.float64)
        self._label_encoder = LabelEncoder().fit(y)
        self.classes_ = self._label_encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes to train; "
                f"y has 1 class: {self.classes_[0]!r}."
            )
        y_encoded = self._label_encoder.transform(y)
        # the features this network's own column reads (read by _plan_columns)
        self._inputs = _selected_inputs(self.input_columns, self)
        ratings = check_dimensions(dimensions, len(X), self.dimensional_weight)
        sizes = _check_layer_sizes(self.hidden_layer_sizes)
        device = check_device(self.device)
        rng = check_random_state(self.random_state)

        # The order of these steps fixes the draws from rng: keep it.
        plan = self._plan_columns(X, sizes, len(self.classes_), source_y)
        train, valid = self._training_data(
            X, y_encoded, groups, X_val, y_val, rng, _values(ratings)
        )
        multitask = {}
        if ratings is not None:
            plan, train, multitask = self._multitask(plan, train, ratings.names)
        return {
            "plan": plan,
            "train": train,
            "valid": valid,
            "frozen_nets": self._frozen_nets(),
            "seed": rng.randint(np.iinfo(np.int32).max),
            "n_features": X.shape[1],
            "device": device,
            **training_options(self),
            **multitask,
        }

    def _set_fitted(self, net):
        """Set the fitted attributes from a trained skorch net; return self."""
        for name, value in fitted_attributes(net, self.early_stopping).items():
            setattr(self, name, value)
        return self

    def _training_data(self, X, y, groups, X_val, y_val, rng, ratings=None):
        """``(X, y)`` to train on and, with validation data, to validate on.

        Labels are encoded. The validation pair is None without early
        stopping and without ``X_val``. With ``ratings`` (an array), the
        training pair has a third element, the ratings of its rows: the
        validation data is scored by its UAR alone.
        """
        extra = () if ratings is None else (ratings,)
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val to fit, or neither.")
        if X_val is not None:
            X_val = validate_data(self, X_val, reset=False, dtype=_DTYPES)
            y_val = np.asarray(y_val)
            unknown = np.setdiff1d(y_val, self.classes_)
            if len(unknown):
                raise ValueError(
                    f"y_val has labels that are not in y: {unknown.tolist()}."
                )
            if len(y_val) != len(X_val):
                raise ValueError(
                    f"X_val has {len(X_val)} samples but y_val has {len(y_val)}."
                )
            return (X, y, *extra), (X_val, self._label_encoder.transform(y_val))
        if not self.early_stopping:
            return (X, y, *extra), None
        train, valid = inner_validation_split(y, groups, self.validation_fraction, rng)
        kept = tuple(values[train] for values in extra)
        return (X[train], y[train], *kept), (X[valid], y[valid])

    def _multitask(self, plan, train, names):
        """Add the regression head to ``plan``; standardise the ratings.

        The ratings are standardised with the mean and standard deviation of
        the training part, so that the loss of every dimension is on the
        scale of a unit-variance variable whatever the corpus's rating scale
        (1 to 5 in IEMOCAP and MSP-IMPROV, -100 to 100 in some), so that a
        ``dimensional_weight`` means the same for every corpus and every
        dimension, and so that the head's zero bias starts at the mean.

        Returns
        -------
        plan : ColumnPlan
        train : tuple of ndarray
            ``(X, y, standardised ratings)``.
        params : dict
            The further options of the training job.
        """
        X, y, values = train
        check_rated(Ratings(values, names), "The training part of dimensions")
        scaled, self.dimension_mean_, self.dimension_scale_ = standardise(values)
        self.dimension_names_ = names
        plan = plan._replace(
            module_params=(*plan.module_params, ("n_dimensions", len(names)))
        )
        loss = (self.dimensional_loss, float(self.dimensional_weight))
        return plan, (X, y, scaled), {"dimensional_loss": loss}

    def _plan_columns(self, X, sizes, n_classes, source_y):
        """The :class:`~sklearn_prognet.networks._columns.ColumnPlan` of the network.

        Subclasses with sources resolve (and if needed train) them here and
        set ``sources_`` or ``source_``.
        """
        return single_column(sizes, n_classes, self.activation, self._inputs)

    def _source_inputs(self, column):
        """The features of a network built on a source's first layer.

        Its first layer is the source column's, so it reads the same
        features: ``input_columns`` must select none (None) or those.
        """
        if self._inputs is not None and self._inputs != column.inputs:
            raise ValueError(
                f"input_columns={self.input_columns!r} selects other features than "
                "the source reads "
                f"({'all' if column.inputs is None else list(column.inputs)}): "
                f"{type(self).__name__} reuses the source's first layer. Pass "
                "input_columns=None to read the source's features."
            )

    def _frozen_nets(self):
        """The fitted nets whose columns are the plan's frozen columns."""
        return ()

    # -- prediction ---------------------------------------------------------

    def predict_proba(self, X):
        """Predict class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_DTYPES)
        return self._predict_proba(X)

    def _predict_proba(self, X):
        logits = predict_logits(self.net_, X)
        # softmax in float64 so that every row sums to 1 to double precision
        return softmax(logits.astype(np.float64), axis=1)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_DTYPES)
        return self.classes_[np.argmax(self._predict_proba(X), axis=1)]

    @available_if(_has_regression_head)
    def predict_dimensions(self, X):
        """Predict the continuous ratings learned from ``dimensions``.

        Available only when the estimator is fitted, or will be, with
        ``dimensional_weight > 0``.

        .. versionadded:: 0.1

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        ratings : ndarray of shape (n_samples, n_dimensions)
            Predicted ratings on the scale of the training ratings, in the
            order of ``dimension_names_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_DTYPES)
        scaled = predict_ratings(self.net_, X).astype(np.float64)
        return scaled * self.dimension_scale_ + self.dimension_mean_

    # -- transfer -----------------------------------------------------------

    def _transfer_columns(self):
        """The fitted columns and their weights, for use as a source.

        Returns
        -------
        columns : tuple of ColumnSpec
            Column specs of :class:`~sklearn_prognet.networks._modules.ProgressiveNet`.
        state : dict of torch.Tensor
            CPU copies of the module's tensors, keyed ``columns.<i>.<name>``.
        """
        check_is_fitted(self)
        return exported_columns(self.net_.module_)

    def _resolve_sources(self, name, sources, X, source_y):
        """Fitted copies of ``sources``; unfitted ones are trained on X."""
        resolved = []
        unfitted = []
        for i, source in enumerate(sources):
            label = _source_label(name, i)
            source = _unwrap(source)
            if not isinstance(source, _BaseNetwork):
                raise TypeError(
                    f"{label} is a {type(source).__name__}; a source must be a "
                    "DNNClassifier, FineTunedClassifier, ProgressiveNetClassifier "
                    "or ResidualAdapterClassifier."
                )
            if _is_fitted(source):
                if source.n_features_in_ != X.shape[1]:
                    raise ValueError(
                        f"{label} ({type(source).__name__}) was fitted on "
                        f"{source.n_features_in_} features, but X has {X.shape[1]}."
                        " Sources and target must share the input features."
                    )
                self._check_source_feature_names(source, label)
                _check_source_scale(source, label, X)
            else:
                unfitted.append(i)
            resolved.append(source)
        if not unfitted:
            if source_y is not None:
                warn(
                    f"source_y is not used: every source in {name} is already fitted.",
                )
            return resolved
        labels = _check_source_y(source_y, name, unfitted, len(X))
        # The feature names of X, as the batched engine (which fits sources
        # on the X it is given) keeps them: a source may select its
        # input_columns by name.
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            X = pd.DataFrame(X, columns=names)
        for column, i in enumerate(unfitted):
            source = clone(resolved[i])
            if source.random_state is None:
                source.set_params(random_state=source_seed(self, i))
            try:
                resolved[i] = source.fit(X, labels[:, column])
            except (ValueError, TypeError) as error:
                raise type(error)(
                    f"Training the unfitted {_source_label(name, i)} on column "
                    f"{column} of source_y failed: {error}"
                ) from error
        return resolved

    def _check_source_feature_names(self, source, label):
        # Same width is not enough: a frozen column fed with permuted features
        # would be silently wrong.
        ours = getattr(self, "feature_names_in_", None)
        theirs = getattr(source, "feature_names_in_", None)
        if ours is not None and theirs is not None and not np.array_equal(ours, theirs):
            raise ValueError(
                f"{label} was fitted on features named {list(theirs)[:5]}..., but "
                f"X has {list(ours)[:5]}...: sources and target must share the "
                "input features, in the same order."
            )


def _check_source_scale(source, label, X):
    """Warn when X is scaled unlike the inputs the source was trained on.

    A feature counts as rescaled when its mean moved by more than two of the
    source's standard deviations or its spread changed more than fourfold.
    On EmoDB, a source fitted on raw eGeMAPS features and used on
    standardised ones rescales 86 of 88 features; a source and a target both
    standardised on their own speakers, 7 to 9.
    """
    mean = getattr(source, "_input_mean", None)
    std = getattr(source, "_input_std", None)
    if mean is None or std is None:
        return
    safe_std = np.where(std > 0, std, 1.0)
    shift = np.abs(X.mean(axis=0, dtype=np.float64) - mean) / safe_std
    spread = np.maximum(X.std(axis=0, dtype=np.float64), 1e-12) / safe_std
    rescaled = (shift > 2) | (np.abs(np.log(spread)) > np.log(4))
    if rescaled.mean() > 0.5:
        warn(
            f"{label} was trained on inputs scaled unlike X: {rescaled.sum()} of "
            f"{len(rescaled)} features have another mean or spread. Fit sources "
            "on features scaled as the target's are (e.g. both standardised), "
            "or the frozen columns see inputs they were never trained on."
        )


def _values(ratings):
    """The array of checked ratings, or None."""
    return None if ratings is None else ratings.values


def _source_label(name, i):
    """How errors name a source: ``source`` or ``sources[i]``."""
    return f"{name}[{i}]" if name == "sources" else name


def _selected_inputs(input_columns, estimator):
    """The indices that ``input_columns`` selects, in its order, or None.

    None stands for every feature, in order (also when ``input_columns``
    lists them all), so that such a network is the one without a selection.
    Called after ``validate_data``: ``n_features_in_`` (and
    ``feature_names_in_`` for a DataFrame) describe ``X``.
    """
    if input_columns is None:
        return None
    n_features = estimator.n_features_in_
    selection = np.asarray(input_columns)
    if selection.ndim != 1 or selection.size == 0:
        raise ValueError(
            "input_columns must select at least one feature (a 1-D list of "
            f"indices, a boolean mask or feature names); got {input_columns!r}."
        )
    if selection.dtype.kind == "b":
        if len(selection) != n_features:
            raise ValueError(
                f"input_columns is a boolean mask of length {len(selection)}, but "
                f"X has {n_features} features."
            )
        indices = np.flatnonzero(selection)
        if not len(indices):
            raise ValueError("input_columns is a boolean mask that selects no feature.")
    elif selection.dtype.kind in "iu":
        indices = selection
        bad = indices[(indices < 0) | (indices >= n_features)]
        if len(bad):
            raise ValueError(
                f"input_columns has indices out of range for X with {n_features} "
                f"features: {bad.tolist()[:5]}."
            )
    elif selection.dtype.kind in "UO":
        indices = _named_inputs(selection, estimator)
    else:
        raise ValueError(
            "input_columns must hold feature indices (ints), a boolean mask or "
            f"feature names (str); got dtype {selection.dtype}."
        )
    if len(np.unique(indices)) != len(indices):
        raise ValueError(f"input_columns selects a feature twice: {input_columns!r}.")
    indices = tuple(int(i) for i in indices)
    return None if indices == tuple(range(n_features)) else indices


def _named_inputs(names, estimator):
    """The indices of the features named ``names`` in ``feature_names_in_``."""
    known = getattr(estimator, "feature_names_in_", None)
    if known is None:
        raise ValueError(
            f"input_columns names features ({[str(n) for n in names[:3]]}...), but "
            "X has no feature names: fit on a DataFrame, or pass column indices."
        )
    position = {name: i for i, name in enumerate(known)}
    missing = [str(name) for name in names if name not in position]
    if missing:
        raise ValueError(
            f"input_columns names features that X does not have: {missing[:5]}."
        )
    return np.array([position[name] for name in names])


def _check_layer_sizes(hidden_layer_sizes):
    sizes = tuple(np.atleast_1d(hidden_layer_sizes).tolist())
    if not sizes or not all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be a non-empty sequence of positive ints; "
            f"got {hidden_layer_sizes!r}."
        )
    return sizes


def _unwrap(source):
    """The network inside a FrozenEstimator, or the source itself."""
    return source.estimator if isinstance(source, FrozenEstimator) else source


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def _clone_sources(value):
    def one(source):
        return source if _is_fitted(_unwrap(source)) else clone(source, safe=False)

    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return type(value)(one(source) for source in value)
    return one(value)


def _check_source_y(source_y, name, unfitted, n_samples):
    if source_y is None:
        raise ValueError(
            f"{name}{unfitted} {'is' if len(unfitted) == 1 else 'are'} not fitted "
            "and no labels were given to train them: pass source_y to fit (one "
            "column per unfitted source), or pass fitted sources."
        )
    labels = np.asarray(source_y)
    if labels.ndim == 1:
        labels = labels.reshape(-1, 1)
    if labels.ndim != 2 or labels.shape != (n_samples, len(unfitted)):
        raise ValueError(
            f"source_y must have shape ({n_samples}, {len(unfitted)}): one row per "
            f"sample and one column per unfitted source in {name}; got shape "
            f"{np.shape(source_y)}."
        )
    return labels


@Substitution(**_NETWORK_FIELDS)
class DNNClassifier(_BaseNetwork):
    """Feed-forward network trained on the target task alone (no transfer).

    The paper's baseline (Gideon et al. 2017, Figure 1): dense hidden layers,
    a softmax output and dropout, trained here with Adam and early stopping
    on the unweighted average recall of a validation set (choices the paper
    leaves open). Inputs should be standardised, for example with
    :class:`~sklearn.preprocessing.StandardScaler` in a
    :class:`~sklearn.pipeline.Pipeline`.

    Read more in the :ref:`User Guide <networks>`.

    Parameters
    ----------
    {training_parameters}

    {dimensional_parameters}

    {input_columns}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    FineTunedClassifier : Pre-train on a source task, then fine-tune.
    ProgressiveNetClassifier : Frozen source columns with lateral connections.
    sklearn.neural_network.MLPClassifier : The multi-layer perceptron of
        scikit-learn (no dropout).

    Notes
    -----
    Training uses skorch with torch underneath. On CPU, the same
    ``random_state`` gives identical results; CUDA kernels may not be
    bit-exact.

    References
    ----------
    .. [1] J. Gideon, S. Khorram, Z. Aldeneh, D. Dimitriadis and E. Mower
       Provost, "Progressive Neural Networks for Transfer Learning in Emotion
       Recognition", Proc. Interspeech, 2017.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_prognet import DNNClassifier
    >>> X, y = make_classification(n_samples=200, n_features=10, random_state=0)
    >>> clf = DNNClassifier(hidden_layer_sizes=(32,), lr=0.01, max_epochs=30,
    ...                     random_state=0).fit(X, y)
    >>> clf.predict(X[:5]).shape
    (5,)
    >>> clf.score(X, y) > 0.7
    True
    >>> sorted(clf.history_)
    ['epoch', 'train_loss', 'valid_loss', 'valid_uar']

    Continuous ratings (here a made-up arousal, linear in the features) are
    learned beside the classes with ``dimensional_weight > 0``:

    >>> import pandas as pd
    >>> from sklearn_prognet.metrics import ccc_score
    >>> arousal = pd.DataFrame({"arousal": 3 + X[:, 0] - X[:, 1]})
    >>> clf = DNNClassifier(hidden_layer_sizes=(32,), lr=0.01, max_epochs=30,
    ...                     early_stopping=False, dropout=0.1,
    ...                     dimensional_weight=1.0, random_state=0)
    >>> clf.fit(X, y, dimensions=arousal).dimension_names_
    array(['arousal'], dtype=object)
    >>> ccc_score(arousal, clf.predict_dimensions(X)) > 0.8
    True
    """

    # Its own __init__, not _BaseNetwork's: Python names the function in the
    # error for an unknown keyword, and it should be the class the user called.
    def __init__(
        self,
        *,
        hidden_layer_sizes=_PAPER_LAYERS,
        activation=_PAPER_ACTIVATION,
        dropout=0.5,
        lr=0.0005,
        batch_size=64,
        max_epochs=600,
        early_stopping=True,
        validation_fraction=0.1,
        patience=100,
        device="cpu",
        random_state=None,
        verbose=0,
        input_dropout=0.0,
        weight_decay=0.0,
        input_noise=0.0,
        label_smoothing=0.0,
        dimensional_weight=0.0,
        dimensional_loss="mse",
        input_columns=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            lr=lr,
            batch_size=batch_size,
            max_epochs=max_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            patience=patience,
            device=device,
            random_state=random_state,
            verbose=verbose,
            input_dropout=input_dropout,
            weight_decay=weight_decay,
            input_noise=input_noise,
            label_smoothing=label_smoothing,
            dimensional_weight=dimensional_weight,
            dimensional_loss=dimensional_loss,
            input_columns=input_columns,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups=None, X_val=None, y_val=None, dimensions=None):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Target labels (strings or ints).

        groups : array-like of shape (n_samples,), default=None
            Group (speaker) of every sample, used only to hold out whole
            groups for early stopping. Request it with
            ``set_fit_request(groups=True)`` when metadata routing is on.

        {fit_parameters}

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, groups, None, X_val, y_val, dimensions)


_SOURCE_Y = """
        source_y : array-like of shape (n_samples,) or (n_samples, n_sources), \
default=None
            Labels to train the unfitted sources on (for example speaker ids
            or gender), one column per unfitted source in order. Each
            unfitted source is cloned and trained on ``(X, source_y[:, j])``
            inside this ``fit``, so in cross-validation it sees the training
            part of the fold only. Request it with
            ``set_fit_request(source_y=True)`` when metadata routing is on.
"""


@Substitution(**_NETWORK_FIELDS, source_y=_SOURCE_Y)
class ProgressiveNetClassifier(_BaseNetwork):
    """Progressive neural network: frozen source columns and lateral connections.

    Every source network becomes a frozen column; one new column, with the
    target's output layer, is trained. The activations of layer ``k`` of
    every frozen column feed layer ``k + 1`` of the new column, output layer
    included (Rusu et al. 2016; Gideon et al. 2017, Figure 2). Frozen columns
    never change and always run in eval mode (no dropout), so the source task
    is not forgotten.

    Sources may be fitted networks of this package, or unfitted ones whose
    labels are passed to :meth:`fit` as ``source_y``: then each source is
    trained on the training data of every ``fit`` call, which keeps test
    folds out of the sources in cross-validation. A fitted
    ``ProgressiveNetClassifier`` used as a source contributes all of its
    columns (a chain of tasks). Cloning, as in
    :func:`~sklearn.model_selection.cross_val_score`, keeps fitted sources
    fitted; they are never modified.

    Read more in the :ref:`User Guide <networks>`.

    Parameters
    ----------
    sources : list of estimators, default=None
        Source networks (:class:`DNNClassifier`,
        :class:`FineTunedClassifier` or :class:`ProgressiveNetClassifier`,
        fitted or not, or wrapped in :class:`~sklearn.frozen.FrozenEstimator`).
        Their input width must match ``X``; their layer widths may differ
        from the new column's. Without sources, the estimator is a DNN.

    lateral : {'linear', 'adapter'}, default='linear'
        Lateral connections: dense matrices as in the paper, or the
        non-linear adapters of Rusu et al. (2016) (learned scale, projection
        to a quarter of the width, non-linearity, dense matrix).

    {training_parameters}

    {dimensional_parameters}

    {input_columns}

    Attributes
    ----------
    sources_ : list of estimators
        The fitted sources used, including those trained in :meth:`fit`.

    {attributes}

    See Also
    --------
    DNNClassifier : The same network without transfer.
    FineTunedClassifier : Pre-train on a source task, then fine-tune.

    Notes
    -----
    Frozen weights are stored as buffers of the torch module, not as
    parameters, so the optimizer never sees them. When a source has fewer
    hidden layers than the new column, only the layers it has send laterals;
    when it has more, its deepest layers are unused.

    References
    ----------
    .. [1] A. A. Rusu et al., "Progressive Neural Networks", arXiv:1606.04671,
       2016.
    .. [2] J. Gideon, S. Khorram, Z. Aldeneh, D. Dimitriadis and E. Mower
       Provost, "Progressive Neural Networks for Transfer Learning in Emotion
       Recognition", Proc. Interspeech, 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_prognet import DNNClassifier, ProgressiveNetClassifier
    >>> X, y = make_classification(n_samples=200, n_features=10, random_state=0)
    >>> gender = np.arange(200) % 2
    >>> params = dict(hidden_layer_sizes=(32, 32), lr=0.01, max_epochs=30,
    ...               random_state=0)
    >>> source = DNNClassifier(**params).fit(X, gender)
    >>> clf = ProgressiveNetClassifier(sources=[source], **params).fit(X, y)
    >>> len(clf.net_.module_.columns)
    2
    >>> clf.score(X, y) > 0.7
    True

    An unfitted source is trained inside ``fit`` on labels passed as
    ``source_y``:

    >>> clf = ProgressiveNetClassifier(sources=[DNNClassifier(**params)], **params)
    >>> clf.fit(X, y, source_y=gender).sources_[0].classes_
    array([0, 1])
    """

    _parameter_constraints: dict = {
        **_BaseNetwork._parameter_constraints,
        "sources": [list, tuple, None],
        "lateral": [StrOptions({"linear", "adapter"})],
    }
    _source_params = ("sources",)

    def __init__(
        self,
        *,
        sources=None,
        lateral="linear",
        hidden_layer_sizes=_PAPER_LAYERS,
        activation=_PAPER_ACTIVATION,
        dropout=0.5,
        lr=0.0005,
        batch_size=64,
        max_epochs=600,
        early_stopping=True,
        validation_fraction=0.1,
        patience=100,
        device="cpu",
        random_state=None,
        verbose=0,
        input_dropout=0.0,
        weight_decay=0.0,
        input_noise=0.0,
        label_smoothing=0.0,
        dimensional_weight=0.0,
        dimensional_loss="mse",
        input_columns=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            lr=lr,
            batch_size=batch_size,
            max_epochs=max_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            patience=patience,
            device=device,
            random_state=random_state,
            verbose=verbose,
            input_dropout=input_dropout,
            weight_decay=weight_decay,
            input_noise=input_noise,
            label_smoothing=label_smoothing,
            dimensional_weight=dimensional_weight,
            dimensional_loss=dimensional_loss,
            input_columns=input_columns,
        )
        self.sources = sources
        self.lateral = lateral

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self, X, y, groups=None, source_y=None, X_val=None, y_val=None, dimensions=None
    ):
        """Train the new column; sources stay frozen.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Target labels (strings or ints).

        groups : array-like of shape (n_samples,), default=None
            Group (speaker) of every sample, used only to hold out whole
            groups for early stopping of the new column. Request it with
            ``set_fit_request(groups=True)`` when metadata routing is on.

        {source_y}

        {fit_parameters}

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, groups, source_y, X_val, y_val, dimensions)

    def _plan_columns(self, X, sizes, n_classes, source_y):
        self.sources_ = self._resolve_sources(
            "sources", list(self.sources or ()), X, source_y
        )
        return progressive_columns(
            [source._transfer_columns() for source in self.sources_],
            sizes,
            n_classes,
            self.activation,
            self.lateral,
            self._inputs,
        )

    def _frozen_nets(self):
        return [source.net_ for source in self.sources_]


@Substitution(
    **_NETWORK_FIELDS,
    source_y="""
        source_y : array-like of shape (n_samples,), default=None
            Labels to train an unfitted source on (for example speaker ids).
            The source is cloned and trained on ``(X, source_y)`` inside this
            ``fit``, so in cross-validation it sees the training part of the
            fold only. Request it with ``set_fit_request(source_y=True)``
            when metadata routing is on.
""",
)
class FineTunedClassifier(_BaseNetwork):
    """Pre-train on a source task, then fine-tune on the target (PT/FT).

    The hidden layers start from a copy of the source network's weights; a
    new output layer is fitted to the target classes and all layers train
    (optionally, the first ``n_frozen_layers`` stay fixed). The architecture
    (layer widths and activation) is the source's. The source is a fitted
    single-column network, or an unfitted one trained inside :meth:`fit` on
    ``source_y``, exactly as for :class:`ProgressiveNetClassifier`. The
    source estimator is never modified.

    Read more in the :ref:`User Guide <networks>`.

    Parameters
    ----------
    source : estimator, default=None
        A :class:`DNNClassifier` or :class:`FineTunedClassifier` (fitted or
        not, or in a :class:`~sklearn.frozen.FrozenEstimator`). Without a
        source, the estimator is a DNN.

    n_frozen_layers : int, default=0
        Number of leading hidden layers that keep the source's weights.

    {training_parameters}

    {dimensional_parameters}

    {input_columns}

    Attributes
    ----------
    source_ : estimator or None
        The fitted source whose weights were copied.

    {attributes}

    See Also
    --------
    DNNClassifier : The same network without transfer.
    ProgressiveNetClassifier : Transfer without forgetting the source task.

    Notes
    -----
    Fine-tuning overwrites the source's knowledge in the copied layers (the
    "forgetting effect"); :class:`ProgressiveNetClassifier` avoids it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_prognet import DNNClassifier, FineTunedClassifier
    >>> X, y = make_classification(n_samples=200, n_features=10, random_state=0)
    >>> params = dict(hidden_layer_sizes=(32, 32), lr=0.01, max_epochs=30,
    ...               random_state=0)
    >>> source = DNNClassifier(**params).fit(X, np.arange(200) % 2)
    >>> clf = FineTunedClassifier(source=source, **params).fit(X, y)
    >>> clf.score(X, y) > 0.7
    True
    """

    _parameter_constraints: dict = {
        **_BaseNetwork._parameter_constraints,
        "source": [HasMethods(["fit"]), None],
        "n_frozen_layers": [Interval(Integral, 0, None, closed="left")],
    }
    _source_params = ("source",)

    def __init__(
        self,
        *,
        source=None,
        n_frozen_layers=0,
        hidden_layer_sizes=_PAPER_LAYERS,
        activation=_PAPER_ACTIVATION,
        dropout=0.5,
        lr=0.0005,
        batch_size=64,
        max_epochs=600,
        early_stopping=True,
        validation_fraction=0.1,
        patience=100,
        device="cpu",
        random_state=None,
        verbose=0,
        input_dropout=0.0,
        weight_decay=0.0,
        input_noise=0.0,
        label_smoothing=0.0,
        dimensional_weight=0.0,
        dimensional_loss="mse",
        input_columns=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            lr=lr,
            batch_size=batch_size,
            max_epochs=max_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            patience=patience,
            device=device,
            random_state=random_state,
            verbose=verbose,
            input_dropout=input_dropout,
            weight_decay=weight_decay,
            input_noise=input_noise,
            label_smoothing=label_smoothing,
            dimensional_weight=dimensional_weight,
            dimensional_loss=dimensional_loss,
            input_columns=input_columns,
        )
        self.source = source
        self.n_frozen_layers = n_frozen_layers

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self, X, y, groups=None, source_y=None, X_val=None, y_val=None, dimensions=None
    ):
        """Copy the source's hidden layers and fine-tune on the target.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Target labels (strings or ints).

        groups : array-like of shape (n_samples,), default=None
            Group (speaker) of every sample, used only to hold out whole
            groups for early stopping. Request it with
            ``set_fit_request(groups=True)`` when metadata routing is on.

        {source_y}

        {fit_parameters}

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, groups, source_y, X_val, y_val, dimensions)

    def _plan_columns(self, X, sizes, n_classes, source_y):
        if self.source is None:
            self.source_ = None
            if self.n_frozen_layers:
                warn(
                    f"n_frozen_layers={self.n_frozen_layers} is ignored: there is "
                    "no source to keep layers from.",
                )
            return super()._plan_columns(X, sizes, n_classes, source_y)
        (self.source_,) = self._resolve_sources("source", [self.source], X, source_y)
        source_columns, source_state = self.source_._transfer_columns()
        if len(source_columns) != 1:
            raise ValueError(
                "source must be a single-column network (a DNNClassifier, a "
                "FineTunedClassifier, a ResidualAdapterClassifier or a "
                "ProgressiveNetClassifier without sources); it has "
                f"{len(source_columns)} columns."
            )
        (column,) = source_columns
        self._source_inputs(column)
        hidden, activation = column.hidden_layer_sizes, column.activation
        chosen = (tuple(sizes), self.activation)
        # The defaults are no choice of the user's: no warning for them.
        if chosen not in {(tuple(hidden), activation), _PAPER_ARCHITECTURE}:
            warn(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r} and "
                f"activation={self.activation!r} are ignored: fine-tuning keeps the "
                f"source's architecture {tuple(hidden)!r} with {activation!r}.",
            )
        if self.n_frozen_layers > len(hidden):
            raise ValueError(
                f"n_frozen_layers={self.n_frozen_layers} exceeds the number of "
                f"hidden layers of the source ({len(hidden)})."
            )
        return fine_tuned_columns(column, source_state, n_classes, self.n_frozen_layers)
