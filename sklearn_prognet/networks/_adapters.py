# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Residual adapters (Rebuffi et al. 2017; EmoNet, Gerczuk et al. 2021).

The sklearn layer of :class:`ResidualAdapterClassifier`, a fourth transfer
method beside fine-tuning and progressive networks, and of
:class:`MultiCorpusClassifier`, one trunk shared by several corpora. The
torch module is :class:`~sklearn_prognet.networks._adapter_modules.AdaptedNet`.
"""

from numbers import Integral

import numpy as np
import pandas as pd
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from sklearn_prognet.networks._adapter_modules import AdaptedNet, folded_columns
from sklearn_prognet.networks._batched import train_nets
from sklearn_prognet.networks._columns import adapter_columns, multi_domain_columns
from sklearn_prognet.networks._estimators import (
    _NETWORK_FIELDS,
    _PAPER_ACTIVATION,
    _PAPER_ARCHITECTURE,
    _PAPER_LAYERS,
    _TRAINING_PARAMETERS,
    _BaseNetwork,
    _check_layer_sizes,
    training_options,
)
from sklearn_prognet.networks._training import (
    check_device,
    fitted_attributes,
    inner_validation_split,
    predict_logits,
)
from sklearn_prognet.utils._compat import HasMethods, IntervalNotBool, _fit_context
from sklearn_prognet.utils._docstring import Substitution
from sklearn_prognet.utils._frames import (
    abbreviate,
    group_column,
    non_numeric_columns,
)
from sklearn_prognet.utils._warnings import warn

__all__ = ["MultiCorpusClassifier", "ResidualAdapterClassifier"]

# The default rank. With the paper's network (4 x 256 on the 88 eGeMAPS
# features) and 4 classes, rank 16 trains 1880 * 16 + 2052 = 32132
# parameters: 15 % of a new ProgNet column alone (221188), 8 % of a column
# with its linear laterals from one source column (418820).
_DEFAULT_RANK = 16

_ADAPTER_RANK = """
    adapter_rank : int, default=16
        Rank of every residual adapter ``U V``: ``V`` projects a layer's
        input to ``adapter_rank`` units, ``U`` back to the layer's width.
        The default trains at most a fifth of the parameters that a
        :class:`ProgressiveNetClassifier` column adds (the paper's network
        on 88 features: 32132 against 221188 for the column alone). At
        most the width of the narrowest hidden layer: a larger rank adds
        parameters and nothing the layer can use, and ``fit`` raises a
        ValueError.
