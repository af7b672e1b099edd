# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Loader of the Berlin Database of Emotional Speech (EmoDB)."""

import re

from sklearn_prognet.datasets import _base
from sklearn_prognet.utils._compat import validate_params

__all__ = ["load_emodb"]

_CORPUS = _base.Corpus(id="emodb", name="EmoDB", rule="names like 03a01Wa.wav")
_EMOTIONS = {
    "W": "angry",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
}
_FILE_NAME = re.compile(r"^(\d\d)([ab]\d\d)([WFTNLEA])([a-z])$")
# The names code the speaker only; their genders come from the corpus's
# documentation.
_GENDERS = {
    **dict.fromkeys(["03", "10", "11", "12", "15"], "male"),
    **dict.fromkeys(["08", "09", "13", "14", "16"], "female"),
}


@validate_params(_base.COMMON_PARAMS, prefer_skip_nested_validation=True)
@_base.fill_loader_doc(_CORPUS)
def load_emodb(path, *, emotions=_base.DEFAULT_EMOTIONS, strict=False):
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

    {returns}

    {raises}
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
    The loader only lists files, so empty ones in a ``wav`` folder show how it
    works:

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
    emotions = _base.check_emotions(emotions, list(_EMOTIONS.values()), _CORPUS.name)
    root = _base.check_dir(path, _CORPUS.name)
    # The official download keeps the audio in wav/, next to label folders
    # (lablaut/, silb/, ...) that this loader does not need.
    folder = root / "wav" if (root / "wav").is_dir() else root
    records, problems = [], []
    for file in _base.visible_files(folder):
        match = _FILE_NAME.match(file.stem)
        if match is None:
            problems.append((file.name, "name is not like 03a01Wa.wav"))
            continue
        speaker, _, letter, _ = match.groups()
        if speaker not in _GENDERS:
            problems.append((file.name, f"unknown EmoDB speaker {speaker!r}"))
            continue
        gender = _GENDERS[speaker]
        records.append(_base.record(file, _EMOTIONS[letter], speaker, gender))
    expected = (
        f"files named like 03a01Wa.wav in {str(root / 'wav')!r} (the wav/ "
        f"folder of EmoDB) or in {str(root)!r} itself"
    )
    return _base.finish_table(
        records, problems, _CORPUS, folder, expected, emotions=emotions, strict=strict
    )
