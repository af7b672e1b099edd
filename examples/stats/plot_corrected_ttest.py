"""
========================================================
Why the plain t-test on cross-validation scores is wrong
========================================================

Two models evaluated on the same repeated k-fold splits give paired scores,
and a paired t-test on them looks natural. But the scores are not
independent: any two training sets of a 10-fold cross-validation share 8 of
their 10 folds, and every sample is tested once per repeat. When one model
happens to suit a data set better, it wins on nearly every split, and the
spread of the differences says little about how the mean difference would
vary on new data. The naive variance is too small, and the test declares
equally good models different far too often.

This example measures that type-I error on simulated data where the null
hypothesis is true by construction, and compares it with the corrected
repeated cross-validation t-test of Nadeau and Bengio (2003) and Bouckaert
and Frank (2004), :func:`~sklearn_prognet.stats.corrected_repeated_cv_ttest`,
which Gideon et al. (2017) use.
"""

# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Two equally good models
# -----------------------
#
# Every simulated data set has 200 samples of two classes and 10 features.
# The features are independent and equally informative, so a model that sees
# the first five features and a model that sees the last five are equally good
# **on average over data sets**: the null hypothesis of the test is true. On a
# single data set, one of the two halves happens to separate the classes
# better, and that is exactly the randomness the test must account for.
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.naive_bayes import GaussianNB

from sklearn_prognet.stats import corrected_repeated_cv_ttest

N_SAMPLES, N_FEATURES, SHIFT = 200, 5, 0.35
N_DATASETS = 50
REPEATS = [1, 2, 5, 10]
cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=max(REPEATS), random_state=0)


def simulate(rng):
    """One data set: two halves of equally informative features."""
    y = rng.randint(2, size=N_SAMPLES)
    X = rng.normal(size=(N_SAMPLES, 2 * N_FEATURES)) + SHIFT * (2 * y[:, None] - 1)
    return X, y


def cv_scores(X, y):
    """Accuracy of the two models on every split, in the order of ``cv``."""
    halves = [slice(0, N_FEATURES), slice(N_FEATURES, 2 * N_FEATURES)]
    scores = np.empty((2, cv.get_n_splits()))
    for i, (train, test) in enumerate(cv.split(X, y)):
        for model, half in enumerate(halves):
            clf = GaussianNB().fit(X[train, half], y[train])
            scores[model, i] = clf.score(X[test, half], y[test])
    return scores


# %%
# Testing, again and again
# ------------------------
#
# For each of 50 data sets, run 10-fold cross-validation repeated 10 times,
# and test the difference between the two models with the first 1, 2, 5 and
# 10 repeats, once with the plain paired t-test
# (:func:`scipy.stats.ttest_rel`) and once with the corrected test. Each
# training set holds 180 samples and each test set 20.
rng = np.random.RandomState(0)
pvalues = {"plain": {r: [] for r in REPEATS}, "corrected": {r: [] for r in REPEATS}}
statistics = {"plain": [], "corrected": []}
for _ in range(N_DATASETS):
    a, b = cv_scores(*simulate(rng))
    for r in REPEATS:
        a_r, b_r = a[: 10 * r], b[: 10 * r]
        plain = stats.ttest_rel(a_r, b_r)
        corrected = corrected_repeated_cv_ttest(a_r, b_r, n_train=180, n_test=20)
        pvalues["plain"][r].append(plain.pvalue)
        pvalues["corrected"][r].append(corrected.pvalue)
    statistics["plain"].append(plain.statistic)
    statistics["corrected"].append(corrected.statistic)

# %%
# How often is the null hypothesis rejected?
# ------------------------------------------
#
# At the 5 % level, a valid test rejects a true null hypothesis about 5 % of
# the time. The shaded band is the range expected from 50 data sets by chance
# alone (a 95 % binomial interval around 5 %). The right panel shows why the
# plain test fails: with 10 repeats (100 paired scores), its t statistics
# spread far wider than the t distribution it compares them with, while the
# corrected statistics follow it.
rates = {
    test: [np.mean(np.array(pvalues[test][r]) < 0.05) for r in REPEATS]
    for test in pvalues
}
low, high = stats.binom.interval(0.95, N_DATASETS, 0.05)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
ax1.axhspan(low / N_DATASETS, high / N_DATASETS, color="0.9", label="5 % ± chance")
ax1.plot(REPEATS, rates["plain"], "o-", color="#ee6677", label="plain paired t-test")
ax1.plot(REPEATS, rates["corrected"], "s-", color="#4477aa", label="corrected t-test")
ax1.axhline(0.05, color="0.3", linestyle="--", linewidth=1)
ax1.set_xticks(REPEATS)
ax1.set_xlabel("repeats of 10-fold cross-validation")
ax1.set_ylabel("rate of false 'significant' results")
ax1.set_title("Type-I error at the 5 % level")
ax1.set_ylim(0, 1)
ax1.legend(loc="upper left")

grid = np.linspace(-12, 12, 400)
bins = np.linspace(-12, 12, 41)
ax2.hist(
    statistics["plain"],
    bins=bins,
    density=True,
    alpha=0.6,
    color="#ee6677",
    label="plain t statistics",
)
ax2.hist(
    statistics["corrected"],
    bins=bins,
    density=True,
    alpha=0.6,
    color="#4477aa",
    label="corrected t statistics",
)
ax2.plot(grid, stats.t.pdf(grid, df=99), color="0.2", label="t distribution, 99 df")
ax2.set_xlabel("t statistic (10 repeats, 100 paired scores)")
ax2.set_ylabel("density")
ax2.set_title("Test statistics under the null hypothesis")
ax2.legend(loc="upper right", fontsize="small")
plt.show()

for test in ("plain", "corrected"):
    print(
        f"{test:>9}: "
        + ", ".join(
            f"{r} repeat(s) {rate:.0%}"
            for r, rate in zip(REPEATS, rates[test], strict=True)
        )
    )

# %%
# The plain test's error grows with the number of repeats: more repeats make
# the naive standard error ``sqrt(var(d) / J)`` smaller, although they add no
# new data. The corrected test multiplies the variance by
# ``1 / J + n_test / n_train``, whose second term does not shrink with ``J``,
# and keeps its error near the nominal level.
#
# In practice
# -----------
#
# Evaluate both models on the same splits (a splitter with an integer
# ``random_state``), then use
# :func:`~sklearn_prognet.stats.corrected_repeated_cv_ttest` on the paired
# scores, or :func:`~sklearn_prognet.stats.compare_cv_results` on two
# ``cross_validate(..., return_indices=True)`` results. With grouped folds,
# whose sizes vary, :func:`~sklearn_prognet.model_selection.cv_fold_sizes`
# counts the training and test sizes of every split.
X, y = simulate(np.random.RandomState(1))
a, b = cv_scores(X, y)
result = corrected_repeated_cv_ttest(a, b, n_train=180, n_test=20)
ci_low, ci_high = result.confidence_interval(0.95)
print(
    f"difference {result.mean_difference:+.3f}, t = {result.statistic:.2f}, "
    f"p = {result.pvalue:.3f}, 95 % CI [{ci_low:+.3f}, {ci_high:+.3f}]"
)
print(f"plain test on the same scores: p = {stats.ttest_rel(a, b).pvalue:.2g}")
