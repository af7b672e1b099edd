"""
=============================================
Train a model, save it, and label recordings
=============================================

What ``sklearn-prognet train`` and ``sklearn-prognet predict`` do, in
Python: fit one final model on a whole corpus (here the EmoDB eGeMAPS
features shipped with the package) with a speaker-independent estimate of
its UAR first (:func:`~sklearn_prognet.experiments.train_model`), put the
feature extractor in front so that the model takes audio, save it in a file
that is safe to share with its model card
(:func:`~sklearn_prognet.save_model`), load it back
(:func:`~sklearn_prognet.load_model`) and label recordings, one row per file
(:func:`~sklearn_prognet.experiments.predict_files`).
"""

# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Train on the whole corpus
# -------------------------
# ``cv=5`` first estimates the UAR with five speaker-independent folds and
# the same settings; then every utterance trains the final model.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import soundfile
from sklearn.pipeline import Pipeline

from sklearn_prognet import EGeMAPSTransformer, load_model, save_model
from sklearn_prognet.experiments import predict_files, train_model
from sklearn_prognet.presets import SMALL_CORPUS

trained = train_model("emodb", network=SMALL_CORPUS, cv=5)
print(trained.card["cv_uar"])
print(trained.model)

# %%
# From audio to label
# -------------------
# The embedded features are openSMILE's eGeMAPS v02 of 16 kHz recordings,
# what :class:`~sklearn_prognet.EGeMAPSTransformer` computes by default, so
# the extractor goes in front of the fitted scaler and network. (From a
# corpus's audio or a manifest, ``train_model`` builds this pipeline itself.)
model = Pipeline([("features", EGeMAPSTransformer()), *trained.model.steps])

folder = Path(tempfile.mkdtemp())
card_path = save_model(model, folder / "emodb.skops", card=trained.card)
print(card_path.read_text()[:600])

# %%
# Label recordings
# ----------------
# Four EmoDB recordings from the repository's tests (or, without them,
# synthetic tones) and a damaged file: the damaged one gets a row with its
# error, the others are labelled. These recordings are among the training
# data, so this shows the mechanics; the card's cross-validated UAR is the
# estimate of accuracy on new speakers.


def recordings():
    here = Path.cwd().resolve()
    for parent in [here, *here.parents]:
        found = sorted((parent / "tests" / "data").glob("*.wav"))
        if found:
            return [str(f) for f in found]
    sr, t = 16000, np.arange(24000) / 16000
    files = []
    for f0 in (110, 180, 260, 200):
        path = folder / f"tone_{f0}.wav"
        soundfile.write(path, 0.3 * np.sin(2 * np.pi * f0 * t), sr)
        files.append(str(path))
    return files


damaged = folder / "damaged.wav"
damaged.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt nonsense")
files = [*recordings(), str(damaged)]

loaded = load_model(folder / "emodb.skops")
table = predict_files(loaded, files, on_error="nan")
table.assign(file=[Path(f).name for f in table["file"]])

# %%
# The probabilities of every class, for the files that could be analysed:
ok = table[table["status"] == "ok"]
classes = list(loaded.classes_)
fig, ax = plt.subplots(figsize=(7, 3))
left = np.zeros(len(ok))
for label in classes:
    ax.barh([Path(f).name for f in ok["file"]], ok[f"p_{label}"], left=left,
            label=label)  # fmt: skip
    left += ok[f"p_{label}"].to_numpy()
ax.set_xlabel("predicted probability")
ax.legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0))
fig.tight_layout()
plt.show()
