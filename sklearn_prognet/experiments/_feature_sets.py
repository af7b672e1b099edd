# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
r"""The features extracted from audio corpora: eGeMAPS or speech embeddings.

A feature set is named by a string:

- ``egemaps``: the 88 eGeMAPS v02 features of openSMILE
  (:class:`~sklearn_prognet.EGeMAPSTransformer`), the paper's and the default;
- ``ssl:MODEL[:LAYER]``: the pooled hidden states of a self-supervised speech
  encoder (:class:`~sklearn_prognet.SpeechEmbeddingTransformer`), ``MODEL``
  a Hugging Face Hub name or a local folder, ``LAYER`` an index into its
  hidden states or ``all``.

``LAYER`` is read from the text after the last ``:`` only when that text is
an integer or ``all``, so a folder whose path holds ``:`` (``C:\models\w2v``
on Windows) is a model, and ``C:\models\w2v:6`` its layer 6.
"""

import re
from dataclasses import dataclass
from pathlib import PurePath

from sklearn_prognet._embeddings import SpeechEmbeddingTransformer
from sklearn_prognet._features import EGeMAPSTransformer
from sklearn_prognet.experiments._errors import ExperimentInputError

__all__ = ["DEFAULT_FEATURES", "FeatureSet", "parse_features"]

#: The features of the paper, and of every run that does not choose others.
DEFAULT_FEATURES = "egemaps"

# The transformer's defaults are the defaults of ``ssl:MODEL``: one home.
_SSL_DEFAULTS = SpeechEmbeddingTransformer().get_params()
_LAYER = re.compile(r"-?\d+|all", re.IGNORECASE)


@dataclass(frozen=True)
class FeatureSet:
    """A parsed ``features`` string (see :func:`parse_features`).

    ``kind`` is ``'egemaps'`` or ``'ssl'``; ``model``, ``layer`` and
    ``pooling`` are those of the speech encoder (``ssl`` only).
    """

    kind: str = DEFAULT_FEATURES
    model: str | None = None
    layer: int | str | None = None
    pooling: str | None = None

    @property
    def is_default(self):
        """Whether these are the paper's eGeMAPS features."""
        return self.kind == DEFAULT_FEATURES

    def config(self):
        """The features' identity, for ``config.json``."""
        if self.is_default:
            return {"kind": self.kind}
        return {
            "kind": self.kind,
            "model": self.model,
            "layer": self.layer,
            "pooling": self.pooling,
        }

    def spec(self):
        """The features as a string, as :func:`parse_features` reads it."""
        if self.is_default:
            return self.kind
        layer = "" if self.layer == _SSL_DEFAULTS["layer"] else f":{self.layer}"
        return f"ssl:{self.model}{layer}"

    def file_stem(self):
        """A short name for files: ``egemaps``, ``wav2vec2-base_layer6``."""
        if self.is_default:
            return self.kind
        stem = PurePath(self.model.replace("\\", "/")).name or "ssl"
        if self.layer == _SSL_DEFAULTS["layer"]:
            return stem
        return f"{stem}_layer{self.layer}"

    def extractor(self, *, resample, n_jobs, memory, on_error, verbose):
        """The transformer that computes these features from audio files."""
        if self.is_default:
            return EGeMAPSTransformer(
                resample=resample, n_jobs=n_jobs, memory=memory,
                on_error=on_error, verbose=verbose,
            )  # fmt: skip
        # The model resamples every input to the rate it was trained at.
        return SpeechEmbeddingTransformer(
            model=self.model, layer=self.layer, pooling=self.pooling,
            n_jobs=n_jobs, memory=memory, on_error=on_error, verbose=verbose,
        )  # fmt: skip

    def describe(self, feature_names):
        """The features in words, for reports, given the extracted columns."""
        if self.is_default:
            return "eGeMAPS v02 features (openSMILE)"
        layers = sorted({int(n.split("_")[0][len("layer") :]) for n in feature_names})
        if len(layers) == 1:
            which = f"layer {layers[0]}"
        else:
            which = f"layers {', '.join(map(str, layers))}"
        return (
            f"self-supervised speech embeddings of {self.model}: {which}, "
            f"{self.pooling} pooling"
        )


def parse_features(features=DEFAULT_FEATURES):
    r"""Read a ``features`` string: ``'egemaps'`` or ``'ssl:MODEL[:LAYER]'``.

    Parameters
    ----------
    features : str or FeatureSet, default='egemaps'
        The feature set. A :class:`FeatureSet` is returned as it is.

    Returns
    -------
    feature_set : FeatureSet
        Its kind and, for ``ssl``, the model, the layer (the
        transformer's default, the last layer, when none is given) and the
        pooling (the transformer's default).

    Raises
    ------
    ExperimentInputError
        For another kind, or an empty model.

    Examples
    --------
    >>> from sklearn_prognet.experiments._feature_sets import parse_features
    >>> parse_features("ssl:facebook/wav2vec2-base:6").layer
    6
    >>> parse_features(r"ssl:C:\models\w2v:all")
    FeatureSet(kind='ssl', model='C:\\models\\w2v', layer='all', pooling='mean')
    """
    if isinstance(features, FeatureSet):
        return features
    text = str(features).strip()
    kind, sep, rest = text.partition(":")
    if kind.lower() == DEFAULT_FEATURES and not sep:
        return FeatureSet()
    if kind.lower() != "ssl" or not sep:
        raise ExperimentInputError(
            f"features={features!r}: use 'egemaps' (openSMILE eGeMAPS v02) or "
            "'ssl:MODEL[:LAYER]' (embeddings of a speech encoder: a Hugging Face "
            "Hub name or a folder, and a layer index or 'all')."
        )
    model, sep, layer = rest.rpartition(":")
    if not (sep and _LAYER.fullmatch(layer.strip())):
        model, layer = rest, _SSL_DEFAULTS["layer"]
    elif layer.strip().lower() == "all":
        layer = "all"
    else:
        layer = int(layer)
    if not model.strip():
        raise ExperimentInputError(
            f"features={features!r} names no model; give 'ssl:MODEL' with MODEL a "
            "Hugging Face Hub name (facebook/wav2vec2-base) or a folder."
        )
    return FeatureSet("ssl", model.strip(), layer, _SSL_DEFAULTS["pooling"])
