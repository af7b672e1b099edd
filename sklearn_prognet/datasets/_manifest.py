# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Any corpus from a CSV manifest: one row per audio file, with its labels.

The named loaders each know one corpus's folder layout. A manifest needs no
layout: it lists the files and their labels, so CREMA-D, TESS, SAVEE, ESD or
one's own recordings are read the same way, into the same table.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd

from sklearn_prognet.datasets._base import DIMENSIONS, check_emotions
from sklearn_prognet.utils._compat import validate_params
from sklearn_prognet.utils._warnings import warn

__all__ = ["MANIFEST_COLUMNS", "load_manifest"]

#: The columns a manifest may have: ``file`` and ``emotion`` are required.
MANIFEST_COLUMNS = (
    "file", "emotion", "speaker", "gender", "corpus", "session", "transcript",
    *DIMENSIONS,
)  # fmt: skip
_REQUIRED = ("file", "emotion")
# Columns whose cells are labels or ids: read as text, so that speaker "01"
# stays "01" and gender "" is not NaN-turned-float.
_TEXT = ("file", "emotion", "speaker", "gender", "corpus", "transcript")
_NA_RATING = ["", "NA", "N/A", "NaN", "nan"]
# How many rows or files one message lists before it counts the rest.
_MAX_LISTED = 5


def _listed(items):
    """``items`` in a message: the first few, then how many more."""
    shown = ", ".join(map(str, items[:_MAX_LISTED]))
    more = len(items) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _lines(mask):
    """CSV line numbers (the header is line 1) of the rows in ``mask``."""
    return [int(i) + 2 for i in np.flatnonzero(mask)]


def _read(path):
    sep = "\t" if ".tsv" in path.name.lower() else ","
    try:
        header = pd.read_csv(path, sep=sep, nrows=0)
        dtypes = {c: str for c in header.columns if c in _TEXT}
        # Only an empty cell is missing text: a transcript "NA" or a speaker
        # "nan" is text. Ratings also take the usual spellings of NaN.
        missing = {c: _NA_RATING if c in DIMENSIONS else [""] for c in header}
        return pd.read_csv(
            path, sep=sep, dtype=dtypes, keep_default_na=False, na_values=missing
        )
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"Cannot read manifest {str(path)!r}: {exc}") from None


def _check_columns(table, where):
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise ValueError(
            f"Manifest {where} has no {missing} column(s); a manifest needs "
            f"'file' and 'emotion'. Its columns: {list(table.columns)}."
        )
    if table.empty:
        raise ValueError(f"Manifest {where} has a header but no rows.")
    other = [c for c in table.columns if c not in MANIFEST_COLUMNS]
    if other:
        warn(
            f"Manifest {where}: column(s) {other} are ignored; a manifest's "
            f"columns are {list(MANIFEST_COLUMNS)}."
        )
    for column in ("file", "emotion", "speaker"):
        if column in table.columns and table[column].isna().any():
            raise ValueError(
                f"Manifest {where}: the {column!r} column is empty on line(s) "
                f"{_listed(_lines(table[column].isna()))}."
            )


def _resolve_files(files, folder, where):
    """Absolute paths (relative ones are relative to the manifest's folder)."""
    paths = [os.path.abspath(folder / Path(f).expanduser()) for f in files.str.strip()]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise FileNotFoundError(
            f"Manifest {where}: {len(missing)} of {len(paths)} file(s) do not "
            f"exist: {_listed(missing)}. Relative paths are read from the "
            f"manifest's folder {str(folder)!r}."
        )
    seen, repeated = set(), []
    for p in paths:
        if p in seen:
            repeated.append(p)
        seen.add(p)
    if repeated:
        # The same recording in two rows could be trained on and tested on.
        raise ValueError(
            f"Manifest {where} lists {len(repeated)} file(s) more than once: "
            f"{_listed(repeated)}."
        )
    return paths


