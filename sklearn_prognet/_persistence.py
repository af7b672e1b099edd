# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Save fitted models with skops, and load them back, with a model card.

A pickle (or ``torch.save``) runs arbitrary code when it is loaded, so a
model file shared with others is written with :mod:`skops.io` instead: a zip
archive of a JSON schema and numpy arrays, which skops rebuilds only from
types the caller trusts. skops has no handler for torch or skorch objects,
so before the dump every skorch net of the model is replaced by a
:class:`_StoredNet`: the qualified names of its classes (each one of a
short list, checked again on load), the constructor arguments of its module
as tagged JSON, and its ``state_dict`` as numpy arrays. A torch device or
tensor elsewhere in the model is stored as a :class:`_StoredTorchValue`.
:func:`load_model` checks the file before skops reads it, then rebuilds
every net as a skorch net in eval mode on CPU.
"""

import copy
import datetime
import importlib
import inspect
import json
import os
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet

import sklearn_prognet
from sklearn_prognet._moved import current_name
from sklearn_prognet.utils._docstring import Substitution

# The format of what save_model writes. Bump it when a change would make an
# older release misread a new file (new stored classes, renamed fields).
FORMAT_VERSION = 1
# Format versions this release reads.
_READABLE_FORMATS = (1,)

# The zip member that save_model adds beside skops's own: read (as plain
# JSON) before skops looks at the file, so that a file of a newer format is
# refused for its version, not for types this release does not know.
_METADATA_MEMBER = "sklearn_prognet.json"

_INSTALL_HINT = 'pip install "sklearn-prognet[persist]"'
# The docstrings of save_model and load_model say so (a @Substitution field).
_NEEDS_SKOPS = f"Needs the optional dependency skops: ``{_INSTALL_HINT}``."

# The types a saved model may contain besides those skops trusts by default
# (scikit-learn's estimators, numpy's arrays and Python's builtins). Every
# type skops reports as untrusted must be one of these, or load_model refuses
# the file.
TRUSTED_TYPES = (
    "sklearn_prognet.networks._estimators.DNNClassifier",
    "sklearn_prognet.networks._estimators.FineTunedClassifier",
    "sklearn_prognet.networks._estimators.ProgressiveNetClassifier",
    "sklearn_prognet.networks._adapters.ResidualAdapterClassifier",
    "sklearn_prognet.networks._adapters.MultiCorpusClassifier",
    "sklearn_prognet.features._features.EGeMAPSTransformer",
    "sklearn_prognet.features._embeddings.SpeechEmbeddingTransformer",
    "sklearn_prognet.features._embeddings.TextEmbeddingTransformer",
    "sklearn_prognet.features._speaker.SpeakerEncoderTransformer",
    "sklearn_prognet.preprocessing.SpeakerStandardScaler",
    "sklearn_prognet._persistence._StoredNet",
    "sklearn_prognet._persistence._StoredTorchValue",
    # scikit-learn's score functions of SelectKBest and its kind, which skops
    # does not trust by default
    "sklearn.feature_selection._univariate_selection.chi2",
    "sklearn.feature_selection._univariate_selection.f_classif",
    "sklearn.feature_selection._univariate_selection.f_regression",
    "sklearn.feature_selection._univariate_selection.r_regression",
    "sklearn.feature_selection._mutual_info.mutual_info_classif",
    "sklearn.feature_selection._mutual_info.mutual_info_regression",
)

# The classes a stored net may name, checked before any is imported.
_NET_CLASSES = (
    "sklearn_prognet.networks._training.ProgressiveNetTrainer",
    "sklearn_prognet.networks._training.MultiTaskTrainer",
)
_MODULE_CLASSES = (
    "sklearn_prognet.networks._modules.ProgressiveNet",
    "sklearn_prognet.networks._adapter_modules.AdaptedNet",
)
_CRITERION_CLASSES = (
    "sklearn_prognet.networks._modules.SmoothedCrossEntropyLoss",
    "sklearn_prognet.networks._multitask.MultiTaskLoss",
)
_OPTIMIZER_CLASSES = ("torch.optim.adam.Adam",)
_ITERATOR_CLASSES = ("sklearn_prognet.networks._training.TensorBatchIterator",)
# The NamedTuples that module arguments may hold.
_NAMED_TUPLES = ("sklearn_prognet.networks._modules.ColumnSpec",)

# The net parameters kept: those that change what the net computes or how
# it would train, not its callbacks or validation data.
_NET_PARAM_PREFIXES = (
    "criterion__",
    "optimizer__",
    "iterator_train__",
    "iterator_valid__",
)
_NET_PARAMS = ("lr", "batch_size", "max_epochs")

# Versions written into the metadata and the model card.
_VERSIONED_PACKAGES = (
    "sklearn_prognet",
    "scikit-learn",
    "torch",
    "skorch",
    "skops",
    "numpy",
)


def _is_kept(key):
    """Whether save_model stores the net parameter ``key``."""
    return key in _NET_PARAMS or key.startswith(_NET_PARAM_PREFIXES)


def _import_skops():
    try:
        import skops.io
    except ImportError as error:
        raise ImportError(
            "Saving and loading models needs skops, an optional dependency: "
            f"{_INSTALL_HINT}"
        ) from error
    return skops.io


def _qualified_name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _import_class(name, allowed, what):
    """The class called ``name``, which must be one of ``allowed``.

    A name of 0.1.0, whose module has moved since, counts as its new name.
    """
    current = current_name(name)
    if current not in allowed:
        raise ValueError(
            f"The model file names {what} {name!r}, which is not one of "
            f"sklearn_prognet's ({', '.join(allowed)}); the file may not come "
            "from sklearn_prognet.save_model."
        )
    module, _, qualname = current.rpartition(".")
    return getattr(importlib.import_module(module), qualname)


# -- module arguments as tagged JSON -----------------------------------------


def _encode(value):
    """A JSON-ready form of a module argument; tuples and NamedTuples tagged."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        name = _qualified_name(type(value))
        if name not in _NAMED_TUPLES:
            raise TypeError(f"Cannot store a {name} in a model file.")
        fields = {
            field: _encode(item)
            for field, item in zip(value._fields, value, strict=True)
        }
        return {"namedtuple": name, "fields": fields}
    if isinstance(value, tuple):
        return {"tuple": [_encode(item) for item in value]}
    if isinstance(value, list):
        return {"list": [_encode(item) for item in value]}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"dict": {key: _encode(item) for key, item in value.items()}}
    raise TypeError(
        f"Cannot store a {type(value).__name__} ({value!r}) in a model file: "
        "network arguments must be numbers, strings, tuples, lists or dicts."
    )


