# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Loader of the URDU corpus (natural emotional speech from Urdu talk shows)."""

import re

from sklearn_prognet.datasets import _base
from sklearn_prognet.utils._compat import validate_params

__all__ = ["load_urdu"]

_CORPUS = _base.Corpus(id="urdu", name="URDU", rule="names like SM1_F10_A010.wav")
_FOLDERS = {"Angry": "angry", "Happy": "happy", "Neutral": "neutral", "Sad": "sad"}
_FILE_NAME = re.compile(r"^(S([MF])\d+)_F\d+_([AHNS])\d+$")
# The names repeat the emotion of their folder; a file whose letter disagrees
# was misfiled, and neither label can be trusted.
_LETTERS = {"A": "angry", "H": "happy", "N": "neutral", "S": "sad"}


@validate_params(_base.COMMON_PARAMS, prefer_skip_nested_validation=True)
@_base.fill_loader_doc(_CORPUS)
def load_urdu(path, *, emotions=_base.DEFAULT_EMOTIONS, strict=False):
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

    {returns}

    {raises}
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
    The loader only lists files, so empty files in the emotion folders show
    how it works:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn_prognet.datasets import load_urdu
    >>> tmp = tempfile.TemporaryDirectory()
    >>> urdu = Path(tmp.name)
    >>> for name in ["Angry/SM1_F10_A010.wav", "Sad/SF2_F1_S001.wav",
    ...              "Neutral/SM1_F2_N004.wav"]:
    ...     (urdu / name).parent.mkdir(exist_ok=True)
    ...     (urdu / name).touch()
    >>> load_urdu(urdu, emotions=None).drop(columns="file")
       emotion speaker  gender corpus
    0    angry     SM1    male   urdu
    1  neutral     SM1    male   urdu
    2      sad     SF2  female   urdu
    >>> tmp.cleanup()
    """
    emotions = _base.check_emotions(emotions, list(_FOLDERS.values()), _CORPUS.name)
    root = _base.check_dir(path, _CORPUS.name)
    folders = [name for name in _FOLDERS if (root / name).is_dir()]
    expected = (
        f"the URDU layout {str(root)!r}/{{Angry,Happy,Neutral,Sad}}/*.wav with "
        "files named like SM1_F10_A010.wav"
    )
    if not folders:
        raise _base.layout_error(_CORPUS.name, "emotion folder", root, expected)
    records, problems = [], []
    for folder in folders:
        emotion = _FOLDERS[folder]
        for file in _base.visible_files(root / folder):
            name = f"{folder}/{file.name}"
            match = _FILE_NAME.match(file.stem)
            if match is None:
                problems.append((name, "name is not like SM1_F10_A010.wav"))
                continue
            speaker, gender, letter = match.groups()
            if _LETTERS[letter] != emotion:
                problems.append(
                    (name, f"emotion letter {letter!r} contradicts folder {folder}")
                )
                continue
            records.append(_base.record(file, emotion, speaker, _base.GENDERS[gender]))
    return _base.finish_table(
        records, problems, _CORPUS, root, expected, emotions=emotions, strict=strict
    )
