"""Every page of the user guide runs as written, in page order, as a new user
pastes it: the ``python`` blocks in one fresh namespace per page, the
``bash`` (and ``console``) commands through the command line's ``main``, in a
fresh working folder laid out as the pages say (``path/to/emodb``, ...).

What a test cannot do offline is substituted here, visibly, and nowhere else:

- ``path/to/...`` corpora are laid out by :func:`world`: EmoDB and URDU as
  subsets of the real corpora in ../shared/corpora (in their own layouts), nEMO
  and its eGeMAPS table as they are, and IEMOCAP and MSP-IMPROV (which we do
  not have) as tiny fake trees in their documented layouts, whose audio is
  borrowed from EmoDB;
- ``models/wav2vec2-base`` is a tiny random wav2vec 2.0 in the layout of
  wav2vec2-base (:data:`TINY_BASE`), not the downloaded one;
- the training commands of the command line run with :data:`TINY` settings:
  the pages show real commands (``--quick`` or the paper's protocol), and the
  test checks that each of them runs end to end, not its numbers;
- torch trains with one thread (:func:`one_torch_thread`), as the command
  line does, whatever the machine's cores;
- :data:`SUBSTITUTIONS` and :data:`SKIPPED` list the few blocks that are
  changed or not run, each with its reason.

use_a_trained_model.rst is tested in tests/test_cli_train_predict.py.
"""

import glob
import re
import shlex
import textwrap

import pytest
import sklearn

from sklearn_prognet.experiments.cli import main
from tests.conftest import ROOT, TINY_WAV2VEC2

GUIDE = ROOT / "docs" / "user_guide"
ELSEWHERE = {"index.rst", "use_a_trained_model.rst"}

# A code block: its indentation, its language, and its body (indented deeper).
BLOCK = re.compile(
    r"^( *)\.\. code-block:: (python|bash|console)\n\n((?:\1 {3,}.*\n|[ \t]*\n)+)",
    re.M,
)
# A literal block (``::``) whose body looks like code: pages give code a
# language, so that it is highlighted and run here.
CODE_LIKE = re.compile(r"::\n\n +(from |import |sklearn-prognet |python |\$ )")

#: (page, text) -> replacement, applied to the page before its blocks are run.
SUBSTITUTIONS = {
    # A Hub name cannot be downloaded offline; the page's other examples use
    # the downloaded folder, which the test lays out (a tiny model).
    ("experiments.rst", "ssl:facebook/wav2vec2-base:6"): "ssl:models/wav2vec2-base:6",
}

#: (page, text of the block's first line) -> why it is not run.
SKIPPED = {
    ("small_corpus.rst", "SMALL_CORPUS = {"): "the preset's value, shown with an "
    "ellipsis for the unused keys: a display, not a program",
    ("small_corpus.rst", "python benchmarks/study_small_corpus.py"): "the study "
    "behind the preset, hours of fits",
    ("speaker_encoder.rst", "$ python benchmarks/study_speaker_encoder.py"): "the "
    "study behind the page's tables, hours of fits",
}

#: Settings that every training command runs with here (they replace the page's).
TINY = {
    "--n-splits": "4",
    "--n-repeats": "1",
    "--hidden-layer-sizes": "8",
    "--max-epochs": "3",
    "--patience": "3",
    "--n-jobs": "1",
}
TRAINING = {"paralinguistic", "cross-corpus", "multi-corpus", "multitask", "train"}
# commands a reader runs to set up, not the package's: the test has done it
SETUP = ("pip install", "make", "git clone", "hf download")


def _pages():
    pages = []
    for path in sorted(GUIDE.glob("*.rst")):
        if path.name not in ELSEWHERE and BLOCK.search(_text(path.name)):
            pages.append(path.name)
    return pages


def _text(page):
    text = (GUIDE / page).read_text()
    for (name, old), new in SUBSTITUTIONS.items():
        if name == page:
            assert old in text, f"stale substitution {old!r} of {page}"
            text = text.replace(old, new)
    return text


def _blocks(page):
    """(language, code, skipped reason or None) of each block, in page order."""
    blocks, used = [], set()
    for _, language, body in BLOCK.findall(_text(page)):
        code = textwrap.dedent(body).strip() + "\n"
        reason = None
        for (name, first), why in SKIPPED.items():
            if name == page and code.startswith(first):
                reason = why
                used.add(first)
        blocks.append((language, code, reason))
    stale = {first for name, first in SKIPPED if name == page} - used
    assert not stale, f"SKIPPED names blocks that {page} no longer has: {stale}"
    return blocks


def _tiny(args):
    """A training command's arguments with the TINY settings."""
    args = list(args)
    for flag, value in TINY.items():
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    if args[0] in {"cross-corpus", "multi-corpus"} and "--train-folds" not in args:
        args += ["--train-folds", "1"]
    return [a for a in args if a != "--quick"] + ["--no-progress"]


def _commands(code):
    """The shell commands of a bash block, one per (continued) line."""
    for line in code.replace("\\\n", " ").splitlines():
        line = line.split(" #")[0].strip()
        if line.startswith("$ "):
            line = line[2:]
        if line and not line.startswith("#"):
            yield line


