# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""The training knobs of the network estimators, declared once.

A knob is a training parameter that every network estimator takes
(``dropout``, ``lr``, ``input_noise``, ...). :data:`KNOBS` declares each one
once: its name, the type of its values, its default, its scikit-learn
constraints, a line of help, and the roles it plays. The places that used
to list the knobs by hand read them from here:

- every knob: the network estimators' ``_parameter_constraints``
  (:func:`parameter_constraints`);
- :data:`ENGINE`: passed to the training engine, by ``training_options``
  of ``_estimators.py``;
- :data:`STACK`: must be equal for networks to be trained in one stack of
  the batched engine (``_SHARED`` of ``_batched.py``);
- :data:`PRESET`: a preset sets it (:mod:`sklearn_prognet.presets`);
- :data:`FLAG`: a network flag of the command line, given over a preset
  (``NETWORK_FLAGS`` of ``experiments/cli.py``; its help is this help);
- :data:`RECORDED`: every run records it in its configuration, with its
  default when no one set it (``NETWORK_SETTINGS`` of
  ``experiments/_fits.py``). A preset's other knobs are recorded only when
  a preset sets them (``TRAINING_OPTIONS``), so that the configuration of a
  run without a preset stays that of the runs from before they existed.

The estimators' signatures and numpydoc parameter text stay written out, as
scikit-learn wants them (``_TRAINING_PARAMETERS`` in ``_estimators.py`` is
written once and shared by every network); ``tests/test_knobs.py`` checks
that every network estimator's defaults and constraints agree with this
declaration, and that every derived list follows it.

