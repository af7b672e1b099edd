"""
==========================================
From audio files to emotions in a pipeline
==========================================

:class:`~sklearn_prognet.EGeMAPSTransformer` extracts the 88 eGeMAPS features
of every audio file (or signal) with openSMILE. This example extracts them
from four EmoDB recordings, checks them against the features shipped with the
package, caches them, and puts the extractor in front of a trained emotion
model, so that a :class:`~sklearn.pipeline.Pipeline` goes from file paths to
emotions.

The four recordings are the CC0 EmoDB files used by the package's tests
(``tests/data`` of the repository). Where they are not available (for example
in a downloaded notebook), the example writes four synthetic tones instead.
"""

# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The audio
# ---------
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import soundfile
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import DNNClassifier, EGeMAPSTransformer
from sklearn_prognet.datasets import load_emodb, load_emodb_features


def synthetic_corpus(folder):
    """Four 1.5 s tones with EmoDB names, for when tests/data is missing."""
    sr = 16000
    t = np.arange(int(1.5 * sr)) / sr
    for name, f0, level in [
        ("03a02Ta", 100, 0.1),
        ("03a02Wc", 180, 0.6),
        ("09a04Fd", 260, 0.4),
        ("14a02Nc", 200, 0.2),
    ]:
        pitch = f0 * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))  # vibrato
        wave = level * np.sin(2 * np.pi * np.cumsum(pitch) / sr)
        soundfile.write(folder / f"{name}.wav", wave, sr)
    return folder


def find_test_audio():
    """The repository's tests/data folder, searched from here upwards."""
    here = Path.cwd().resolve()
    for folder in [here, *here.parents]:
        if list((folder / "tests" / "data").glob("*.wav")):
            return folder / "tests" / "data"
    return synthetic_corpus(Path(tempfile.mkdtemp()))


data = find_test_audio()

# load_emodb lists the files with the labels coded in their names
files = load_emodb(data)
files.drop(columns="file")

# %%
fig, axes = plt.subplots(2, 2, figsize=(10, 5), sharey=True, layout="constrained")
for ax, (_, row) in zip(axes.flat, files.iterrows(), strict=True):
    wave, sr = soundfile.read(row["file"])
    ax.plot(np.arange(len(wave)) / sr, wave, linewidth=0.3, color="#4477aa")
    ax.set_title(
        f"{Path(row['file']).name}: {row['emotion']}, speaker "
        f"{row['speaker']} ({row['gender']})",
        fontsize=10,
    )
    ax.set_xlabel("time (s)")
axes[0, 0].set_ylabel("amplitude")
axes[1, 0].set_ylabel("amplitude")
plt.show()

# %%
# Extracting the features
# -----------------------
#
# ``fit`` analyses nothing (the transformer is stateless); ``transform``
# returns one row of 88 features per file.
egemaps = EGeMAPSTransformer()
X_files = egemaps.fit_transform(files["file"])
names = egemaps.get_feature_names_out()
print(X_files.shape)
pd.DataFrame(X_files, columns=names, index=files["emotion"]).iloc[:, [0, 10, 30, 34]]

# %%
# They are the features shipped in
# :func:`~sklearn_prognet.datasets.load_emodb_features`, which were extracted
# the same way and stored with seven significant digits:
emodb = load_emodb_features(as_frame=True)
shipped = emodb.data.set_index(emodb.file).loc[
    [Path(f).name for f in files["file"]], names
]
rel = np.abs(X_files - shipped.to_numpy()) / np.maximum(np.abs(X_files), 1e-12)
print(f"largest relative difference to the shipped table: {rel.max():.1e}")

# %%
# Where do these utterances lie among all of EmoDB? Standardised against the
# 339 shipped utterances, a few interpretable features: mean pitch and its
# range, mean loudness, jitter, harmonics-to-noise ratio and the rate of
# loudness peaks (a proxy of speaking rate).
selected = {
    "F0semitoneFrom27.5Hz_sma3nz_amean": "pitch",
    "F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2": "pitch range",
    "loudness_sma3_amean": "loudness",
    "jitterLocal_sma3nz_amean": "jitter",
    "HNRdBACF_sma3nz_amean": "HNR",
    "loudnessPeaksPerSec": "loudness peaks / s",
}
reference = emodb.data[list(selected)]
z = (pd.DataFrame(X_files, columns=names)[list(selected)] - reference.mean()) / (
    reference.std()
)
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
width = 0.8 / len(files)
colors = ["#4477aa", "#ee6677", "#228833", "#ccbb44"]
for i, emotion in enumerate(files["emotion"]):
    ax.bar(
        np.arange(len(selected)) + (i - 1.5) * width,
        z.iloc[i],
        width,
        label=emotion,
        color=colors[i % 4],
    )
ax.axhline(0, color="0.3", linewidth=0.8)
ax.set_xticks(np.arange(len(selected)), list(selected.values()))
ax.set_ylabel("z-score within EmoDB")
ax.set_title("Four utterances against the whole corpus")
ax.legend(title="emotion", loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()

# %%
# Signals instead of files
# ------------------------
#
# Arrays work too, given their sampling rate: the same audio gives the same
# features.
signals = [soundfile.read(f)[0] for f in files["file"]]
X_signals = EGeMAPSTransformer(sampling_rate=16000).fit_transform(signals)
print("same as from files:", np.allclose(X_signals, X_files))

# %%
# Caching
# -------
#
# In a cross-validated pipeline every fold extracts the same files again.
# ``memory`` caches the features of each input, keyed on the bytes of the
# file and on the configuration, so the second call reads them back:
cache = tempfile.mkdtemp()
cached = EGeMAPSTransformer(memory=cache)
for attempt in ("first call", "second call"):
    start = time.perf_counter()
    cached.fit_transform(files["file"])
    print(f"{attempt}: {time.perf_counter() - start:.3f} s")

# %%
# A pipeline from files to emotions
# ---------------------------------
#
# Train an emotion model on the shipped features of the **other** seven
# EmoDB speakers, so that the four recordings and their speakers are new to
# it. Then freeze it behind the extractor: the pipeline takes file paths.
# (To cross-validate a pipeline that extracts features itself, fit it on
# paths: ``cross_val_score(make_pipeline(EGeMAPSTransformer(memory=...),
# StandardScaler(), DNNClassifier()), paths, y, groups=speakers, ...)``.)
known = ~emodb.speaker.isin(files["speaker"]).to_numpy()
model = make_pipeline(
    StandardScaler(),
    DNNClassifier(
        hidden_layer_sizes=(64, 64),
        lr=0.001,
        max_epochs=100,
        patience=20,
        random_state=0,
    ),
)
model.fit(emodb.data[known].to_numpy(), emodb.target[known].to_numpy())

from_audio = make_pipeline(EGeMAPSTransformer(memory=cache), FrozenEstimator(model))
proba = pd.DataFrame(
    from_audio.predict_proba(files["file"]),
    columns=model.classes_,
    index=[Path(f).name for f in files["file"]],
).round(2)
proba["predicted"] = from_audio.predict(files["file"])
proba["true"] = files["emotion"].to_numpy()
proba.round(2)