def _run_bash(code, monkeypatch, capsys):
    for line in _commands(code):
        if line.startswith(SETUP):
            continue
        if line.startswith("export "):
            name, value = line[len("export ") :].split("=", 1)
            monkeypatch.setenv(name, value)
            continue
        words = shlex.split(line)
        assert words[0] == "sklearn-prognet", f"not a command of ours: {line}"
        args = [w for word in words[1:] for w in (sorted(glob.glob(word)) or [word])]
        if args[0] in TRAINING and args[0] != "train":
            args = _tiny(args)
        status = main(args)
        out, err = capsys.readouterr()
        assert status == 0, f"{line}\n{err}"


def _link_files(files, folder):
    folder.mkdir(parents=True, exist_ok=True)
    for file in files:
        (folder / file.name).symlink_to(file)


def _borrow_audio(tree, emodb, start):
    """Replace the empty wav files of a fake tree with links to EmoDB's.

    Each tree borrows other files (from ``start`` on): the cross-corpus
    experiment rightly refuses corpora that share recordings.
    """
    wavs = sorted((emodb / "wav").glob("*.wav"))
    for k, empty in enumerate(sorted(tree.rglob("*.wav"))):
        empty.unlink()
        empty.symlink_to(wavs[(start + k) % len(wavs)])


@pytest.fixture(scope="module")
def world(tmp_path_factory, corpora_dir):
    """What the pages assume exists: corpora, a model, a feature table."""
    from tests.test_experiment_multitask import _iemocap_tree, _msp_tree

    root = tmp_path_factory.mktemp("world")
    to = root / "path" / "to"
    # EmoDB: 8 utterances of each of its 10 speakers (80 of 339), so that the
    # pages' feature extraction takes seconds
    emodb = sorted((corpora_dir / "emodb" / "wav").glob("*.wav"))
    by_speaker = {}
    for wav in emodb:
        by_speaker.setdefault(wav.name[:2], []).append(wav)
    _link_files([w for ws in by_speaker.values() for w in ws[:8]], to / "emodb" / "wav")
    # URDU: 10 utterances of each emotion, in its folders
    for emotion in ("Angry", "Happy", "Neutral", "Sad"):
        files = sorted((corpora_dir / "urdu" / emotion).glob("*.wav"))[:10]
        _link_files(files, to / "urdu" / emotion)
    (to / "nemo").symlink_to(corpora_dir / "nemo")
    (root / "nemo_egemaps.csv.gz").symlink_to(
        corpora_dir / "nemo" / "nemo_egemaps.csv.gz"
    )
    # IEMOCAP and MSP-IMPROV: the fake trees of the multitask tests
    _borrow_audio(_iemocap_tree(to / "IEMOCAP_full_release"), corpora_dir / "emodb", 0)
    _borrow_audio(_msp_tree(to / "MSP-IMPROV"), corpora_dir / "emodb", 100)
    _save_tiny_base(root / "models" / "wav2vec2-base")
    return root


#: wav2vec2-base's layout, with few units: its 12 transformer layers (the pages
#: ask for layers 6 and 12) and its convolutional encoder's kernels and strides
#: (a frame every 320 samples, 20 ms, from 400 samples, 25 ms), each with 16
#: channels instead of 512. The 3 convolutions of TINY_WAV2VEC2 give a frame
#: every 20 samples: 16 times as many frames as base, which made the pages'
#: embeddings take ten times longer than training their networks.
TINY_BASE = {
    **TINY_WAV2VEC2,
    "num_hidden_layers": 12,
    "conv_dim": (16,) * 7,
    "conv_kernel": (10, 3, 3, 3, 3, 2, 2),
    "conv_stride": (5, 2, 2, 2, 2, 2, 2),
}


def _save_tiny_base(folder):
    """A tiny random wav2vec 2.0 in wav2vec2-base's layout (:data:`TINY_BASE`)."""
    transformers = pytest.importorskip("transformers")
    import torch

    config = transformers.Wav2Vec2Config(**TINY_BASE)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        transformers.Wav2Vec2Model(config).save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, do_normalize=True
    ).save_pretrained(folder)


@pytest.fixture
def routing_restored():
    with sklearn.config_context():
        yield


@pytest.fixture
def one_torch_thread():
    """torch with one intra-op thread, as the command line's runner has.

    The pages' Python blocks would otherwise train with torch's default, a
    thread per core: on a machine whose cores other jobs share, those threads
    wait for each other, and the pages took several times longer (the
    transfer page 189 s instead of 9 s). The blocks compute the same things.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_no_code_hides_in_a_literal_block():
    for path in sorted(GUIDE.glob("*.rst")):
        assert not CODE_LIKE.search(path.read_text()), path.name


@pytest.mark.slow
@pytest.mark.corpora
@pytest.mark.parametrize("page", _pages())
def test_page_runs_as_written(
    page, world, tmp_path, monkeypatch, capsys, routing_restored, one_torch_thread
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SKLEARN_PROGNET_CACHE", str(world / "cache"))
    for name in ("path", "models", "nemo_egemaps.csv.gz"):
        (tmp_path / name).symlink_to(world / name)
    namespace = {"__name__": "__main__"}
    for language, code, reason in _blocks(page):
        if reason is not None:
            continue
        if language == "python":
            exec(compile(code, page, "exec"), namespace)
            capsys.readouterr()
        else:
            _run_bash(code, monkeypatch, capsys)
