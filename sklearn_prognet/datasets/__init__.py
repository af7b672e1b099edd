# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Emotional speech corpora: loaders for data on disk and embedded features.

The ``load_<corpus>(path)`` functions list the utterances of a corpus stored
on disk (EmoDB, URDU, RAVDESS, IEMOCAP, MSP-IMPROV, nEMO) as one table of file
paths and labels, in the same form for every corpus; they never download
anything; :func:`load_manifest` reads any other corpus from a CSV list of
its files and labels. :func:`load_emodb_features` returns the eGeMAPS features of EmoDB
that ship with the package, for offline examples and tests.

Emotion labels are the strings ``'angry'``, ``'happy'``, ``'sad'`` and
``'neutral'`` (:data:`DEFAULT_EMOTIONS`, the classes of Gideon et al., 2017)
plus, where a corpus has them, ``'boredom'``, ``'calm'``, ``'disgust'``,
``'excited'``, ``'fear'``, ``'frustration'`` and ``'surprise'``.
IEMOCAP and MSP-IMPROV also have dimensional ratings, the columns named in
:data:`DIMENSIONS`.
"""

from sklearn_prognet.datasets._base import DEFAULT_EMOTIONS, DIMENSIONS
from sklearn_prognet.datasets._embedded import load_emodb_features
from sklearn_prognet.datasets._emodb import load_emodb
from sklearn_prognet.datasets._iemocap import load_iemocap
from sklearn_prognet.datasets._manifest import MANIFEST_COLUMNS, load_manifest
from sklearn_prognet.datasets._msp_improv import load_msp_improv
from sklearn_prognet.datasets._nemo import load_nemo
from sklearn_prognet.datasets._ravdess import load_ravdess
from sklearn_prognet.datasets._urdu import load_urdu

__all__ = [
    "DEFAULT_EMOTIONS",
    "DIMENSIONS",
    "MANIFEST_COLUMNS",
    "load_emodb",
    "load_emodb_features",
    "load_iemocap",
    "load_manifest",
    "load_msp_improv",
    "load_nemo",
    "load_ravdess",
    "load_urdu",
]
