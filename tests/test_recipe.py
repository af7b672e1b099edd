"""Training options for small corpora, the presets and the study (#21)."""

import importlib.util
import inspect

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_blobs, make_classification
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_prognet import (
    DNNClassifier,
    FineTunedClassifier,
    MultiCorpusClassifier,
    ProgressiveNetClassifier,
    ResidualAdapterClassifier,
    _batched,
)
from sklearn_prognet.experiments._fits import network_params
from sklearn_prognet.experiments.cli import _run_settings, build_parser
from sklearn_prognet.presets import PAPER, SMALL_CORPUS
from tests.conftest import ROOT

NETWORKS = [
    DNNClassifier,
    FineTunedClassifier,
    ProgressiveNetClassifier,
    ResidualAdapterClassifier,
    MultiCorpusClassifier,
]
OPTIONS = ("input_dropout", "weight_decay", "input_noise", "label_smoothing")
FAST = {"hidden_layer_sizes": (16,), "lr": 0.01, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=120, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


def _fit(data, **params):
    X, y = data
    params = {**FAST, "max_epochs": 20, "early_stopping": False, **params}
    return DNNClassifier(**params).fit(X, y)


# -- the four options ---------------------------------------------------------


@pytest.mark.parametrize("cls", NETWORKS)
def test_options_are_parameters_defaulting_to_zero(cls):
    defaults = inspect.signature(cls).parameters
    for name in OPTIONS:
        assert defaults[name].default == 0.0
        assert name in cls._parameter_constraints


@pytest.mark.parametrize(
    "name, bad",
    [
        ("input_dropout", 1.0),
        ("input_dropout", -0.1),
        ("weight_decay", -1e-3),
        ("input_noise", -0.5),
        ("label_smoothing", 1.0),
        ("label_smoothing", "a lot"),
    ],
)
def test_options_are_validated(data, name, bad):
    with pytest.raises(InvalidParameterError, match=name):
        DNNClassifier(**{name: bad}, max_epochs=1).fit(*data)


def test_zero_options_are_the_defaults(data):
    # Setting every option to 0 explicitly trains exactly the default network.
    default = _fit(data).predict_proba(data[0])
    explicit = _fit(data, **dict.fromkeys(OPTIONS, 0.0)).predict_proba(data[0])
    np.testing.assert_array_equal(default, explicit)


@pytest.mark.parametrize("name, value", [(n, 0.2) for n in OPTIONS])
def test_each_option_changes_training(data, name, value):
    base = _fit(data).predict_proba(data[0])
    other = _fit(data, **{name: value}).predict_proba(data[0])
    assert not np.allclose(base, other)


def test_weight_decay_shrinks_weights(data):
    def norm(clf):
        weights = [p for n, p in clf.net_.module_.named_parameters() if "weight" in n]
        return float(sum(w.detach().pow(2).sum() for w in weights))

    plain = norm(_fit(data, max_epochs=60))
    decayed = norm(_fit(data, max_epochs=60, weight_decay=2.0))
    assert decayed < 0.7 * plain


@pytest.mark.parametrize("name", ["input_noise", "input_dropout"])
def test_corruption_only_in_training(data, name):
    clf = _fit(data, **{name: 0.3})
    X = data[0]
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    # prediction reads the module with no corruption: its inputs are the data
    X_torch = torch.as_tensor(X)
    with torch.no_grad():
        logits = clf.net_.module_.eval()(X_torch)
    np.testing.assert_allclose(
        clf.predict_proba(X), torch.softmax(logits, 1).numpy(), rtol=1e-5
    )


def test_label_smoothing_lowers_confidence():
    X, y = make_blobs(n_samples=80, centers=2, cluster_std=0.3, random_state=0)
    X = X.astype(np.float32)
    params = dict(FAST, max_epochs=150, early_stopping=False, dropout=0.0)
    sharp = DNNClassifier(**params).fit(X, y).predict_proba(X).max(axis=1)
    smooth = DNNClassifier(**params, label_smoothing=0.4).fit(X, y)
    smoothed = smooth.predict_proba(X).max(axis=1)
    assert sharp.mean() > 0.95
    # the optimum of the smoothed loss puts 1 - 0.4 + 0.4 / 2 = 0.8 on the class
    assert smoothed.mean() < 0.9
    assert smooth.score(X, y) == 1.0


def _corrupted(X, n_features=None, **options):
    """A batch of one model after the training loop's input corruption."""
    job = {"input_noise": 0.0, "input_dropout": 0.0, "batch_size": len(X), **options}
    x = X.clone()[None]
    generator = torch.Generator().manual_seed(0)
    n_features = X.shape[1] if n_features is None else n_features
    _batched._corrupt_inputs(x, n_features, job, [generator], [True])
    return x[0]


def test_input_noise_spares_the_extra_columns():
    X = torch.zeros(4000, 5)
    out = _corrupted(X, n_features=4, input_noise=0.5)
    assert out[:, :4].std().item() == pytest.approx(0.5, rel=0.05)
    assert torch.equal(out[:, 4], X[:, 4])  # a corpus code, a frozen activation


def test_input_dropout_rate_and_scale():
    X = torch.ones(4000, 4)
    out = _corrupted(X, input_dropout=0.25)
    assert (out == 0).float().mean().item() == pytest.approx(0.25, abs=0.02)
    assert torch.allclose(out[out != 0], torch.tensor(1 / 0.75))


def test_input_dropout_spares_the_extra_columns():
    X = torch.ones(4000, 6)
    out = _corrupted(X, n_features=3, input_dropout=0.5)
    assert (out[:, :3] == 0).any()
    assert torch.equal(out[:, 3:], X[:, 3:])


def test_without_corruption_a_batch_is_the_data():
    X = torch.arange(12.0).reshape(6, 2)
    assert torch.equal(_corrupted(X), X)


# -- presets ------------------------------------------------------------------


@pytest.mark.parametrize("cls", NETWORKS)
def test_paper_preset_is_every_estimators_default(cls):
    defaults = inspect.signature(cls).parameters
    for name, value in PAPER.items():
        assert defaults[name].default == value


def test_small_corpus_preset_differs_from_paper():
    assert set(SMALL_CORPUS) == set(PAPER)
    assert SMALL_CORPUS != PAPER


@pytest.mark.parametrize("preset", [PAPER, SMALL_CORPUS], ids=["paper", "small"])
@pytest.mark.parametrize("cls", NETWORKS)
def test_presets_construct_and_fit_every_network(data, cls, preset):
    X, y = data
    params = {**preset, "max_epochs": 3, "random_state": 0}
    kwargs = {}
    if cls is MultiCorpusClassifier:
        X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
        X["corpus"] = np.where(np.arange(len(y)) % 2, "a", "b")
    elif cls is ProgressiveNetClassifier:
        params["sources"] = [DNNClassifier(**params)]
        kwargs["source_y"] = np.arange(len(y)) % 2
    elif cls is not DNNClassifier:
        params["source"] = DNNClassifier(**params)
        kwargs["source_y"] = np.arange(len(y)) % 2
    clf = cls(**params).fit(X, y, **kwargs)
    assert clf.predict_proba(X).shape == (len(y), 3)


# -- the study ----------------------------------------------------------------


@pytest.fixture(scope="module")
def study():
    path = ROOT / "benchmarks" / "study_small_corpus.py"
    spec = importlib.util.spec_from_file_location("study_small_corpus", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_study_configs_are_reproducible_and_in_the_space(study):
    configs = study.draw_configs(8, max_epochs=50)
    assert configs == study.draw_configs(8, max_epochs=50)
    assert configs[:4] == study.draw_configs(4, max_epochs=50)
    for config in configs:
        assert config["max_epochs"] <= 50
        for name, values in study.SPACE.items():
            assert config[name] in values
        DNNClassifier(**config)._validate_params()


def test_study_preset_rule_uses_mean_rank(study):
    # config 1 is best on two corpora of three; config 0 is best on one
    uar = {"a": [0.90, 0.80, 0.70], "b": [0.50, 0.60, 0.55], "c": [0.70, 0.75, 0.72]}
    rows = [
        {
            "corpus": c,
            "normalisation": "speaker",
            "model": "dnn",
            "fold": f,
            "candidate": str(i),
            "inner_uar": u,
        }
        for c, values in uar.items()
        for i, u in enumerate(values)
        for f in (0, 1)
    ]
    rows.append(
        {
            "corpus": "a",
            "normalisation": "speaker",
            "model": "dnn",
            "fold": 0,
            "candidate": "ensemble",
            "inner_uar": 1.0,
        }
    )
    # a corpus is ranked under the normalisation whose best configuration
    # scores higher: "a" under per-speaker (0.90 > 0.85), so this is ignored
    rows.append(
        {
            "corpus": "a",
            "normalisation": "global",
            "model": "dnn",
            "fold": 0,
            "candidate": "2",
            "inner_uar": 0.85,
        }
    )
    configs = [{"id": 0}, {"id": 1}, {"id": 2}]
    preset, ranking = study.choose_preset(pd.DataFrame(rows), configs)
    assert preset == {"id": 1}
    # ranks: a 1 2 3, b 3 1 2, c 3 1 2; the tie of 0 and 2 goes to the higher UAR
    assert ranking["mean_rank"].tolist() == pytest.approx([4 / 3, 7 / 3, 7 / 3])
    assert ranking.index.tolist() == [1, 0, 2]
    # where global normalisation scores higher (a corpus whose speakers each
    # speak one emotion), the corpus is ranked under it: config 2 now wins
    # on "a" and on "c", so it is the preset
    rows += [
        {
            "corpus": c,
            "normalisation": "global",
            "model": "dnn",
            "fold": f,
            "candidate": str(i),
            "inner_uar": u,
        }
        for c in ("a", "c")
        for i, u in enumerate([0.91, 0.92, 0.99])
        for f in (0, 1)
    ]
    preset, ranking = study.choose_preset(pd.DataFrame(rows), configs)
    assert preset == {"id": 2}
    assert ranking.loc[2, "a"] == pytest.approx((0.85 + 2 * 0.99) / 3)


def test_study_summary_and_table(study):
    outer = pd.DataFrame(
        {
            "corpus": ["emodb"] * 4,
            "normalisation": ["speaker"] * 4,
            "model": ["logreg", "logreg", "dnn", "dnn"],
            "fold": [0, 1, 0, 1],
            "uar": [0.8, 0.6, 0.9, 0.7],
        }
    )
    summary = study.summarise(outer).set_index("model")
    assert summary.loc["logreg", "mean"] == pytest.approx(0.7)
    assert summary.loc["dnn", "std"] == pytest.approx(np.std([0.9, 0.7], ddof=1))
    table = study.format_table(study.summarise(outer))
    assert "0.700 ± 0.141" in table and "0.800 ± 0.141" in table


@pytest.mark.slow
def test_study_runs_end_to_end_and_resumes(study, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(study, "CORPORA", ("emodb",))
    monkeypatch.setitem(study.LINEAR_GRIDS, "svm", [{"C": 1.0, "gamma": 1.0}])
    argv = [
        "--phase",
        "search",
        "--out",
        str(tmp_path),
        "--corpora",
        "emodb",
        "--n-configs",
        "2",
        "--outer",
        "2",
        "--inner",
        "2",
        "--max-epochs",
        "3",
    ]
    study.main(argv)
    outer = pd.read_csv(tmp_path / "outer.csv")
    assert len(outer) == 2 * (2 * 2 + 1)  # folds x (2 linear x 2 norms + dnn)
    assert outer["uar"].between(0, 1).all()
    inner = pd.read_csv(tmp_path / "inner.csv")
    assert set(inner["candidate"].astype(str)) >= {"0", "1", "ensemble"}
    study.main(argv)  # a second run finds every fold done
    assert len(pd.read_csv(tmp_path / "outer.csv")) == len(outer)
    timing = pd.read_csv(tmp_path / "timing.csv")
    # the linear models one fold per call; the network search one call
    assert len(timing) == 2 * 2 * 2 + 1
    dnn = timing[timing["model"] == "dnn"]
    assert dnn["n_folds"].tolist() == [2] and dnn["engine"].tolist() == ["batched"]
    for name in ("PAPER", "SMALL_CORPUS"):
        monkeypatch.setattr(study, name, {**getattr(study, name), "max_epochs": 3})
    for phase in ("fixed", "transfer"):
        study.main([*argv[:1], phase, *argv[2:], "--paper-corpora", "emodb"])
    models = set(pd.read_csv(tmp_path / "outer.csv")["model"])
    assert models >= {"paper", "preset", "preset-ptft", "preset-prognet"}
    assert "preset-adapter" in models
    table, figure = tmp_path / "table.txt", tmp_path / "uar.png"
    study.main(
        [
            "--phase",
            "report",
            "--out",
            str(tmp_path),
            "--table",
            str(table),
            "--figure",
            str(figure),
            "--transfer-table",
            str(tmp_path / "transfer.txt"),
        ]
    )
    assert "logreg" in table.read_text() and figure.stat().st_size > 0
    assert "preset-adapter" in (tmp_path / "transfer.txt").read_text()


@pytest.mark.parametrize("engine", ["batched", "per-fit"])
def test_study_search_follows_its_rules_with_either_engine(study, engine):
    # Two outer folds of EmoDB searched at once: every fold's chosen config
    # is the best inner mean, and the seed ensemble is kept only where its
    # inner UAR beats that config's single seed.
    args = study.parse_args(
        ["--n-configs", "3", "--outer", "2", "--inner", "2", "--max-epochs", "2"]
    )
    args.engine, args.n_jobs = engine, 1
    X, y, g = study.load("emodb", None, None)
    configs = study.draw_configs(3, max_epochs=2)
    splits = dict(enumerate(study.folds(y, g, 2, seed=0)))
    results = study.search_networks(configs, (X, y, g), splits, "global", args)
    assert sorted(results) == [0, 1]
    for uar, chosen, rows in results.values():
        assert 0 <= uar <= 1
        means = [row["inner_uar"] for row in rows[:3]]
        assert [row["candidate"] for row in rows] == [0, 1, 2, "ensemble"]
        assert chosen["config"] == int(np.argmax(means))
        better = rows[3]["inner_uar"] > max(means)
        assert chosen["n_seeds"] == (study.ENSEMBLE_SIZE if better else 1)


# -- the CLI's --preset -------------------------------------------------------


def test_cli_preset_sets_the_network_and_explicit_flags_win():
    parser = build_parser()
    paper = _run_settings(parser.parse_args(["paralinguistic"]))["network"]
    assert paper == {}  # the estimators' defaults: the paper's
    args = parser.parse_args(
        ["paralinguistic", "--preset", "small-corpus", "--lr", "0.01"]
    )
    network = _run_settings(args)["network"]
    assert network == {**SMALL_CORPUS, "lr": 0.01}
    # the experiments accept the preset's training options
    params = network_params(network)
    assert params["weight_decay"] == SMALL_CORPUS["weight_decay"]
    DNNClassifier(**params)._validate_params()


def test_cli_rejects_an_unknown_preset(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["paralinguistic", "--preset", "huge"])
    assert "--preset" in capsys.readouterr().err
