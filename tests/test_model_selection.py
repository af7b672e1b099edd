# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Tests of sklearn_prognet.model_selection."""

import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import (
    KFold,
    RepeatedStratifiedKFold,
    ShuffleSplit,
    check_cv,
    cross_val_score,
    cross_validate,
)
from sklearn.neighbors import NearestCentroid

from sklearn_prognet.model_selection import (
    Fold,
    FoldRoles,
    RepeatedStratifiedGroupKFold,
    cv_fold_sizes,
)

PROTOCOLS = ["speaker_independent", "speaker_stratified"]
SETTINGS = settings(max_examples=25, deadline=None)


# -- helpers (after sklearn's check_valid_split and check_cv_coverage) --------


def check_valid_split(train, test, n_samples):
    train, test = set(train), set(test)
    assert train.isdisjoint(test)
    assert train | test == set(range(n_samples))


def fold_ids_per_repeat(cv, X, y, groups):
    """Test fold of every sample, one row per repeat (checks coverage)."""
    n_samples = len(y)
    n_splits = cv.get_n_splits()
    splits = list(cv.split(X, y, groups))
    assert len(splits) == n_splits
    per_repeat = n_splits // cv.n_repeats
    ids = np.full((cv.n_repeats, n_samples), -1)
    for i, (train, test) in enumerate(splits):
        check_valid_split(train, test, n_samples)
        repeat, fold = divmod(i, per_repeat)
        # every sample is tested exactly once per repeat
        assert np.all(ids[repeat, test] == -1)
        ids[repeat, test] = fold
    assert np.all(ids >= 0)
    return ids


def partition_key(fold_ids):
    return frozenset(
        frozenset(np.flatnonzero(fold_ids == k)) for k in np.unique(fold_ids)
    )


@st.composite
def grouped_data(draw, min_group_size=1):
    """Random speakers (groups) with their own label mixes."""
    n_splits = draw(st.integers(2, 5))
    n_groups = draw(st.integers(n_splits, 12))
    n_classes = draw(st.integers(2, 4))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    sizes = rng.randint(min_group_size, min_group_size + 8, size=n_groups)
    groups = np.repeat(np.arange(n_groups), sizes)
    y = np.concatenate(
        [
            rng.choice(n_classes, p=rng.dirichlet(np.ones(n_classes)), size=s)
            for s in sizes
        ]
    )
    y[:n_classes] = np.arange(n_classes)  # every class is present
    X = np.zeros((len(y), 1))
    return X, y, groups, n_splits


def emodb_like(n_speakers=10, seed=0, n_classes=4):
    """Speakers with different numbers of utterances and label mixes."""
    rng = np.random.RandomState(seed)
    sizes = rng.randint(30, 70, size=n_speakers)
    groups = np.repeat([f"spk{i:02d}" for i in range(n_speakers)], sizes)
    y = np.concatenate(
        [
            rng.choice(n_classes, p=rng.dirichlet(2 * np.ones(n_classes)), size=s)
            for s in sizes
        ]
    )
    return np.zeros((len(y), 3)), y, groups


# -- RepeatedStratifiedGroupKFold: properties ---------------------------------


@SETTINGS
@given(data=grouped_data(), n_repeats=st.integers(1, 3), seed=st.integers(0, 100))
def test_speaker_independent_properties(data, n_repeats, seed):
    X, y, groups, n_splits = data
    cv = RepeatedStratifiedGroupKFold(
        n_splits=n_splits, n_repeats=n_repeats, random_state=seed
    )
    with warnings.catch_warnings():
        # few groups can force repeated partitions; that warning is tested below
        warnings.simplefilter("ignore", UserWarning)
        ids = fold_ids_per_repeat(cv, X, y, groups)
        splits = list(cv.split(X, y, groups))
        again = list(cv.split(X, y, groups))
    assert cv.get_n_splits() == len(splits) == n_splits * n_repeats
    for train, test in splits:
        # no group in both train and test
        assert set(groups[train]).isdisjoint(groups[test])
        assert len(test) > 0
    # every group is wholly in one fold per repeat
    for row in ids:
        for g in np.unique(groups):
            assert len(np.unique(row[groups == g])) == 1
    # same random_state, same splits
    for (tr1, te1), (tr2, te2) in zip(splits, again, strict=True):
        np.testing.assert_array_equal(tr1, tr2)
        np.testing.assert_array_equal(te1, te2)


