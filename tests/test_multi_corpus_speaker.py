"""Per-speaker normalisation in the multi-corpus experiment (issue #15).

Speakers are standardised within their corpus, with ids prefixed by the
corpus; a target's test speakers never reach training. The corpora are
disjoint groups of EmoDB speakers, renamed so that two corpora share
speaker ids, as real corpora do.
"""

import json

import numpy as np
import pandas as pd
import pytest

from sklearn_prognet.experiments import load_corpus, run_multi_corpus
from sklearn_prognet.experiments._fits import FitData, FitTask, run_fit
from sklearn_prognet.experiments._inputs import corpus_to_frame
from sklearn_prognet.experiments._multi_corpus import (
    JointNetworks,
    corpus_speakers,
    own_scaled,
    pooled_source_corpus,
)

TINY = {"hidden_layer_sizes": (8,), "max_epochs": 2, "patience": 2}
QUIET = {"verbose": False, "progress": False}
# Both corpora call their speakers "1" and "2" (EmoDB speakers underneath).
SPEAKERS = {"a": {"03": "1", "08": "2"}, "b": {"10": "1", "11": "2", "13": "3"}}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    emodb = load_corpus("emodb")
    folder = tmp_path_factory.mktemp("corpora")
    paths = {}
    for name, rename in SPEAKERS.items():
        frame = corpus_to_frame(emodb.select(np.isin(emodb.speaker, list(rename))))
        frame["speaker"] = frame["speaker"].astype(str).map(rename)
        frame["corpus"] = name
        # both corpora's rows shifted apart, so a shared speaker would show
        features = frame.columns[-88:]
        frame[features] += 5.0 if name == "a" else -5.0
        paths[name] = str(folder / f"{name}.csv")
        frame.to_csv(paths[name], index=False)
    return paths


@pytest.fixture(scope="module")
def corpora(tables):
    return [load_corpus(tables[n]) for n in "ab"]


def _by_hand(X):
    """Rows standardised on their own mean and (population) std."""
    return (X - X.mean(axis=0)) / X.std(axis=0)


def test_speaker_ids_are_prefixed_with_their_corpus(corpora):
    speaker = corpus_speakers(corpora)
    assert set(speaker) == {"a:1", "a:2", "b:1", "b:2", "b:3"}
    assert len(speaker) == sum(c.n_samples for c in corpora)


def test_pooled_source_standardises_each_corpus_speaker(corpora):
    a = corpora[0]
    pooled = pooled_source_corpus([*corpora, _renamed(a, "z")], "b", "speaker")
    assert pooled.name == "a+z"
    for prefix, corpus in (("a", a), ("z", a)):
        for s in np.unique(corpus.speaker):
            rows = pooled.speaker == f"{prefix}:{s}"
            own = corpus.X[corpus.speaker == s]
            np.testing.assert_allclose(pooled.X[rows], _by_hand(own), atol=1e-6)


def _renamed(corpus, name):
    from dataclasses import replace

    # the same speakers and rows again, as a third corpus (ids collide)
    return replace(corpus, name=name)


def _speaker_task(corpora, X_target_test_shift=0.0):
    """A fit of target b: speakers 1 train, 2 validate, 3 test."""
    X = np.vstack([c.X for c in corpora]).astype(np.float64)
    y = np.concatenate([c.emotion for c in corpora])
    speaker = corpus_speakers(corpora)
    corpus_of_row = np.repeat(["a", "b"], [c.n_samples for c in corpora])
    rows = np.arange(len(y))
    task = FitTask(
        key="b/t1/r00/f00/multicorpus", method="multicorpus", repeat=0, fold=0,
        n_train_folds=1, train=rows[speaker == "b:1"],
        validation=rows[speaker == "b:2"], test=rows[speaker == "b:3"],
        random_state=0, source_corpus="a", target="b",
    )  # fmt: skip
    X[task.test] += X_target_test_shift
    data = FitData(
        X=X, y=y, network={**TINY, "device": "cpu"}, normalization="speaker",
        speaker=speaker,
        networks=JointNetworks(own_scaled(X, corpus_of_row, speaker), y,
                               corpus_of_row),
        record_predictions=True,
    )  # fmt: skip
    return task, data


def test_joint_fit_never_sees_a_test_speakers_statistics(corpora, monkeypatch):
    from sklearn_prognet import MultiCorpusClassifier

    seen = []
    original = MultiCorpusClassifier.fit

    def spy(self, X, y, groups=None):
        seen.append(X.copy())
        return original(self, X, y, groups)

    monkeypatch.setattr(MultiCorpusClassifier, "fit", spy)
    predictions = []
    for shift in (0.0, 1000.0):
        task, data = _speaker_task(corpora, shift)
        record = run_fit(task, data)
        predictions.append(record["test_correct"])
    a = corpora[0]
    frame = seen[0]
    target = frame[frame["corpus"] == "b"].drop(columns="corpus").to_numpy()
    # the training speaker, standardised on their training rows alone
    np.testing.assert_allclose(target, _by_hand(data.X[task.train]), atol=1e-5)
    other = frame[frame["corpus"] == "a"].drop(columns="corpus").to_numpy()
    for s in ("1", "2"):
        np.testing.assert_allclose(
            other[a.speaker == s], _by_hand(a.X[a.speaker == s]), atol=1e-5
        )
    # a test speaker's rows (shifted by 1000) change nothing that trains...
    pd.testing.assert_frame_equal(seen[0], seen[1])
    # ...and are standardised on their own: the shift cancels out
    assert predictions[0] == predictions[1]


def test_speaker_normalised_run_end_to_end(tmp_path, tables):
    out = tmp_path / "run"
    # speaker-stratified folds: some test speakers have < 10 rows a fold
    with pytest.warns(UserWarning, match="normalization='speaker' with protocol"):
        run_multi_corpus(
            out, [tables["a"], tables["b"]], n_splits=3, n_repeats=1,
            train_folds=[1], network=TINY, normalization="speaker",
            **QUIET,
        )  # fmt: skip
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["normalization"] == "speaker"
    records = [json.loads(line) for line in (out / "fits.jsonl").read_text().split()]
    assert len(records) == 2 + 2 * 3 * 5  # sources + targets x folds x methods
    report = (out / "report.md").read_text()
    assert "standardised on their own utterances, within their corpus" in report
    assert "test utterances" in report
