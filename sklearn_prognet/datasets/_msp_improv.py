# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Loader of MSP-IMPROV with the evaluators' consensus labels."""

import dataclasses
import math
import re

from sklearn_prognet.datasets import _base
from sklearn_prognet.utils._compat import validate_params

__all__ = ["load_msp_improv"]

# load_msp_improv puts the name of the label file, spelt as in the copy it
# reads, before the rule.
_CORPUS = _base.Corpus(
    id="msp_improv",
    name="MSP-IMPROV",
    rule="labels for audio like MSP-IMPROV-S01A-F01-S-FM01.wav",
    what="file(s) or label(s)",
    columns=_base.SESSION_AND_RATINGS,
)
# Utterance line of Evalution.txt (one per utterance, followed by one line per
# evaluator): "UTD-IMPROV-S01A-F01-S-FM01.avi; N; A:2.83; V:3.00; D:3.17 ; N:3.17;"
# The letter is the consensus (majority) label: A, H, S, N, O (other) or X (no
# agreement).
_HEADER = re.compile(r"^UTD-IMPROV-([A-Z0-9-]+)\.avi;\s*([A-Z]);(.*)$")
# The mean ratings that follow the letter: A(rousal), V(alence), D(ominance)
# (and N, naturalness, not read).
_RATING = re.compile(r"\b([AVD])\s*:\s*([-+]?\d+(?:\.\d*)?)")
_RATING_NAMES = {"A": "arousal", "V": "valence", "D": "dominance"}
# MSP-IMPROV-S01A-F01-S-FM01: sentence 01, target emotion A, speaker F01
# (session 01), scenario S (R read, S/T improvised, P natural), dyad and turn.
_FILE_NAME = re.compile(r"^MSP-IMPROV-S\d\d[AHSN]-(([FM])(\d\d))-[PRST]-[FM][FM]\d\d$")
_LABELS = {"A": "angry", "H": "happy", "S": "sad", "N": "neutral"}
_DROPPED = {"O", "X"}
# The release spells its label file "Evalution.txt"; a copy where someone
# corrected the spelling must load too.
_LABEL_FILES = ("Evalution.txt", "Evaluation.txt")


def _find_label_file(root, expected):
    """The label file in ``root`` or in a folder one level below it."""
    candidates = [
        place / name
        for place in [root, *sorted(p for p in root.iterdir() if p.is_dir())]
        for name in _LABEL_FILES
    ]
    evaluation = next((p for p in candidates if p.is_file()), None)
    if evaluation is None:
        raise FileNotFoundError(
            f"MSP-IMPROV label file Evalution.txt (or Evaluation.txt) not found "
            f"in {str(root)!r}: expected {expected}."
        )
    return evaluation


def _read_labels(evaluation):
    """Consensus letter per utterance name, its ratings, and the problems met.

    An utterance with an unknown letter, or labelled twice with different
    letters, maps to None: it is reported here, so its audio is skipped
    without being reported a second time. The ratings of an utterance are a
    dict with NaN for a rating its line lacks.
    """
    labels, ratings, problems = {}, {}, []
    with open(evaluation, encoding="utf-8", errors="replace") as f:
        for line_no, line in enumerate(f, start=1):
            match = _HEADER.match(line.strip())
            if match is None:
                continue  # evaluator lines
            name, letter = "MSP-IMPROV-" + match.group(1), match.group(2)
            ratings[name] = _ratings(match.group(3))
            if letter not in _LABELS and letter not in _DROPPED:
                problems.append(
                    (f"{evaluation.name}:{line_no}", f"unknown label {letter!r}")
                )
                labels[name] = None
            elif labels.setdefault(name, letter) != letter:
                problems.append((name, f"two different labels in {evaluation.name}"))
                labels[name] = None
    return labels, ratings, problems


def _ratings(fields):
    """The A, V and D ratings of the rest of an utterance line, by name."""
    found = {_RATING_NAMES[key]: float(value) for key, value in _RATING.findall(fields)}
    return {name: found.get(name, math.nan) for name in _base.DIMENSIONS}


@validate_params(_base.COMMON_PARAMS, prefer_skip_nested_validation=True)
@_base.fill_loader_doc(
    _CORPUS,
    label_file="the label file",
    session="1 to 6 (the speaker number)",
    extra=_base.RATINGS_DOC.format(
        source="the\n          utterance line's ``A:``, ``V:`` and ``D:``"
    ),
)
def load_msp_improv(path, *, emotions=_base.DEFAULT_EMOTIONS, strict=False):
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

    {returns}

    {raises}
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

    The dimensional ratings are the ``A:`` (arousal), ``V:`` (valence) and
    ``D:`` (dominance) fields of the utterance line, the mean of the
    evaluators' ratings on a scale of 1 to 5 (Busso et al. 2017); a field
    that is missing gives NaN. They can be learned beside the classes: see
    :ref:`multitask`.

    References
    ----------
    .. [1] C. Busso, S. Parthasarathy, A. Burmania, M. AbdelWahab,
       N. Sadoughi, E. Mower Provost, "MSP-IMPROV: An Acted Corpus of Dyadic
       Interactions to Study Emotion Perception", IEEE Transactions on
       Affective Computing 8(1), 2017.

    Examples
    --------
    A miniature copy of the layout: its label file and two empty audio files:

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
    >>> table = load_msp_improv(root, emotions=["angry", "neutral"])
    >>> table.drop(columns="file")
       emotion speaker  gender  session  arousal  valence  dominance      corpus
    0    angry     F01  female        1      4.2      1.8        3.6  msp_improv
    1  neutral     M01    male        1      3.0      3.2        3.0  msp_improv
    >>> tmp.cleanup()
    """
    emotions = _base.check_emotions(emotions, list(_LABELS.values()), _CORPUS.name)
    root = _base.check_dir(path, _CORPUS.name)
    expected = (
        f"{str(root)!r}/Evalution.txt (or Evaluation.txt) and audio files named "
        "like MSP-IMPROV-S01A-F01-S-FM01.wav below it (e.g. in "
        "Audio/session1/S01A/S/)"
    )
    evaluation = _find_label_file(root, expected)
    labels, ratings, problems = _read_labels(evaluation)
    records = []
    for file in sorted(root.rglob("*.wav")):
        if file.name.startswith("."):
            continue
        match = _FILE_NAME.match(file.stem)
        if match is None:
            problems.append(
                (
                    str(file.relative_to(root)),
                    "name is not like MSP-IMPROV-S01A-F01-S-FM01.wav",
                )
            )
            continue
        if file.stem not in labels:
            problems.append((file.name, f"no label in {evaluation.name}"))
            continue
        # pop: what is left in labels afterwards has no audio.
        letter = labels.pop(file.stem)
        if letter is None or letter in _DROPPED:
            continue  # None: a bad label, already reported by _read_labels
        speaker, gender, number = match.groups()
        columns = {"session": int(number), **ratings[file.stem]}
        records.append(
            _base.record(
                file, _LABELS[letter], speaker, _base.GENDERS[gender], **columns
            )
        )
    problems += [
        (name, f"labelled in {evaluation.name} but its audio was not found")
        for name, letter in labels.items()
        if letter is not None and letter not in _DROPPED
    ]
    corpus = dataclasses.replace(_CORPUS, rule=f"{evaluation.name} {_CORPUS.rule}")
    return _base.finish_table(
        records, problems, corpus, root, expected, emotions=emotions, strict=strict
    )
