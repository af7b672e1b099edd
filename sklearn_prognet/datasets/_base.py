# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""What the corpus loaders share: checks, the table they return, its docs.

Each loader (``_emodb.py``, ``_urdu.py``, ``_ravdess.py``, ``_iemocap.py``,
``_msp_improv.py``, ``_nemo.py``) knows only its corpus's layout and naming
rule. It describes its corpus once, as a :class:`Corpus`, turns the files into
records and problems, and hands both to :func:`finish_table`, so that every
corpus reports skipped files and builds its table the same way;
:func:`fill_loader_doc` writes what the loaders' docstrings say alike.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sklearn_prognet.utils._docstring import Substitution
from sklearn_prognet.utils._warnings import warn

__all__ = [
    "COMMON_PARAMS",
    "DIMENSIONS",
    "DEFAULT_EMOTIONS",
    "GENDERS",
    "RATINGS_DOC",
    "SESSION_AND_RATINGS",
    "Corpus",
    "check_dir",
    "check_emotions",
    "fill_loader_doc",
    "finish_table",
    "layout_error",
    "record",
    "visible_files",
]

#: The four classes of Gideon et al. (2017), spelled as the whole package does.
DEFAULT_EMOTIONS = ("angry", "happy", "sad", "neutral")

#: The dimensional ratings of IEMOCAP and MSP-IMPROV: their columns, in order.
#:
#: .. versionadded:: 0.1
DIMENSIONS = ("arousal", "valence", "dominance")

# The columns after ``gender`` of the corpora with sessions and dimensional
# ratings (IEMOCAP, MSP-IMPROV), with their dtypes (Corpus.columns).
SESSION_AND_RATINGS = (
    ("session", "int64"),
    *((name, "float64") for name in DIMENSIONS),
)

# The gender letter of the corpora that code it in their names or ids.
GENDERS = {"F": "female", "M": "male"}

# A wrong folder can hold thousands of files: list this many, count the rest.
_MAX_LISTED = 20

COMMON_PARAMS = {
    "path": [str, os.PathLike],
    "emotions": ["array-like", str, None],
    "strict": ["boolean"],
}


@dataclass(frozen=True)
class Corpus:
    """What a loader's table and messages say of its corpus.

    Written once in each loader's module, so that the loader hands
    :func:`finish_table` only what it found and where.

    Attributes
    ----------
    id : str
        The corpus's id in the table's ``corpus`` column, e.g. ``'emodb'``.
    name : str
        Its name in messages, e.g. ``'EmoDB'``.
    rule : str
        The layout rule that skipped items break, in a few words.
    what : str, default='file(s)'
        What the skipped items are, counted in messages.
    columns : tuple of (str, str), default=()
        The records' further keys and their dtypes, e.g. ``("session",
        "int64")``: the table's columns after ``gender``, before ``corpus``.
    """

    id: str
    name: str
    rule: str
    what: str = "file(s)"
    columns: tuple = ()


# The texts below are indented as they stand in a loader's docstring, where a
# field is indented by four spaces: the first line of a text is not.
_RETURNS_DOC = """\
Returns
    -------
    table : pandas.DataFrame
        One row per utterance, sorted by ``file`` (stable), with a running
        index (RangeIndex) and the columns:

        - ``file`` (str): absolute path of the audio file;
        - ``emotion`` (str): emotion label, e.g. ``'angry'``;
        - ``speaker`` (str): speaker id as the corpus writes it;
        - ``gender`` (str): ``'female'`` or ``'male'``;
        {session}{extra}- ``corpus`` (str): ``'{corpus}'``.
"""
_RAISES_DOC = """\
Raises
    ------
    FileNotFoundError
        If ``path``{label_file} does not exist.
    NotADirectoryError
        If ``path`` is a file, not a folder.
"""
_SESSION_DOC = "- ``session`` (int64): recording session, {values};\n        "
#: The table text of the corpora with dimensional ratings (``extra``).
RATINGS_DOC = """\
- ``arousal``, ``valence``, ``dominance`` (float64): the mean
          rating of the evaluators from 1 to 5, {source}; NaN where
          missing (new in 0.1);
        """


def fill_loader_doc(corpus, *, label_file=None, session=None, extra=""):
    """Decorator writing what the loaders' docstrings say alike.

    The texts are written once here so that the loaders describe the same
    table and the same errors in the same words. It fills two fields of a
    loader's docstring:

    - ``{returns}``: the Returns section, the table of ``corpus`` (a
      :class:`Corpus`); ``session`` describes the values of the ``session``
      column, for the corpora that have one; ``extra`` is the text of further
      columns, before ``corpus``;
    - ``{raises}``: the start of the Raises section, the errors of
      :func:`check_dir` and of ``label_file``, the label file that the loader
      requires, if any (its name in the text, e.g. ``'the label file'``); the
      loader's own entries follow the field.
    """
    session = _SESSION_DOC.format(values=session) if session else ""
    label_file = f" or {label_file}" if label_file else ""
    return Substitution(
        returns=_RETURNS_DOC.format(corpus=corpus.id, session=session, extra=extra),
        raises=_RAISES_DOC.format(label_file=label_file),
    )


