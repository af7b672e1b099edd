# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
r"""The features extracted from audio corpora: eGeMAPS, embeddings, or several.

A feature set is named by a string:

- ``egemaps``: the 88 eGeMAPS v02 features of openSMILE
  (:class:`~sklearn_prognet.EGeMAPSTransformer`), the paper's and the default;
- ``ssl:MODEL[:LAYER]``: the pooled hidden states of a self-supervised speech
  encoder (:class:`~sklearn_prognet.SpeechEmbeddingTransformer`), ``MODEL``
  a Hugging Face Hub name or a local folder, ``LAYER`` an index into its
  hidden states or ``all``;
- ``text:MODEL[:LAYER]``: the pooled hidden states of a text encoder over
  the corpus's transcripts (:class:`~sklearn_prognet.TextEmbeddingTransformer`),
  for corpora whose table has a ``transcript`` column;
- ``A+B``: the parts side by side (feature fusion), each column named
  ``PART__FEATURE`` as in :class:`~sklearn.pipeline.FeatureUnion`.

``LAYER`` is read from the text after the last ``:`` only when that text is
an integer or ``all``, so a folder whose path holds ``:`` (``C:\models\w2v``
on Windows) is a model, and ``C:\models\w2v:6`` its layer 6. Likewise a
``+`` that is not followed by a kind stays in the model's name.

Every kind is one entry of ``_KINDS``: the transformer that computes it (its
class imported only when first needed), the column of a corpus's table it
reads, and its description.
"""

import importlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import PurePath

from sklearn.compose import ColumnTransformer

from sklearn_prognet.experiments._errors import ExperimentInputError
from sklearn_prognet.utils._messages import Param

__all__ = ["DEFAULT_FEATURES", "FeatureSet", "FusedFeatureSet", "parse_features"]

#: The features of the paper, and of every run that does not choose others.
DEFAULT_FEATURES = "egemaps"

_LAYER = re.compile(r"-?\d+|all", re.IGNORECASE)


@dataclass(frozen=True)
class _Kind:
    """How one kind of features is named, computed and described.

    ``transformer`` is ``'module:Class'``, imported when first needed, so a
    kind whose module is absent (an optional extra, a later version) costs
    nothing until it is asked for. ``column`` is the column of a corpus's
    table the transformer reads; ``takes_model`` says whether the kind is
    written ``kind:MODEL[:LAYER]`` or ``kind`` alone; ``resampled`` whether
    the ``resample`` option applies (features that depend on the rate); and
    ``title`` describes it in reports (``{model}``, ``{layers}`` and
    ``{pooling}`` filled in), and ``usage`` in error messages.
    """

    transformer: str
    title: str
    usage: str
    column: str = "file"
    takes_model: bool = False
    resampled: bool = False

    @property
    def available(self):
        """Whether this version has the transformer's module (not imported)."""
        return importlib.util.find_spec(self.transformer.partition(":")[0]) is not None

    def load(self, kind):
        """The transformer class, or an error naming the kind if it is absent."""
        module, _, name = self.transformer.partition(":")
        try:
            found = importlib.import_module(module)
        except ImportError as exc:
            if exc.name != module:  # the module is there, one of its imports not
                raise ExperimentInputError(
                    Param("features", kind), f": cannot import {name} ({exc})."
                ) from None
            found = None
        cls = getattr(found, name, None)
        if cls is None:
            raise ExperimentInputError(
                Param("features", kind),
                f" needs {name} ({module}), which this version "
                "of sklearn_prognet does not have.",
            )
        return cls


_KINDS = {
    "egemaps": _Kind(
        "sklearn_prognet.features._features:EGeMAPSTransformer",
        "eGeMAPS v02 features (openSMILE)", resampled=True,
        usage="'egemaps' (openSMILE eGeMAPS v02)",
    ),
    "ssl": _Kind(
        "sklearn_prognet.features._embeddings:SpeechEmbeddingTransformer",
        "self-supervised speech embeddings of {model}: {layers}, {pooling} pooling",
        takes_model=True,
        usage="'ssl:MODEL[:LAYER]' (embeddings of a speech encoder: a Hugging "
        "Face Hub name or a folder, and a layer index or 'all')",
    ),
    "text": _Kind(
        "sklearn_prognet.features._embeddings:TextEmbeddingTransformer",
        "text embeddings of the transcripts by {model}: {layers}, {pooling} pooling",
        column="transcript", takes_model=True,
        usage="'text:MODEL[:LAYER]' (embeddings of the transcripts by a text "
        "encoder)",
    ),
    "dvector": _Kind(
        "sklearn_prognet.features._speaker:SpeakerEncoderTransformer",
        "speaker embeddings (d-vectors) of a speaker encoder",
        usage="'dvector' (speaker embeddings of a speaker encoder)",
    ),
}  # fmt: skip


def _syntax():
    """How to write features: the kinds this version has, from ``_KINDS``."""
    usages = [kind.usage for kind in _KINDS.values() if kind.available]
    return f"use {', '.join(usages)}, or several joined by '+' (egemaps+ssl:MODEL)"


