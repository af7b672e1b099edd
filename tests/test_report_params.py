"""Trainable parameters in the paralinguistic and cross-corpus reports (#15).

The counts are computed by hand here (weights plus biases of each trained
layer), never with the package.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sklearn_prognet.experiments import (
    ExperimentResult,
    load_corpus,
    render_report,
    run_cross_corpus,
)
from sklearn_prognet.experiments._inputs import corpus_to_frame

DATA = Path(__file__).parent / "data"
QUIET = {"verbose": False, "progress": False}


def _dense(sizes):
    """Weights and biases of dense layers of the given widths, by hand."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


# 88 eGeMAPS inputs, 4 x 256 hidden units, 2 classes (the fixture's emotions)
DNN = 88 * 256 + 256 + 3 * (256 * 256 + 256) + (256 * 2 + 2)
assert DNN == _dense([88, 256, 256, 256, 256, 2]) == 220_674
# a new column plus linear laterals (no bias) from the source's 4 hidden
# layers into the new column's 3 upper hidden layers and output layer
PROGNET = DNN + 3 * 256 * 256 + 256 * 2


def _table_row(text, start):
    return next(line for line in text.splitlines() if line.startswith(start))


def test_paralinguistic_report_shows_the_median_parameters(tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(DATA / "results_confusion", folder)
    lines = (folder / "fits.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    # three folds per arm; the median is the middle one, not the mean
    extra = {"dnn": (0, 0, 0), "prognet": (0, 4, 50), "ptft": (-9, 0, 0)}
    # PT/FT fine-tunes every layer: a DNN's count
    base = {"dnn": DNN, "prognet": PROGNET, "ptft": DNN}
    for r in records:
        r["n_trainable_params"] = base[r["method"]] + extra[r["method"]][r["fold"]]
    (folder / "fits.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    text = render_report(folder).read_text()
    assert "| Source | Method | " in text and " | trainable params |" in text
    assert _table_row(text, "| N/A | DNN |").endswith("| 220,674 |")
    assert _table_row(text, "| Gender | ProgNet |").endswith(f"| {PROGNET + 4:,} |")
    assert _table_row(text, "| Gender | PT/FT |").endswith("| 220,674 |")
    assert "*trainable params*: parameters the optimizer updated" in text
    summary = ExperimentResult.load(folder).summary_table()
    assert f"| {PROGNET + 4:,} |" in summary


def test_old_results_without_counts_show_no_column(tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(DATA / "results_confusion", folder)
    text = render_report(folder).read_text()
    assert "trainable params |" not in text
    assert _table_row(text, "| N/A | DNN |") == "| N/A | DNN | 0.750±0.217 |"


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """EmoDB as two feature tables of disjoint speakers."""
    emodb = load_corpus("emodb")
    folder = tmp_path_factory.mktemp("corpora")
    paths = []
    for name, speakers in (("src", ["03", "08", "09", "10"]), ("tgt", ["11", "12"])):
        frame = corpus_to_frame(emodb.select(np.isin(emodb.speaker, speakers)))
        frame["corpus"] = name
        paths.append(str(folder / f"{name}.csv"))
        frame.to_csv(paths[-1], index=False)
    return paths


def test_cross_corpus_report_shows_hand_counted_parameters(tmp_path, halves):
    out = tmp_path / "cross"
    network = {"hidden_layer_sizes": (8, 4), "max_epochs": 2, "patience": 2}
    result = run_cross_corpus(out, *halves, n_splits=3, n_repeats=1,
                              train_folds=[1], network=network, **QUIET)  # fmt: skip
    # 88 inputs, 8 and 4 hidden units, 4 emotions
    dnn = (88 * 8 + 8) + (8 * 4 + 4) + (4 * 4 + 4)
    ptft = dnn  # every layer fine-tuned (n_frozen_layers=0)
    prognet = dnn + 8 * 4 + 4 * 4  # laterals into hidden layer 2 and the output
    text = (out / "report.md").read_text()
    header = _table_row(text, "| Method | 1 training fold |")
    assert header.endswith("| trainable params |")
    assert _table_row(text, "| DNN |").endswith(f"| {dnn:,} |")
    assert _table_row(text, "| PT/FT |").endswith(f"| {ptft:,} |")
    assert _table_row(text, "| ProgNet |").endswith(f"| {prognet:,} |")
    assert _table_row(text, "| Source model, not adapted |").endswith("| – |")
    assert f"| {prognet:,} |" in result.summary_table()