def _ratings(table, where):
    for column in DIMENSIONS:
        if column not in table.columns:
            continue
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() & table[column].notna()
        if bad.any():
            raise ValueError(
                f"Manifest {where}: the {column!r} column has non-numeric values "
                f"on line(s) {_listed(_lines(bad))}, e.g. "
                f"{table[column][bad].iloc[0]!r}."
            )
        table[column] = values.astype("float64")


@validate_params(
    {"path": [str, os.PathLike], "emotions": ["array-like", str, None]},
    prefer_skip_nested_validation=True,
)
def load_manifest(path, *, emotions=None):
    r"""Load the utterance table of any corpus from a CSV manifest.

    A manifest lists audio files and their labels, one row per file, so that
    a corpus without a loader of its own (CREMA-D, TESS, SAVEE, ESD, your
    own recordings) is read into the same table as the named loaders return.

    Read more in the :ref:`User Guide <manifest>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file (``.tsv`` for tab-separated; ``.gz`` compressed too) with
        a header row and the columns:

        - ``file`` (required): the audio file, absolute or relative to the
          manifest's folder;
        - ``emotion`` (required): its label, as you spell it (stripped and
          lower-cased);
        - ``speaker``, ``gender``, ``corpus``, ``session``, ``transcript``
          (optional);
        - ``arousal``, ``valence``, ``dominance`` (optional, numeric; empty
          cells are NaN).

        Other columns are ignored with a warning.

    emotions : sequence of str or None, default=None
        Emotions to keep; None keeps every label of the manifest.

    Returns
    -------
    table : pandas.DataFrame
        One row per file, sorted by ``file`` (stable), with a running index
        and the manifest's columns: ``file`` (str, absolute path),
        ``emotion`` (str), then those of ``speaker``, ``gender`` (str,
        lower-cased; ``''`` where empty), ``session``, ``transcript`` and the
        ratings (float64) that the manifest has, and ``corpus`` (str; the
        manifest's file name without its extensions when it has no
        ``corpus`` column).

    Raises
    ------
    FileNotFoundError
        If the manifest, or any file it lists, does not exist; the message
        names the first few missing files and counts them.
    ValueError
        If the manifest cannot be read, has no ``file`` or ``emotion``
        column, has no rows, has empty file, emotion or speaker cells,
        lists a file twice, has non-numeric ratings, or if an emotion of
        ``emotions`` is not among its labels.

    See Also
    --------
    load_emodb : The same table for EmoDB, read from its folder layout.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_prognet.datasets import load_manifest
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)
    >>> for name in ["a.wav", "b.wav"]:
    ...     (folder / name).touch()
    >>> _ = (folder / "mine.csv").write_text(
    ...     "file,emotion,speaker\na.wav,Angry,s1\nb.wav,sad,s2\n")
    >>> load_manifest(folder / "mine.csv").drop(columns="file")
      emotion speaker corpus
    0   angry      s1   mine
    1     sad      s2   mine
    >>> tmp.cleanup()
    """
    path = Path(os.path.abspath(Path(path).expanduser()))
    where = repr(str(path))
    if not path.is_file():
        raise FileNotFoundError(f"Manifest {where} does not exist or is not a file.")
    table = _read(path)
    _check_columns(table, where)
    table = table[[c for c in MANIFEST_COLUMNS if c in table.columns]].copy()
    table["file"] = _resolve_files(table["file"], path.parent, where)
    table["emotion"] = table["emotion"].str.strip().str.lower()
    if "speaker" in table.columns:
        table["speaker"] = table["speaker"].str.strip()
    if "gender" in table.columns:
        table["gender"] = table["gender"].fillna("").str.strip().str.lower()
    _ratings(table, where)
    emotions = check_emotions(emotions, sorted(set(table["emotion"])), where)
    if emotions is not None:
        table = table[table["emotion"].isin(emotions)]
    if "corpus" not in table.columns:
        table["corpus"] = path.name.split(".")[0]
    else:
        table["corpus"] = table.pop("corpus").fillna(path.name.split(".")[0])
    return table.sort_values("file", kind="stable").reset_index(drop=True)
