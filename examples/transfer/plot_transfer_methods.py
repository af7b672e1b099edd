"""
===================================================================
Comparing ProgNet, PT/FT and DNN with the corrected repeated t-test
===================================================================

The paralinguistic experiment of Gideon et al. (2017) on EmoDB: does knowing
who is speaking help to recognise emotions? Speaker identification is the
source task and emotion the target task. Three methods are compared on the
same repeated cross-validation:

- **DNN**: a network trained on emotion alone;
- **PT/FT**: the speaker network, fine-tuned on emotion
  (:class:`~sklearn_prognet.FineTunedClassifier`);
- **ProgNet**: a new emotion column next to the frozen speaker network
  (:class:`~sklearn_prognet.ProgressiveNetClassifier`).

The protocol is the paper's, scaled down to run in seconds: folds stratified
by speaker, one test fold, one validation fold for early stopping and the
other folds for training in every step, UAR, and the corrected repeated
cross-validation t-test. The networks are smaller (two layers of 64 units) and
the cross-validation shorter (5 folds, 2 repeats) than the paper's.
"""

# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The protocol
# ------------
#
# :class:`~sklearn_prognet.model_selection.FoldRoles` turns the repeated
# 5-fold splitter into the paper's roles. The same integer ``random_state``
# gives every method the same splits, which the paired test needs.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import DNNClassifier, FineTunedClassifier, ProgressiveNetClassifier
from sklearn_prognet.datasets import load_emodb_features
from sklearn_prognet.metrics import uar_score
from sklearn_prognet.model_selection import (
    FoldRoles,
    RepeatedStratifiedGroupKFold,
    cv_fold_sizes,
)
from sklearn_prognet.stats import corrected_repeated_cv_ttest, summarize_repeated_cv

emodb = load_emodb_features()
X, y, speakers = emodb.data, emodb.target, emodb.speaker

N_SPLITS, N_REPEATS = 5, 2
roles = FoldRoles(
    RepeatedStratifiedGroupKFold(
        n_splits=N_SPLITS,
        n_repeats=N_REPEATS,
        protocol="speaker_stratified",
        random_state=0,
    )
)

# %%
# One step: a source, then three methods
# --------------------------------------
#
# In every step the speaker network is trained on the training folds only, so
# it has never seen the test fold. Features are z-normalised on the training
# folds. Every network stops early on the UAR of the validation fold.
params = {
    "hidden_layer_sizes": (64, 64),
    "lr": 0.001,
    "max_epochs": 100,
    "patience": 20,
}


def run_step(step):
    scaler = StandardScaler().fit(X[step.train])
    X_train, X_val, X_test = (
        scaler.transform(X[idx]) for idx in (step.train, step.validation, step.test)
    )
    y_train, y_val, y_test = y[step.train], y[step.validation], y[step.test]
    seed = 100 * step.repeat + step.fold

    speaker_net = DNNClassifier(**params, early_stopping=False, random_state=seed)
    speaker_net.fit(X_train, speakers[step.train])
    networks = {
        "DNN": DNNClassifier(**params, random_state=seed),
        "PT/FT": FineTunedClassifier(source=speaker_net, **params, random_state=seed),
        "ProgNet": ProgressiveNetClassifier(
            sources=[speaker_net], **params, random_state=seed
        ),
    }
    scores = {}
    for name, net in networks.items():
        net.fit(X_train, y_train, X_val=X_val, y_val=y_val)
        scores[name] = uar_score(y_test, net.predict(X_test))
    return scores


steps = list(roles.split_roles(X, y, speakers))
results = pd.DataFrame([run_step(step) for step in steps])
results.index = pd.MultiIndex.from_tuples(
    [(s.repeat, s.fold) for s in steps], names=["repeat", "fold"]
)
results.round(3)

# %%
# Table 2 of the paper reports, for every method, the mean UAR and the mean
# over repeats of the standard deviation across folds:
pd.Series(
    {name: str(summarize_repeated_cv(results[name], N_REPEATS)) for name in results},
    name="UAR",
)

