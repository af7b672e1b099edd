# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of sklearn_prognet.plotting (matplotlib's Agg backend)."""

import numpy as np
import pytest
from sklearn.model_selection import KFold
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_prognet.model_selection import FoldRoles, RepeatedStratifiedGroupKFold

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklearn_prognet.plotting import plot_cv_folds  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def speakers():
    """10 speakers x 4 emotions, different sizes and label mixes."""
    rng = np.random.RandomState(0)
    sizes = rng.randint(20, 40, size=10)
    groups = np.repeat([f"spk{i}" for i in range(10)], sizes)
    y = np.concatenate(
        [rng.choice(4, p=rng.dirichlet(np.ones(4)), size=s) for s in sizes]
    )
    return np.zeros((len(y), 2)), y, groups


def _role_image(ax):
    return np.asarray(ax.get_images()[0].get_array())


def test_speaker_independent_folds(speakers, tmp_path):
    X, y, groups = speakers
    cv = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=3, random_state=0)
    ax = plot_cv_folds(cv, X, y, groups)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert ax.get_title() == "RepeatedStratifiedGroupKFold"
    # 2 repeats of 5 folds by default, then the class and group strips
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "repeat 0, fold 0" and labels[-2:] == ["class", "group"]
    assert len(labels) == 12
    image = _role_image(ax)
    assert image.shape == (10, len(y))
    # every sample tested once per repeat
    assert np.all((image[:5] == 1).sum(axis=0) == 1)
    # group names under the group blocks
    assert [t.get_text() for t in ax.get_xticklabels()] == sorted(set(groups))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["train", "test"] and "class 3" in legend
    path = tmp_path / "folds.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 1000


def test_fold_roles_show_validation_and_unused(speakers):
    X, y, groups = speakers
    base = RepeatedStratifiedGroupKFold(
        n_splits=10, n_repeats=2, protocol="speaker_stratified", random_state=0
    )
    roles = FoldRoles(base, n_train_folds=4, random_state=0)
    _, ax = plt.subplots()
    out = plot_cv_folds(roles, X, y, groups, ax=ax, max_repeats=None)
    assert out is ax
    image = _role_image(ax)
    assert image.shape == (20, len(y))
    assert set(np.unique(image)) == {0, 1, 2, 3}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:4] == ["train", "test", "validation", "unused"]


def test_many_rows_and_unsorted(speakers):
    X, y, groups = speakers
    cv = RepeatedStratifiedGroupKFold(
        n_splits=10, n_repeats=5, protocol="speaker_stratified", random_state=0
    )
    ax = plot_cv_folds(cv, X, y, groups, max_repeats=None, sort=False)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # 50 rows: one label per repeat
    assert labels == [f"repeat {r}" for r in range(5)] + ["class", "group"]
    ax = plot_cv_folds(KFold(3), X, y)
    assert [t.get_text() for t in ax.get_yticklabels()][:3] == [
        "fold 0",
        "fold 1",
        "fold 2",
    ]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"ax": "axes"}, "'ax' parameter"),
        ({"max_repeats": 0}, "'max_repeats' parameter"),
        ({"sort": "yes"}, "'sort' parameter"),
        ({"cv": 5}, "'cv' parameter"),
    ],
)
def test_bad_parameters(speakers, kwargs, match):
    X, y, groups = speakers
    params = {"cv": KFold(3), "ax": None, **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        plot_cv_folds(params.pop("cv"), X, y, **params)
