"""numpydoc validation of the docstring of every public object.

Like imbalanced-learn's ``tests/test_docstring_parameters.py``: every public
class, function, method and property of the public modules is checked with
:func:`numpydoc.validate.validate`, with the checks and exclusions configured
in ``[tool.numpydoc_validation]`` of ``pyproject.toml`` (read by numpydoc's
own parser, so that this test and numpydoc's pre-commit hook agree).

Methods that scikit-learn provides (``get_params``, ``set_params``,
``score``, the ``set_*_request`` methods, ...) are not ours and are skipped;
methods that a public class inherits from one of our private base classes
(``_BaseNetwork.predict``) are checked.
"""

import importlib
import inspect
from pathlib import Path

import pytest

from sklearn_prognet.utils.discovery import PUBLIC_MODULES

numpydoc_validate = pytest.importorskip("numpydoc.validate")
numpydoc_hook = pytest.importorskip("numpydoc.hooks.validate_docstrings")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "sklearn_prognet"

CONFIG = numpydoc_hook.parse_config(ROOT)


def _public_modules():
    # A module that fails to import fails the test: it is never skipped.
    for name in PUBLIC_MODULES:
        yield importlib.import_module(name)


def _is_ours(obj):
    module = getattr(obj, "__module__", None) or ""
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _own_members(cls):
    """Public methods and properties that our package defines for ``cls``.

    Walks the MRO and keeps what the first class defining a name holds, if that
    class is ours (``cls`` itself or one of our private bases). The
    ``set_*_request`` methods that scikit-learn attaches to every estimator
    class are skipped: scikit-learn writes their docstrings.
    """
    seen = set()
    for klass in cls.__mro__:
        for name, member in vars(klass).items():
            if name in seen:
                continue
            seen.add(name)
            if name.startswith("_") or not _is_ours(klass):
                continue
            if name.startswith("set_") and name.endswith("_request"):
                continue
            if isinstance(member, property):
                yield name
            elif isinstance(member, (staticmethod, classmethod)):
                yield name
            elif inspect.isfunction(member):
                yield name


def _public_names():
    """Import paths of every public object, each object once.

    An object re-exported by several public modules (``FoldRoles`` from
    ``sklearn_prognet`` and ``sklearn_prognet.model_selection``) is checked
    under the path of its most specific public module, which is the one the
    API reference documents.
    """
    paths = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not (
                inspect.isclass(obj) or inspect.isfunction(obj)
            ):
                continue  # submodules and data (constants, scorers)
            if not _is_ours(obj):
                continue
            path = f"{module.__name__}.{name}"
            key = id(obj)
            if key not in paths or len(path) > len(paths[key][0]):
                paths[key] = (path, obj)
    names = []
    for path, obj in sorted(paths.values(), key=lambda item: item[0]):
        names.append(path)
        if inspect.isclass(obj):
            names.extend(f"{path}.{member}" for member in sorted(_own_members(obj)))
    return names


def _excluded(name):
    return CONFIG["exclude"] is not None and CONFIG["exclude"].search(name)


PUBLIC_NAMES = [name for name in _public_names() if not _excluded(name)]


def test_public_objects_found():
    # Guards against an empty parametrization, which would pass silently.
    for expected in (
        "sklearn_prognet.DNNClassifier",
        "sklearn_prognet.DNNClassifier.fit",
        "sklearn_prognet.ProgressiveNetClassifier.predict_proba",
        "sklearn_prognet.model_selection.RepeatedStratifiedGroupKFold.split",
        "sklearn_prognet.stats.corrected_repeated_cv_ttest",
        "sklearn_prognet.datasets.load_emodb_features",
        "sklearn_prognet.plotting.plot_cv_folds",
    ):
        assert expected in PUBLIC_NAMES


def _ignored(code, docstring):
    if code not in CONFIG["checks"]:
        return True
    pattern = CONFIG["overrides"].get(code)
    return pattern is not None and pattern.search(docstring or "") is not None


@pytest.mark.parametrize("name", PUBLIC_NAMES)
def test_docstring(name):
    result = numpydoc_validate.validate(name)
    errors = [
        f"{code}: {message}"
        for code, message in result["errors"]
        if not _ignored(code, result["docstring"])
    ]
    assert not errors, f"{name} ({result['file']}:{result['file_line']}):\n" + (
        "\n".join(errors)
    )