def _defaults(kind):
    # The transformer's defaults are those of the spec: one home.
    return _KINDS[kind].load(kind)().get_params()


@dataclass(frozen=True)
class FeatureSet:
    """One kind of features, parsed (see :func:`parse_features`).

    ``kind`` is a key of ``_KINDS`` (``'egemaps'``, ``'ssl'``, ``'text'``,
    ``'dvector'``); ``model``, ``layer`` and ``pooling`` are those of an
    encoder (``ssl`` and ``text`` only).
    """

    kind: str = DEFAULT_FEATURES
    model: str | None = None
    layer: int | str | None = None
    pooling: str | None = None

    @property
    def parts(self):
        """The feature sets side by side: this one alone."""
        return (self,)

    @property
    def is_default(self):
        """Whether these are the paper's eGeMAPS features."""
        return self.kind == DEFAULT_FEATURES

    @property
    def resampled(self):
        """Whether ``resample`` applies: the features depend on the rate."""
        return _KINDS[self.kind].resampled

    @property
    def columns(self):
        """The columns of a corpus's table that the features are computed from."""
        return (_KINDS[self.kind].column,)

    def config(self):
        """The features' identity, for ``config.json``."""
        if self.model is None:
            return {"kind": self.kind}
        return {
            "kind": self.kind,
            "model": self.model,
            "layer": self.layer,
            "pooling": self.pooling,
        }

    def spec(self):
        """The features as a string, as :func:`parse_features` reads it."""
        if self.model is None:
            return self.kind
        default = self.layer == _defaults(self.kind)["layer"]
        return f"{self.kind}:{self.model}{'' if default else f':{self.layer}'}"

    def file_stem(self):
        """A short name for files: ``egemaps``, ``wav2vec2-base_layer6``."""
        if self.model is None:
            return self.kind
        stem = PurePath(self.model.replace("\\", "/")).name or self.kind
        if self.layer == _defaults(self.kind)["layer"]:
            return stem
        return f"{stem}_layer{self.layer}"

    def extractor(self, *, resample=None, n_jobs=None, memory=None,
                  on_error="raise", verbose=0):  # fmt: skip
        """The transformer that computes these features.

        It takes the column of a corpus's table named by :attr:`columns`
        (see :meth:`inputs`). The options it has no parameter for are left
        out: an encoder resamples every file to the rate it was trained at,
        and a text encoder has no cache.
        """
        cls = _KINDS[self.kind].load(self.kind)
        options = {
            "resample": resample if self.resampled else None,
            "n_jobs": n_jobs, "memory": memory, "on_error": on_error,
            "verbose": verbose,
        }  # fmt: skip
        if self.model is not None:
            options.update(model=self.model, layer=self.layer, pooling=self.pooling)
        accepted = cls().get_params()
        return cls(**{k: v for k, v in options.items() if k in accepted})

    def inputs(self, table, corpus="the corpus"):
        """What :meth:`extractor` takes from a corpus's table."""
        _check_columns(self, table, corpus)
        return table[self.columns[0]].tolist()

    def describe(self, feature_names):
        """The features in words, for reports, given the extracted columns."""
        layers = sorted(
            {int(n.split("_")[0][len("layer") :]) for n in feature_names
             if re.match(r"layer-?\d+_", n)}
        )  # fmt: skip
        which = ("layer " if len(layers) == 1 else "layers ") + ", ".join(
            map(str, layers)
        )
        return _KINDS[self.kind].title.format(
            model=self.model, layers=which, pooling=self.pooling
        )


@dataclass(frozen=True)
class FusedFeatureSet:
    """Several feature sets side by side (see :func:`parse_features`).

    Their columns are named ``PART__FEATURE``, ``PART`` being the part's
    kind (``egemaps__F0semitoneFrom27.5Hz_sma3nz_amean``), or the kind and
    its position among the parts of that kind when there are several
    (``ssl1__layer6_mean_0``, ``ssl2__layer6_mean_0``).
    """

    parts: tuple

    is_default = False

    @property
    def resampled(self):
        """Whether ``resample`` applies to some part."""
        return any(part.resampled for part in self.parts)

    @property
    def columns(self):
        """The columns of a corpus's table that the parts are computed from."""
        return tuple(dict.fromkeys(c for part in self.parts for c in part.columns))

    @property
    def names(self):
        """The name of every part, the prefix of its columns."""
        kinds = [part.kind for part in self.parts]
        names, seen = [], {}
        for kind in kinds:
            seen[kind] = seen.get(kind, 0) + 1
            names.append(kind if kinds.count(kind) == 1 else f"{kind}{seen[kind]}")
        return names

    def config(self):
        """The features' identity, for ``config.json``: each part's, in order."""
        return {"kind": "fused", "parts": [part.config() for part in self.parts]}

    def spec(self):
        """The features as a string, as :func:`parse_features` reads it."""
        return "+".join(part.spec() for part in self.parts)

    def file_stem(self):
        """A short name for files: ``egemaps+wav2vec2-base_layer6``."""
        return "+".join(part.file_stem() for part in self.parts)

    def extractor(self, **options):
        """The transformer of the parts side by side, over a corpus's table.

        A :class:`~sklearn.compose.ColumnTransformer` of every part's
        transformer (:meth:`FeatureSet.extractor`, with ``options``) on its
        column, so each part has its own cache entry: adding a part to a
        cached set computes that part only.
        """
        return ColumnTransformer(
            [
                (name, part.extractor(**options), part.columns[0])
                for name, part in zip(self.names, self.parts, strict=True)
            ]
        )

    def inputs(self, table, corpus="the corpus"):
        """What :meth:`extractor` takes from a corpus's table."""
        for part in self.parts:
            _check_columns(part, table, corpus)
        return table[list(self.columns)]

    def describe(self, feature_names):
        """The parts in words, for reports, given the extracted columns."""
        described = []
        for name, part in zip(self.names, self.parts, strict=True):
            prefix = f"{name}__"
            own = [n[len(prefix) :] for n in feature_names if n.startswith(prefix)]
            described.append(part.describe(own))
        return " + ".join(described)


