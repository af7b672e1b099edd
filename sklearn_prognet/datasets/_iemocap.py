# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Loader of IEMOCAP with the evaluators' majority labels."""

import math
import re

from sklearn_prognet.datasets import _base
from sklearn_prognet.utils._compat import validate_params

__all__ = ["load_iemocap"]

_CORPUS = _base.Corpus(
    id="iemocap",
    name="IEMOCAP",
    rule="a label line per utterance, its audio in SessionN/sentences/wav",
    what="label line(s)",
    columns=_base.SESSION_AND_RATINGS,
)
_SESSION_FOLDER = re.compile(r"^Session\d+$")
# Header line of one utterance in SessionN/dialog/EmoEvaluation/<dialog>.txt:
# "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]"
# The last brackets hold the mean ratings of valence, activation (arousal)
# and dominance, in this order ("[V, A, D]" in the file's first line).
_HEADER = re.compile(
    r"^\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\s+(Ses(\d\d)[FM]_\S+)\s+(\S+)\s+\[(.*)\]\s*$"
)
_VAD = ("valence", "arousal", "dominance")
_LABELS = {
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
_DROPPED = {"xxx", "oth"}


def _read_label_file(txt, session_dir, labels):
    """Records and problems of one ``EmoEvaluation/<dialog>.txt`` file.

    ``labels`` maps the file's label codes to emotions (with or without
    excitement merged into happiness).
    """
    session = int(session_dir.name[len("Session") :])
    where = f"{session_dir.name}/dialog/EmoEvaluation/{txt.name}"
    with open(txt, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    records, problems = [], []
    for line_no, line in enumerate(lines, start=1):
        if not line.startswith("["):
            continue  # evaluator lines ("C-E1: ...") and blank lines
        match = _HEADER.match(line)
        if match is None:
            problems.append((f"{where}:{line_no}", "malformed label line"))
            continue
        utterance, utt_session, label, vad = match.groups()
        if label in _DROPPED:
            continue
        if label not in labels:
            problems.append((f"{where}:{line_no}", f"unknown label {label!r}"))
            continue
        if int(utt_session) != session:
            problems.append(
                (utterance, f"id of session {utt_session}, listed in {where}")
            )
            continue
        dialog, turn = utterance.rsplit("_", 1)
        wav = session_dir / "sentences" / "wav" / dialog / f"{utterance}.wav"
        if not wav.is_file():
            problems.append((utterance, f"audio {str(wav)!r} not found"))
            continue
        # The speaker's gender is the turn's letter; the dialog's letter
        # (Ses01F_...) tells who wore the motion-capture markers.
        gender = _base.GENDERS.get(turn[0])
        if gender is None:
            problems.append((utterance, "utterance id does not end in F/M"))
            continue
        speaker = f"Ses{utt_session}{turn[0]}"
        records.append(
            _base.record(
                wav, labels[label], speaker, gender, session=session, **_ratings(vad)
            )
        )
    return records, problems


def _ratings(vad):
    """The ``[V, A, D]`` ratings of a header line by name; NaN if unreadable."""
    try:
        values = [float(v) for v in vad.split(",")]
    except ValueError:
        values = []
    if len(values) != len(_VAD):
        values = [math.nan] * len(_VAD)
    return dict(zip(_VAD, values, strict=True))


@validate_params(
    {**_base.COMMON_PARAMS, "merge_excited": ["boolean"]},
    prefer_skip_nested_validation=True,
)
@_base.fill_loader_doc(
    _CORPUS,
    session="1 to 5 (``SessionN``)",
    extra=_base.RATINGS_DOC.format(source="the\n          label line's ``[V, A, D]``"),
)
def load_iemocap(
    path, *, emotions=_base.DEFAULT_EMOTIONS, merge_excited=True, strict=False
):
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
        otherwise these are skipped with one :class:`UserWarning` that
        lists them.

    {returns}

    {raises}
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

    The dimensional ratings are those of the label line, ``[V, A, D]``:
    valence, activation (arousal) and dominance, each the mean of the
    evaluators' ratings on a scale of 1 to 5 (Busso et al. 2008). They can
    be learned beside the classes: see :ref:`multitask`.

    References
    ----------
    .. [1] C. Busso et al., "IEMOCAP: Interactive emotional dyadic motion
       capture database", Language Resources and Evaluation 42(4), 2008.

    Examples
    --------
    A miniature copy of the layout, with a label file and empty audio files:

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
    >>> table = load_iemocap(tmp.name, emotions=["neutral", "happy"])
    >>> table.drop(columns="file")
       emotion speaker  gender  session  arousal  valence  dominance   corpus
    0  neutral  Ses01F  female        1      2.5      2.5        2.5  iemocap
    1    happy  Ses01M    male        1      3.5      3.5        3.0  iemocap
    >>> tmp.cleanup()
    """
    labels = dict(_LABELS)
    if merge_excited:
        labels["exc"] = "happy"
    available = list(dict.fromkeys(labels.values()))
    emotions = _base.check_emotions(emotions, available, _CORPUS.name)
    root = _base.check_dir(path, _CORPUS.name)
    if (root / "IEMOCAP_full_release").is_dir():
        root = root / "IEMOCAP_full_release"
    expected = (
        f"the IEMOCAP layout {str(root)!r}/SessionN/dialog/EmoEvaluation/*.txt "
        "with audio in SessionN/sentences/wav/<dialog>/<utterance>.wav"
    )
    sessions = sorted(
        p
        for p in root.glob("Session*")
        if _SESSION_FOLDER.match(p.name) and (p / "dialog" / "EmoEvaluation").is_dir()
    )
    if not sessions:
        raise _base.layout_error(
            _CORPUS.name, "SessionN/dialog/EmoEvaluation folder", root, expected
        )
    records, problems = [], []
    for session_dir in sessions:
        label_dir = session_dir / "dialog" / "EmoEvaluation"
        for txt in _base.visible_files(label_dir, ".txt"):
            file_records, file_problems = _read_label_file(txt, session_dir, labels)
            records += file_records
            problems += file_problems
    return _base.finish_table(
        records, problems, _CORPUS, root, expected, emotions=emotions, strict=strict
    )
