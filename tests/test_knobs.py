"""The training knobs have one home: the declaration in ``networks/_knobs.py``.

Every list of knobs elsewhere is derived from it, and the estimators'
signatures, constraints and docstrings (written out, as sklearn wants them)
agree with it: a drift in any of them fails here. The expected lists are
computed from ``KNOBS`` directly, not with the helpers under test.
"""

import argparse
import inspect
import re

import pytest
import torch

from sklearn_prognet import DNNClassifier, MultiCorpusClassifier, presets
from sklearn_prognet.experiments import cli
from sklearn_prognet.experiments._fits import (
    NETWORK_SETTINGS,
    TRAINING_OPTIONS,
    network_params,
    paper_network,
    training_settings,
)
from sklearn_prognet.networks._batched import _SHARED
from sklearn_prognet.networks._estimators import _BaseNetwork, training_options
from sklearn_prognet.networks._knobs import (
    ENGINE,
    FLAG,
    KNOBS,
    PRESET,
    RECORDED,
    STACK,
    Knob,
    defaults,
    names,
    parameter_constraints,
)
from sklearn_prognet.utils.discovery import all_estimators

# The knobs a network estimator may lack, and why.
_LACKS = {
    # one network over several corpora learns no ratings
    MultiCorpusClassifier: {"dimensional_weight", "dimensional_loss"},
}


def _with(role):
    return tuple(knob.name for knob in KNOBS if role in knob.roles)


def _network_estimators():
    return [
        cls for _, cls in all_estimators() if "hidden_layer_sizes" in cls().get_params()
    ]


# -- the declaration -------------------------------------------------------------------


def test_knobs_are_declared_once_with_known_roles():
    declared = [knob.name for knob in KNOBS]
    assert len(declared) == len(set(declared))
    for knob in KNOBS:
        assert isinstance(knob.default, knob.type), knob.name
        assert knob.help and not knob.help.endswith("."), knob.name
    with pytest.raises(ValueError, match="unknown role"):
        Knob("x", int, 1, (), "x", roles=("preset", "flags"))
    with pytest.raises(ValueError, match="role='stacks' is not a role"):
        names("stacks")


def test_every_default_satisfies_its_constraints():
    # sklearn's own validation of a default-constructed network
    DNNClassifier()._validate_params()
    DNNClassifier(device=torch.device("cpu"))._validate_params()


# -- the derived places ----------------------------------------------------------------


def test_the_derived_lists_follow_the_declaration():
    assert names(FLAG) == _with(FLAG)
    assert _SHARED == ("n_features", *_with(STACK))
    assert presets._PRESET_KEYS == _with(PRESET)
    assert NETWORK_SETTINGS == _with(RECORDED)
    assert TRAINING_OPTIONS == tuple(
        name for name in _with(PRESET) if name not in _with(RECORDED)
    )
    assert cli.NETWORK_FLAGS == _with(FLAG)


def test_the_roles_fit_together():
    # a flag's value goes into a run's network settings, which accept the
    # recorded settings and a preset's knobs (network_params)
    assert set(_with(FLAG)) <= set(_with(RECORDED)) | set(_with(PRESET))
    # the recorded settings are the defaults a preset starts from
    assert set(_with(RECORDED)) <= set(_with(PRESET))
    # a preset sets preset knobs only; the paper's sets every one
    assert tuple(presets.PAPER) == _with(PRESET)
    assert set(presets.SMALL_CORPUS) <= set(_with(PRESET))
    network_params({name: presets.SMALL_CORPUS[name] for name in _with(PRESET)})


def test_the_defaults_are_the_declared_ones():
    declared = {knob.name: knob.default for knob in KNOBS}
    assert defaults() == declared
    assert presets.PAPER == {name: declared[name] for name in _with(PRESET)}
    assert paper_network() == {name: declared[name] for name in _with(RECORDED)}
    settings = training_settings({})
    assert settings == {
        name: declared[name] for name in _with(PRESET) if name not in _with(RECORDED)
    }


def test_training_options_are_the_engine_knobs():
    net = DNNClassifier(lr=0.01, input_noise=0.2, patience=7, verbose=1)
    options = training_options(net)
    assert tuple(options) == _with(ENGINE)
    assert options == {name: getattr(net, name) for name in _with(ENGINE)}
    # without early stopping the engine gets no patience
    options = training_options(net.set_params(early_stopping=False))
    assert options["patience"] is None


