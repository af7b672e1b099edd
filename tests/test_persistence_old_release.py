"""Models saved by the release before the one training loop still load and predict.

The files in ``tests/data/old_release`` were written by the release at commit
d04aef0, whose nets were trained by skorch's own loop and carry its callbacks
(see ``tests/data/README.md``); the probabilities they predicted right after
fitting are in ``expected.json``.
"""

import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

from sklearn_prognet import load_model

OLD = Path(__file__).parent / "data" / "old_release"
EXPECTED = json.loads((OLD / "expected.json").read_text())
X = np.asarray(EXPECTED["X"], dtype=np.float32)


def _expected(name):
    return np.asarray(EXPECTED["probabilities"][name])


@pytest.mark.parametrize("name", ["dnn", "prognet", "multitask"])
def test_an_old_pickle_loads_and_predicts_the_same(name):
    with warnings.catch_warnings():
        # sklearn warns when unpickling an estimator of another sklearn version
        warnings.simplefilter("ignore", UserWarning)
        model = pickle.loads((OLD / f"{name}.pkl").read_bytes())
    np.testing.assert_allclose(model.predict_proba(X), _expected(name), rtol=1e-6)


@pytest.mark.parametrize("name", ["dnn", "multitask"])
def test_an_old_skops_file_loads_and_predicts_the_same(name):
    pytest.importorskip("skops")
    model = load_model(OLD / f"{name}.skops")
    np.testing.assert_allclose(model.predict_proba(X), _expected(name), rtol=1e-6)


def test_an_old_net_refuses_to_train_with_a_clear_error():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = pickle.loads((OLD / "dnn.pkl").read_bytes())
    with pytest.raises(RuntimeError, match="trained by sklearn_prognet 0.1.0"):
        scoring = dict(model.net_.callbacks_)["valid_uar"].scoring
        scoring(model.net_, X, np.zeros(len(X)))
