"""save_model / load_model: skops files, rebuilt nets, refusals, model cards."""

import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.decomposition import PCA
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNet

import sklearn_prognet
from sklearn_prognet import (
    DNNClassifier,
    EGeMAPSTransformer,
    FineTunedClassifier,
    MultiCorpusClassifier,
    ProgressiveNetClassifier,
    ResidualAdapterClassifier,
    SpeakerStandardScaler,
    load_model,
    save_model,
)
from sklearn_prognet import _persistence as persistence
from sklearn_prognet.datasets import load_emodb_features

skops_io = pytest.importorskip("skops.io")

ROOT = Path(__file__).resolve().parents[1]
WAVS = sorted(str(p) for p in (ROOT / "tests" / "data").glob("*.wav"))
# The emotions of the four test recordings (tests/data/README.md).
WAV_LABELS = ["sad", "angry", "happy", "neutral"]
TINY = {
    "hidden_layer_sizes": (6,),
    "max_epochs": 3,
    "early_stopping": False,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=60, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    # a second task, for the sources
    source_y = (X[:, 0] > 0).astype(int)
    return X.astype(np.float32), y, source_y


@pytest.fixture(scope="module")
def fitted(data):
    """Fitted models, by name (fitted once; tests must never refit them).

    Each model is paired with the input it predicts from.
    """
    X, y, source_y = data
    source = DNNClassifier(**TINY).fit(X, source_y)
    speakers = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    speakers["speaker"] = np.arange(len(X)) % 4
    corpora = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    corpora["corpus"] = np.where(np.arange(len(X)) < 30, "a", "b")
    features = [f"f{i}" for i in range(X.shape[1])]
    scale_features = ColumnTransformer(
        [("scale", StandardScaler(), features)],
        remainder="passthrough",
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    ratings = np.column_stack(
        [X[:, 1], np.where(np.arange(len(X)) % 5, X[:, 2], np.nan)]
    )
    models = {
        "dnn": (
            make_pipeline(SpeakerStandardScaler(), DNNClassifier(**TINY)).fit(
                speakers, y
            ),
            speakers,
        ),
        "prognet": (
            make_pipeline(
                StandardScaler(), ProgressiveNetClassifier(sources=[source], **TINY)
            ).fit(X, y),
            X,
        ),
        "finetuned": (
            make_pipeline(
                StandardScaler(),
                FineTunedClassifier(source=source, n_frozen_layers=1, **TINY),
            ).fit(X, y),
            X,
        ),
        "adapter": (
            make_pipeline(
                StandardScaler(),
                ResidualAdapterClassifier(source=source, adapter_rank=2, **TINY),
            ).fit(X, y),
            X,
        ),
        "multicorpus": (
            make_pipeline(
                scale_features, MultiCorpusClassifier(adapter_rank=2, **TINY)
            ).fit(corpora, y),
            corpora,
        ),
        "union": (
            make_pipeline(
                make_union(StandardScaler(), PCA(n_components=3)),
                SelectKBest(f_classif, k=5),
                DNNClassifier(**TINY),
            ).fit(X, y),
            X,
        ),
        "multitask": (
            make_pipeline(
                StandardScaler(), DNNClassifier(dimensional_weight=1.0, **TINY)
            ).fit(X, y, dnnclassifier__dimensions=ratings),
            X,
        ),
    }
    return models


def _state(net):
    return {k: v.detach().clone() for k, v in net.module_.state_dict().items()}


@pytest.mark.parametrize(
    "name",
    ["dnn", "prognet", "finetuned", "adapter", "multicorpus", "union", "multitask"],
)
def test_round_trip_predicts_as_the_saved_model(fitted, name, tmp_path, data):
    model, X = fitted[name]
    save_model(model, tmp_path / "model.skops")
    loaded = load_model(tmp_path / "model.skops")

    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.score(X, data[1]) == model.score(X, data[1])
    network, original = loaded[-1], model[-1]
    assert isinstance(network.net_, NeuralNet)
    assert not network.net_.module_.training
    assert network.best_epoch_ == original.best_epoch_
    assert network.n_iter_ == original.n_iter_
    for key, values in original.history_.items():
        assert_array_equal(network.history_[key], values)
    assert_array_equal(network.classes_, original.classes_)
    # the parameters are the same (the sources are loaded copies)
    params, loaded_params = (
        original.get_params(deep=False),
        network.get_params(deep=False),
    )
    for key in ("sources", "source"):
        params.pop(key, None), loaded_params.pop(key, None)
    assert loaded_params == params


def test_multitask_ratings_survive(fitted, tmp_path):
    model, X = fitted["multitask"]
    save_model(model, tmp_path / "model.skops")
    loaded = load_model(tmp_path / "model.skops")
    scaled = model[0].transform(X)
    assert_array_equal(
        loaded[-1].predict_dimensions(scaled), model[-1].predict_dimensions(scaled)
    )


def test_loaded_source_keeps_its_weights(fitted, tmp_path, data):
    """The frozen column of a loaded ProgNet is its source's, as trained."""
    model, _ = fitted["prognet"]
    save_model(model, tmp_path / "model.skops")
    loaded = load_model(tmp_path / "model.skops")
    source, loaded_source = model[-1].sources_[0], loaded[-1].sources_[0]
    for key, tensor in _state(source.net_).items():
        assert torch.equal(loaded_source.net_.module_.state_dict()[key], tensor)
    # the parameter and the fitted attribute are still one object
    assert loaded[-1].sources[0] is loaded_source


def test_loaded_network_is_a_fitted_source(fitted, tmp_path, data):
    X, y, _ = data
    model, _ = fitted["prognet"]
    save_model(model[-1].sources_[0], tmp_path / "source.skops")
    source = load_model(tmp_path / "source.skops")
    target = ProgressiveNetClassifier(sources=[source], **TINY).fit(X, y)
    # the frozen first column is the loaded source's, unchanged
    weights = source.net_.module_.state_dict()["columns.0.hidden.0.weight"]
    frozen = target.net_.module_.state_dict()["columns.0.hidden.0.weight"]
    assert torch.equal(frozen, weights)
    fine_tuned = FineTunedClassifier(source=source, n_frozen_layers=1, **TINY)
    fine_tuned.fit(X, y)
    assert torch.equal(
        fine_tuned.net_.module_.state_dict()["columns.0.hidden.0.weight"], weights
    )
    assert torch.equal(
        weights,
        model[-1].sources_[0].net_.module_.state_dict()["columns.0.hidden.0.weight"],
    )
    # and a refit of a clone of the loaded pipeline trains
    refit = clone(load_model(tmp_path / "source.skops")).fit(X, y)
    assert refit.predict(X).shape == y.shape


def test_clone_of_loaded_model_is_unfitted(fitted, tmp_path):
    model, X = fitted["dnn"]
    save_model(model, tmp_path / "model.skops")
    clone_ = clone(load_model(tmp_path / "model.skops"))
    assert not hasattr(clone_[-1], "net_")
    assert clone_.get_params()["dnnclassifier__hidden_layer_sizes"] == (6,)


@pytest.mark.slow  # starting a Python that imports torch
def test_fresh_process_predicts_the_same(fitted, tmp_path):
    model, X = fitted["prognet"]
    save_model(model, tmp_path / "model.skops")
    np.save(tmp_path / "X.npy", X)
    script = (
        "import sys, numpy as np\n"
        "from sklearn_prognet import load_model\n"
        "folder = sys.argv[1]\n"
        "model = load_model(folder + '/model.skops')\n"
        "X = np.load(folder + '/X.npy')\n"
        "np.save(folder + '/proba.npy', model.predict_proba(X))\n"
    )
    env_path = str(ROOT)
    subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        check=True,
        env={**os.environ, "PYTHONPATH": env_path},
        timeout=120,
    )
    assert_array_equal(np.load(tmp_path / "proba.npy"), model.predict_proba(X))


def test_audio_pipeline_predicts_files_after_loading(tmp_path):
    pytest.importorskip("opensmile")
    model = make_pipeline(
        EGeMAPSTransformer(n_jobs=1), StandardScaler(), DNNClassifier(**TINY)
    ).fit(WAVS, WAV_LABELS)
    save_model(model, tmp_path / "emotions.skops")
    loaded = load_model(tmp_path / "emotions.skops")
    predicted = loaded.predict(WAVS)
    assert set(predicted) <= set(WAV_LABELS)
    assert_array_equal(predicted, model.predict(WAVS))
    assert_array_equal(loaded.predict_proba(WAVS), model.predict_proba(WAVS))


def _torch_types(types):
    return [t for t in types if t.split(".")[0] in ("torch", "skorch")]


def test_saved_file_holds_no_torch_object(fitted, tmp_path):
    model, _ = fitted["prognet"]
    # A raw skops dump of the model names torch and skorch types ...
    raw = skops_io.dumps(model) if hasattr(skops_io, "dumps") else None
    if raw is None:
        skops_io.dump(model, tmp_path / "raw.skops")
        raw = (tmp_path / "raw.skops").read_bytes()
    assert _torch_types(skops_io.get_untrusted_types(data=raw))
    # ... save_model's file none.
    save_model(model, tmp_path / "model.skops")
    untrusted = skops_io.get_untrusted_types(file=tmp_path / "model.skops")
    assert not _torch_types(untrusted)
    assert set(untrusted) <= set(persistence.TRUSTED_TYPES)
    with zipfile.ZipFile(tmp_path / "model.skops") as archive:
        schema = json.loads(archive.read("schema.json"))
        arrays = [n for n in archive.namelist() if n.endswith(".npy")]
        assert set(archive.namelist()) - set(arrays) == {
            "schema.json",
            "sklearn_prognet.json",
        }
        for member in arrays:
            with archive.open(member) as file:
                np.load(file, allow_pickle=False)  # no pickled object inside
    modules = set()

    def walk(node):
        if isinstance(node, dict):
            if "__module__" in node:
                modules.add(node["__module__"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert not _torch_types(modules)


def _rewrite(path, member, edit):
    """Rewrite one member of a zip file with ``edit(content)``."""
    with zipfile.ZipFile(path) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    contents[member] = edit(contents[member])
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in contents.items():
            archive.writestr(name, content)


def _nodes(node):
    """Every dict in a parsed skops schema."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def _edit_schema(path, edit_node):
    """Apply ``edit_node`` to every node of the schema; return how many changed."""
    changed = []

    def edit(content):
        schema = json.loads(content)
        for node in _nodes(schema):
            changed.append(edit_node(node))
        return json.dumps(schema).encode()

    _rewrite(path, "schema.json", edit)
    return sum(changed)


def test_tampered_file_is_refused(fitted, tmp_path):
    model, _ = fitted["dnn"]
    path = tmp_path / "model.skops"
    save_model(model, path)

    def to_os_system(node):
        if node.get("__class__") == "_StoredNet":
            node["__class__"], node["__module__"] = "system", "os"
            return True
        return False

    assert _edit_schema(path, to_os_system) == 1
    with pytest.raises(ValueError, match=r"os\.system.*may not come from"):
        load_model(path)


def test_foreign_class_name_inside_a_net_is_refused(fitted, tmp_path):
    """A net naming a class outside the package is refused on rebuild."""
    model, _ = fitted["dnn"]
    path = tmp_path / "model.skops"
    save_model(model, path)

    def to_popen(node):
        if node.get("content") == json.dumps(
            "sklearn_prognet.networks._modules.ProgressiveNet"
        ):
            node["content"] = json.dumps("subprocess.Popen")
            return True
        return False

    assert _edit_schema(path, to_popen) == 1
    with pytest.raises(ValueError, match=r"subprocess\.Popen"):
        load_model(path)


def test_foreign_net_parameter_is_refused(fitted, tmp_path):
    model, _ = fitted["dnn"]
    path = tmp_path / "model.skops"
    save_model(model, path)

    def compile_net(node):
        content = node.get("content")
        if isinstance(content, dict) and "net_params" in content:
            stored = content["net_params"]
            params = json.loads(json.loads(stored["content"]))
            stored["content"] = json.dumps(json.dumps({**params, "compile": True}))
            return True
        return False

    assert _edit_schema(path, compile_net) == 1
    with pytest.raises(ValueError, match=r"\['compile'\].*never stores"):
        load_model(path)


def test_pickle_is_refused(fitted, tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"model": "anything"}))
    with pytest.raises(ValueError, match=r"model\.pkl.*a pickle"):
        load_model(path)


@pytest.mark.parametrize("content", [b"not a model\n", b""])
def test_text_file_is_refused(tmp_path, content):
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"notes\.txt.*not a skops"):
        load_model(path)


def test_truncated_file_is_refused(fitted, tmp_path):
    model, _ = fitted["dnn"]
    save_model(model, tmp_path / "model.skops")
    content = (tmp_path / "model.skops").read_bytes()
    (tmp_path / "cut.skops").write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match=r"cut\.skops"):
        load_model(tmp_path / "cut.skops")


def test_plain_skops_file_is_refused(tmp_path):
    """A skops file not written by save_model has no metadata."""
    skops_io.dump(StandardScaler(), tmp_path / "other.skops")
    with pytest.raises(ValueError, match=r"other\.skops.*not a model file"):
        load_model(tmp_path / "other.skops")


def test_newer_format_is_refused(fitted, tmp_path, monkeypatch):
    model, _ = fitted["dnn"]
    monkeypatch.setattr(persistence, "FORMAT_VERSION", 99)
    monkeypatch.setattr(sklearn_prognet, "__version__", "9.0.0")
    save_model(model, tmp_path / "model.skops")
    monkeypatch.undo()
    with pytest.raises(ValueError, match=r"format 99.*9\.0\.0.*reads format 1"):
        load_model(tmp_path / "model.skops")


def test_foreign_format_inside_is_refused(fitted, tmp_path):
    """The version inside the skops document is checked too."""
    model, _ = fitted["dnn"]
    path = tmp_path / "model.skops"
    save_model(model, path)

    def bump(node):
        version = node.get("content", {})
        if isinstance(version, dict) and "format_version" in version:
            version["format_version"]["content"] = "2"
            return True
        return False

    assert _edit_schema(path, bump) == 1
    with pytest.raises(ValueError, match=r"format 2.*reads format 1"):
        load_model(path)


def test_save_leaves_the_model_unchanged(fitted, tmp_path, data):
    model, _ = fitted["prognet"]
    X = data[0]
    net, source_net = model[-1].net_, model[-1].sources_[0].net_
    before, source_before = _state(net), _state(source_net)
    proba = model.predict_proba(X)
    save_model(model, tmp_path / "model.skops")
    assert model[-1].net_ is net and isinstance(net, NeuralNet)
    assert model[-1].sources_[0].net_ is source_net
    for state, original in ((_state(net), before), (_state(source_net), source_before)):
        assert state.keys() == original.keys()
        for key, tensor in original.items():
            assert torch.equal(state[key], tensor)
    assert_array_equal(model.predict_proba(X), proba)


def test_model_card(fitted, tmp_path):
    model, _ = fitted["prognet"]
    card = save_model(
        model,
        tmp_path / "emotions.skops",
        card={
            "corpus": "EmoDB",
            "class_counts": {0: 20, 1: 21, 2: 19},
            "cv_uar": 0.613,
            "licence": "CC0-1.0",
            "settings": {"n_repeats": 10},
        },
    )
    assert card == tmp_path / "emotions.md"
    text = card.read_text()
    for line in ("| 0 | 20 |", "| 1 | 21 |", "| 2 | 19 |"):
        assert line in text
    assert "EmoDB" in text and "CC0-1.0" in text and "0.613" in text
    assert "`n_repeats`: 10" in text
    assert f"| scikit-learn | {sklearn.__version__} |" in text
    assert f"| torch | {torch.__version__} |" in text
    assert f"| sklearn_prognet | {sklearn_prognet.__version__} |" in text
    assert "ProgressiveNetClassifier" in text and "`max_epochs=3`" in text


def test_card_without_facts_lists_the_classes(fitted, tmp_path):
    model, _ = fitted["dnn"]
    text = save_model(model, tmp_path / "m.skops").read_text()
    for label in np.unique(fitted["dnn"][0][-1].classes_):
        assert f"| {label} | not stated |" in text


def test_interrupted_save_leaves_no_file(fitted, tmp_path, monkeypatch):
    model, _ = fitted["dnn"]
    path = tmp_path / "model.skops"
    path.write_bytes(b"the previous model")

    def dump_then_fail(obj, file, **kwargs):
        Path(file).write_bytes(b"PK half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(skops_io, "dump", dump_then_fail)
    with pytest.raises(KeyboardInterrupt):
        save_model(model, path)
    assert path.read_bytes() == b"the previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.skops"]


def test_torch_device_parameter_round_trips(data, tmp_path):
    X, y, _ = data
    model = DNNClassifier(device=torch.device("cpu"), **TINY).fit(X, y)
    save_model(model, tmp_path / "model.skops")
    loaded = load_model(tmp_path / "model.skops")
    assert loaded.device == torch.device("cpu")
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_other_torch_object_is_refused(data, tmp_path):
    X, y, _ = data
    model = DNNClassifier(**TINY).fit(X, y)
    model.extra_ = torch.nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"the model\.extra_.*torch\.nn"):
        save_model(model, tmp_path / "model.skops")
    assert not (tmp_path / "model.skops").exists()


def test_unfitted_model_is_refused(tmp_path):
    with pytest.raises(sklearn.exceptions.NotFittedError):
        save_model(DNNClassifier(), tmp_path / "model.skops")


def test_card_suffix_is_refused(fitted, tmp_path):
    with pytest.raises(ValueError, match=r"\.md"):
        save_model(fitted["dnn"][0], tmp_path / "model.md")


def test_missing_skops_says_which_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    with pytest.raises(ImportError, match=r'pip install "sklearn-prognet\[persist\]"'):
        load_model(tmp_path / "model.skops")


def test_trusted_types_cover_the_public_estimators():
    for name in sklearn_prognet._LAZY_NAMES:
        value = getattr(sklearn_prognet, name)
        if isinstance(value, type) and issubclass(value, sklearn.base.BaseEstimator):
            assert f"{value.__module__}.{name}" in persistence.TRUSTED_TYPES


def test_metadata_requests_are_left_out_of_the_file(tmp_path):
    # skops recursed without end into sklearn's request objects
    emodb = load_emodb_features()
    with sklearn.config_context(enable_metadata_routing=True):
        model = DNNClassifier(hidden_layer_sizes=(4,), max_epochs=2, random_state=0)
        model.set_fit_request(groups=True).fit(
            emodb.data, emodb.target, groups=emodb.speaker
        )
    save_model(model, tmp_path / "m.skops")
    assert "_metadata_request" in vars(model)  # the user's model keeps them
    loaded = load_model(tmp_path / "m.skops")
    assert "_metadata_request" not in vars(loaded)
    np.testing.assert_array_equal(
        loaded.predict_proba(emodb.data), model.predict_proba(emodb.data)
    )
