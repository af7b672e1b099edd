"""
=====================================================
Residual adapters against ProgNet and PT/FT on EmoDB
=====================================================

Three ways to transfer a speaker-identification network to emotion
recognition, and what each trains:

- **PT/FT** (:class:`~sklearn_prognet.FineTunedClassifier`): copy the
  speaker network and train all of it;
- **ProgNet** (:class:`~sklearn_prognet.ProgressiveNetClassifier`): freeze
  it and train a new column with lateral connections;
- **Adapters** (:class:`~sklearn_prognet.ResidualAdapterClassifier`): freeze
  it and train only a low-rank residual adapter and a bias per hidden layer,
  and a new output layer (Rebuffi et al. 2017; Gerczuk et al. 2021).

The networks are the paper's (four sigmoid layers of 256 units on the 88
eGeMAPS features), evaluated by 5-fold cross-validation with speakers kept
apart, on the EmoDB features that ship with the package. Training is
shortened to run in seconds, so the UARs are rough; the parameter counts are
exact.
"""

# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# One fold: a speaker network, then three transfers
# -------------------------------------------------
#
# In every fold the speaker network is trained on the training speakers only.
# Features are z-normalised on the training part. Every network stops early
# on held-out training speakers.
import matplotlib.pyplot as plt
import pandas as pd
import torch
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import (
    DNNClassifier,
    FineTunedClassifier,
    ProgressiveNetClassifier,
    ResidualAdapterClassifier,
)
from sklearn_prognet.datasets import load_emodb_features
from sklearn_prognet.metrics import uar_score

torch.set_num_threads(1)  # small networks: one thread is fastest on CPU

emodb = load_emodb_features()
X, y, speakers = emodb.data, emodb.target, emodb.speaker
params = {"lr": 0.002, "max_epochs": 60, "patience": 15}


def run_fold(train, test, seed):
    scaler = StandardScaler().fit(X[train])
    X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
    speaker_net = DNNClassifier(**params, early_stopping=False, random_state=seed)
    speaker_net.fit(X_train, speakers[train])
    networks = {
        "PT/FT": FineTunedClassifier(source=speaker_net, **params, random_state=seed),
        "ProgNet": ProgressiveNetClassifier(
            sources=[speaker_net], **params, random_state=seed
        ),
        "Adapters": ResidualAdapterClassifier(
            source=speaker_net, **params, random_state=seed
        ),
    }
    rows = []
    for name, net in networks.items():
        net.fit(X_train, y[train], groups=speakers[train])
        rows.append(
            {
                "method": name,
                "UAR": uar_score(y[test], net.predict(X_test)),
                "trained parameters": net.n_trainable_params_,
            }
        )
    return rows


folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
results = pd.DataFrame(
    [
        row
        for seed, (train, test) in enumerate(folds.split(X, y, speakers))
        for row in run_fold(train, test, seed)
    ]
)
summary = results.groupby("method", sort=False).agg(
    UAR=("UAR", "mean"),
    UAR_std=("UAR", "std"),
    trained_parameters=("trained parameters", "first"),
)
summary["share of ProgNet"] = (
    summary["trained_parameters"] / summary.loc["ProgNet", "trained_parameters"]
)
summary.round(3)

# %%
# The adapters train 32,132 parameters: 16 ranks per layer
# (``adapter_rank=16``), a bias per layer and the output layer. That is 8 % of
# what the ProgNet trains (a column of 221,188 and lateral connections of
# 197,632) and 15 % of what fine-tuning trains (the whole network).
#
# Plot
# ----
colors = {"PT/FT": "#ee7733", "ProgNet": "#4477aa", "Adapters": "#228833"}
fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for name, row in summary.iterrows():
    ax.errorbar(
        row["trained_parameters"],
        row["UAR"],
        yerr=row["UAR_std"],
        fmt="o",
        color=colors[name],
        capsize=4,
        label=name,
    )
ax.set_xscale("log")
ax.set_xlabel("trained parameters (log scale)")
ax.set_ylabel("test UAR (mean and std over 5 folds)")
ax.set_title("Transfer from speaker identification, EmoDB")
ax.legend()
plt.show()

# %%
# With ten speakers and short training, the differences in UAR between the
# methods are within the spread over folds; the point of the adapters is the
# size of what they train. They also keep the speaker network intact, as a
# ProgNet does, so one frozen network can serve many tasks, each adding a
# seventh of the size of the network it adapts.
#
# References
# ----------
#
# - S.-A. Rebuffi, H. Bilen and A. Vedaldi, "Learning multiple visual domains
#   with residual adapters", NeurIPS, 2017.
# - M. Gerczuk, S. Amiriparian, S. Ottl and B. Schuller, "EmoNet: A Transfer
#   Learning Framework for Multi-Corpus Speech Emotion Recognition", IEEE
#   Transactions on Affective Computing, 2021.