# %%
# The corrected t-test
# --------------------
#
# The test needs the sizes of the training and test sets of every step.
# :func:`~sklearn_prognet.model_selection.cv_fold_sizes` counts them from the
# splitter; for ``FoldRoles``, the training set is the kept training folds
# (the validation fold is not counted).
n_train, n_test = cv_fold_sizes(roles, X, y, speakers)

rows = []
for a, b in [("ProgNet", "DNN"), ("ProgNet", "PT/FT"), ("PT/FT", "DNN")]:
    test = corrected_repeated_cv_ttest(
        results[a], results[b], n_train=n_train, n_test=n_test
    )
    low, high = test.confidence_interval(0.95)
    rows.append(
        {
            "comparison": f"{a} - {b}",
            "mean difference": test.mean_difference,
            "95% CI": f"[{low:+.3f}, {high:+.3f}]",
            "t": test.statistic,
            "p (corrected)": test.pvalue,
            "p (plain, wrong)": stats.ttest_rel(results[a], results[b]).pvalue,
        }
    )
comparisons = pd.DataFrame(rows).set_index("comparison")
comparisons.round(3)

# %%
# ``df=10`` would reproduce the paper's ten degrees of freedom; by default
# the test uses the number of paired scores minus one (Bouckaert and Frank
# 2004). The plain paired t-test is shown only for contrast: it ignores that
# the training sets overlap, so its p-values are too small (see
# :ref:`sphx_glr_auto_examples_stats_plot_corrected_ttest.py`).
#
# Plot
# ----
#
# Left: the UAR of every split, one line per split across the three methods.
# Right: the paired differences, with the corrected 95 % confidence interval
# of their mean.
colors = {"DNN": "#555555", "PT/FT": "#ee7733", "ProgNet": "#4477aa"}
fig, (ax1, ax2) = plt.subplots(
    1, 2, figsize=(11, 4.5), layout="constrained", gridspec_kw={"width_ratios": [3, 2]}
)
names = list(results.columns)
for _, row in results.iterrows():
    ax1.plot(range(3), row[names], color="0.8", linewidth=0.8, zorder=1)
for i, name in enumerate(names):
    ax1.scatter(np.full(len(results), i), results[name], color=colors[name], zorder=2)
    ax1.hlines(results[name].mean(), i - 0.25, i + 0.25, color=colors[name], lw=3)
ax1.set_xticks(range(3), names)
ax1.set_ylabel("test UAR")
ax1.set_title(f"UAR of {len(results)} splits ({N_REPEATS} x {N_SPLITS} folds)")

for i, (label, row) in enumerate(comparisons.iterrows()):
    a, b = label.split(" - ")
    diff = results[a] - results[b]
    ax2.scatter(
        diff,
        np.full(len(diff), i) + np.linspace(-0.15, 0.15, len(diff)),
        color=colors[a],
        alpha=0.6,
        s=18,
    )
    low, high = (float(v) for v in row["95% CI"].strip("[]").split(","))
    ax2.errorbar(
        row["mean difference"],
        i,
        xerr=[[row["mean difference"] - low], [high - row["mean difference"]]],
        fmt="D",
        color="black",
        capsize=4,
    )
ax2.axvline(0, color="0.5", linestyle=":")
ax2.set_yticks(range(len(comparisons)), comparisons.index)
ax2.invert_yaxis()
ax2.set_xlabel("UAR difference (mean and corrected 95% CI)")
ax2.set_title("Paired differences")
plt.show()

# %%
# With so few splits and such small networks, the confidence intervals are
# wide; on EmoDB the differences between the methods are small compared with
# the variation between folds. The paper's conclusions come from IEMOCAP and
# MSP-IMPROV, which are more than ten times larger, with 100 splits; run them
# with ``sklearn-prognet paralinguistic`` (:ref:`experiments`).