def _decode(value):
    """The inverse of :func:`_encode`."""
    if not isinstance(value, dict):
        return value
    if "namedtuple" in value:
        cls = _import_class(value["namedtuple"], _NAMED_TUPLES, "the tuple type")
        return cls(**{key: _decode(item) for key, item in value["fields"].items()})
    if "tuple" in value:
        return tuple(_decode(item) for item in value["tuple"])
    if "list" in value:
        return [_decode(item) for item in value["list"]]
    return {key: _decode(item) for key, item in value["dict"].items()}


# -- the torch-free form ------------------------------------------------------


class _StoredNet:
    """A fitted skorch net as plain values: class names, JSON and arrays.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialised net of one of the package's trainer classes.
    """

    def __init__(self, net):
        module = net.module_
        for name, allowed in (
            (_qualified_name(type(net)), _NET_CLASSES),
            (_qualified_name(type(module)), _MODULE_CLASSES),
        ):
            if name not in allowed:
                raise TypeError(
                    f"Cannot save a net built from {name}: save_model stores "
                    f"the package's own networks ({', '.join(allowed)})."
                )
        params = net.get_params(deep=False)
        self.net_class = _qualified_name(type(net))
        self.module_class = _qualified_name(type(module))
        self.criterion_class = _qualified_name(net.criterion)
        self.optimizer_class = _qualified_name(net.optimizer)
        self.iterator_classes = json.dumps(
            {
                key: _qualified_name(params[key])
                for key in ("iterator_train", "iterator_valid")
                if params[key] is not None
                and _qualified_name(params[key]) in _ITERATOR_CLASSES
            }
        )
        self.module_kwargs = json.dumps(
            {
                key.removeprefix("module__"): _encode(value)
                for key, value in params.items()
                if key.startswith("module__")
            }
        )
        self.net_params = json.dumps(
            {
                key: _encode(value)
                for key, value in params.items()
                if _is_kept(key)
                and (value is None or isinstance(value, (bool, int, float, str)))
            }
        )
        self.device = str(net.device)
        self.state = {
            key: tensor.detach().cpu().numpy().copy()
            for key, tensor in module.state_dict().items()
        }

    def rebuild(self):
        """The skorch net, with its module's weights, in eval mode on CPU."""
        net_class = _import_class(self.net_class, _NET_CLASSES, "the net class")
        module_class = _import_class(self.module_class, _MODULE_CLASSES, "the module")
        criterion = _import_class(self.criterion_class, _CRITERION_CLASSES, "the loss")
        optimizer = _import_class(
            self.optimizer_class, _OPTIMIZER_CLASSES, "the optimizer"
        )
        iterators = {
            key: _import_class(name, _ITERATOR_CLASSES, "the iterator")
            for key, name in json.loads(self.iterator_classes).items()
        }
        module_kwargs = {
            f"module__{key}": _decode(value)
            for key, value in json.loads(self.module_kwargs).items()
        }
        net_params = {
            key: _decode(value) for key, value in json.loads(self.net_params).items()
        }
        # what save_model keeps, and nothing else (callbacks, compile, ...)
        foreign = sorted(key for key in net_params if not _is_kept(key))
        if foreign:
            raise ValueError(
                f"The model file sets net parameters {foreign} that "
                "sklearn_prognet.save_model never stores; the file may not come "
                "from sklearn_prognet.save_model."
            )
        net = net_class(
            module=module_class,
            criterion=criterion,
            optimizer=optimizer,
            **iterators,
            # A loaded net predicts; validation and logging are training's.
            train_split=None,
            callbacks="disable",
            device="cpu",
            verbose=0,
            **net_params,
            **module_kwargs,
        )
        net.initialize()
        state = {
            key: torch.from_numpy(np.array(value)) for key, value in self.state.items()
        }
        net.module_.load_state_dict(state, strict=True)
        net.module_.train(False)
        return net