@SETTINGS
@given(
    data=grouped_data(min_group_size=5),
    n_repeats=st.integers(1, 3),
    seed=st.integers(0, 100),
)
@pytest.mark.filterwarnings("ignore:The least populated class")
def test_speaker_stratified_properties(data, n_repeats, seed):
    X, y, groups, n_splits = data
    cv = RepeatedStratifiedGroupKFold(
        n_splits=n_splits,
        n_repeats=n_repeats,
        protocol="speaker_stratified",
        random_state=seed,
    )
    ids = fold_ids_per_repeat(cv, X, y, groups)
    np.testing.assert_array_equal(ids, fold_ids_per_repeat(cv, X, y, groups))
    n_groups = len(np.unique(groups))
    for row in ids:
        # every speaker, and every speaker x class stratum, is dealt evenly
        for g in np.unique(groups):
            counts = np.bincount(row[groups == g], minlength=n_splits)
            assert counts.max() - counts.min() <= 1
            for c in np.unique(y):
                mask = (groups == g) & (y == c)
                counts = np.bincount(row[mask], minlength=n_splits)
                assert counts.max() - counts.min() <= 1
        # hence class counts differ by at most one per speaker
        for c in np.unique(y):
            counts = np.bincount(row[y == c], minlength=n_splits)
            assert counts.max() - counts.min() <= n_groups
        sizes = np.bincount(row, minlength=n_splits)
        assert sizes.max() - sizes.min() <= n_groups


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_repeats_are_different_partitions(protocol):
    # Speakers with different label mixes: StratifiedGroupKFold(shuffle=True)
    # returns the same partition for every seed here (no ties to break).
    X, y, groups = emodb_like(n_speakers=20, seed=1)
    cv = RepeatedStratifiedGroupKFold(
        n_splits=5, n_repeats=10, protocol=protocol, random_state=0
    )
    ids = fold_ids_per_repeat(cv, X, y, groups)
    assert len({partition_key(row) for row in ids}) == 10


def test_repeats_differ_with_few_groups():
    # 12 speakers in 10 folds (MSP-IMPROV): few partitions are good ones;
    # duplicates are redrawn.
    X, y, groups = emodb_like(n_speakers=12, seed=3)
    cv = RepeatedStratifiedGroupKFold(n_splits=10, n_repeats=10, random_state=0)
    ids = fold_ids_per_repeat(cv, X, y, groups)
    assert len({partition_key(row) for row in ids}) == 10


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_random_state_instance_drives_all_calls(protocol):
    X, y, groups = emodb_like(n_speakers=15)
    cv = RepeatedStratifiedGroupKFold(
        n_splits=5,
        n_repeats=2,
        protocol=protocol,
        random_state=np.random.RandomState(0),
    )
    first = [test for _, test in cv.split(X, y, groups)]
    second = [test for _, test in cv.split(X, y, groups)]
    assert any(not np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    cv_int = RepeatedStratifiedGroupKFold(
        n_splits=5, n_repeats=2, protocol=protocol, random_state=0
    )
    cv_int2 = RepeatedStratifiedGroupKFold(
        n_splits=5, n_repeats=2, protocol=protocol, random_state=1
    )
    a = [test for _, test in cv_int.split(X, y, groups)]
    b = [test for _, test in cv_int2.split(X, y, groups)]
    assert any(not np.array_equal(p, q) for p, q in zip(a, b, strict=True))


def test_speaker_independent_class_ratios():
    # Many speakers with different label mixes: folds keep class proportions
    # about as well as StratifiedGroupKFold (max deviation 0.031 on this data).
    X, y, groups = emodb_like(n_speakers=60, seed=2)
    cv = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=3, random_state=0)
    overall = np.bincount(y) / len(y)
    sizes = []
    for _, test in cv.split(X, y, groups):
        ratio = np.bincount(y[test], minlength=len(overall)) / len(test)
        np.testing.assert_allclose(ratio, overall, atol=0.05)
        sizes.append(len(test))
    assert max(sizes) / min(sizes) < 1.15


