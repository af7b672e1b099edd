"""
===================================================
Self-supervised speech embeddings, offline
===================================================

:class:`~sklearn_prognet.SpeechEmbeddingTransformer` turns each recording into
the hidden states of a pre-trained speech encoder (wav2vec 2.0, HuBERT,
WavLM), averaged over time. This example runs **offline**: instead of
downloading ``facebook/wav2vec2-base`` (95 million parameters, 360 MB), it
builds a tiny wav2vec 2.0 model with *random* weights and saves it to a
temporary folder, which the transformer loads like any downloaded model.

Random weights have learnt nothing about speech, yet their features are not
chance-level: a random convolutional encoder is a random filter bank, and
the spread of its outputs over time still follows the spectrum and the
dynamics of the voice, which tell EmoDB's loud anger from its quiet sadness.
That score is the floor that real weights must clear; the last section says
what they change. :ref:`embeddings_offline` explains how to fetch real
weights once and work offline afterwards.

The audio is EmoDB (CC0): the corpus in ``../shared/corpora/emodb`` when it
is there, otherwise the four recordings of the repository's ``tests/data``.
"""

# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# A tiny wav2vec 2.0 model with random weights
# --------------------------------------------
# Two transformer layers of 32 units, after a three-layer convolutional
# encoder that turns 40 samples (2.5 ms at 16 kHz) into one frame, one frame
# every 20 samples. ``facebook/wav2vec2-base`` has 12 layers of 768 units, a
# receptive field of 400 samples (25 ms) and a frame every 320 (20 ms). The
# feature extractor saved with it says how the model wants its input: 16 kHz,
# normalised to zero mean and unit variance.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
import transformers
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_prognet import SpeechEmbeddingTransformer
from sklearn_prognet.datasets import load_emodb

torch.set_num_threads(1)  # fastest for a model this small
transformers.utils.logging.disable_progress_bar()

model_dir = Path(tempfile.mkdtemp()) / "tiny-wav2vec2"
config = transformers.Wav2Vec2Config(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    conv_dim=(32, 32, 32),
    conv_kernel=(10, 3, 3),
    conv_stride=(5, 2, 2),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=2,
)
torch.manual_seed(0)
transformers.Wav2Vec2Model(config).save_pretrained(model_dir)
transformers.Wav2Vec2FeatureExtractor(
    sampling_rate=16000, do_normalize=True
).save_pretrained(model_dir)
sorted(p.name for p in model_dir.iterdir())


# %%
# The recordings
# --------------
def find_emodb():
    """EmoDB's wav folder, or tests/data, searched from here upwards."""
    here = Path.cwd().resolve()
    for folder in [here, *here.parents]:
        corpus = folder.parent / "shared" / "corpora" / "emodb"
        if (corpus / "wav").is_dir():
            return corpus
        if list((folder / "tests" / "data").glob("*.wav")):
            return folder / "tests" / "data"
    raise SystemExit("no EmoDB recordings found")


table = load_emodb(find_emodb())
# At most 8 recordings per emotion, from as many speakers as possible.
table = (
    table.sort_values(["emotion", "file"])
    .groupby("emotion")
    .apply(lambda g: g.drop_duplicates("speaker").head(8), include_groups=False)
    .reset_index(level=0)
    .reset_index(drop=True)
)
table["emotion"].value_counts()

# %%
# Embeddings
# ----------
# ``layer='all'`` keeps every hidden state (0 is the input of the first
# transformer layer, then one per layer) and ``pooling='mean+std'`` both
# statistics over time: 3 x 2 x 32 = 192 features per recording. The model is
# loaded once per process; ``memory`` would cache the rows by the content of
# each file and the model's identity (its config and a hash of its weights).
embed = SpeechEmbeddingTransformer(model=model_dir, layer="all", pooling="mean+std")
X = embed.fit_transform(table["file"])
print(X.shape, embed.get_feature_names_out()[[0, 32, 64]])

# %%
# The mean of each layer, one row per recording (standardised per feature).
# With random weights the rows differ mostly by recording (spectrum,
# dynamics, speaker).
means = X[:, np.r_[0:32, 64:96, 128:160]]
z = (means - means.mean(0)) / (means.std(0) + 1e-12)
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
ax.imshow(z, aspect="auto", cmap="RdBu_r", vmin=-3, vmax=3)
ax.set_yticks(range(len(table)), table["emotion"], fontsize=6)
ax.set_xticks([16, 48, 80], ["layer 0", "layer 1", "layer 2"])
ax.set_title("Mean hidden states of a random tiny wav2vec 2.0 (z-scores)")
plt.show()

# %%
# An emotion classifier on the embeddings
# ---------------------------------------
# A standardised logistic regression, cross-validated with speakers kept
# apart (with the four test recordings, which are too few for that, the
# model is only fitted and applied). On 32 EmoDB recordings this scored a
# UAR of 0.62 against a chance level of 0.25: the random filter bank at work,
# from very few recordings, so with a wide margin of error.
clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
if table["speaker"].nunique() >= 4:
    uar = cross_val_score(
        clf,
        X,
        table["emotion"],
        groups=table["speaker"],
        cv=GroupKFold(n_splits=4),
        scoring="balanced_accuracy",
    )
    print(f"UAR {uar.mean():.2f} (chance: {1 / table['emotion'].nunique():.2f})")
else:
    print(clf.fit(X, table["emotion"]).predict(X))

# %%
# What real weights change
# ------------------------
# Replace the folder with real weights, fetched once (see
# :ref:`embeddings_offline`)::
#
#     embed = SpeechEmbeddingTransformer(
#         model="models/wav2vec2-base", layer=list(range(13)), pooling="mean"
#     )
#
# Self-supervised training makes the hidden states encode phonetic content,
# speaker and prosody; Pepino et al. (Interspeech 2021) report that a linear
# model over the mean-pooled layers of wav2vec 2.0 recognises emotion on
# IEMOCAP and RAVDESS much better than one over eGeMAPS, with the middle
# layers the most useful. The features become 768 per layer instead of 32,
# and extraction about 10^3 times slower than with this model: use ``memory``
# to extract each file once, ``n_jobs`` or ``device='cuda'``
# (:ref:`bench_embeddings`). The classifier, the cross-validation and the
# speaker grouping stay exactly as above.