class _StoredTorchValue:
    """A torch device, dtype or tensor as a string or a numpy array."""

    def __init__(self, value):
        if isinstance(value, torch.device):
            self.kind, self.value = "device", str(value)
        elif isinstance(value, torch.dtype):
            self.kind, self.value = "dtype", str(value).removeprefix("torch.")
        else:
            self.kind, self.value = "tensor", value.detach().cpu().numpy().copy()

    def rebuild(self):
        if self.kind == "device":
            return torch.device(self.value)
        if self.kind == "dtype":
            dtype = getattr(torch, self.value, None)
            if not isinstance(dtype, torch.dtype):
                raise ValueError(
                    f"The model file names an unknown torch dtype {self.value!r}."
                )
            return dtype
        return torch.from_numpy(np.array(self.value))


# The attribute in which set_fit_request & co. keep an estimator's requests.
_REQUESTS = "_metadata_request"


def _is_torch(value):
    return type(value).__module__.partition(".")[0] in ("torch", "skorch")


def _stored_forms(model):
    """Map ``id`` of every torch object in the model to its stored form.

    Walks estimators' attributes (fitted or not: ``net_``, ``sources_``, the
    ``sources`` parameter, a Pipeline's steps) and lists, tuples, sets and
    dicts. Used as the memo of :func:`copy.deepcopy`, so that the copy holds
    the stored forms and the user's nets are neither copied nor changed.
    """
    memo, seen = {}, set()

    def walk(value, where):
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, NeuralNet):
            memo[id(value)] = _StoredNet(value)
        elif isinstance(value, (torch.device, torch.dtype, torch.Tensor)):
            memo[id(value)] = _StoredTorchValue(value)
        elif _is_torch(value):
            raise TypeError(
                f"Cannot save {where}, a {_qualified_name(type(value))}: "
                "save_model stores skorch nets, torch devices and tensors only."
            )
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}[{key!r}]")
        elif isinstance(value, (list, tuple, set, frozenset)):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]")
        elif isinstance(value, BaseEstimator):
            for key, item in vars(value).items():
                if key == _REQUESTS:
                    # skops recurses without end into sklearn's request
                    # objects; metadata requests are for fitting, not
                    # predicting, so the file leaves them out.
                    memo[id(item)] = None
                    continue
                walk(item, f"{where}.{key}")

    walk(model, "the model")
    return memo


