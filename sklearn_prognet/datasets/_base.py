# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""What the corpus loaders share: checks, the table they return, its docs.

Each loader (``_emodb.py``, ``_urdu.py``, ``_ravdess.py``, ``_iemocap.py``,
``_msp_improv.py``) knows only its corpus's layout and naming rule. It turns
the files into records and problems, and hands both to :func:`finish_table`,
so that every corpus reports skipped files and builds its table the same way.
"""

import os
from pathlib import Path

import pandas as pd

from sklearn_prognet.utils._warnings import warn

__all__ = [
    "COMMON_PARAMS",
    "DIMENSIONS",
    "DEFAULT_EMOTIONS",
    "GENDERS",
    "check_dir",
    "check_emotions",
    "fill_table_doc",
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

# The gender letter of the corpora that code it in their names or ids.
GENDERS = {"F": "female", "M": "male"}

# A wrong folder can hold thousands of files: list this many, count the rest.
_MAX_LISTED = 20

COMMON_PARAMS = {
    "path": [str, os.PathLike],
    "emotions": ["array-like", str, None],
    "strict": ["boolean"],
}

_TABLE_DOC = """\
One row per utterance, sorted by ``file`` (stable), with a running
        index (RangeIndex) and the columns:

        - ``file`` (str): absolute path of the audio file;
        - ``emotion`` (str): emotion label, e.g. ``'angry'``;
        - ``speaker`` (str): speaker id as the corpus writes it;
        - ``gender`` (str): ``'female'`` or ``'male'``;
        {session}{extra}- ``corpus`` (str): ``'{corpus}'``.
"""
_SESSION_DOC = "- ``session`` (int64): recording session, {values};\n        "
#: The table text of the corpora with dimensional ratings (``extra``).
RATINGS_DOC = """\
- ``arousal``, ``valence``, ``dominance`` (float64): the mean
          rating of the evaluators from 1 to 5, {source}; NaN where
          missing (new in 0.1);
        """


def fill_table_doc(corpus, session=None, extra=""):
    """Decorator writing the shared Returns text into a loader's docstring.

    The text is written once here so that the five loaders describe the same
    table in the same words; ``session`` describes the values of the
    ``session`` column, for the corpora that have one; ``extra`` is the text
    of further columns, before ``corpus``.
    """
    session = _SESSION_DOC.format(values=session) if session else ""
    text = _TABLE_DOC.format(corpus=corpus, session=session, extra=extra)

    def decorate(func):
        func.__doc__ = func.__doc__.replace("{table}\n", text)
        return func

    return decorate


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


def _report(problems, *, name, where, rule, what, strict):
    """Warn about (or, if strict, raise on) what does not follow the layout."""
    if not problems:
        return
    lines = [f"  {item}: {reason}" for item, reason in problems[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        lines.append(f"  ... and {len(problems) - _MAX_LISTED} more")
    head = f"{len(problems)} {what} in {where} do not follow the {name} layout ({rule})"
    if strict:
        raise ValueError(
            f"{head}:\n" + "\n".join(lines) + "\nstrict=True makes this an "
            "error; with strict=False they are skipped with a warning."
        )
    warn(f"{head} and were skipped:\n" + "\n".join(lines))


def finish_table(
    records,
    problems,
    *,
    corpus,
    name,
    folder,
    rule,
    expected,
    emotions,
    strict,
    what="file(s)",
    with_session=False,
    extra_columns=(),
):
    """Report the problems, then build the table and keep ``emotions``.

    Parameters
    ----------
    records : list of dict
        One dict per usable utterance, with the keys ``file``, ``emotion``,
        ``speaker``, ``gender`` (and ``session`` if ``with_session``).
    problems : list of (str, str)
        What was skipped (a file name, label line or utterance id) and why.
    corpus, name : str
        The corpus's id in the table (``'emodb'``) and in messages
        (``'EmoDB'``).
    folder : pathlib.Path
        The folder that was read, named in messages.
    rule : str
        The layout rule that ``problems`` break, in a few words.
    expected : str
        What the folder should hold, for the error when nothing is usable.
    emotions : tuple of str or None
        The checked ``emotions`` argument of the loader.
    strict : bool
        Raise on problems instead of warning.
    what : str, default='file(s)'
        What ``problems`` lists, counted in messages.
    with_session : bool, default=False
        Whether the records have a ``session``.
    extra_columns : sequence of (str, str), default=()
        Further record keys and their dtypes, e.g. ``("arousal",
        "float64")``: columns after ``session``, before ``corpus``.
    """
    where = repr(str(folder))
    _report(problems, name=name, where=where, rule=rule, what=what, strict=strict)
    columns = ["file", "emotion", "speaker", "gender"]
    if with_session:
        columns.append("session")
    columns += [column for column, _ in extra_columns]
    table = pd.DataFrame.from_records(records, columns=columns)
    if with_session:
        table["session"] = table["session"].astype("int64")
    for column, dtype in extra_columns:
        table[column] = table[column].astype(dtype)
    if emotions is not None:
        table = table[table["emotion"].isin(emotions)]
    if table.empty:
        wanted = "" if emotions is None else f" with emotions {list(emotions)}"
        raise layout_error(name, f"utterance{wanted} found", folder, expected)
    # Only a requested emotion is worth a warning: emotions=None on a subset
    # of a corpus (e.g. four-class EmoDB) is normal.
    missing = [e for e in emotions or () if not (table["emotion"] == e).any()]
    if missing:
        warn(
            f"No {name} file with emotion(s) {missing} in {where} (the folder "
            "may hold a subset of the corpus).",
        )
    table = table.sort_values("file", kind="stable").reset_index(drop=True)
    table["corpus"] = corpus
    return table