This module never imports torch when it is imported: the presets and the
command line read it.
"""

from dataclasses import dataclass
from numbers import Integral, Real

from sklearn_prognet.utils._compat import Interval, StrOptions

__all__ = [
    "ENGINE",
    "FLAG",
    "KNOBS",
    "PRESET",
    "RECORDED",
    "STACK",
    "TORCH_DEVICE",
    "Knob",
    "defaults",
    "names",
    "parameter_constraints",
]

ENGINE = "engine"
STACK = "stack"
PRESET = "preset"
FLAG = "flag"
RECORDED = "recorded"
_ROLES = (ENGINE, STACK, PRESET, FLAG, RECORDED)

#: Stands for :class:`torch.device` in a constraint: this module cannot name
#: it without importing torch. :func:`parameter_constraints` resolves it.
TORCH_DEVICE = "torch.device"


@dataclass(frozen=True)
class Knob:
    """One training knob: what it is, and where it is used.

    Parameters
    ----------
    name : str
        The estimators' parameter name (skorch's where skorch has one).
    type : type
        The type of its values (``tuple`` for layer widths).
    default : object
        The default of every network estimator.
    constraints : tuple
        scikit-learn parameter constraints of the value
        (``sklearn.utils._param_validation``).
    help : str
        One line of help, without the default (the command line's help).
    roles : tuple of str, default=()
        Among :data:`ENGINE`, :data:`STACK`, :data:`PRESET`, :data:`FLAG` and
        :data:`RECORDED`.
    """

    name: str
    type: type
    default: object
    constraints: tuple
    help: str
    roles: tuple = ()

    def __post_init__(self):
        unknown = set(self.roles) - set(_ROLES)
        if unknown:
            raise ValueError(
                f"Knob {self.name!r} has unknown role(s) {sorted(unknown)}; "
                f"known: {list(_ROLES)}."
            )


_PROBABILITY = Interval(Real, 0, 1, closed="left")
_NON_NEGATIVE = Interval(Real, 0, None, closed="left")
_AT_LEAST_ONE = Interval(Integral, 1, None, closed="left")

#: Every training knob, in the order of the estimators' signatures. The
#: defaults are the paper's Table 1 (Gideon et al. 2017) and our choices
#: where it is silent; the estimators' docstrings say which is which.
KNOBS = (
    Knob(
        "hidden_layer_sizes",
        tuple,
        (256, 256, 256, 256),
        ("array-like",),
        "hidden layer widths, e.g. 256,256,256,256 or 256x4",
        (PRESET, FLAG, RECORDED),
    ),
    Knob(
        "activation",
        str,
        "sigmoid",
        (StrOptions({"sigmoid", "tanh", "relu"}),),
        "hidden activation",
        (PRESET, FLAG, RECORDED),
    ),
    Knob(
        "dropout",
        float,
        0.5,
        (_PROBABILITY,),
        "dropout rate",
        (ENGINE, STACK, PRESET, FLAG, RECORDED),
    ),
    Knob(
        "lr",
        float,
        0.0005,
        (Interval(Real, 0, None, closed="neither"),),
        "Adam learning rate",
        (ENGINE, STACK, PRESET, FLAG, RECORDED),
    ),
    Knob(
        "batch_size",
        int,
        64,
        (_AT_LEAST_ONE,),
        "mini-batch size",
        (ENGINE, STACK, PRESET, FLAG, RECORDED),
    ),
    Knob(
        "max_epochs",
        int,
        600,
        (_AT_LEAST_ONE,),
        "maximum epochs",
        (ENGINE, STACK, PRESET, FLAG, RECORDED),
    ),
    Knob(
        "patience",
        int,
        100,
        (_AT_LEAST_ONE,),
        "early stopping: epochs without improvement of the validation-fold UAR",
        # the engine gets None without early stopping (training_options)
        (ENGINE, STACK, PRESET, FLAG, RECORDED),
    ),
    Knob(
        "early_stopping",
        bool,
        True,
        ("boolean",),
        "stop on the validation UAR and keep the best epoch's weights",
        (PRESET,),
    ),
    Knob(
        "validation_fraction",
        float,
        0.1,
        (Interval(Real, 0, 1, closed="neither"),),
        "share of the training data held out for early stopping",
        (PRESET,),
    ),
    Knob(
        "device",
        str,
        "cpu",
        (str, TORCH_DEVICE),
        "torch device",
        # checked by the estimator, then put in the engine's job as it is
        (STACK,),
    ),
    Knob(
        "verbose",
        int,
        0,
        ("verbose",),
        "print skorch's per-epoch table when positive",
        (ENGINE,),
    ),
    Knob(
        "input_dropout",
        float,
        0.0,
        (_PROBABILITY,),
        "dropout rate on the input features",
        (ENGINE, STACK, PRESET),
    ),
    Knob(
        "weight_decay",
        float,
        0.0,
        (_NON_NEGATIVE,),
        "decoupled weight decay (AdamW)",
        (ENGINE, STACK, PRESET),
    ),
    Knob(
        "input_noise",
        float,
        0.0,
        (_NON_NEGATIVE,),
        "standard deviation of Gaussian noise on the input features",
        (ENGINE, STACK, PRESET),
    ),
    Knob(
        "label_smoothing",
        float,
        0.0,
        (_PROBABILITY,),
        "label smoothing of the cross-entropy loss",
        (ENGINE, STACK, PRESET),
    ),
    Knob(
        "dimensional_weight",
        float,
        0.0,
        (_NON_NEGATIVE,),
        "weight of the loss on the ratings (multi-task learning)",
    ),
    Knob(
        "dimensional_loss",
        str,
        "mse",
        (StrOptions({"mse", "ccc"}),),
        "the loss on the ratings",
    ),
)


def names(role):
    """The names of the knobs that have ``role``, in the order of :data:`KNOBS`.

    Parameters
    ----------
    role : str
        One of :data:`ENGINE`, :data:`STACK`, :data:`PRESET`, :data:`FLAG`
        and :data:`RECORDED`.

    Returns
    -------
    names : tuple of str
        The knobs' names.

    Examples
    --------
    >>> from sklearn_prognet.networks._knobs import FLAG, names
    >>> names(FLAG)[:4]
    ('hidden_layer_sizes', 'activation', 'dropout', 'lr')
    """
    if role not in _ROLES:
        raise ValueError(f"role={role!r} is not a role; choose among {list(_ROLES)}.")
    return tuple(knob.name for knob in KNOBS if role in knob.roles)


def defaults(which=None):
    """Knob name -> its default, for the knobs ``which`` (every knob by default).

    Parameters
    ----------
    which : iterable of str, default=None
        The knobs, in the order wanted.

    Returns
    -------
    defaults : dict
        The defaults of every network estimator.

    Examples
    --------
    >>> from sklearn_prognet.networks._knobs import defaults
    >>> defaults(["lr", "batch_size"])
    {'lr': 0.0005, 'batch_size': 64}
    """
    known = {knob.name: knob.default for knob in KNOBS}
    return known if which is None else {name: known[name] for name in which}


def parameter_constraints():
    """Knob name -> its constraints, as ``_parameter_constraints`` holds them.

    torch is imported here, by the estimator modules that import it anyway
    (never with this module): ``device`` also accepts a :class:`torch.device`.

    Returns
    -------
    constraints : dict of list
        The constraints of every knob.
    """
    import torch

    return {
        knob.name: [
            torch.device if constraint == TORCH_DEVICE else constraint
            for constraint in knob.constraints
        ]
        for knob in KNOBS
    }
