"""
=============================================
Per-speaker normalisation, and how to test it
=============================================

Voices differ: one speaker's "calm" pitch is another's "excited" pitch. A
common remedy in speech emotion recognition is to standardise each speaker's
features with that speaker's own mean and standard deviation, so that the
classifier sees how a speaker deviates from their own habits.
:class:`~sklearn_prognet.preprocessing.SpeakerStandardScaler` does this inside
a scikit-learn :class:`~sklearn.pipeline.Pipeline`: the speaker ids travel
with the features as a column of the DataFrame.

This example compares it with a global
:class:`~sklearn.preprocessing.StandardScaler` on the embedded EmoDB features,
with speaker-independent cross-validation, and tests the difference with the
Bayesian correlated t-test,
:func:`~sklearn_prognet.stats.bayesian_correlated_ttest`.
"""

# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Features with their speakers
# ----------------------------
#
# The speaker ids go into ``X`` as a column named ``"speaker"``: scikit-learn's
# scorers pass only ``X`` to ``predict``, so the ids must travel with it.
# :class:`~sklearn_prognet.preprocessing.SpeakerStandardScaler` drops the
# column from its output; a global :class:`~sklearn.preprocessing.StandardScaler`
# needs it dropped first, which a
# :class:`~sklearn.compose.ColumnTransformer` does.
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_prognet.datasets import load_emodb_features
from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold
from sklearn_prognet.preprocessing import SpeakerStandardScaler
from sklearn_prognet.stats import bayesian_correlated_ttest, summarize_repeated_cv

emodb = load_emodb_features(as_frame=True)
X = emodb.data.assign(speaker=emodb.speaker.to_numpy())
y, speakers = emodb.target, emodb.speaker
print(X.shape)

# %%
# Two pipelines, the same splits
# ------------------------------
#
# Five speaker-independent folds (two speakers per test fold), repeated five
# times. In every split the global scaler learns its statistics on the
# training speakers; the per-speaker scaler standardises every speaker, the
# test speakers included, with the statistics of their own utterances.
N_SPLITS, N_REPEATS = 5, 5
cv = RepeatedStratifiedGroupKFold(
    n_splits=N_SPLITS, n_repeats=N_REPEATS, random_state=0
)
models = {
    "global": make_pipeline(
        make_column_transformer(("drop", ["speaker"]), remainder=StandardScaler()),
        LogisticRegression(C=0.1, max_iter=1000),
    ),
    "per speaker": make_pipeline(
        SpeakerStandardScaler(), LogisticRegression(C=0.1, max_iter=1000)
    ),
}
results = {
    name: cross_validate(
        model,
        X,
        y,
        groups=speakers,
        cv=cv,
        scoring="balanced_accuracy",
        return_indices=True,
    )
    for name, model in models.items()
}
for name, result in results.items():
    summary = summarize_repeated_cv(result["test_score"], n_repeats=N_REPEATS)
    print(f"UAR, {name:>11} normalisation: {summary}")

# %%
# Is the difference real?
# -----------------------
#
# The scores of the 25 splits are correlated (the training sets overlap), so
# the Bayesian correlated t-test of Corani and Benavoli (2015) inflates their
# variance by ``n_test / n_train``, as the corrected t-test does. Differences
# of less than one point of UAR (``rope=0.01``) count as practically
# equivalent.
n_train = [len(train) for train in results["global"]["indices"]["train"]]
n_test = [len(test) for test in results["global"]["indices"]["test"]]
test = bayesian_correlated_ttest(
    results["per speaker"]["test_score"],
    results["global"]["test_score"],
    n_train=n_train,
    n_test=n_test,
    rope=0.01,
)
print(f"mean difference (per speaker - global): {test.mean:+.3f}")
print(f"P(per speaker better) = {test.p_a_better:.3f}")
print(f"P(practically equivalent) = {test.p_rope:.3f}")
print(f"P(global better) = {test.p_b_better:.3f}")
low, high = test.credible_interval(0.95)
print(f"95 % credible interval: [{low:+.3f}, {high:+.3f}]")

# %%
# The posterior of the difference, with the ROPE shaded:
grid = np.linspace(test.mean - 5 * test.scale, test.mean + 5 * test.scale, 400)
density = stats.t.pdf(grid, test.df, loc=test.mean, scale=test.scale)
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
ax.plot(grid, density, color="#4477aa")
ax.axvspan(-test.rope, test.rope, color="0.85", label="ROPE (±1 point of UAR)")
ax.axvline(0, color="0.3", linewidth=1)
ax.set_xlabel("UAR difference, per-speaker minus global normalisation")
ax.set_yticks([])
ax.set_title("Posterior of the mean difference")
ax.legend(loc="upper left")
plt.show()

# %%
# Why this is optimistic on EmoDB
# -------------------------------
#
# Every EmoDB actor speaks the same ten sentences in every emotion, so each
# speaker's statistics are computed over a similar mix of emotions (the table
# below). A speaker's mean then lies in the middle of their emotions, and a
# feature above the speaker's mean says "more aroused than this speaker's
# average emotion". In real use a speaker's speech is mostly neutral, their
# mean sits near "neutral", and the same normalised value means something
# else. The gain measured here therefore holds only when each test speaker's
# unlabelled speech is available and mixes emotions the way this corpus does.
# The share of each emotion per speaker:
shares = emodb.frame.groupby("speaker")["emotion"].value_counts(normalize=True)
print(shares.unstack().round(2))