def test_speaker_stratified_every_fold_has_every_speaker():
    X, y, groups = emodb_like(n_speakers=10)
    cv = RepeatedStratifiedGroupKFold(
        n_splits=10, n_repeats=2, protocol="speaker_stratified", random_state=0
    )
    overall = np.bincount(y) / len(y)
    for train, test in cv.split(X, y, groups):
        assert set(groups[test]) == set(groups)
        assert set(groups[train]) == set(groups)
        ratio = np.bincount(y[test], minlength=len(overall)) / len(test)
        np.testing.assert_allclose(ratio, overall, atol=0.03)


def test_string_labels_and_groups():
    X, y, groups = emodb_like(n_speakers=8)
    labels = np.array(["ang", "hap", "neu", "sad"])[y]
    cv = RepeatedStratifiedGroupKFold(n_splits=4, n_repeats=2, random_state=0)
    a = [test for _, test in cv.split(X, labels, list(groups))]
    b = [test for _, test in cv.split(X, y, groups)]
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p, q)


# -- RepeatedStratifiedGroupKFold: errors and warnings ------------------------


def test_fewer_groups_than_splits_raises():
    X, y, groups = emodb_like(n_speakers=10)
    cv = RepeatedStratifiedGroupKFold(n_splits=12, n_repeats=2)
    with pytest.raises(ValueError, match=r"n_splits=12 .*number of groups \(10\)"):
        next(cv.split(X, y, groups))
    # the speaker-stratified protocol does not need as many groups as folds
    cv = RepeatedStratifiedGroupKFold(
        n_splits=12, n_repeats=1, protocol="speaker_stratified", random_state=0
    )
    assert len(list(cv.split(X, y, groups))) == 12


def test_as_many_groups_as_splits_warns():
    X, y, groups = emodb_like(n_speakers=10)
    cv = RepeatedStratifiedGroupKFold(n_splits=10, n_repeats=3, random_state=0)
    with pytest.warns(UserWarning, match="leave-one-group-out"):
        ids = fold_ids_per_repeat(cv, X, y, groups)
    assert len({partition_key(row) for row in ids}) == 1
    # a single repeat is leave-one-group-out without warning
    cv = RepeatedStratifiedGroupKFold(n_splits=10, n_repeats=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(cv.split(X, y, groups))) == 10