"""


@Substitution(**_NETWORK_FIELDS, adapter_rank=_ADAPTER_RANK)
class ResidualAdapterClassifier(_BaseNetwork):
    """Frozen source network with small trainable residual adapters.

    The hidden layers of a single-column source network are kept frozen;
    each gets a trainable low-rank residual adapter in parallel and its own
    trainable bias, and a new output layer is trained for the target
    (Rebuffi et al. 2017, as in EmoNet, Gerczuk et al. 2021). Hidden layer
    ``l`` computes ``act(W_l h + b'_l + U_l V_l h)`` with the source's
    frozen ``W_l``; ``b'_l`` starts as the source's bias and ``U_l`` at zero,
    so before training the hidden activations are exactly the source's.

    The source is a fitted network, used as it is and shared by clones, or
    an unfitted one trained inside :meth:`fit` on ``source_y``, exactly as
    for :class:`FineTunedClassifier`. The architecture is the source's.

    Read more in the :ref:`User Guide <residual_adapters>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    source : estimator, default=None
        A single-column network: :class:`DNNClassifier`,
        :class:`FineTunedClassifier`, :class:`ResidualAdapterClassifier`
        or a :class:`ProgressiveNetClassifier` without sources (fitted or
        not, or in a :class:`~sklearn.frozen.FrozenEstimator`). Without a
        source, the estimator is a DNN (there is nothing to adapt).
    {adapter_rank}
    {training_parameters}

    {dimensional_parameters}

    {input_columns}

    Attributes
    ----------
    source_ : estimator or None
        The fitted source whose hidden layers were frozen.

    {attributes}

    See Also
    --------
    FineTunedClassifier : Copy the source's layers and train all of them.
    ProgressiveNetClassifier : A new column with lateral connections.
    MultiCorpusClassifier : One trunk, adapters and heads per corpus.

    Notes
    -----
    Trainable: the adapters ``U_l`` and ``V_l``, the biases ``b'_l`` and the
    output layer. The source's weight matrices are buffers of the torch
    module, not parameters, so no optimizer sees them. Dropout (``dropout``)
    applies only to the input of the new output layer: the adapted layers
    compute the source's function in training as in eval mode.

    A fitted ``ResidualAdapterClassifier`` can itself be a source: its
    adapters are folded into the weight matrices (``W + U V``).

    References
    ----------
    .. [1] S.-A. Rebuffi, H. Bilen and A. Vedaldi, "Learning multiple visual
       domains with residual adapters", NeurIPS, 2017.
    .. [2] M. Gerczuk, S. Amiriparian, S. Ottl and B. Schuller, "EmoNet: A
       Transfer Learning Framework for Multi-Corpus Speech Emotion
       Recognition", IEEE Transactions on Affective Computing, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from sklearn_prognet import DNNClassifier, ResidualAdapterClassifier
    >>> X, y = make_classification(n_samples=200, n_features=10, random_state=0)
    >>> params = dict(hidden_layer_sizes=(32, 32), lr=0.01, max_epochs=30,
    ...               random_state=0)
    >>> source = DNNClassifier(**params).fit(X, np.arange(200) % 2)
    >>> clf = ResidualAdapterClassifier(source=source, adapter_rank=2, **params)
    >>> clf.fit(X, y).n_trainable_params_
    342
    >>> source.n_trainable_params_
    1474
    >>> clf.score(X, y) > 0.7
    True
    """

    _parameter_constraints: dict = {
        **_BaseNetwork._parameter_constraints,
        "source": [HasMethods(["fit"]), None],
        "adapter_rank": [IntervalNotBool(Integral, 1, None, closed="left")],
    }
    _source_params = ("source",)

    def __init__(
        self,
        *,
        source=None,
        adapter_rank=_DEFAULT_RANK,
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
        self.adapter_rank = adapter_rank

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self, X, y, groups=None, source_y=None, X_val=None, y_val=None, dimensions=None
    ):
        """Train the adapters, biases and output layer; the source stays frozen.

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

        source_y : array-like of shape (n_samples,), default=None
            Labels to train an unfitted source on (for example speaker ids).
            The source is cloned and trained on ``(X, source_y)`` inside this
            ``fit``. Request it with ``set_fit_request(source_y=True)`` when
            metadata routing is on.

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
        _check_adapter_rank(self.adapter_rank, column.hidden_layer_sizes)
        self._source_inputs(column)
        chosen = (tuple(sizes), self.activation)
        own = (tuple(column.hidden_layer_sizes), column.activation)
        if chosen not in {own, _PAPER_ARCHITECTURE}:
            warn(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r} and "
                f"activation={self.activation!r} are ignored: the adapted "
                f"network keeps the source's architecture {own[0]!r} with "
                f"{own[1]!r}."
            )
        return adapter_columns(column, source_state, n_classes, self.adapter_rank)

    def _transfer_columns(self):
        check_is_fitted(self)
        if isinstance(self.net_.module_, AdaptedNet):
            return folded_columns(self.net_.module_)
        return super()._transfer_columns()


@Substitution(
    training_parameters=_TRAINING_PARAMETERS,
    adapter_rank=_ADAPTER_RANK,
)
class MultiCorpusClassifier(ClassifierMixin, BaseEstimator):
    """One network for several corpora: a shared trunk, adapters per corpus.

    Multi-domain training as in EmoNet (Gerczuk et al. 2021): the dense
    hidden layers (the trunk) are shared by all corpora, and each corpus adds
    a low-rank residual adapter and a bias to every hidden layer and has its
    own output layer over its own classes. Trunk, adapters and output layers
    are trained jointly on all corpora, in mixed mini-batches.

    The corpus of every row travels with the features as a column of a
    :class:`pandas.DataFrame` (as the speaker does for
    :class:`~sklearn_prognet.preprocessing.SpeakerStandardScaler`), so the
    estimator works in :func:`~sklearn.model_selection.cross_val_score` and
    pipelines.

    Read more in the :ref:`User Guide <multi_corpus>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    corpus_column : str or int, default='corpus'
        Name of the column of ``X`` that holds the corpus of each row. It is
        not a feature. The ids are strings or integers, all of one type, and
        kept as they are (``1`` and ``'1'`` are not merged: a column mixing
        them is refused, as is a column of floats). Every corpus needs at
        least two classes in ``y``; one corpus only gives a warning.
    {adapter_rank}
    {training_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels of all corpora together (their union), sorted.

    corpora_ : ndarray of shape (n_corpora,)
        The corpora seen in :term:`fit`, sorted.

    corpus_classes_ : dict of ndarray
        The labels of each corpus in the training data: the classes its
        output layer predicts.

    n_features_in_ : int
        Number of columns seen during :term:`fit`, the corpus column
        included.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the columns seen during :term:`fit`.

    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is the torch module.

    history_ : dict of ndarray
        Per-epoch learning curves: ``'epoch'``, ``'train_loss'``,
        ``'valid_loss'`` and ``'valid_uar'``.

    best_epoch_ : int
        Epoch whose weights were kept.

    n_iter_ : int
        Number of epochs run.

    n_trainable_params_ : int
        Number of parameters the optimizer updated.

    See Also
    --------
    ResidualAdapterClassifier : Adapters on a frozen source, one target.
    sklearn_prognet.preprocessing.SpeakerStandardScaler : Speaker ids as a
        DataFrame column, in the same way.

    Notes
    -----
    Each row is predicted by its corpus's output layer; ``predict_proba``
    gives probability 0 to the classes its corpus does not have, so the
    columns are always those of ``classes_``. A corpus unknown at
    :term:`fit` time is an error at prediction time.

    Mini-batches mix the corpora: every batch is drawn from all rows
    pooled, so each corpus weighs in proportion to its size. The validation
    set for early stopping is stratified by corpus and class (or holds out
    whole ``groups``), or is ``X_val`` (for example one corpus's validation
    fold, so that the best epoch is that corpus's); it is scored by the UAR
    of all its rows.

    The loss is the cross-entropy of each row over its corpus's classes
    (the others get -inf logits). ``label_smoothing`` spreads its mass over
    those classes only: a row of a corpus with ``K`` classes gets
    ``label_smoothing / K`` on each of them, never on another corpus's
    class, so the losses of ``history_`` stay finite.

    Dropout (``dropout``) applies after every hidden layer. Inputs should be
    standardised (for example per corpus, or per speaker), but never the
    corpus column: a numeric corpus column given to
    :class:`~sklearn_prognet.preprocessing.SpeakerStandardScaler` would be
    0.0 within every speaker, one corpus. Pass it through a
    :class:`~sklearn.compose.ColumnTransformer` unscaled, with pandas output
    (``ColumnTransformer([("scale", SpeakerStandardScaler(), features +
    ["speaker"]), ("corpus", "passthrough", ["corpus"])],
    verbose_feature_names_out=False).set_output(transform="pandas")``).

    References
    ----------
    .. [1] M. Gerczuk, S. Amiriparian, S. Ottl and B. Schuller, "EmoNet: A
       Transfer Learning Framework for Multi-Corpus Speech Emotion
       Recognition", IEEE Transactions on Affective Computing, 2021.
    .. [2] S.-A. Rebuffi, H. Bilen and A. Vedaldi, "Learning multiple visual
       domains with residual adapters", NeurIPS, 2017.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_prognet import MultiCorpusClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame(rng.normal(size=(120, 4)), columns=list("abcd"))
    >>> X["corpus"] = np.repeat(["emodb", "nemo"], 60)
    >>> y = np.where(X["a"] > 0, "angry", "sad")
    >>> y[60:][X["b"][60:] > 1] = "happy"
    >>> clf = MultiCorpusClassifier(hidden_layer_sizes=(16,), lr=0.01,
    ...                             max_epochs=30, random_state=0).fit(X, y)
    >>> clf.classes_.tolist()
    ['angry', 'happy', 'sad']
    >>> clf.corpus_classes_["emodb"].tolist()
    ['angry', 'sad']
    >>> clf.predict_proba(X.head(2)).round(2)[:, 1]
    array([0., 0.])
    >>> clf.score(X, y) > 0.8
    True
    """

    _parameter_constraints: dict = {
        # the training parameters; this network learns no ratings
        **{
            name: constraint
            for name, constraint in _BaseNetwork._parameter_constraints.items()
            if not name.startswith("dimensional_")
        },
        "corpus_column": [str, Integral],
        "adapter_rank": [IntervalNotBool(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        corpus_column="corpus",
        adapter_rank=_DEFAULT_RANK,
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
    ):
        self.corpus_column = corpus_column
        self.adapter_rank = adapter_rank
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # X must be a DataFrame with a corpus column: sklearn's common checks,
        # which pass plain arrays, skip the estimator; tests/test_adapters.py
        # checks its API by hand.
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = False
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, groups=None, X_val=None, y_val=None):
        """Train the trunk, and every corpus's adapters and output layer.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Numeric feature columns and the corpus column ``corpus_column``.

        y : array-like of shape (n_samples,)
            Target labels (strings or ints), in one label space shared by
            the corpora: ``'angry'`` in two corpora is one class.

        groups : array-like of shape (n_samples,), default=None
            Group (speaker) of every sample, used only to hold out whole
            groups for early stopping. Request it with
            ``set_fit_request(groups=True)`` when metadata routing is on.

        X_val : DataFrame of shape (n_val_samples, n_features), default=None
            Explicit validation data for early stopping, with the columns of
            ``X`` (the corpus column included); all of ``X`` is then used
            for training. Its rows may come from some of the corpora only:
            the rows of one corpus make the best epoch that corpus's.

        y_val : array-like of shape (n_val_samples,), default=None
            Labels of ``X_val``, each among its corpus's labels in ``y``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        job = self._prepare_fit(X, y, groups, X_val, y_val)
        # a fit alone is a stack of one: the loop of fit_batched
        (net,) = train_nets([job])
        return self._set_fitted(net)

    def _prepare_fit(self, X, y, groups=None, X_val=None, y_val=None):
        """Everything of ``fit`` before training: its training job.

        Validates the data, sets ``classes_``, ``corpora_`` and
        ``corpus_classes_``, and holds out the validation set. The batched
        engine (:func:`~sklearn_prognet.model_selection.fit_batched`) trains
        the nets of many prepared estimators at once, then calls
        :meth:`_set_fitted`, as ``fit`` does with its own net.
        """
        # A failed refit must not pair the old network with new classes_.
        for name in [k for k in vars(self) if k.endswith("_") and k[0] != "_"]:
            delattr(self, name)
        features, corpora = self._split(X, reset=True)
        y = column_or_1d(y, warn=True)
        check_consistent_length(features, y)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                "MultiCorpusClassifier needs at least 2 classes to train; y has "
                f"1 class: {encoder.classes_[0]!r}."
            )
        y = encoder.transform(y)
        corpus_names, codes = np.unique(corpora, return_inverse=True)
        _check_corpora(corpus_names, codes, y, encoder.classes_)
        if self.early_stopping and groups is None and X_val is None:
            strata = codes * len(encoder.classes_) + y
            _check_strata(strata, corpus_names, encoder.classes_)
        domain_classes = tuple(
            tuple(np.unique(y[codes == d]).tolist()) for d in range(len(corpus_names))
        )
        valid = None
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val to fit, or neither.")
        if X_val is not None:
            valid = self._validation_data(
                X_val, y_val, corpus_names, domain_classes, encoder
            )
        job = self._job(features, codes, y, groups, domain_classes, encoder, valid)
        self.classes_ = encoder.classes_
        self.corpora_ = corpus_names
        self.corpus_classes_ = {
            corpus: encoder.classes_[list(classes)]
            for corpus, classes in zip(corpus_names, domain_classes, strict=True)
        }
        return job

    def _set_fitted(self, net):
        """Set the fitted attributes from a trained skorch net; return self."""
        for name, value in fitted_attributes(net, self.early_stopping).items():
            setattr(self, name, value)
        return self

    def _validation_data(self, X_val, y_val, corpus_names, domain_classes, encoder):
        """``X_val`` and ``y_val`` as the module takes them, checked against fit's."""
        features, corpora = self._split(X_val, reset=False)
        y_val = column_or_1d(y_val, warn=True)
        if len(y_val) != len(features):
            raise ValueError(
                f"X_val has {len(features)} samples but y_val has {len(y_val)}."
            )
        unknown = _unknown(corpora, corpus_names)
        if unknown:
            raise ValueError(f"X_val has corpora that are not in X: {unknown}.")
        codes = np.searchsorted(corpus_names, corpora)
        for code, label in set(zip(codes.tolist(), y_val.tolist(), strict=True)):
            # a label its corpus's output layer cannot predict would make the
            # validation UAR of every epoch wrong by the same amount
            known = encoder.classes_[list(domain_classes[code])]
            if label not in known:
                raise ValueError(
                    f"y_val has label {label!r} for corpus "
                    f"{corpus_names[code]!r}, whose labels in y are "
                    f"{known.tolist()}."
                )
        return _with_codes(features, codes), encoder.transform(y_val)

    def _job(self, features, codes, y, groups, domain_classes, encoder, valid=None):
        """Split off the validation set; return its training job.

        ``valid``, the validation data of ``fit`` (``X_val``, ``y_val``),
        replaces the split: all rows train.
        """
        sizes = _check_layer_sizes(self.hidden_layer_sizes)
        _check_adapter_rank(self.adapter_rank, sizes)
        device = check_device(self.device)
        rng = check_random_state(self.random_state)
        inputs = _with_codes(features, codes)
        train = (inputs, y)
        if valid is None and self.early_stopping:
            # stratified by corpus and class, so every corpus is validated
            strata = codes * len(encoder.classes_) + y
            fit_rows, valid_rows = inner_validation_split(
                strata, groups, self.validation_fraction, rng
            )
            train = (inputs[fit_rows], y[fit_rows])
            valid = (inputs[valid_rows], y[valid_rows])
        plan = multi_domain_columns(
            sizes,
            self.activation,
            len(encoder.classes_),
            domain_classes,
            self.adapter_rank,
        )
        return {
            "plan": plan,
            "train": train,
            "valid": valid,
            "frozen_nets": (),
            "seed": rng.randint(np.iinfo(np.int32).max),
            "n_features": features.shape[1],
            "device": device,
            **training_options(self),
        }

    def predict_proba(self, X):
        """Predict class probabilities with each row's corpus's output layer.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Numeric feature columns and the corpus column, with the columns
            seen in :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``; 0 for
            the classes the row's corpus does not have.
        """
        check_is_fitted(self)
        features, corpora = self._split(X, reset=False)
        unknown = _unknown(corpora, self.corpora_)
        if unknown:
            raise ValueError(
                f"X has corpora that were not seen in fit: {unknown}; "
                f"the fitted corpora are {self.corpora_.tolist()}."
            )
        codes = np.searchsorted(self.corpora_, corpora)
        logits = predict_logits(self.net_, _with_codes(features, codes))
        return softmax(logits.astype(np.float64), axis=1)

    def predict(self, X):
        """Predict class labels with each row's corpus's output layer.

        Parameters
        ----------
        X : DataFrame of shape (n_samples, n_features)
            Numeric feature columns and the corpus column.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels, among the classes of each row's corpus.
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def _split(self, X, *, reset):
        """Validate X; return its features (float32) and corpus of each row."""
        corpora = group_column(
            X,
            self.corpus_column,
            owner="MultiCorpusClassifier",
            role="corpus",
            holds="corpus of each row in",
        )
        if corpora.isna().any():
            raise ValueError(
                f"The corpus column {self.corpus_column!r} has missing values."
            )
        validate_data(self, X, reset=reset, skip_check_array=True)
        features = X.drop(columns=self.corpus_column)
        bad = non_numeric_columns(features)
        if bad:
            raise ValueError(
                "All columns of X but the corpus column must be numeric; these "
                f"are not: {abbreviate(bad)}."
            )
        features = check_array(features, dtype=np.float32)
        return features, _corpus_ids(corpora)


def _check_adapter_rank(rank, widths):
    """Raise if an adapter would be wider than the layer it adapts.

    ``U V`` of rank ``r`` on a layer of ``w`` units is at most of rank ``w``:
    a larger ``r`` adds parameters (rank 1000 on 8-unit layers trains 30034
    against the source's 146) and nothing the layer can use.
    """
    widths = tuple(int(w) for w in widths)
    if widths and rank > min(widths):
        raise ValueError(
            f"adapter_rank={rank} is larger than the narrowest hidden layer "
            f"({min(widths)} units) of the network's hidden_layer_sizes "
            f"{widths}; an adapter's rank is at most its layer's width. Use "
            f"adapter_rank <= {min(widths)}."
        )


def _check_corpora(corpus_names, codes, y, classes):
    """Warn of a single corpus; raise for a corpus with one class."""
    if len(corpus_names) == 1:
        warn(
            f"X holds one corpus, {corpus_names[0]!r}: there is nothing to share "
            "a trunk with (if the corpus column should hold several, check that "
            "no step before this one changed it)."
        )
    for d, corpus in enumerate(corpus_names):
        labels = np.unique(y[codes == d])
        if len(labels) == 1:
            # its output layer has one class: the loss of its rows is 0
            # whatever the weights, and their predictions are constant
            raise ValueError(
                f"MultiCorpusClassifier needs at least 2 classes in every "
                f"corpus; corpus {corpus!r} has one class, "
                f"{classes[labels[0]]!r}."
            )


def _corpus_ids(corpora):
    """The corpus of each row as an array of str or of int ids, never merged.

    Converting the ids to one type would merge corpora: 1 and '1' would be
    one corpus, and so would the 0.0 of every row of a numeric corpus column
    that a scaler standardised within each speaker.
    """
    name = corpora.name
    if pd.api.types.is_float_dtype(corpora.dtype):
        raise ValueError(
            f"The corpus column {name!r} holds floats (such as "
            f"{corpora.iloc[0]!r}); corpus ids are labels, strings or integers. "
            "A scaler's output would be floats: never scale it, pass it "
            "through unscaled (for example with a ColumnTransformer's "
            "'passthrough' and pandas output)."
        )
    values = corpora.to_numpy(dtype=object)
    kinds = {
        "str" if isinstance(v, str) else "int" if isinstance(v, Integral) else
        type(v).__name__
        for v in values
    }  # fmt: skip
    if len(kinds) > 1:
        raise ValueError(
            f"The corpus column {name!r} mixes corpus ids of types "
            f"{' and '.join(sorted(kinds))}; ids of different types (1 and '1') "
            "would name different corpora. Use one type."
        )
    # object arrays of Python str or int: messages show 'a' and 1, not
    # np.str_('a') and np.int64(1)
    if kinds == {"str"}:
        return np.array([str(v) for v in values], dtype=object)
    if kinds == {"int"} and not pd.api.types.is_bool_dtype(corpora.dtype):
        return np.array([int(v) for v in values], dtype=object)
    raise ValueError(
        f"The corpus column {name!r} holds {kinds.pop()} values; corpus ids "
        "are strings or integers."
    )


def _unknown(corpora, known):
    """The ids among ``corpora`` that are not in ``known`` (1 is not '1')."""
    known = set(np.asarray(known).tolist())
    return [c for c in dict.fromkeys(corpora.tolist()) if c not in known]


def _check_strata(strata, corpus_names, classes):
    """Raise if a corpus has a class too rare to stratify the validation split."""
    values, counts = np.unique(strata, return_counts=True)
    if counts.min() < 2:
        corpus, label = divmod(values[counts.argmin()], len(classes))
        raise ValueError(
            "early_stopping holds out a validation set stratified by corpus and "
            f"class, which needs at least 2 samples of each; corpus "
            f"{corpus_names[corpus]!r} has 1 sample of class {classes[label]!r}. "
            "Pass groups, or set early_stopping=False."
        )


def _with_codes(features, codes):
    """The features with the corpus code as last column, as the module takes it."""
    return np.hstack([features, codes[:, None].astype(np.float32)])