def _check_columns(part, table, corpus):
    missing = [c for c in part.columns if c not in table.columns]
    if missing:
        raise ExperimentInputError(
            Param("features", part.spec()),
            f" reads the {missing[0]!r} column of a "
            f"corpus, and {corpus} has none (its columns: {list(table.columns)}).",
        )


def parse_features(features=DEFAULT_FEATURES):
    r"""Read a ``features`` string: one feature set, or several joined by ``+``.

    Parameters
    ----------
    features : str, FeatureSet or FusedFeatureSet, default='egemaps'
        ``'egemaps'``, ``'ssl:MODEL[:LAYER]'``, ``'text:MODEL[:LAYER]'``,
        ``'dvector'``, or several of them joined by ``'+'``. A parsed set
        is returned as it is.

    Returns
    -------
    feature_set : FeatureSet or FusedFeatureSet
        A :class:`FeatureSet` for one part: its kind and, for an encoder,
        the model, the layer (the transformer's default, the last layer,
        when none is given) and the pooling (the transformer's default). A
        :class:`FusedFeatureSet` of them, in the order given, for several.

    Raises
    ------
    ExperimentInputError
        For an unknown kind, an empty model or a part given twice; the
        message names the part.

    Examples
    --------
    >>> from sklearn_prognet.experiments._feature_sets import parse_features
    >>> parse_features("ssl:facebook/wav2vec2-base:6").layer
    6
    >>> parse_features(r"ssl:C:\models\w2v:all")
    FeatureSet(kind='ssl', model='C:\\models\\w2v', layer='all', pooling='mean')
    >>> fused = parse_features("egemaps+ssl:facebook/wav2vec2-base:6")
    >>> [part.kind for part in fused.parts], fused.file_stem()
    (['egemaps', 'ssl'], 'egemaps+wav2vec2-base_layer6')
    """
    if isinstance(features, (FeatureSet, FusedFeatureSet)):
        return features
    parts = [_parse_part(text, features) for text in _split(str(features))]
    duplicates = sorted({part.spec() for part in parts if parts.count(part) > 1})
    if duplicates:
        raise ExperimentInputError(
            Param("features", features),
            f" gives {duplicates[0]!r} twice; give every part once.",
        )
    return parts[0] if len(parts) == 1 else FusedFeatureSet(tuple(parts))


def _split(text):
    """The parts of ``A+B``: a ``+`` not followed by a kind is in a model's name."""
    parts = []
    for piece in text.split("+"):
        kind = piece.partition(":")[0].strip().lower()
        if parts and kind not in _KINDS and _takes_model(parts[-1]):
            parts[-1] += "+" + piece
        else:
            parts.append(piece)
    return parts


def _takes_model(text):
    kind = _KINDS.get(text.partition(":")[0].strip().lower())
    return kind is not None and kind.takes_model


def _parse_part(text, features):
    name, sep, rest = text.strip().partition(":")
    name = name.strip().lower()
    kind = _KINDS.get(name)
    if kind is None or kind.takes_model != bool(sep):
        which = "" if text == str(features) else f" (the part {text.strip()!r})"
        raise ExperimentInputError(
            Param("features", features), f"{which}: {_syntax()}."
        )
    if not kind.takes_model:
        kind.load(name)  # absent in this version: an error now, not later
        return FeatureSet(name)
    defaults = _defaults(name)
    model, sep, layer = rest.rpartition(":")
    if not (sep and _LAYER.fullmatch(layer.strip())):
        model, layer = rest, defaults["layer"]
    elif layer.strip().lower() == "all":
        layer = "all"
    else:
        layer = int(layer)
    if not model.strip():
        raise ExperimentInputError(
            Param("features", features),
            f" names no model for {name!r}; give "
            f"'{name}:MODEL' with MODEL a Hugging Face Hub name or a folder.",
        )
    return FeatureSet(name, model.strip(), layer, defaults["pooling"])