def check_dir(path, name):
    """The corpus folder ``path`` as an absolute Path; raise if it is not one.

    ``name`` is the corpus's name in messages (e.g. ``'EmoDB'``).
    """
    # abspath, not resolve(): keep the user's symbolic links in the paths.
    root = Path(os.path.abspath(Path(path).expanduser()))
    if not root.exists():
        raise FileNotFoundError(f"{name} folder {str(root)!r} does not exist.")
    if not root.is_dir():
        # A user who passes one audio file of the corpus must not be told
        # that it does not exist.
        kind = "a file, not a folder" if root.is_file() else "not a folder"
        raise NotADirectoryError(
            f"{name} path {str(root)!r} is {kind}: pass the folder that holds "
            f"the {name} corpus."
        )
    return root


def layout_error(name, missing, folder, expected):
    """The error of a loader that finds no ``missing`` in ``folder``.

    Every loader words it alike: the corpus (``name``, e.g. ``'EmoDB'``),
    what it looked for and did not find, the folder that was read and what
    that folder should hold (``expected``, the corpus's layout). Returned,
    not raised, so that the caller's ``raise`` shows where it stops.

    Examples
    --------
    >>> from sklearn_prognet.datasets._base import layout_error
    >>> print(layout_error("RAVDESS", "Actor_XX folder", "/data", "Actor_01/..."))
    No RAVDESS Actor_XX folder in '/data': expected Actor_01/....
    """
    return ValueError(f"No {name} {missing} in {str(folder)!r}: expected {expected}.")


def check_emotions(emotions, available, name):
    """Requested emotions as a tuple, or None for all that corpus ``name`` has."""
    if emotions is None:
        return None
    if isinstance(emotions, str):
        emotions = (emotions,)
    emotions = tuple(emotions)
    if not emotions:
        raise ValueError("emotions is empty; pass None to load every emotion.")
    unknown = [e for e in emotions if e not in available]
    if unknown:
        raise ValueError(
            f"emotions={list(emotions)}: {unknown} not in the {name} corpus, "
            f"whose emotions are {list(available)}."
        )
    if len(set(emotions)) != len(emotions):
        raise ValueError(f"emotions={list(emotions)} has duplicates.")
    return emotions


def visible_files(folder, suffix=".wav"):
    """Non-hidden files of a folder with the given extension (any case)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() == suffix
    )


def record(file, emotion, speaker, gender, **columns):
    """One usable utterance, as :func:`finish_table` takes it.

    ``file`` (a path) becomes its text; ``columns`` are the corpus's further
    keys (``session``, ratings, ...), in the order given.

    Examples
    --------
    >>> from sklearn_prognet.datasets._base import record
    >>> record("a.wav", "sad", "03", "male", session=1)
    {'file': 'a.wav', 'emotion': 'sad', 'speaker': '03', 'gender': 'male', 'session': 1}
    """
    return {
        "file": str(file),
        "emotion": emotion,
        "speaker": speaker,
        "gender": gender,
        **columns,
    }


def _report(problems, corpus, where, *, strict):
    """Warn about (or, if strict, raise on) what does not follow the layout."""
    if not problems:
        return
    lines = [f"  {item}: {reason}" for item, reason in problems[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        lines.append(f"  ... and {len(problems) - _MAX_LISTED} more")
    head = (
        f"{len(problems)} {corpus.what} in {where} do not follow the "
        f"{corpus.name} layout ({corpus.rule})"
    )
    if strict:
        raise ValueError(
            f"{head}:\n" + "\n".join(lines) + "\nstrict=True makes this an "
            "error; with strict=False they are skipped with a warning."
        )
    warn(f"{head} and were skipped:\n" + "\n".join(lines))


def finish_table(records, problems, corpus, folder, expected, *, emotions, strict):
    """Report the problems, then build the table and keep ``emotions``.

    Parameters
    ----------
    records : list of dict
        One dict per usable utterance, with the keys ``file``, ``emotion``,
        ``speaker``, ``gender`` and those of ``corpus.columns``.
    problems : list of (str, str)
        What was skipped (a file name, label line or utterance id) and why.
    corpus : Corpus
        The corpus: its names, the rule that ``problems`` break, its columns.
    folder : pathlib.Path
        The folder that was read, named in messages.
    expected : str
        What the folder should hold, for the error when nothing is usable.
    emotions : tuple of str or None
        The checked ``emotions`` argument of the loader.
    strict : bool
        Raise on problems instead of warning.
    """
    where = repr(str(folder))
    _report(problems, corpus, where, strict=strict)
    columns = ["file", "emotion", "speaker", "gender"]
    columns += [column for column, _ in corpus.columns]
    table = pd.DataFrame.from_records(records, columns=columns)
    for column, dtype in corpus.columns:
        table[column] = table[column].astype(dtype)
    if emotions is not None:
        table = table[table["emotion"].isin(emotions)]
    if table.empty:
        wanted = "" if emotions is None else f" with emotions {list(emotions)}"
        raise layout_error(corpus.name, f"utterance{wanted} found", folder, expected)
    # Only a requested emotion is worth a warning: emotions=None on a subset
    # of a corpus (e.g. four-class EmoDB) is normal.
    missing = [e for e in emotions or () if not (table["emotion"] == e).any()]
    if missing:
        warn(
            f"No {corpus.name} file with emotion(s) {missing} in {where} (the folder "
            "may hold a subset of the corpus).",
        )
    table = table.sort_values("file", kind="stable").reset_index(drop=True)
    table["corpus"] = corpus.id
    return table