def _restore(value, done):
    """Rebuild, in place, every stored torch object of a loaded model."""
    if id(value) in done:
        return done[id(value)]
    done[id(value)] = value
    if isinstance(value, (_StoredNet, _StoredTorchValue)):
        done[id(value)] = value.rebuild()
    elif isinstance(value, dict):
        for key, item in value.items():
            value[key] = _restore(item, done)
    elif isinstance(value, list):
        value[:] = [_restore(item, done) for item in value]
    elif isinstance(value, tuple):
        items = [_restore(item, done) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            done[id(value)] = (
                type(value)(items) if type(value) is tuple else type(value)._make(items)
            )
    elif isinstance(value, BaseEstimator):
        if _REQUESTS in vars(value) and getattr(value, _REQUESTS) is None:
            delattr(value, _REQUESTS)  # left out by save_model
        for key, item in vars(value).items():
            setattr(value, key, _restore(item, done))
    return done[id(value)]


# -- saving --------------------------------------------------------------------


@Substitution(needs_skops=_NEEDS_SKOPS)
def save_model(model, path, *, card=None):
    """Save a fitted model with skops, and a model card beside it.

    The model is written with :mod:`skops.io`, whose loading runs no code
    from the file, after every skorch net in it is turned into plain values:
    the names of its classes, its module's constructor arguments and its
    weights as numpy arrays. The model itself is not changed. The model card,
    a Markdown file with the same name and the suffix ``.md``
    (``model.skops`` -> ``model.md``), states the classes, the pipeline's
    steps and their settings, the package versions and the facts of ``card``.
    Both files are written to temporary files first and then renamed, so an
    interrupted save leaves no half-written file.

    {needs_skops}

    Read more in the :ref:`User Guide <save_and_load>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    model : estimator
        A fitted estimator or :class:`~sklearn.pipeline.Pipeline` (with
        feature unions, column transformers, ...) of scikit-learn's and this
        package's estimators and transformers.

    path : str or path-like
        The model file to write, by convention with the suffix ``.skops``.
        An existing file is replaced.

    card : dict, default=None
        Facts the model cannot tell about itself, for the model card. The
        keys ``'corpus'``, ``'class_counts'`` (a dict of class to number of
        training samples), ``'features'``, ``'method'``, ``'settings'`` (a
        dict), ``'cv_uar'`` (the cross-validated UAR, a number or a string
        such as ``'0.61 +/- 0.03'``) and ``'licence'`` (of the training
        data) get their own lines; any other key is listed under "Other
        details".

    Returns
    -------
    card_path : pathlib.Path
        The path of the model card.

    See Also
    --------
    load_model : Load a model saved by this function.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_prognet import DNNClassifier, load_model, save_model
    >>> from sklearn_prognet.datasets import load_emodb_features
    >>> emodb = load_emodb_features()
    >>> model = make_pipeline(StandardScaler(), DNNClassifier(
    ...     hidden_layer_sizes=(16,), max_epochs=5, random_state=0))
    >>> model = model.fit(emodb.data, emodb.target)
    >>> folder = Path(tempfile.mkdtemp())
    >>> save_model(model, folder / "emodb.skops").name
    'emodb.md'
    >>> load_model(folder / "emodb.skops").predict(emodb.data[:3]).shape
    (3,)
    """
    sio = _import_skops()
    if card is not None and not isinstance(card, dict):
        raise TypeError(f"card must be a dict or None, got {type(card).__name__}.")
    check_is_fitted(model)
    path = Path(path)
    card_path = _card_path(path)

    stored = copy.deepcopy(model, memo=_stored_forms(model))
    document = {
        "format_version": FORMAT_VERSION,
        "sklearn_prognet_version": sklearn_prognet.__version__,
        "model": stored,
    }
    versions = _versions()
    metadata_ = {
        "format_version": FORMAT_VERSION,
        "sklearn_prognet_version": sklearn_prognet.__version__,
        "versions": versions,
    }
    text = model_card(model, path.name, card or {}, versions)
    with _atomic(path) as model_file, _atomic(card_path) as card_file:
        sio.dump(document, model_file)
        with zipfile.ZipFile(model_file, "a") as archive:
            archive.writestr(_METADATA_MEMBER, json.dumps(metadata_, indent=2))
        Path(card_file).write_text(text, encoding="utf-8")
    return card_path


def _card_path(path):
    card_path = path.with_suffix(".md")
    if card_path == path:
        raise ValueError(
            f"path={str(path)!r} ends in .md, the suffix of the model card "
            "written beside it; save the model as a .skops file."
        )
    return card_path


class _atomic:
    """A temporary file beside ``path``, renamed to it if all went well."""

    def __init__(self, path):
        self.path = path

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, self.temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".part"
        )
        os.close(handle)
        return self.temporary

    def __exit__(self, kind, error, traceback):
        if kind is None:
            os.replace(self.temporary, self.path)
        else:
            Path(self.temporary).unlink(missing_ok=True)
        return False


