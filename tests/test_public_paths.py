"""The public import paths: the top level and its subpackages agree.

The estimators and transformers live in ``networks/`` and ``features/`` and
are re-exported, lazily, by those subpackages and by the top level, where
the API reference documents them.
"""

import importlib

import pytest

import sklearn_prognet
from sklearn_prognet.utils.discovery import PUBLIC_MODULES

SUBPACKAGES = ("networks", "features")


@pytest.mark.parametrize("subpackage", SUBPACKAGES)
def test_a_subpackage_re_exports_names_of_the_top_level(subpackage):
    module = importlib.import_module(f"sklearn_prognet.{subpackage}")
    assert module.__all__, "nothing exported"
    assert getattr(sklearn_prognet, subpackage) is module  # a _SUBMODULES entry
    for name in module.__all__:
        # one home: the top level loads the name from the subpackage
        assert sklearn_prognet._LAZY_NAMES[name] == module.__name__
        assert name in sklearn_prognet.__all__
        assert getattr(module, name) is getattr(sklearn_prognet, name)
        assert name in dir(module)


def test_the_estimators_and_transformers_have_a_subpackage():
    exported = {
        name
        for subpackage in SUBPACKAGES
        for name in importlib.import_module(f"sklearn_prognet.{subpackage}").__all__
    }
    assert exported == {
        "DNNClassifier",
        "FineTunedClassifier",
        "ProgressiveNetClassifier",
        "ResidualAdapterClassifier",
        "MultiCorpusClassifier",
        "EGeMAPSTransformer",
        "SpeechEmbeddingTransformer",
        "SpeakerEncoderTransformer",
        "TextEmbeddingTransformer",
    }


def test_every_public_submodule_loads_from_the_top_level():
    for name in sklearn_prognet._SUBMODULES:
        module = getattr(sklearn_prognet, name)
        assert module.__name__ == f"sklearn_prognet.{name}"
        # documented: among the public modules, or re-exporting the top level
        assert module.__name__ in PUBLIC_MODULES or name in SUBPACKAGES


@pytest.mark.parametrize(
    "module",
    ["sklearn_prognet", "sklearn_prognet.networks", "sklearn_prognet.features"],
)
def test_an_unknown_name_is_an_attribute_error(module):
    with pytest.raises(AttributeError, match=f"module '{module}' has no attribute 'X'"):
        importlib.import_module(module).X  # noqa: B018
