"""The run options are declared once (experiments/_options.py): every place agrees."""

import inspect
import sys
from dataclasses import fields

import pytest

import sklearn_prognet.experiments as experiments
from sklearn_prognet.experiments._options import (
    BY_NAME,
    FLAGS,
    OPTIONS,
    in_flags,
    run_option_names,
)
from sklearn_prognet.experiments._skeleton import EXPERIMENTS, RunOptions
from sklearn_prognet.experiments.cli import _run_settings, build_parser
from sklearn_prognet.utils._messages import Message, Param

RUN_FUNCTIONS = [
    getattr(experiments, e.command.function)
    for e in EXPERIMENTS.values()
    if e.command is not None
]


def test_every_experiment_has_a_command_and_a_public_function():
    assert [e.command.name for e in EXPERIMENTS.values()] == [
        "paralinguistic", "cross-corpus", "multi-corpus", "multitask"
    ]  # fmt: skip
    assert len(RUN_FUNCTIONS) == len(EXPERIMENTS)


def test_run_options_fields_are_the_declaration():
    assert [f.name for f in fields(RunOptions)] == run_option_names()
    for f in fields(RunOptions):
        assert f.default == BY_NAME[f.name].default, f.name


@pytest.mark.parametrize("run", RUN_FUNCTIONS, ids=lambda f: f.__name__)
def test_run_functions_take_every_option_by_keyword(run, monkeypatch):
    # The run_* functions write only their own parameters and **options;
    # what a caller gives must reach RunOptions, and the rest keep the
    # paper's defaults (written here, not read from the declaration).
    received = []
    module = sys.modules[run.__module__]
    monkeypatch.setattr(module, "run_experiment", lambda e, out, o: received.append(o))
    required = [
        p.name
        for p in inspect.signature(run).parameters.values()
        if p.default is inspect.Parameter.empty and p.name != "out"
    ]
    run("results", *(["emodb"] * len(required)), n_repeats=3, lateral="adapter")
    (options,) = received
    assert (options.n_repeats, options.lateral) == (3, "adapter")
    assert (options.n_splits, options.protocol, options.seed) == (
        10, "speaker_stratified", 0,
    )  # fmt: skip
    assert (options.engine, options.n_jobs, options.network) == ("batched", 1, None)
    # what help(), Sphinx and editors show: every option, keyword-only, with
    # its default
    parameters = inspect.signature(run).parameters
    assert parameters["n_repeats"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["n_repeats"].default == 10
    assert list(parameters)[-1] == "command"
    # a misspelt option is refused in the function's name, before any work
    with pytest.raises(TypeError, match=rf"^{run.__name__}\(\) .*'n_repeat'"):
        run("results", *(["emodb"] * len(required)), n_repeat=3)
    assert len(received) == 1


@pytest.mark.parametrize("run", RUN_FUNCTIONS, ids=lambda f: f.__name__)
def test_run_docstring_states_each_declared_default(run):
    doc = run.__doc__
    for option in OPTIONS:
        if option.section is not None:
            line = f"{option.name} : "
            assert line in doc, (run.__name__, option.name)
            assert f"default={option.default!r}" in doc.split(line, 1)[1].split("\n")[0]
    assert "{" + "run_parameters}" not in doc and "{{" not in doc


def test_flags_defaults_follow_the_declaration():
    args = build_parser().parse_args(["paralinguistic"])
    settings = _run_settings(args)
    for name in run_option_names():
        # progress: shown on the command line unless --no-progress
        if BY_NAME[name].group is None or name == "progress":
            continue
        assert settings[name] == BY_NAME[name].default or (
            list(settings[name]) == list(BY_NAME[name].default)
        ), name


def test_messages_name_flags_through_the_declaration():
    message = Message(Param("n_repeats", 2), " and ", Param("out"), " and ",
                      Param("dimensional_weights", [0.0]), " and ",
                      Param("not_a_flag", 1))  # fmt: skip
    assert (
        message == "n_repeats=2 and out= and dimensional_weights=[0.0] and not_a_flag=1"
    )
    assert in_flags(message) == (
        "--n-repeats 2 and --out and --dimensional-weights [0.0] and not_a_flag=1"
    )
    assert in_flags(ValueError(message)) == in_flags(message)
    # every experiment's own options are named in messages by their flags
    for experiment in EXPERIMENTS.values():
        for option in experiment.command.options:
            assert FLAGS[option.name].flag_name == option.flag_name
