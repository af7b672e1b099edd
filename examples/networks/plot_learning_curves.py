"""
=========================================
Learning curves of DNN, PT/FT and ProgNet
=========================================

Every network of ``sklearn_prognet`` records its learning curves in
``history_``: the training loss, the validation loss and the validation UAR
of every epoch. This example draws them for the three methods of Gideon et
al. (2017) when speaker identity is transferred to emotion, as in the paper's
Figure 3: a DNN trained on emotion alone, a speaker-identification network
fine-tuned on emotion (PT/FT), and a progressive network with a frozen
speaker column (ProgNet).

Each step of a 5-fold cross-validation of EmoDB gives one curve per method;
the plot shows their mean and standard deviation. The networks are smaller
and train for fewer epochs than the paper's (two layers of 64 units, 100
epochs), so that the example runs in seconds.
"""

# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The paper's fold roles
# ----------------------
#
# As in the paper, each step uses one fold for testing, the next fold as the
# validation set that monitors training, and the three others for training.
# The folds are stratified by speaker, so the speaker network is trained on
# every speaker.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import DNNClassifier, FineTunedClassifier, ProgressiveNetClassifier
from sklearn_prognet.datasets import load_emodb_features
from sklearn_prognet.metrics import uar_score
from sklearn_prognet.model_selection import FoldRoles, RepeatedStratifiedGroupKFold

emodb = load_emodb_features()
X, y, speakers = emodb.data, emodb.target, emodb.speaker
roles = FoldRoles(
    RepeatedStratifiedGroupKFold(
        n_splits=5, n_repeats=1, protocol="speaker_stratified", random_state=0
    )
)

# %%
# Training with a fixed validation set
# ------------------------------------
#
# ``X_val`` and ``y_val`` give each network the validation fold. With
# ``patience`` as large as ``max_epochs``, training runs to the end, so the
# whole curve is recorded; the network still keeps the weights of its best
# validation epoch (``best_epoch_``). Features are z-normalised on the
# training folds.
params = {
    "hidden_layer_sizes": (64, 64),
    "lr": 0.001,
    "max_epochs": 100,
    "patience": 100,
}
methods = ["DNN", "PT/FT", "ProgNet"]
curves = {name: [] for name in methods}
best_epochs = {name: [] for name in methods}
test_uar = {name: [] for name in methods}

for step in roles.split_roles(X, y, speakers):
    scaler = StandardScaler().fit(X[step.train])
    X_train, X_val, X_test = (
        scaler.transform(X[idx]) for idx in (step.train, step.validation, step.test)
    )
    y_train, y_val = y[step.train], y[step.validation]
    seed = step.fold

    # the source task: who is speaking, learned on the training folds only
    speaker_net = DNNClassifier(**params, early_stopping=False, random_state=seed)
    speaker_net.fit(X_train, speakers[step.train])

    networks = {
        "DNN": DNNClassifier(**params, random_state=seed),
        "PT/FT": FineTunedClassifier(source=speaker_net, **params, random_state=seed),
        "ProgNet": ProgressiveNetClassifier(
            sources=[speaker_net], **params, random_state=seed
        ),
    }
    for name, net in networks.items():
        net.fit(X_train, y_train, X_val=X_val, y_val=y_val)
        curves[name].append(net.history_["valid_uar"])
        best_epochs[name].append(net.best_epoch_)
        test_uar[name].append(uar_score(y[step.test], net.predict(X_test)))

# %%
# The curves
# ----------
#
# The shaded regions are one standard deviation across the five folds; the
# dots mark the mean best epoch. Compare with the paper's Figure 3 (IEMOCAP,
# four layers of 256 units), where both transfer methods start with a steeper
# slope than the DNN and PT/FT levels off first, while the ProgNet keeps
# improving longest.
colors = {"DNN": "#555555", "PT/FT": "#ee7733", "ProgNet": "#4477aa"}
styles = {"DNN": "--", "PT/FT": "-", "ProgNet": "-"}
fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
for name in methods:
    uar = np.vstack(curves[name])
    mean, std = uar.mean(axis=0), uar.std(axis=0)
    epochs = np.arange(1, len(mean) + 1)
    ax.plot(epochs, mean, styles[name], color=colors[name], label=name, linewidth=2)
    ax.fill_between(epochs, mean - std, mean + std, color=colors[name], alpha=0.2)
    best = int(round(np.mean(best_epochs[name])))
    ax.plot(best, mean[best - 1], "o", color=colors[name], markersize=7)
ax.axhline(0.25, color="0.5", linestyle=":", label="chance (4 classes)")
ax.set_xlabel("epoch")
ax.set_ylabel("validation UAR")
ax.set_title("Speaker identity to emotion on EmoDB (5 folds)")
ax.legend(loc="lower right")
plt.show()

# %%
# Test UAR
# --------
#
# Each network is evaluated on its step's test fold with the weights of its
# best validation epoch. Five folds are far too few to rank the methods:
# :ref:`sphx_glr_auto_examples_transfer_plot_transfer_methods.py` repeats the
# cross-validation and tests the differences.
for name in methods:
    print(
        f"{name:8s} test UAR {np.mean(test_uar[name]):.3f} "
        f"± {np.std(test_uar[name]):.3f}, best epoch {np.mean(best_epochs[name]):.0f}"
    )

# %%
# What is in ``history_``
# -----------------------
#
# Every fitted network also records its losses, one value per epoch; the
# last network fitted above is a progressive network:
{key: values[:3].round(3) for key, values in net.history_.items()}