def _versions():
    versions = {}
    for name in _VERSIONED_PACKAGES:
        if name == "sklearn_prognet":
            versions[name] = sklearn_prognet.__version__
            continue
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


# -- the model card --------------------------------------------------------------

_CARD_FACTS = (
    ("corpus", "Corpus"),
    ("features", "Features"),
    ("method", "Method"),
    ("cv_uar", "Cross-validated UAR"),
    ("licence", "Licence of the training data"),
)


def model_card(model, file_name, facts, versions):
    """The Markdown model card of ``model``.

    Parameters
    ----------
    model : estimator
        The fitted model.
    file_name : str
        Name of the model file.
    facts : dict
        The ``card`` of :func:`save_model`.
    versions : dict of str
        Package versions.

    Returns
    -------
    text : str
    """
    facts = dict(facts)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Model card: {file_name}",
        "",
        f"A {_describe(model)} saved by sklearn_prognet {versions['sklearn_prognet']} "
        f"on {now}, in the skops format (model file format {FORMAT_VERSION}).",
        *_heading("Classes"),
    ]
    counts = facts.pop("class_counts", None) or {}
    classes = getattr(model, "classes_", None)
    if classes is None and counts:
        classes = list(counts)
    if classes is None:
        lines.append("Not a classifier (the model has no `classes_`).")
    else:
        lines += ["| class | training samples |", "|---|---|"]
        lines += [f"| {c} | {counts.get(_plain(c), 'not stated')} |" for c in classes]
    lines += _heading("Training data and method")
    for key, label in _CARD_FACTS:
        value = facts.pop(key, None)
        lines.append(f"- {label}: {'not stated' if value is None else _text(value)}")
    settings = facts.pop("settings", None)
    if settings:
        lines += ["", "Settings:", ""]
        lines += [f"- `{key}`: {_text(value)}" for key, value in settings.items()]
    if facts:
        lines += _heading("Other details", level=3)
        lines += [f"- {key}: {_text(value)}" for key, value in facts.items()]
    lines += _heading("Steps")
    lines += ["| step | estimator | settings (non-default) |", "|---|---|---|"]
    for name, step in _steps(model):
        changed = _changed_params(step)
        text = ", ".join(f"`{k}={_short(v)}`" for k, v in changed.items()) or "defaults"
        lines.append(f"| {name} | {type(step).__name__} | {text} |")
    lines += _heading("Software")
    lines += ["| package | version |", "|---|---|"]
    lines += [f"| {name} | {version} |" for name, version in versions.items()]
    lines += _heading("Loading")
    lines += [
        "```python",
        "from sklearn_prognet import load_model",
        "",
        f'model = load_model("{file_name}")',
        "```",
        "",
        "`load_model` refuses files that contain types outside sklearn_prognet's "
        "trusted list, and files of an incompatible format version.",
        "",
    ]
    return "\n".join(lines)


def _heading(title, level=2):
    """The lines of a Markdown heading, with a blank line on either side."""
    return ["", f"{'#' * level} {title}", ""]


def _describe(model):
    steps = getattr(model, "steps", None)
    if steps:
        names = " -> ".join(type(step).__name__ for _, step in steps)
        return f"{type(model).__name__} ({names})"
    return type(model).__name__


def _steps(model):
    steps = getattr(model, "steps", None)
    if steps:
        return [(name, step) for name, step in steps if hasattr(step, "get_params")]
    return [("model", model)]


