"""The evaluation protocol, checked against values computed by hand.

UAR, the corrected repeated cross-validation t-test and the fold sizes it
needs: every expected value here is written out or computed from the
textbook formula, never by the function under test. ``make mutants``
(scripts/mutants.py) breaks these computations on purpose and checks that
these tests notice.
"""

import numpy as np
import pytest
from scipy import stats as scipy_stats
from sklearn.model_selection import KFold

from sklearn_prognet.metrics import uar_score
from sklearn_prognet.model_selection import (
    FoldRoles,
    RepeatedStratifiedGroupKFold,
    cv_fold_sizes,
)
from sklearn_prognet.stats import corrected_repeated_cv_ttest


def test_uar_on_imbalanced_labels_is_the_mean_recall_not_accuracy():
    # 6 "ang", 3 "hap", 1 "sad": recalls 5/6, 1/3 and 1
    y_true = ["ang"] * 6 + ["hap"] * 3 + ["sad"]
    y_pred = ["ang"] * 5 + ["hap"] + ["hap", "ang", "ang"] + ["sad"]
    expected = (5 / 6 + 1 / 3 + 1) / 3
    assert uar_score(y_true, y_pred) == pytest.approx(expected)
    accuracy = 7 / 10
    assert abs(expected - accuracy) > 0.01


# scikit-learn says so; UAR stays defined
@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_uar_ignores_a_predicted_label_that_no_row_has():
    # A speaker-independent test fold may lack a class the model still
    # predicts. Recalls of the true classes: a 1/2, b 2/2. The predicted "c"
    # lowers a's recall but is no class of the fold: UAR is 3/4, where macro
    # recall over the union of labels would average in a 0 for "c" (1/2).
    assert uar_score(["a", "a", "b", "b"], ["a", "c", "b", "b"]) == 0.75
    assert uar_score([0, 0, 1, 1, 1, 1], [0, 2, 1, 1, 2, 1]) == pytest.approx(
        (1 / 2 + 3 / 4) / 2
    )


def test_corrected_ttest_equals_the_nadeau_bengio_formula_by_hand():
    # 3 repeats x 4 folds of unequal size
    d = np.array(
        [0.03, 0.01, 0.05, -0.02, 0.04, 0.02, 0.0, 0.03, 0.01, 0.06, 0.02, 0.0]
    )
    n_train = np.array([70, 75, 72, 73] * 3)
    n_test = 100 - n_train
    b = np.full(12, 0.5)
    res = corrected_repeated_cv_ttest(b + d, b, n_train=n_train, n_test=n_test)
    J = 12
    correction = 1 / J + n_test.sum() / n_train.sum()  # 1/12 + 310/1160
    t = d.mean() / np.sqrt(correction * d.var(ddof=1))
    assert res.df == J - 1
    assert res.correction == pytest.approx(correction)
    assert res.statistic == pytest.approx(t)
    assert res.pvalue == pytest.approx(2 * scipy_stats.t.sf(abs(t), J - 1))
    # the correction matters: the plain paired t statistic is about twice as large
    assert scipy_stats.ttest_rel(b + d, b).statistic > 1.5 * t


def test_cv_fold_sizes_by_hand():
    X = np.zeros((10, 1))
    n_train, n_test = cv_fold_sizes(KFold(4), X)
    np.testing.assert_array_equal(n_test, [3, 3, 2, 2])
    np.testing.assert_array_equal(n_train, [7, 7, 8, 8])
    # FoldRoles: 20 samples in 5 folds of 4; one fold tests, one validates,
    # and of the three left only one trains
    roles = FoldRoles(KFold(5), n_train_folds=1, random_state=0)
    n_train, n_test = cv_fold_sizes(roles, np.zeros((20, 1)))
    np.testing.assert_array_equal(n_train, [4] * 5)
    np.testing.assert_array_equal(n_test, [4] * 5)


def test_fold_roles_by_hand():
    # KFold(4) on 8 samples: fold k tests samples 2k and 2k + 1; with
    # validation="next" fold k + 1 validates and the two others train
    roles = FoldRoles(KFold(4), random_state=0)
    folds = list(roles.split_roles(np.zeros((8, 1))))
    fold_of = [[0, 1], [2, 3], [4, 5], [6, 7]]
    for k, f in enumerate(folds):
        assert (f.repeat, f.fold) == (0, k)
        assert f.test.tolist() == fold_of[k]
        assert f.validation.tolist() == fold_of[(k + 1) % 4]
        others = [i for j in range(4) if j not in (k, (k + 1) % 4) for i in fold_of[j]]
        assert f.train.tolist() == others
    # split() is the same steps, with the validation fold in neither part
    for f, (train, test) in zip(folds, roles.split(np.zeros((8, 1))), strict=True):
        assert train.tolist() == f.train.tolist() and test.tolist() == f.test.tolist()


def test_kept_training_folds_are_drawn_evenly_among_the_eligible_folds():
    # KFold(10), validation="next", one training fold kept: in step k the
    # eight folds other than k and k + 1 are eligible, and each should be
    # kept in about 1/8 of 200 seeds (25; sd 4.7). Taking the first eligible
    # fold would keep fold 0 in 8 of the 10 steps of every repeat, and the
    # corrected t-test assumes training sets that overlap as random ones do.
    n_seeds = 200
    kept = np.zeros((10, 10), dtype=int)  # [step, fold kept]
    for seed in range(n_seeds):
        roles = FoldRoles(KFold(10), n_train_folds=1, random_state=seed)
        for f in roles.split_roles(np.zeros((10, 1))):
            (fold,) = f.train  # KFold(10) on 10 rows: fold k is row k
            kept[f.fold, fold] += 1
    for step in range(10):
        eligible = [k for k in range(10) if k not in (step, (step + 1) % 10)]
        assert kept[step].sum() == n_seeds
        assert kept[step, [step, (step + 1) % 10]].sum() == 0
        assert kept[step, eligible].min() >= 10, kept[step]
        assert kept[step, eligible].max() <= 45, kept[step]
    # over a repeat's ten steps each fold is eligible eight times: kept
    # about once per seed (200 in all; sd 13), not in most steps
    assert np.abs(kept.sum(axis=0) - n_seeds).max() <= 60, kept.sum(axis=0)


def test_speaker_independent_folds_keep_every_speaker_whole():
    rng = np.random.RandomState(0)
    groups = np.repeat(np.arange(12), rng.randint(5, 15, size=12))
    y = rng.randint(0, 3, size=len(groups))
    cv = RepeatedStratifiedGroupKFold(n_splits=4, n_repeats=3, random_state=0)
    n_tested = np.zeros(len(y), dtype=int)
    for train, test in cv.split(np.zeros((len(y), 1)), y, groups):
        assert set(groups[train]).isdisjoint(groups[test])
        # a speaker in the test fold is there with all of their samples
        for g in np.unique(groups[test]):
            assert np.sum(groups[test] == g) == np.sum(groups == g)
        n_tested[test] += 1
    assert np.all(n_tested == 3)  # once per repeat