def test_unavoidable_duplicate_partition_warns():
    # 3 groups into 2 folds: only 3 partitions exist
    y = np.array([0, 1, 0, 1, 0, 1])
    groups = np.array([0, 0, 1, 1, 2, 2])
    cv = RepeatedStratifiedGroupKFold(n_splits=2, n_repeats=5, random_state=0)
    with pytest.warns(UserWarning, match="reproduces the partition"):
        fold_ids_per_repeat(cv, y, y, groups)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_small_class_warns_like_sklearn(protocol):
    # class 2 has 3 members, fewer than n_splits=4 (sklearn's StratifiedKFold
    # and StratifiedGroupKFold warn with the same words and condition)
    y = np.array([0, 1] * 12 + [2] * 3)
    groups = np.arange(len(y)) % 6
    cv = RepeatedStratifiedGroupKFold(
        n_splits=4, n_repeats=2, protocol=protocol, random_state=0
    )
    expected = (
        r"The least populated class in y has only 3 members, which is less "
        r"than n_splits=4\."
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        list(cv.split(y, y, groups))
    messages = [str(w.message) for w in record]
    assert sum(bool(re.search(expected, m)) for m in messages) == 1, messages
    assert record[0].filename == __file__
    # exactly n_splits members: no warning
    y4 = np.array([0, 1] * 12 + [2] * 4)
    groups4 = np.arange(len(y4)) % 6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(cv.split(y4, y4, groups4))


@pytest.mark.parametrize(
    "speakers, named",
    [((0, 1), "1"), (("03", "16"), "'16'"), (np.array(["03", "16"], object), "'16'")],
)
def test_speaker_stratified_small_speaker_warns(speakers, named):
    # speaker ids come as ints, numpy strings or Python strings (a DataFrame
    # column); the warning names the speaker in each case
    y = np.array([0, 1] * 10)
    groups = np.array([speakers[0]] * 18 + [speakers[1]] * 2, dtype=object)
    cv = RepeatedStratifiedGroupKFold(
        n_splits=5, n_repeats=1, protocol="speaker_stratified", random_state=0
    )
    with pytest.warns(
        UserWarning,
        match=rf"group \({named}\) has only 2 samples, fewer than n_splits=5",
    ):
        list(cv.split(y, y, groups))
    with pytest.raises(ValueError, match="number of samples"):
        list(
            RepeatedStratifiedGroupKFold(
                n_splits=30, protocol="speaker_stratified"
            ).split(y, y, groups)
        )


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_groups_required(protocol):
    y = np.array([0, 1] * 10)
    cv = RepeatedStratifiedGroupKFold(n_splits=2, protocol=protocol)
    with pytest.raises(ValueError, match="should not be None.*enable_metadata_routing"):
        next(cv.split(y, y))


def test_continuous_target_rejected():
    y = np.linspace(0, 1, 20)
    cv = RepeatedStratifiedGroupKFold(n_splits=2)
    with pytest.raises(ValueError, match="Supported target types"):
        next(cv.split(y, y, np.arange(20) % 4))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_splits": 1}, r"n_splits must be an integer >= 2; got n_splits=1"),
        ({"n_splits": 2.5}, r"n_splits must be an integer >= 2; got n_splits=2.5"),
        ({"n_splits": True}, r"n_splits must be an integer"),
        ({"n_repeats": 0}, r"n_repeats must be an integer >= 1; got n_repeats=0"),
        ({"n_repeats": "10"}, r"n_repeats must be an integer"),
        ({"protocol": "loso"}, r"protocol must be one of .*got protocol='loso'"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        RepeatedStratifiedGroupKFold(**params)


def test_repr_and_check_cv():
    cv = RepeatedStratifiedGroupKFold(n_splits=3, n_repeats=2, random_state=0)
    assert "n_splits=3" in repr(cv) and "protocol='speaker_independent'" in repr(cv)
    assert check_cv(cv) is cv


# -- metadata routing ---------------------------------------------------------


@pytest.mark.parametrize(
    "cv",
    [
        RepeatedStratifiedGroupKFold(n_splits=3, n_repeats=2, random_state=0),
        FoldRoles(
            RepeatedStratifiedGroupKFold(n_splits=4, n_repeats=2, random_state=0),
            n_train_folds=1,
            random_state=0,
        ),
    ],
    ids=["splitter", "fold_roles"],
)
def test_groups_reach_split_with_and_without_routing(small_data, cv):
    X, y, groups = small_data
    est = NearestCentroid()
    off = cross_validate(est, X, y, cv=cv, groups=groups, return_indices=True)
    with sklearn.config_context(enable_metadata_routing=True):
        on = cross_validate(
            est, X, y, cv=cv, params={"groups": groups}, return_indices=True
        )
        scores = cross_val_score(est, X, y, cv=cv, params={"groups": groups})
    np.testing.assert_allclose(off["test_score"], on["test_score"])
    np.testing.assert_allclose(scores, on["test_score"])
    for train, test in zip(on["indices"]["train"], on["indices"]["test"], strict=True):
        assert set(groups[train]).isdisjoint(groups[test])


def test_routing_requests_groups():
    for cv in (RepeatedStratifiedGroupKFold(), FoldRoles()):
        request = cv.get_metadata_routing()
        assert request.consumes("split", ["groups"]) == {"groups"}


# -- FoldRoles ----------------------------------------------------------------


@SETTINGS
@given(
    data=grouped_data(min_group_size=5),
    validation=st.sampled_from(["next", "random", None]),
    seed=st.integers(0, 100),
)
@pytest.mark.filterwarnings("ignore:The least populated class")
def test_fold_roles_properties(data, validation, seed):
    X, y, groups, n_splits = data
    n_splits = max(n_splits, 3)
    base = RepeatedStratifiedGroupKFold(
        n_splits=n_splits,
        n_repeats=2,
        protocol="speaker_stratified",
        random_state=seed,
    )
    roles = FoldRoles(base, validation=validation, random_state=seed)
    folds = list(roles.split_roles(X, y, groups))
    assert len(folds) == roles.get_n_splits() == 2 * n_splits
    tests = [test for _, test in base.split(X, y, groups)]
    val_count = np.zeros((2, len(y)), dtype=int)
    for i, f in enumerate(folds):
        assert isinstance(f, Fold)
        assert (f.repeat, f.fold) == divmod(i, n_splits)
        np.testing.assert_array_equal(f.test, tests[i])
        parts = [f.train, f.validation, f.test]
        everything = np.concatenate(parts)
        # disjoint, and all other folds are training folds
        assert len(np.unique(everything)) == len(everything) == len(y)
        if validation is None:
            assert len(f.validation) == 0
        else:
            assert len(f.validation) > 0
        if validation == "next":
            next_test = tests[f.repeat * n_splits + (f.fold + 1) % n_splits]
            np.testing.assert_array_equal(f.validation, next_test)
        val_count[f.repeat, f.validation] += 1
    if validation == "next":
        # every sample is the validation sample exactly once per repeat
        assert np.all(val_count == 1)
    # split yields the same steps, without the validation fold
    for f, (train, test) in zip(folds, roles.split(X, y, groups), strict=True):
        np.testing.assert_array_equal(f.train, train)
        np.testing.assert_array_equal(f.test, test)


@pytest.mark.parametrize("validation", ["next", "random"])
def test_fold_roles_train_folds_nested_and_deterministic(validation):
    X, y, groups = emodb_like(n_speakers=10)
    base = RepeatedStratifiedGroupKFold(
        n_splits=10, n_repeats=2, protocol="speaker_stratified", random_state=0
    )
    kept = {}
    for n in (8, 4, 2, 1):
        roles = FoldRoles(base, validation=validation, n_train_folds=n, random_state=42)
        kept[n] = [set(f.train) for f in roles.split_roles(X, y, groups)]
        again = [set(f.train) for f in roles.split_roles(X, y, groups)]
        assert kept[n] == again
        sizes = [len(t) for t in kept[n]]
        assert all(abs(s - n * len(y) / 10) <= n * 12 for s in sizes)
    for small, large in ((1, 2), (2, 4), (4, 8)):
        assert all(a <= b for a, b in zip(kept[small], kept[large], strict=True))
    # the kept folds are not always the same ones
    assert len({frozenset(t) for t in kept[1]}) > 1


def test_fold_roles_with_sklearn_splitters():
    X = np.arange(40).reshape(-1, 1)
    y = np.array([0, 1] * 20)
    folds = list(FoldRoles(KFold(5)).split_roles(X))
    assert [len(f.train) for f in folds] == [24] * 5
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=3, random_state=0)
    roles = FoldRoles(cv, n_train_folds=2, random_state=0)
    folds = list(roles.split_roles(X, y))
    assert roles.n_repeats == 3 and roles.get_n_splits() == len(folds) == 15
    assert [f.repeat for f in folds] == [r for r in range(3) for _ in range(5)]
    assert all(len(f.train) == 16 for f in folds)


def test_fold_roles_default_cv():
    roles = FoldRoles()
    assert roles.get_n_splits() == 100 and roles.n_repeats == 10
    X, y, groups = emodb_like(n_speakers=20)
    assert len(list(roles.split_roles(X, y, groups))) == 100


def test_fold_roles_errors():
    X = np.arange(20).reshape(-1, 1)
    with pytest.raises(ValueError, match=r"n_train_folds=4 is more than the 3"):
        next(FoldRoles(KFold(5), n_train_folds=4).split_roles(X))
    with pytest.raises(ValueError, match="do not partition the samples"):
        next(FoldRoles(ShuffleSplit(3, random_state=0)).split_roles(X))
    with pytest.raises(ValueError, match=r"more than the 0 training folds"):
        next(FoldRoles(KFold(2)).split_roles(X))
    assert len(list(FoldRoles(KFold(2), validation=None).split_roles(X))) == 2
    with pytest.raises(ValueError, match="validation must be"):
        FoldRoles(validation="previous")
    with pytest.raises(ValueError, match=r"n_train_folds must be an integer >= 1"):
        FoldRoles(n_train_folds=0)
    with pytest.raises(ValueError, match="cv must be None or a cross-validation"):
        FoldRoles(cv=5)


# -- cv_fold_sizes ------------------------------------------------------------


def test_cv_fold_sizes():
    X, y, groups = emodb_like(n_speakers=12)
    cv = RepeatedStratifiedGroupKFold(n_splits=4, n_repeats=3, random_state=0)
    n_train, n_test = cv_fold_sizes(cv, X, y, groups)
    expected = [(len(a), len(b)) for a, b in cv.split(X, y, groups)]
    np.testing.assert_array_equal(np.c_[n_train, n_test], expected)
    assert np.all(n_train + n_test == len(y))
    roles = FoldRoles(cv, n_train_folds=1, random_state=0)
    n_train, n_test = cv_fold_sizes(roles, X, y, groups)
    assert np.all(n_train + n_test < len(y))
    n_train, n_test = cv_fold_sizes(KFold(4), X)
    assert np.all(n_train + n_test == len(y)) and n_test.sum() == len(y)
    # by hand: KFold(4) on 10 samples tests 3, 3, 2 and 2
    n_train, n_test = cv_fold_sizes(KFold(4), np.zeros((10, 1)))
    assert n_train.tolist() == [7, 7, 8, 8] and n_test.tolist() == [3, 3, 2, 2]


@pytest.mark.parametrize(
    "cv",
    [
        RepeatedStratifiedGroupKFold(n_splits=4, n_repeats=2),
        FoldRoles(
            RepeatedStratifiedGroupKFold(n_splits=4, random_state=0), n_train_folds=1
        ),
        KFold(4, shuffle=True),
    ],
)
def test_cv_fold_sizes_warns_when_unseeded(cv):
    X, y, groups = emodb_like(n_speakers=12)
    if isinstance(cv, KFold):
        groups = None  # KFold warns that it ignores groups
    with pytest.warns(UserWarning, match="no integer random_state"):
        cv_fold_sizes(cv, X, y, groups)


# -- imports ------------------------------------------------------------------


def test_no_torch_import():
    code = (
        "import sys, sklearn_prognet.model_selection, sklearn_prognet.stats, "
        "sklearn_prognet.metrics, sklearn_prognet.plotting; "
        "assert 'torch' not in sys.modules; assert 'matplotlib' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_lazy_public_names():
    import sklearn_prognet

    assert sklearn_prognet.RepeatedStratifiedGroupKFold is RepeatedStratifiedGroupKFold
