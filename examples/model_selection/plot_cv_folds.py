"""
================================================
Speaker-independent and speaker-stratified folds
================================================

Utterances of one speaker share a voice, so where a speaker's utterances go
in a cross-validation decides what the score measures.
:class:`~sklearn_prognet.model_selection.RepeatedStratifiedGroupKFold` offers
two protocols: **speaker-independent** folds made of whole speakers (the test
speakers are new to the model), and **speaker-stratified** folds that hold a
share of every speaker (the protocol of Gideon et al. 2017). This example
draws both on EmoDB with :func:`~sklearn_prognet.plotting.plot_cv_folds`,
shows the paper's test / validation / training roles with
:class:`~sklearn_prognet.model_selection.FoldRoles`, and checks that the
repeats are genuinely different partitions.
"""

# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The data
# --------
#
# The eGeMAPS features of the 339 four-class EmoDB utterances ship with the
# package. Every utterance has an emotion, a speaker (10 actors) and a gender.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_prognet.datasets import load_emodb_features
from sklearn_prognet.model_selection import FoldRoles, RepeatedStratifiedGroupKFold
from sklearn_prognet.plotting import plot_cv_folds

emodb = load_emodb_features()
X, y, speakers = emodb.data, emodb.target, emodb.speaker
pd.crosstab(speakers, y)

# %%
# Two protocols
# -------------
#
# Five folds, drawn twice (two repeats). Each row of the plots is one split:
# red samples are tested, blue ones train the model. The samples are sorted by
# speaker, then class. Speaker-independent folds test whole speaker blocks;
# speaker-stratified folds cut through every speaker, so every test speaker
# was also heard in training.
independent = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=2, random_state=0)
stratified = RepeatedStratifiedGroupKFold(
    n_splits=5, n_repeats=2, protocol="speaker_stratified", random_state=0
)

fig, axes = plt.subplots(2, 1, figsize=(10, 9), layout="constrained")
for ax, cv in zip(axes, [independent, stratified], strict=True):
    plot_cv_folds(cv, X, y, speakers, ax=ax)
    ax.set_title(f"protocol={cv.protocol!r}")
plt.show()

# %%
# With the speaker-independent protocol, each repeat tests every speaker once,
# two speakers per fold:
for i, (train, test) in enumerate(independent.split(X, y, speakers)):
    repeat, fold = divmod(i, independent.n_splits)
    assert not set(speakers[train]) & set(speakers[test])  # no shared speaker
    print(f"repeat {repeat}, fold {fold}: test speakers", *np.unique(speakers[test]))

# %%
# The folds are also stratified: every test fold keeps roughly the class
# proportions of the corpus, as far as whole speakers allow.
proportions = pd.DataFrame(
    [
        pd.Series(y[test]).value_counts(normalize=True)
        for _, test in independent.split(X, y, speakers)
    ]
).round(2)
proportions.index.name = "split"
proportions.loc["corpus"] = pd.Series(y).value_counts(normalize=True).round(2)
proportions.round(2)

# %%
# The paper's fold roles
# ----------------------
#
# In the paper, each step uses one fold for testing, the next fold for early
# stopping (validation) and the remaining folds for training. With
# ``n_train_folds``, only some training folds are kept (grey: unused), as in
# the paper's Figure 4, which trains on 8, 4, 2 and 1 of 8 training folds.
# :class:`~sklearn_prognet.model_selection.FoldRoles` works with either
# protocol; the speaker-independent folds are easier to see.
roles = FoldRoles(independent, n_train_folds=2, random_state=0)
fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")
plot_cv_folds(roles, X, y, speakers, max_repeats=1, ax=ax)
ax.set_title("FoldRoles: test, validation, 2 of 3 training folds (first repeat)")
plt.show()

# %%
# :meth:`~sklearn_prognet.model_selection.FoldRoles.split_roles` yields the
# indices of the three roles for each step:
for step in roles.split_roles(X, y, speakers):
    if step.repeat == 0:
        print(
            f"fold {step.fold}: {len(step.train)} training, "
            f"{len(step.validation)} validation, {len(step.test)} test utterances"
        )

# %%
# Repeats must differ
# -------------------
#
# The corrected t-test treats the repeats as new random partitions. Looping
# over scikit-learn's :class:`~sklearn.model_selection.StratifiedGroupKFold`
# with ``shuffle=True`` and new seeds does not give that: it only shuffles
# speakers whose class distributions are tied, which real speakers rarely
# are. Count the distinct partitions of EmoDB that ten seeds give:
from sklearn.model_selection import StratifiedGroupKFold


def partition(test_folds):
    """The partition as a set of test sets, ignoring the order of the folds."""
    return frozenset(tuple(sorted(set(speakers[test]))) for test in test_folds)


sklearn_partitions = {
    partition(
        test
        for _, test in StratifiedGroupKFold(
            n_splits=5, shuffle=True, random_state=seed
        ).split(X, y, speakers)
    )
    for seed in range(10)
}
ten_repeats = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=10, random_state=0)
tests = [test for _, test in ten_repeats.split(X, y, speakers)]
our_partitions = {partition(tests[5 * r : 5 * r + 5]) for r in range(10)}
print(f"StratifiedGroupKFold, 10 seeds:      {len(sklearn_partitions)} partition(s)")
print(f"RepeatedStratifiedGroupKFold, 10 repeats: {len(our_partitions)} partitions")