def _changed_params(estimator):
    """The parameters of ``estimator`` that differ from their defaults."""
    try:
        defaults = {
            name: parameter.default
            for name, parameter in inspect.signature(
                type(estimator).__init__
            ).parameters.items()
        }
    except (TypeError, ValueError):
        defaults = {}
    changed = {}
    for name, value in estimator.get_params(deep=False).items():
        default = defaults.get(name, inspect.Parameter.empty)
        if default is inspect.Parameter.empty or repr(value) != repr(default):
            changed[name] = value
    return changed


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _text(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def _short(value, limit=80):
    text = " ".join(repr(value).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- loading ---------------------------------------------------------------------


@Substitution(needs_skops=_NEEDS_SKOPS)
def load_model(path):
    """Load a model saved by :func:`save_model`.

    The file is checked before anything in it is rebuilt: it must be a skops
    file written by :func:`save_model`, of a format this release reads, and
    contain only types of the package's trusted list (this package's
    estimators and transformers, and the scikit-learn and numpy types skops
    trusts). The networks come back as skorch nets in eval mode on CPU, with
    their weights, so the model predicts as the one that was saved.

    {needs_skops}

    Read more in the :ref:`User Guide <save_and_load>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    path : str or path-like
        The model file.

    Returns
    -------
    model : estimator
        The fitted model, for example a
        :class:`~sklearn.pipeline.Pipeline` whose ``predict`` takes what
        the saved one took (audio file paths for a pipeline that starts with
        :class:`~sklearn_prognet.EGeMAPSTransformer`).

    Raises
    ------
    ValueError
        If the file is not a model file of :func:`save_model`, is of a
        format this release cannot read, or names types outside the trusted
        list.

    See Also
    --------
    save_model : Save a fitted model and its model card.

    Examples
    --------
    See :func:`save_model`.
    """
    sio = _import_skops()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {str(path)!r}.")
    _check_format(path, _read_metadata(path))
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise ValueError(
            f"{str(path)!r} is not a readable skops file: {error}"
        ) from error
    # the files of 0.1.0 name the modules of that release (sklearn_prognet._moved)
    foreign = sorted(
        name for name in set(untrusted) if current_name(name) not in TRUSTED_TYPES
    )
    if foreign:
        raise ValueError(
            f"Refusing to load {str(path)!r}: it contains types outside "
            f"sklearn_prognet's trusted list: {', '.join(foreign)}. The file may "
            "not come from sklearn_prognet.save_model, or it was changed since."
        )
    try:
        document = sio.load(path, trusted=list(untrusted))
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise ValueError(
            f"{str(path)!r} is not a readable skops file: {error}"
        ) from error
    if not isinstance(document, dict) or "model" not in document:
        raise ValueError(
            f"{str(path)!r} is a skops file, but not one written by "
            "sklearn_prognet.save_model."
        )
    _check_format(path, document)
    return _restore(document["model"], {})


def _read_metadata(path):
    """The JSON that save_model adds to the zip; errors name the file."""
    not_ours = (
        f"{str(path)!r} is not a model file written by sklearn_prognet.save_model"
    )
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as file:
            head = file.read(2)
        kind = "a pickle" if head[:1] == b"\x80" else "not a skops (zip) file"
        raise ValueError(
            f"{not_ours}: it is {kind}. sklearn_prognet loads only skops files, "
            "which, unlike pickles, cannot run code when they are loaded."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read(_METADATA_MEMBER))
    except KeyError:
        raise ValueError(f"{not_ours}: it has no {_METADATA_MEMBER}.") from None
    except (zipfile.BadZipFile, json.JSONDecodeError, OSError) as error:
        raise ValueError(f"{not_ours}: {error}.") from error


def _check_format(path, found):
    version = found.get("format_version")
    if version not in _READABLE_FORMATS:
        written_by = found.get("sklearn_prognet_version", "an unknown version")
        raise ValueError(
            f"{str(path)!r} has model file format {version!r}, written by "
            f"sklearn_prognet {written_by}; this is sklearn_prognet "
            f"{sklearn_prognet.__version__}, which reads format "
            f"{', '.join(map(str, _READABLE_FORMATS))}. Load it with the release "
            "that saved it, or save the model again with this one."
        )
