"""benchmarks/study_speaker_encoder.py: its statistics and models (#30).

Expected values are computed by hand here, never with the study's code.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def study():
    path = ROOT / "benchmarks" / "study_speaker_encoder.py"
    spec = importlib.util.spec_from_file_location("study_speaker_encoder", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cell(model, uar):
    return {
        "corpus": "emodb",
        "normalisation": "global",
        "model": model,
        "uar": list(uar),
        "n_train": [270, 272, 268, 271, 269],
        "n_test": [69, 67, 71, 68, 70],
    }


def test_statistics_against_a_hand_computed_corrected_t_test(study):
    logreg = [0.80, 0.70, 0.90, 0.85, 0.75]
    dnn = [0.70, 0.72, 0.80, 0.70, 0.74]
    fused = [0.82, 0.78, 0.91, 0.86, 0.80]
    results = [
        _cell("logreg@fused", logreg),
        _cell("dnn@egemaps", dnn),
        _cell("dvec-source-speaker@fused", fused),
    ]
    rows = {r["model"]: r for r in study.statistics(results)}
    row = rows["dvec-source-speaker@fused"]
    assert row["uar"] == pytest.approx(np.mean(fused))
    for key, other in (("vs_logreg", logreg), ("vs_dnn", dnn)):
        d = np.subtract(fused, other)
        ratio = sum(_cell("", [])["n_test"]) / sum(_cell("", [])["n_train"])
        t = d.mean() / np.sqrt((1 / len(d) + ratio) * d.var(ddof=1))
        assert row[key]["difference"] == pytest.approx(d.mean())
        assert row[key]["pvalue"] == pytest.approx(2 * stats.t.sf(abs(t), len(d) - 1))
    # logistic regression is not compared with itself; the DNN on
    # eGeMAPS is compared with logistic regression on eGeMAPS, absent here
    assert "vs_logreg" not in rows["logreg@fused"]
    assert set(rows["dnn@egemaps"]) & {"vs_logreg", "vs_dnn"} == set()


def test_blocks_put_egemaps_first_then_the_d_vector(study):
    data = {"egemaps": np.zeros((3, 88)), "dvector": np.ones((3, 256))}
    X, columns = study.blocks(data)
    assert X.shape == (3, 344)
    assert (X[:, columns["dvector"]] == 1).all()
    assert (X[:, columns["egemaps"]] == 0).all()
    assert list(columns["fused"]) == list(range(344))


def test_the_d_vector_source_network_reads_its_blocks(study):
    data = {"egemaps": np.zeros((3, 88)), "dvector": np.ones((3, 256))}
    _, columns = study.blocks(data)
    net = study.network("dvec-source", "speaker", columns, seed=0)
    (source,) = net.sources
    assert list(source.input_columns) == list(range(88, 344))
    assert list(net.input_columns) == list(range(88))


def test_run_model_reads_the_features_of_its_block(study):
    # a signal planted in the d-vector block only: learned from it on the
    # training speakers, absent from eGeMAPS; one fold per held-out group
    rng = np.random.RandomState(0)
    speaker = np.repeat(np.arange(6), 20).astype(str)
    emotion = np.tile(["angry", "sad"], 60)
    dvector = rng.normal(size=(120, 256))
    dvector[:, :16] += 2 * (emotion == "angry")[:, None]
    data = {
        "egemaps": rng.normal(size=(120, 88)),
        "dvector": dvector,
        "emotion": emotion,
        "speaker": speaker,
    }
    folds = [
        (np.flatnonzero(speaker >= "2"), np.flatnonzero(speaker < "2")),
        (np.flatnonzero(speaker < "4"), np.flatnonzero(speaker >= "4")),
    ]
    on_dvector = study.run_model(
        ("logreg", "dvector", "logreg", None), data, folds, "global", 0
    )
    on_egemaps = study.run_model(
        ("logreg", "egemaps", "logreg", None), data, folds, "global", 0
    )
    assert on_dvector["n_test"] == [40, 40]
    assert on_dvector["n_train"] == [80, 80]
    assert min(on_dvector["uar"]) > 0.95
    assert max(on_egemaps["uar"]) < 0.8
