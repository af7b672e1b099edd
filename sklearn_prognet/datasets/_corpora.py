# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Loaders listing the utterances of emotional speech corpora stored on disk.

Each loader reads file names and label files only (no audio) and returns one
table in the same form for every corpus; nothing is ever downloaded.
"""

import os
import re
from pathlib import Path

import pandas as pd

from sklearn_prognet.utils._compat import validate_params
from sklearn_prognet.utils._warnings import warn

__all__ = [
    "DEFAULT_EMOTIONS",
    "load_emodb",
    "load_iemocap",
    "load_msp_improv",
    "load_ravdess",
    "load_urdu",
]

#: The four classes of Gideon et al. (2017), spelled as the whole package does.
DEFAULT_EMOTIONS = ("angry", "happy", "sad", "neutral")

# How many problem files a warning or error lists before it summarizes.
_MAX_LISTED = 20

_COMMON_PARAMS = {
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
        {session}- ``corpus`` (str): ``'{corpus}'``.
"""
_SESSION_DOC = "- ``session`` (int64): recording session, {values};\n        "


def _fill_table_doc(corpus, session=None):
    """Decorator writing the shared Returns text into a loader's docstring."""
    session = _SESSION_DOC.format(values=session) if session else ""
    text = _TABLE_DOC.format(corpus=corpus, session=session)

    def decorate(func):
        func.__doc__ = func.__doc__.replace("{table}\n", text)
        return func

    return decorate


