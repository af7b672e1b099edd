"""
=======================================================
Training the source in every fold with metadata routing
=======================================================

A progressive network whose source column recognises speakers must not learn
that source from the test fold. Trained once on the whole corpus, the speaker
network would have seen every test utterance. Instead, give
:class:`~sklearn_prognet.ProgressiveNetClassifier` an **unfitted** source and
the source labels as ``source_y``: every ``fit`` then trains the source on its
own training data first. scikit-learn's metadata routing slices ``source_y``
(and the speakers) for every fold of
:func:`~sklearn.model_selection.cross_validate`.

This example cross-validates such a network, with two sources (speaker
identity and gender), against a DNN on EmoDB with speaker-independent folds,
and compares them with :func:`~sklearn_prognet.stats.compare_cv_results`.
"""

# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Requesting metadata
# -------------------
#
# With routing enabled, every consumer says which metadata it wants:
#
# - the splitter requests ``groups`` (the speakers) by default;
# - ``set_fit_request(source_y=True)`` asks for the source labels, one column
#   per unfitted source;
# - ``set_fit_request(groups=True)`` asks for the speakers too, so that early
#   stopping holds out whole speakers.
import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import DNNClassifier, ProgressiveNetClassifier
from sklearn_prognet.datasets import load_emodb_features
from sklearn_prognet.metrics import uar_scorer
from sklearn_prognet.model_selection import RepeatedStratifiedGroupKFold
from sklearn_prognet.stats import compare_cv_results, summarize_repeated_cv

sklearn.set_config(enable_metadata_routing=True)

emodb = load_emodb_features()
X, y, speakers, gender = emodb.data, emodb.target, emodb.speaker, emodb.gender

small = {"hidden_layer_sizes": (64, 64), "lr": 0.001, "max_epochs": 100, "patience": 20}
prognet = ProgressiveNetClassifier(
    sources=[DNNClassifier(**small), DNNClassifier(**small)], **small, random_state=0
).set_fit_request(groups=True, source_y=True)
dnn = DNNClassifier(**small, random_state=0).set_fit_request(groups=True)

models = {
    "DNN": make_pipeline(StandardScaler(), dnn),
    "ProgNet": make_pipeline(StandardScaler(), prognet),
}

# %%
# Cross-validation
# ----------------
#
# Whole speakers per fold, five folds, two repeats. ``params`` holds the
# metadata of every utterance; each consumer gets the rows of its fold.
# The score is the UAR (:data:`~sklearn_prognet.metrics.uar_scorer`, the same
# as ``scoring="balanced_accuracy"``); ``return_indices=True`` keeps the
# splits for the t-test.
cv = RepeatedStratifiedGroupKFold(n_splits=5, n_repeats=2, random_state=0)
metadata = {
    "DNN": {"groups": speakers},
    "ProgNet": {"groups": speakers, "source_y": np.column_stack([speakers, gender])},
}
results = {
    name: cross_validate(
        model,
        X,
        y,
        cv=cv,
        params=metadata[name],
        scoring={"uar": uar_scorer},
        return_indices=True,
        return_estimator=True,
    )
    for name, model in models.items()
}

for name, res in results.items():
    print(f"{name:8s} UAR {summarize_repeated_cv(res['test_uar'], n_repeats=2)}")

# %%
# The DNN gets the speakers only: metadata that no step of a pipeline requests
# is an error (``TypeError: ... not routed to any object``), which catches
# typos in metadata names.
#
# What the sources saw
# --------------------
#
# Every fold's network holds its own two sources in ``sources_``. The speaker
# source of the first fold knows the eight training speakers only: the two
# test speakers were never part of its training data.
first = results["ProgNet"]["estimator"][0][-1]
test_speakers = np.unique(speakers[results["ProgNet"]["indices"]["test"][0]])
speaker_source, gender_source = first.sources_
print("speaker source classes:", *speaker_source.classes_)
print("test speakers:         ", *test_speakers)
print("gender source classes: ", *gender_source.classes_)
print("columns of the network:", len(first.net_.module_.columns))

# %%
# Is the difference significant?
# ------------------------------
#
# Both models were evaluated on the same splits (same splitter, integer
# ``random_state``), so :func:`~sklearn_prognet.stats.compare_cv_results`
# can pair their scores; it reads the fold sizes from the indices.
test = compare_cv_results(results["ProgNet"], results["DNN"], score_key="test_uar")
low, high = test.confidence_interval()
print(
    f"ProgNet - DNN: {test.mean_difference:+.3f} UAR, 95% CI [{low:+.3f}, "
    f"{high:+.3f}], t = {test.statistic:.2f}, p = {test.pvalue:.3f}"
)

# %%
# Each point is one split: above the diagonal, the progressive network did
# better on that split's test speakers.
uar_dnn, uar_prognet = results["DNN"]["test_uar"], results["ProgNet"]["test_uar"]
fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
ax.scatter(uar_dnn, uar_prognet, color="#4477aa", alpha=0.8)
lims = [
    min(uar_dnn.min(), uar_prognet.min()) - 0.03,
    max(uar_dnn.max(), uar_prognet.max()) + 0.03,
]
ax.plot(lims, lims, color="0.5", linestyle=":")
ax.set_xlim(lims)
ax.set_ylim(lims)
ax.set_xlabel("DNN test UAR")
ax.set_ylabel("ProgNet (speaker + gender sources) test UAR")
ax.set_title(f"{len(uar_dnn)} speaker-independent splits")
plt.show()

# %%
# Forgetting a request
# --------------------
#
# If metadata is passed that a consumer has not said whether it wants,
# scikit-learn raises an error rather than guessing:
unrequested = make_pipeline(
    StandardScaler(), ProgressiveNetClassifier(sources=[DNNClassifier(**small)])
)
try:
    cross_validate(
        unrequested, X, y, cv=cv, params=metadata["ProgNet"], error_score="raise"
    )
except UnsetMetadataPassedError as exc:
    print(f"{type(exc).__name__}: {str(exc)[:115]}...")

# %%
# Without metadata routing (the default of scikit-learn), a pipeline takes
# fit parameters prefixed with the step name instead, and ``groups`` goes to
# the splitter only: ``cross_validate(models["ProgNet"], X, y,
# groups=speakers, cv=cv, params={"progressivenetclassifier__source_y":
# source_y})``.
sklearn.set_config(enable_metadata_routing=False)
