"""The modules moved since 0.1.0 load under their old names (``_moved.py``).

Pickles and skops files of 0.1.0 name classes such as
``sklearn_prognet._training.ProgressiveNetTrainer``; the files themselves are
loaded in ``test_persistence_old_release.py``.
"""

import importlib
import pickle
import subprocess
import sys
from importlib.machinery import PathFinder
from pathlib import Path

import pytest

import sklearn_prognet
from sklearn_prognet import _persistence
from sklearn_prognet._moved import MOVED, MovedModuleFinder, current_name, install

PACKAGE = Path(sklearn_prognet.__file__).resolve().parent


def _path(module):
    return PACKAGE / Path(*module.split(".")[1:]).with_suffix(".py")


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_the_table_names_only_modules_that_exist(old, new):
    assert _path(new).is_file()
    assert not _path(old).exists()  # moved: the old file is gone
    assert old.rpartition(".")[2] == new.rpartition(".")[2]  # and kept its name


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_an_old_module_is_the_new_module(old, new):
    assert importlib.import_module(old) is importlib.import_module(new)
    assert sys.modules[old] is sys.modules[new]
    # the module keeps its own name and spec, so a reload finds its file
    module = sys.modules[new]
    assert (module.__name__, module.__spec__.name) == (new, new)
    assert Path(module.__file__) == _path(new)


def test_an_old_class_path_gives_the_same_class():
    from sklearn_prognet._estimators import DNNClassifier
    from sklearn_prognet._features import EGeMAPSTransformer
    from sklearn_prognet._modules import ProgressiveNet
    from sklearn_prognet._training import ProgressiveNetTrainer

    from sklearn_prognet.networks import _modules, _training

    assert DNNClassifier is sklearn_prognet.DNNClassifier
    assert EGeMAPSTransformer is sklearn_prognet.EGeMAPSTransformer
    assert ProgressiveNet is _modules.ProgressiveNet
    assert ProgressiveNetTrainer is _training.ProgressiveNetTrainer


def test_a_pickle_that_names_an_old_module_loads():
    # protocol 0 writes the module of a class as a line of text
    data = pickle.dumps(sklearn_prognet.DNNClassifier(max_epochs=3), protocol=0)
    old = data.replace(
        b"sklearn_prognet.networks._estimators", b"sklearn_prognet._estimators"
    )
    assert old != data
    loaded = pickle.loads(old)
    assert type(loaded) is sklearn_prognet.DNNClassifier
    assert loaded.max_epochs == 3


def test_an_old_name_loads_first_in_a_fresh_interpreter():
    # nothing imported the new module before: the old name imports it, once
    code = (
        "import sys\n"
        "import sklearn_prognet._knobs as old\n"
        "import sklearn_prognet.networks._knobs as new\n"
        "assert old is new, (old, new)\n"
        "assert new.__spec__.name == 'sklearn_prognet.networks._knobs'\n"
        "assert 'torch' not in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_finder_is_installed_once_and_first():
    install()
    finders = [f for f in sys.meta_path if isinstance(f, MovedModuleFinder)]
    assert len(finders) == 1
    # before the finders that could map an old name to a file: the path
    # finder (a stale file left by an older install) and those after it
    # (an editable install of another checkout)
    assert sys.meta_path.index(finders[0]) < sys.meta_path.index(PathFinder)
    assert finders[0].find_spec("sklearn_prognet.preprocessing") is None


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "sklearn_prognet._training.ProgressiveNetTrainer",
            "sklearn_prognet.networks._training.ProgressiveNetTrainer",
        ),
        (
            "sklearn_prognet._batched_fit.fit_batched",
            "sklearn_prognet.networks._batched_fit.fit_batched",
        ),
        (
            "sklearn_prognet._speaker.SpeakerEncoderTransformer",
            "sklearn_prognet.features._speaker.SpeakerEncoderTransformer",
        ),
        ("sklearn_prognet._modules", "sklearn_prognet.networks._modules"),
        # not moved: unchanged
        (
            "sklearn_prognet.networks._training.ProgressiveNetTrainer",
            "sklearn_prognet.networks._training.ProgressiveNetTrainer",
        ),
        (
            "sklearn_prognet.preprocessing.SpeakerStandardScaler",
            "sklearn_prognet.preprocessing.SpeakerStandardScaler",
        ),
        ("sklearn_prognet._trainingX.Net", "sklearn_prognet._trainingX.Net"),
    ],
)
def test_current_name(name, expected):
    assert current_name(name) == expected


def test_the_model_loader_takes_the_old_class_names():
    from sklearn_prognet.networks._training import ProgressiveNetTrainer

    old = "sklearn_prognet._training.ProgressiveNetTrainer"
    found = _persistence._import_class(old, _persistence._NET_CLASSES, "the net")
    assert found is ProgressiveNetTrainer
    # an old name outside the trusted list is still refused
    with pytest.raises(ValueError, match="sklearn_prognet._training.TensorBatch"):
        _persistence._import_class(
            "sklearn_prognet._training.TensorBatchIterator",
            _persistence._NET_CLASSES,
            "the net",
        )