def _visible_files(folder, suffix=".wav"):
    """Non-hidden files of a folder with the given extension (any case)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() == suffix
    )


def _check_dir(path, corpus):
    # abspath, not resolve(): keep the user's symbolic links in the paths.
    root = Path(os.path.abspath(Path(path).expanduser()))
    if not root.is_dir():
        raise FileNotFoundError(f"{corpus} folder {str(root)!r} does not exist.")
    return root


def _check_emotions(emotions, available, corpus):
    """Requested emotions as a tuple, or None for all that ``corpus`` labels."""
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
            f"emotions={list(emotions)}: {unknown} not in the {corpus} corpus, "
            f"whose emotions are {list(available)}."
        )
    if len(set(emotions)) != len(emotions):
        raise ValueError(f"emotions={list(emotions)} has duplicates.")
    return emotions


def _report(problems, corpus, where, rule, strict):
    """Warn about (or, if strict, raise on) files that were skipped."""
    if not problems:
        return
    lines = [f"  {file}: {reason}" for file, reason in problems[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        lines.append(f"  ... and {len(problems) - _MAX_LISTED} more")
    message = (
        f"{len(problems)} file(s) in {where} do not follow the {corpus} layout "
        f"({rule}) and were skipped:\n" + "\n".join(lines)
    )
    if strict:
        raise ValueError(message + "\n(strict=True)")
    warn(message)


def _finish(records, *, corpus, name, emotions, where, expected, with_session=False):
    """Build the table from dicts, keep ``emotions``, check it is not empty."""
    columns = ["file", "emotion", "speaker", "gender"]
    if with_session:
        columns.append("session")
    table = pd.DataFrame.from_records(records, columns=columns)
    if with_session:
        table["session"] = table["session"].astype("int64")
    if emotions is not None:
        table = table[table["emotion"].isin(emotions)]
    if table.empty:
        wanted = "" if emotions is None else f" with emotions {list(emotions)}"
        raise ValueError(
            f"No {name} utterance{wanted} found in {where}; expected {expected}."
        )
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


# -- EmoDB -------------------------------------------------------------------

_EMODB_NAME = re.compile(r"^(\d\d)([ab]\d\d)([WFTNLEA])([a-z])$")
_EMODB_EMOTIONS = {
    "W": "angry",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
}
_EMODB_GENDER = {
    **dict.fromkeys(["03", "10", "11", "12", "15"], "male"),
    **dict.fromkeys(["08", "09", "13", "14", "16"], "female"),
}


@validate_params(_COMMON_PARAMS, prefer_skip_nested_validation=True)
@_fill_table_doc("emodb")
def load_emodb(path, *, emotions=DEFAULT_EMOTIONS, strict=False):
    """Load the utterance table of the Berlin Database of Emotional Speech.

    Lists the audio files of EmoDB (Burkhardt et al., 2005) with the emotion,
    speaker and gender coded in their names. Works with the full corpus (535
    files) and with subsets such as its four-class part (339 files).

    Read more in the :ref:`User Guide <datasets>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    path : str or os.PathLike
        The EmoDB folder holding ``wav/`` (as in the official download), or
        the ``wav`` folder itself. Files are named like ``03a01Wa.wav``:
        speaker (2 digits), text (3 characters), emotion letter (W anger,
        F happiness, T sadness, N neutral, L boredom, E disgust, A fear) and
        take.

    emotions : sequence of str or None, default=DEFAULT_EMOTIONS
        Emotions to keep (by default ``('angry', 'happy', 'sad', 'neutral')``),
        among ``'angry'``, ``'happy'``, ``'sad'``,
        ``'neutral'``, ``'boredom'``, ``'disgust'`` and ``'fear'``. None keeps
        all.

    strict : bool, default=False
        If True, a ``.wav`` file whose name does not follow the EmoDB naming
        rule raises a :class:`ValueError`; otherwise such files are skipped
        with one :class:`UserWarning` that lists them.

    Returns
    -------
    table : pandas.DataFrame
        {table}

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If an emotion is not an EmoDB emotion, or no usable file is found.

    See Also
    --------
    load_emodb_features : The eGeMAPS features of the 339 four-class EmoDB
        files, shipped with the package.
    sklearn_prognet.EGeMAPSTransformer : Extract features from the files.

    Notes
    -----
    Speakers 03, 10, 11, 12 and 15 are male; 08, 09, 13, 14 and 16 female.
    EmoDB is republished by audEERING under the CC0-1.0 licence.

    References
    ----------
    .. [1] F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier, B. Weiss,
       "A Database of German Emotional Speech", Interspeech 2005.

    Examples
    --------
    The loader only lists files, so empty files show how it works:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_prognet.datasets import load_emodb
    >>> tmp = tempfile.TemporaryDirectory()
    >>> wav = Path(tmp.name) / "emodb" / "wav"
    >>> wav.mkdir(parents=True)
    >>> for name in ["03a01Wa.wav", "08a02Fb.wav", "16b10Tc.wav", "03a01Nc.wav",
    ...              "11a05Lb.wav"]:
    ...     (wav / name).touch()
    >>> load_emodb(wav.parent).drop(columns="file")
       emotion speaker  gender corpus
    0  neutral      03    male  emodb
    1    angry      03    male  emodb
    2    happy      08  female  emodb
    3      sad      16  female  emodb
    >>> load_emodb(wav.parent, emotions=None)["emotion"].to_list()
    ['neutral', 'angry', 'happy', 'boredom', 'sad']
    >>> tmp.cleanup()
    """
    emotions = _check_emotions(emotions, list(_EMODB_EMOTIONS.values()), "EmoDB")
    root = _check_dir(path, "EmoDB")
    folder = root / "wav" if (root / "wav").is_dir() else root
    files = _visible_files(folder)
    expected = (
        f"files named like 03a01Wa.wav in {str(root / 'wav')!r} (the wav/ folder "
        f"of EmoDB) or in {str(root)!r} itself"
    )
    if not files:
        raise ValueError(f"No EmoDB audio found: expected {expected}.")
    records, problems = [], []
    for file in files:
        match = _EMODB_NAME.match(file.stem)
        if match is None:
            problems.append((file.name, "name is not like 03a01Wa.wav"))
            continue
        speaker, _, letter, _ = match.groups()
        if speaker not in _EMODB_GENDER:
            problems.append((file.name, f"unknown EmoDB speaker {speaker!r}"))
            continue
        records.append(
            {
                "file": str(file),
                "emotion": _EMODB_EMOTIONS[letter],
                "speaker": speaker,
                "gender": _EMODB_GENDER[speaker],
            }
        )
    _report(problems, "EmoDB", repr(str(folder)), "names like 03a01Wa.wav", strict)
    return _finish(
        records,
        corpus="emodb",
        name="EmoDB",
        emotions=emotions,
        where=repr(str(folder)),
        expected=expected,
    )


# -- URDU --------------------------------------------------------------------

_URDU_FOLDERS = {"Angry": "angry", "Happy": "happy", "Neutral": "neutral", "Sad": "sad"}
_URDU_NAME = re.compile(r"^(S([MF])\d+)_F\d+_([AHNS])\d+$")
_URDU_LETTERS = {"A": "angry", "H": "happy", "N": "neutral", "S": "sad"}


@validate_params(_COMMON_PARAMS, prefer_skip_nested_validation=True)
@_fill_table_doc("urdu")
def load_urdu(path, *, emotions=DEFAULT_EMOTIONS, strict=False):
    """Load the utterance table of the URDU emotional speech corpus.

    Lists the clips of the URDU dataset (Latif et al., 2018), natural speech
    from Urdu talk shows, with the emotion given by their folder and the
    speaker and gender coded in their names.

    Read more in the :ref:`User Guide <datasets>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    path : str or os.PathLike
        The URDU folder, holding ``Angry/``, ``Happy/``, ``Neutral/`` and
        ``Sad/`` as published. Files are named like ``SM1_F10_A010.wav``:
        ``S`` + gender (M/F) + speaker number, ``F`` + the file's number for
        that speaker, then the emotion letter (A, H, N, S) and a number.

    emotions : sequence of str or None, default=DEFAULT_EMOTIONS
        Emotions to keep (by default ``('angry', 'happy', 'sad', 'neutral')``),
        among ``'angry'``, ``'happy'``, ``'sad'`` and
        ``'neutral'``. None keeps all.

    strict : bool, default=False
        If True, a ``.wav`` file whose name does not follow the naming rule
        (or whose emotion letter contradicts its folder) raises a
        :class:`ValueError`; otherwise such files are skipped with one
        :class:`UserWarning` that lists them.

    Returns
    -------
    table : pandas.DataFrame
        {table}

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` holds none of the emotion folders or no usable file, or
        an emotion is not a URDU emotion.

    See Also
    --------
    load_emodb : The same table for EmoDB.

    Notes
    -----
    The speaker id is the name's first part, e.g. ``'SM1'``. The authors
    allow research use only, so the package never ships or embeds this corpus
    or anything derived from it.

    References
    ----------
    .. [1] S. Latif, A. Qayyum, M. Usman, J. Qadir, "Cross Lingual Speech
       Emotion Recognition: Urdu vs. Western Languages", FIT 2018,
       arXiv:1812.10411.

    Examples
    --------
    The loader only lists files, so empty files show how it works:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_prognet.datasets import load_urdu
    >>> tmp = tempfile.TemporaryDirectory()
    >>> urdu = Path(tmp.name)
    >>> for name in ["Angry/SM1_F10_A010.wav", "Sad/SF2_F1_S001.wav"]:
    ...     (urdu / name).parent.mkdir(exist_ok=True)
    ...     (urdu / name).touch()
    >>> load_urdu(urdu, emotions=["angry", "sad"]).drop(columns="file")
      emotion speaker  gender corpus
    0   angry     SM1    male   urdu
    1     sad     SF2  female   urdu
    >>> tmp.cleanup()
    """
    emotions = _check_emotions(emotions, list(_URDU_FOLDERS.values()), "URDU")
    root = _check_dir(path, "URDU")
    expected = (
        f"the URDU layout {str(root)!r}/{{Angry,Happy,Neutral,Sad}}/*.wav with "
        "files named like SM1_F10_A010.wav"
    )
    folders = [name for name in _URDU_FOLDERS if (root / name).is_dir()]
    if not folders:
        raise ValueError(
            f"No URDU emotion folder in {str(root)!r}: expected {expected}."
        )
    records, problems = [], []
    for folder in folders:
        emotion = _URDU_FOLDERS[folder]
        for file in _visible_files(root / folder):
            name = f"{folder}/{file.name}"
            match = _URDU_NAME.match(file.stem)
            if match is None:
                problems.append((name, "name is not like SM1_F10_A010.wav"))
                continue
            speaker, gender, letter = match.groups()
            if _URDU_LETTERS[letter] != emotion:
                problems.append(
                    (name, f"emotion letter {letter!r} contradicts folder {folder}")
                )
                continue
            records.append(
                {
                    "file": str(file),
                    "emotion": emotion,
                    "speaker": speaker,
                    "gender": "male" if gender == "M" else "female",
                }
            )
    _report(problems, "URDU", repr(str(root)), "names like SM1_F10_A010.wav", strict)
    return _finish(
        records,
        corpus="urdu",
        name="URDU",
        emotions=emotions,
        where=repr(str(root)),
        expected=expected,
    )


# -- RAVDESS -----------------------------------------------------------------

_RAVDESS_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
_RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}


@validate_params(_COMMON_PARAMS, prefer_skip_nested_validation=True)
@_fill_table_doc("ravdess")
def load_ravdess(path, *, emotions=DEFAULT_EMOTIONS, strict=False):
    """Load the utterance table of the RAVDESS speech recordings.

    Lists the audio-only speech files of the Ryerson Audio-Visual Database
    of Emotional Speech and Song (Livingstone & Russo, 2018), with emotion,
    actor and gender decoded from their names.

    Read more in the :ref:`User Guide <datasets>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    path : str or os.PathLike
        The folder holding ``Actor_01/`` ... ``Actor_24/`` (e.g. the unpacked
        ``Audio_Speech_Actors_01-24``). Files are named
        ``03-01-EE-II-SS-RR-AA.wav``: modality (03 audio-only), vocal channel
        (01 speech), emotion (01 neutral, 02 calm, 03 happy, 04 sad,
        05 angry, 06 fearful, 07 disgust, 08 surprised), intensity,
        statement, repetition and actor.

    emotions : sequence of str or None, default=DEFAULT_EMOTIONS
        Emotions to keep (by default ``('angry', 'happy', 'sad', 'neutral')``),
        among ``'neutral'``, ``'calm'``, ``'happy'``,
        ``'sad'``, ``'angry'``, ``'fear'``, ``'disgust'`` and ``'surprise'``.
        None keeps all.

    strict : bool, default=False
        If True, a ``.wav`` file whose name does not follow the naming rule
        (or names another actor than its folder) raises a
        :class:`ValueError`; otherwise such files are skipped with one
        :class:`UserWarning` that lists them.

    Returns
    -------
    table : pandas.DataFrame
        {table}

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` holds no ``Actor_XX`` folder or no usable file, or an
        emotion is not a RAVDESS emotion.

    See Also
    --------
    load_emodb : The same table for EmoDB.

    Notes
    -----
    The speaker id is the actor number (``'01'`` ... ``'24'``); odd-numbered
    actors are male, even-numbered female. Song files (vocal channel 02) are
    not speech and are left out.

    References
    ----------
    .. [1] S. R. Livingstone, F. A. Russo, "The Ryerson Audio-Visual Database
       of Emotional Speech and Song (RAVDESS)", PLoS ONE 13(5), 2018.

    Examples
    --------
    The loader only lists files, so empty files show how it works:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_prognet.datasets import load_ravdess
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ["Actor_01/03-01-05-02-01-01-01.wav",
    ...              "Actor_01/03-01-03-01-02-01-01.wav",
    ...              "Actor_02/03-01-04-01-01-02-02.wav",
    ...              "Actor_02/03-01-01-01-01-01-02.wav",
    ...              "Actor_02/03-01-02-01-01-01-02.wav"]:
    ...     (Path(tmp.name) / name).parent.mkdir(exist_ok=True)
    ...     (Path(tmp.name) / name).touch()
    >>> load_ravdess(tmp.name).drop(columns="file")
       emotion speaker  gender   corpus
    0    happy      01    male  ravdess
    1    angry      01    male  ravdess
    2  neutral      02  female  ravdess
    3      sad      02  female  ravdess
    >>> tmp.cleanup()
    """
    emotions = _check_emotions(emotions, list(_RAVDESS_EMOTIONS.values()), "RAVDESS")
    root = _check_dir(path, "RAVDESS")
    expected = f"the RAVDESS layout {str(root)!r}/Actor_XX/03-01-EE-II-SS-RR-AA.wav"
    actors = sorted(
        p for p in root.iterdir() if p.is_dir() and re.match(r"^Actor_\d\d$", p.name)
    )
    if not actors:
        raise ValueError(
            f"No RAVDESS Actor_XX folder in {str(root)!r}: expected {expected}."
        )
    records, problems = [], []
    for actor_dir in actors:
        for file in _visible_files(actor_dir):
            name = f"{actor_dir.name}/{file.name}"
            match = _RAVDESS_NAME.match(file.stem)
            if match is None:
                problems.append((name, "name is not like 03-01-05-01-02-01-12.wav"))
                continue
            modality, channel, code, intensity, statement, repetition, actor = (
                match.groups()
            )
            if channel == "02":
                continue  # song, not speech (documented)
            reason = None
            if modality != "03" or channel != "01":
                reason = f"modality-channel {modality}-{channel} is not 03-01"
            elif code not in _RAVDESS_EMOTIONS:
                reason = f"unknown emotion code {code!r}"
            elif f"Actor_{actor}" != actor_dir.name:
                reason = f"actor {actor} is not the folder's actor"
            elif not (
                intensity in ("01", "02")
                and statement in ("01", "02")
                and repetition in ("01", "02")
                and 1 <= int(actor) <= 24
            ):
                reason = "intensity, statement, repetition or actor out of range"
            if reason is not None:
                problems.append((name, reason))
                continue
            records.append(
                {
                    "file": str(file),
                    "emotion": _RAVDESS_EMOTIONS[code],
                    "speaker": actor,
                    "gender": "male" if int(actor) % 2 else "female",
                }
            )
    _report(
        problems,
        "RAVDESS",
        repr(str(root)),
        "Actor_XX/03-01-EE-II-SS-RR-AA.wav",
        strict,
    )
    return _finish(
        records,
        corpus="ravdess",
        name="RAVDESS",
        emotions=emotions,
        where=repr(str(root)),
        expected=expected,
    )


# -- IEMOCAP -----------------------------------------------------------------

# Header line of one utterance in SessionN/dialog/EmoEvaluation/<dialog>.txt:
# "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]"
_IEMOCAP_HEADER = re.compile(
    r"^\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\s+(Ses(\d\d)[FM]_\S+)\s+(\S+)\s+\[.*\]\s*$"
)
_IEMOCAP_LABELS = {
    "neu": "neutral",
    "hap": "happy",
    "exc": "excited",
    "sad": "sad",
    "ang": "angry",
    "fru": "frustration",
    "fea": "fear",
    "sur": "surprise",
    "dis": "disgust",
}
# No majority among the evaluators ("xxx") or "other": not an emotion class.
_IEMOCAP_DROPPED = {"xxx", "oth"}


@validate_params(
    {**_COMMON_PARAMS, "merge_excited": ["boolean"]},
    prefer_skip_nested_validation=True,
)
@_fill_table_doc("iemocap", "1 to 5 (``SessionN``)")
def load_iemocap(path, *, emotions=DEFAULT_EMOTIONS, merge_excited=True, strict=False):
    r"""Load the utterance table of IEMOCAP with majority-vote labels.

    Lists the utterances of the Interactive Emotional Dyadic Motion Capture
    database (Busso et al., 2008) as Gideon et al. (2017) use them: the
    categorical label agreed by the majority of evaluators, with excitement
    merged into happiness.

    Read more in the :ref:`User Guide <datasets>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    path : str or os.PathLike
        The ``IEMOCAP_full_release`` folder (or its parent), holding
        ``Session1/`` ... ``Session5/``. Labels are read from
        ``SessionN/dialog/EmoEvaluation/<dialog>.txt``, audio is
        ``SessionN/sentences/wav/<dialog>/<utterance>.wav``.

    emotions : sequence of str or None, default=DEFAULT_EMOTIONS
        Emotions to keep (by default ``('angry', 'happy', 'sad', 'neutral')``),
        among ``'neutral'``, ``'happy'``, ``'sad'``,
        ``'angry'``, ``'frustration'``, ``'fear'``, ``'surprise'``,
        ``'disgust'`` and, if ``merge_excited=False``, ``'excited'``. None
        keeps all.

    merge_excited : bool, default=True
        If True, excitement (``exc``) is labelled ``'happy'``, as in the
        paper; if False it is ``'excited'``.

    strict : bool, default=False
        If True, a labelled utterance without its audio file, an unknown
        label or a malformed label line raises a :class:`ValueError`;
        otherwise these are skipped with one :class:`UserWarning` that lists
        them.

    Returns
    -------
    table : pandas.DataFrame
        {table}

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` holds no ``SessionN/dialog/EmoEvaluation`` folder or no
        usable utterance, or an emotion is not an IEMOCAP emotion.

    See Also
    --------
    load_msp_improv : The same table for MSP-IMPROV.

    Notes
    -----
    Utterances labelled ``xxx`` (no majority) or ``oth`` (other) are dropped.
    The speaker is the session and the gender letter of the utterance id's
    last part, e.g. ``'Ses01M'`` for ``Ses01F_impro01_M000`` (the first
    letter tells who wore the motion-capture markers, not who speaks). With
    the four default classes the full release gives 5531 utterances (1103
    angry, 1636 happy, 1084 sad, 1708 neutral).

    References
    ----------
    .. [1] C. Busso et al., "IEMOCAP: Interactive emotional dyadic motion
       capture database", Language Resources and Evaluation 42(4), 2008.

    Examples
    --------
    A miniature copy of the layout, with empty audio files:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_prognet.datasets import load_iemocap
    >>> tmp = tempfile.TemporaryDirectory()
    >>> session = Path(tmp.name) / "IEMOCAP_full_release" / "Session1"
    >>> labels = session / "dialog" / "EmoEvaluation"
    >>> labels.mkdir(parents=True)
    >>> _ = (labels / "Ses01F_impro01.txt").write_text(
    ...     "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
    ...     "C-E2:\tNeutral;\t()\n"
    ...     "[10.0100 - 11.3925]\tSes01F_impro01_M000\texc\t[3.5000, 3.5000, 3.0000]\n"
    ...     "[14.8872 - 18.0175]\tSes01F_impro01_F001\txxx\t[2.5000, 3.0000, 3.0000]\n"
    ... )
    >>> wav = session / "sentences" / "wav" / "Ses01F_impro01"
    >>> wav.mkdir(parents=True)
    >>> for utterance in ["F000", "M000", "F001"]:
    ...     (wav / f"Ses01F_impro01_{utterance}.wav").touch()
    >>> load_iemocap(tmp.name, emotions=["neutral", "happy"]).drop(columns="file")
       emotion speaker  gender  session   corpus
    0  neutral  Ses01F  female        1  iemocap
    1    happy  Ses01M    male        1  iemocap
    >>> tmp.cleanup()
    """
    labels = dict(_IEMOCAP_LABELS)
    if merge_excited:
        labels["exc"] = "happy"
    available = list(dict.fromkeys(labels.values()))
    emotions = _check_emotions(emotions, available, "IEMOCAP")
    root = _check_dir(path, "IEMOCAP")
    if (root / "IEMOCAP_full_release").is_dir():
        root = root / "IEMOCAP_full_release"
    expected = (
        f"the IEMOCAP layout {str(root)!r}/SessionN/dialog/EmoEvaluation/*.txt "
        "with audio in SessionN/sentences/wav/<dialog>/<utterance>.wav"
    )
    sessions = sorted(
        p
        for p in root.glob("Session*")
        if re.match(r"^Session\d+$", p.name)
        and (p / "dialog" / "EmoEvaluation").is_dir()
    )
    if not sessions:
        raise ValueError(
            f"No IEMOCAP SessionN/dialog/EmoEvaluation folder in {str(root)!r}: "
            f"expected {expected}."
        )
    records, problems = [], []
    for session_dir in sessions:
        session = int(session_dir.name[len("Session") :])
        for txt in _visible_files(session_dir / "dialog" / "EmoEvaluation", ".txt"):
            where = f"{session_dir.name}/dialog/EmoEvaluation/{txt.name}"
            with open(txt, encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
            for line_no, line in enumerate(lines, start=1):
                if not line.startswith("["):
                    continue  # evaluator lines ("C-E1: ...") and blank lines
                match = _IEMOCAP_HEADER.match(line)
                if match is None:
                    problems.append((f"{where}:{line_no}", "malformed label line"))
                    continue
                utterance, utt_session, label = match.groups()
                if label in _IEMOCAP_DROPPED:
                    continue
                if label not in labels:
                    problems.append((f"{where}:{line_no}", f"unknown label {label!r}"))
                    continue
                if int(utt_session) != session:
                    problems.append((utterance, f"listed in {session_dir.name}"))
                    continue
                dialog, turn = utterance.rsplit("_", 1)
                wav = session_dir / "sentences" / "wav" / dialog / f"{utterance}.wav"
                if not wav.is_file():
                    problems.append((utterance, f"audio {str(wav)!r} not found"))
                    continue
                gender = turn[0]
                if gender not in "FM":
                    problems.append((utterance, "utterance id does not end in F/M"))
                    continue
                records.append(
                    {
                        "file": str(wav),
                        "emotion": labels[label],
                        "speaker": f"Ses{utt_session}{gender}",
                        "gender": "female" if gender == "F" else "male",
                        "session": session,
                    }
                )
    _report(
        problems,
        "IEMOCAP",
        repr(str(root)),
        "EmoEvaluation label lines with their SessionN/sentences/wav audio",
        strict,
    )
    return _finish(
        records,
        corpus="iemocap",
        name="IEMOCAP",
        emotions=emotions,
        where=repr(str(root)),
        expected=expected,
        with_session=True,
    )


# -- MSP-IMPROV --------------------------------------------------------------

# Utterance line of Evalution.txt (one per utterance, followed by one line per
# evaluator): "UTD-IMPROV-S01A-F01-S-FM01.avi; N; A:2.83; V:3.00; D:3.17 ; N:3.17;"
# The letter is the consensus (majority) label: A, H, S, N, O (other) or X (no
# agreement).
_MSP_HEADER = re.compile(r"^UTD-IMPROV-([A-Z0-9-]+)\.avi;\s*([A-Z]);")
# MSP-IMPROV-S01A-F01-S-FM01: sentence 01, target emotion A, speaker F01
# (session 01), scenario S (R read, S/T improvised, P natural), dyad and turn.
_MSP_NAME = re.compile(r"^MSP-IMPROV-S\d\d[AHSN]-(([FM])(\d\d))-[PRST]-[FM][FM]\d\d$")
_MSP_LABELS = {"A": "angry", "H": "happy", "S": "sad", "N": "neutral"}
_MSP_DROPPED = {"O", "X"}
# The release spells its label file "Evalution.txt"; the correct spelling is
# accepted too.
_MSP_LABEL_FILES = ("Evalution.txt", "Evaluation.txt")


@validate_params(_COMMON_PARAMS, prefer_skip_nested_validation=True)
@_fill_table_doc("msp_improv", "1 to 6 (the speaker number)")
def load_msp_improv(path, *, emotions=DEFAULT_EMOTIONS, strict=False):
    r"""Load the utterance table of MSP-IMPROV with consensus labels.

    Lists the utterances of MSP-IMPROV (Busso et al., 2016) whose consensus
    (majority) categorical label in ``Evalution.txt`` is angry, happy, sad
    or neutral, as Gideon et al. (2017) use them.

    Read more in the :ref:`User Guide <datasets>`.

    .. versionadded:: 0.1

    Parameters
    ----------
    path : str or os.PathLike
        The MSP-IMPROV folder. Its label file, ``Evalution.txt`` (as the
        release spells it) or ``Evaluation.txt``, lies in it or in a folder
        one level below; the audio lies anywhere below, e.g.
        ``Audio/session1/S01A/S/MSP-IMPROV-S01A-F01-S-FM01.wav``.

    emotions : sequence of str or None, default=DEFAULT_EMOTIONS
        Emotions to keep (by default ``('angry', 'happy', 'sad', 'neutral')``),
        among ``'angry'``, ``'happy'``, ``'sad'`` and
        ``'neutral'``. None keeps all.

    strict : bool, default=False
        If True, a ``.wav`` file whose name does not follow the naming rule,
        a labelled utterance without audio or a file without a label raises a
        :class:`ValueError`; otherwise these are skipped with one
        :class:`UserWarning` that lists them.

    Returns
    -------
    table : pandas.DataFrame
        {table}

    Raises
    ------
    FileNotFoundError
        If ``path`` or the label file does not exist.
    ValueError
        If no usable utterance is found, or an emotion is not an MSP-IMPROV
        emotion.

    See Also
    --------
    load_iemocap : The same table for IEMOCAP.

    Notes
    -----
    In ``MSP-IMPROV-S01A-F01-S-FM01``, ``S01A`` is sentence 01 with target
    emotion A, ``F01`` the speaker and ``S`` the scenario. Each of the six
    sessions pairs one female and one male actor with the same number (F01
    and M01 form session 1), so the speaker number is the session.
    Utterances labelled O (other) or X (no agreement) are dropped.

    References
    ----------
    .. [1] C. Busso, S. Parthasarathy, A. Burmania, M. AbdelWahab,
       N. Sadoughi, E. Mower Provost, "MSP-IMPROV: An Acted Corpus of Dyadic
       Interactions to Study Emotion Perception", IEEE Transactions on
       Affective Computing 8(1), 2017.

    Examples
    --------
    A miniature copy of the layout, with empty audio files:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_prognet.datasets import load_msp_improv
    >>> tmp = tempfile.TemporaryDirectory()
    >>> root = Path(tmp.name)
    >>> _ = (root / "Evaluation.txt").write_text(
    ...     "UTD-IMPROV-S01A-F01-S-FM01.avi; A; A:4.2; V:1.8; D:3.6 ; N:3.0;\n"
    ...     "MSP-IMPROV-S01A-F01-S-FM01; Angry; ; A:4.0; V:2.0; D:4.0; N:3.0;\n"
    ...     "UTD-IMPROV-S02H-M01-R-FM01.avi; N; A:3.0; V:3.2; D:3.0 ; N:2.6;\n"
    ... )
    >>> for name in ["S01A/S/MSP-IMPROV-S01A-F01-S-FM01.wav",
    ...              "S02H/R/MSP-IMPROV-S02H-M01-R-FM01.wav"]:
    ...     (root / "Audio" / "session1" / name).parent.mkdir(parents=True)
    ...     (root / "Audio" / "session1" / name).touch()
    >>> load_msp_improv(root, emotions=["angry", "neutral"]).drop(columns="file")
       emotion speaker  gender  session      corpus
    0    angry     F01  female        1  msp_improv
    1  neutral     M01    male        1  msp_improv
    >>> tmp.cleanup()
    """
    emotions = _check_emotions(emotions, list(_MSP_LABELS.values()), "MSP-IMPROV")
    root = _check_dir(path, "MSP-IMPROV")
    candidates = [
        place / name
        for place in [root, *sorted(p for p in root.iterdir() if p.is_dir())]
        for name in _MSP_LABEL_FILES
    ]
    evaluation = next((p for p in candidates if p.is_file()), None)
    expected = (
        f"{str(root)!r}/Evalution.txt (or Evaluation.txt) and audio files named "
        "like MSP-IMPROV-S01A-F01-S-FM01.wav below it (e.g. in "
        "Audio/session1/S01A/S/)"
    )
    if evaluation is None:
        raise FileNotFoundError(
            f"MSP-IMPROV label file Evalution.txt (or Evaluation.txt) not found "
            f"in {str(root)!r}: expected {expected}."
        )
    labels, problems = {}, []
    with open(evaluation, encoding="utf-8", errors="replace") as f:
        for line_no, line in enumerate(f, start=1):
            match = _MSP_HEADER.match(line.strip())
            if match is None:
                continue  # evaluator lines
            name, letter = "MSP-IMPROV-" + match.group(1), match.group(2)
            if letter not in _MSP_LABELS and letter not in _MSP_DROPPED:
                problems.append(
                    (f"{evaluation.name}:{line_no}", f"unknown label {letter!r}")
                )
            elif labels.setdefault(name, letter) != letter:
                problems.append((name, f"two different labels in {evaluation.name}"))
                labels[name] = None
    records = []
    for file in sorted(root.rglob("*.wav")):
        if file.name.startswith("."):
            continue
        match = _MSP_NAME.match(file.stem)
        if match is None:
            problems.append(
                (
                    str(file.relative_to(root)),
                    "name is not like MSP-IMPROV-S01A-F01-S-FM01.wav",
                )
            )
            continue
        letter = labels.pop(file.stem, None)
        if letter is None:
            problems.append((file.name, f"no (single) label in {evaluation.name}"))
            continue
        if letter in _MSP_DROPPED:
            continue
        speaker, gender, number = match.groups()
        records.append(
            {
                "file": str(file),
                "emotion": _MSP_LABELS[letter],
                "speaker": speaker,
                "gender": "female" if gender == "F" else "male",
                "session": int(number),
            }
        )
    problems += [
        (name, f"labelled in {evaluation.name} but its audio was not found")
        for name, letter in labels.items()
        if letter is not None and letter not in _MSP_DROPPED
    ]
    _report(problems, "MSP-IMPROV", repr(str(root)), "see load_msp_improv", strict)
    return _finish(
        records,
        corpus="msp_improv",
        name="MSP-IMPROV",
        emotions=emotions,
        where=repr(str(root)),
        expected=expected,
        with_session=True,
    )