def test_the_base_network_validates_every_knob_as_declared():
    constraints = parameter_constraints()
    assert list(constraints) == [knob.name for knob in KNOBS]
    assert constraints["device"] == [str, torch.device]
    for name, constraint in constraints.items():
        assert _BaseNetwork._parameter_constraints[name] == constraint, name


# -- the estimators, written out -------------------------------------------------------


def test_the_network_estimators_are_found():
    found = {cls.__name__ for cls in _network_estimators()}
    assert found == {
        "DNNClassifier",
        "FineTunedClassifier",
        "MultiCorpusClassifier",
        "ProgressiveNetClassifier",
        "ResidualAdapterClassifier",
    }


@pytest.mark.parametrize("cls", _network_estimators(), ids=lambda cls: cls.__name__)
def test_every_network_estimator_agrees_with_the_declaration(cls):
    signature = inspect.signature(cls).parameters
    constraints = parameter_constraints()
    doc = inspect.getdoc(cls)
    lacks = _LACKS.get(cls, set())
    for knob in KNOBS:
        if knob.name in lacks:
            assert knob.name not in signature, knob.name
            continue
        assert signature[knob.name].kind is inspect.Parameter.KEYWORD_ONLY
        assert signature[knob.name].default == knob.default, knob.name
        assert type(signature[knob.name].default) is type(knob.default), knob.name
        assert cls._parameter_constraints[knob.name] == constraints[knob.name]
        # the numpydoc type line: 'dropout : float, default=0.5'
        line = rf"^{knob.name} : .+, default={re.escape(repr(knob.default))}$"
        assert re.search(line, doc, re.MULTILINE), (cls.__name__, knob.name)


# -- the command line ------------------------------------------------------------------


def _subparsers(parser):
    (action,) = [
        a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
    ]
    return action.choices


def _network_commands():
    """The commands that train networks: those with a --preset."""
    return {
        name: sub
        for name, sub in _subparsers(cli.build_parser()).items()
        if any("--preset" in action.option_strings for action in sub._actions)
    }


def test_the_network_commands_are_found():
    assert {"paralinguistic", "cross-corpus", "multitask", "train"} <= set(
        _network_commands()
    )


@pytest.mark.parametrize("command", sorted(_network_commands()))
def test_every_flag_knob_is_a_flag_with_its_help_and_default(command):
    parser = _network_commands()[command]
    flags = {
        option: action for action in parser._actions for option in action.option_strings
    }
    for knob in KNOBS:
        if FLAG not in knob.roles:
            continue  # an experiment may still declare its own option for it
        flag = f"--{knob.name.replace('_', '-')}"
        action = flags[flag]
        assert action.dest == knob.name
        # None: a flag given explicitly wins over a preset
        assert action.default is None
        assert action.help.startswith(f"{knob.help} (default: "), flag
        shown = {(256, 256, 256, 256): "256x4"}.get(knob.default, str(knob.default))
        assert f"(default: {shown}" in action.help, flag


def test_a_flag_parses_its_default_and_refuses_what_the_estimators_refuse():
    parser = cli.build_parser()

    def parse(*args):
        return parser.parse_args(["paralinguistic", *args])

    assert parse("--hidden-layer-sizes", "256x4").hidden_layer_sizes == (256,) * 4
    for knob in KNOBS:
        if FLAG in knob.roles and knob.type in (int, float, str):
            flag = f"--{knob.name.replace('_', '-')}"
            value = getattr(parse(flag, str(knob.default)), knob.name)
            assert value == knob.default and type(value) is knob.type, flag
    assert cli._run_settings(parse("--dropout", "0.0"))["network"] == {"dropout": 0.0}


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--dropout", "1", "'1' must be in [0, 1)"),
        ("--dropout", "-0.1", "must be in [0, 1)"),
        ("--lr", "0", "'0' must be positive"),
        ("--lr", "fast", "'fast' is not a number"),
        ("--batch-size", "0", "'0' must be at least 1"),
        ("--max-epochs", "2.5", "'2.5' is not an integer"),
        ("--patience", "-3", "must be at least 1"),
        ("--activation", "gelu", "invalid choice: 'gelu'"),
    ],
)
def test_a_bad_knob_value_is_refused_in_words(flag, value, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(["paralinguistic", flag, value])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
