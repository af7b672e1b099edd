"""The package's import rules, read from its source with ``ast``.

- Private helpers of scikit-learn, skorch, torch, scipy and numpy are imported
  by ``utils/_compat.py`` only (STYLE.md §1), where a rename is fixed once.
- No private name crosses a subpackage boundary, except those helpers as
  ``utils/_compat.py`` re-exports them.
- An experiment module never imports another: siblings share through the
  skeleton or a shared module (docs/user_guide/experiments.rst).
- The modules whose documentation promises it do not import torch when they
  are imported (checked in a fresh interpreter).
- Every module belongs to one family of ``scripts/draw_import_graph.py``, and
  imports, eager or lazy, run from a family to itself or to a lower one,
  except the few declared there with their reasons (docs/contributing.rst,
  "A map of the package").

The source is read and its imports are resolved by that script, which also
draws the families for the contributing page.
"""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import sklearn_prognet
from sklearn_prognet.experiments._skeleton import EXPERIMENTS

# The script holds the family declaration and the import parser.
_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "draw_import_graph.py"
_spec = importlib.util.spec_from_file_location("draw_import_graph", _SCRIPT)
graph = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(graph)

PACKAGE = Path(sklearn_prognet.__file__).resolve().parent
COMPAT = "sklearn_prognet.utils._compat"
THIRD_PARTY = ("sklearn", "skorch", "torch", "scipy", "numpy")
# The experiment modules that the registry does not list: training a final
# model and labelling recordings with it is no registered experiment.
UNREGISTERED_EXPERIMENTS = ("sklearn_prognet.experiments._deploy",)

#: module name -> parsed source, for every module of the package
SOURCES = graph.read_sources(PACKAGE)


def _is_private(name):
    return name.startswith("_") and not name.startswith("__")


def _subpackage(module, is_package=False):
    """``experiments`` for ``sklearn_prognet.experiments._x``; ``''`` for the top."""
    parts = module.split(".")
    return parts[1] if len(parts) > (1 if is_package else 2) else ""


def private_third_party_uses(module, tree):
    """Private names of THIRD_PARTY that ``module`` imports or reads.

    ``from sklearn.utils import _safe_indexing``, ``import
    sklearn.utils._testing``, ``from sklearn.utils._param_validation import
    Interval`` (a private module) and ``torch._foreach_add_`` on a name bound
    by ``import torch`` all count; dunders (``torch.__version__``) do not.
    """
    found = []
    bound = set()  # local names bound to a third-party module or its names
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] not in THIRD_PARTY:
                    continue
                bound.add(alias.asname or parts[0])
                if any(map(_is_private, parts)):
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            parts = node.module.split(".")
            if parts[0] not in THIRD_PARTY:
                continue
            names = [alias.name for alias in node.names]
            if any(map(_is_private, parts + names)):
                found.append((node.lineno, f"from {node.module} import {names}"))
            bound.update(alias.asname or alias.name for alias in node.names)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                found.append((node.lineno, f"{ast.unparse(node)}"))
    return found


def private_cross_subpackage_imports(module, tree):
    """Private names that ``module`` takes from another subpackage.

    The subpackages are ``networks``, ``features``, ``datasets``,
    ``experiments`` and ``utils``; the root's own modules (``_persistence``,
    ``model_selection``, ...) are one more group. ``from
    sklearn_prognet.networks._estimators import _BaseNetwork`` counts, and so
    does ``_estimators._BaseNetwork`` read through a module bound by ``from
    sklearn_prognet.networks import _estimators`` or ``import
    sklearn_prognet.networks._estimators as _estimators``, in a function or
    not. Importing a private module does not: its public names are its
    users' concern.
    """
    here = _subpackage(module, is_package=_is_package(module))
    found = []
    bound = {}  # local name -> the module of the package it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == graph.NAME:
                    bound[alias.asname or graph.NAME] = (
                        alias.name if alias.asname else graph.NAME
                    )
            continue
        if not isinstance(node, ast.ImportFrom):
            continue
        source = graph.resolve(module, node, SOURCES)
        if not source.startswith(graph.NAME) or source == COMPAT:
            continue
        for alias in node.names:
            if f"{source}.{alias.name}" in SOURCES:
                bound[alias.asname or alias.name] = f"{source}.{alias.name}"
        if _subpackage(source, is_package=_is_package(source)) == here:
            continue
        for alias in node.names:
            if not _is_private(alias.name) or _is_module(f"{source}.{alias.name}"):
                continue  # a private module's public names are its users' concern
            found.append((node.lineno, f"from {source} import {alias.name}"))
    parents = {
        child: parent
        for parent in ast.walk(tree)
        for child in ast.iter_child_nodes(parent)
    }
    for node in ast.walk(tree):
        # each chain (a.b.c) is followed once, from its innermost a.b
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in bound:
                found += _private_read(here, node, bound[node.value.id], parents)
    return sorted(set(found))


def _private_read(here, node, target, parents):
    """The private name of another subpackage that a chain of attributes reads.

    ``node`` is the innermost ``name.attr`` of a chain such as
    ``sklearn_prognet.networks._estimators._BaseNetwork``, and ``target``
    the module that ``name`` is bound to; the chain is followed through
    submodules to its first attribute that is no module.
    """
    while isinstance(node, ast.Attribute):
        if f"{target}.{node.attr}" in SOURCES:
            target = f"{target}.{node.attr}"
            node = parents.get(node)
            continue
        there = _subpackage(target, is_package=_is_package(target))
        if _is_private(node.attr) and there != here and target != COMPAT:
            return [(node.lineno, f"{target}.{node.attr}")]
        break
    return []


def _is_package(module):
    return (PACKAGE / Path(*module.split(".")[1:]) / "__init__.py").exists()


def _is_module(module):
    path = PACKAGE / Path(*module.split(".")[1:])
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def experiment_modules():
    """The experiment modules: those of the registered experiments, and _deploy."""
    registered = {type(experiment).__module__ for experiment in EXPERIMENTS.values()}
    return sorted(registered | set(UNREGISTERED_EXPERIMENTS))


def sibling_imports(module, tree, siblings):
    """The experiment modules other than itself that ``module`` imports."""
    return sorted(
        {
            (found.line, found.imported)
            for found in graph.package_imports(module, {**SOURCES, module: tree})
            if found.imported in siblings and found.imported != module
        }
    )


def test_the_package_source_is_read():
    assert COMPAT in SOURCES
    assert "sklearn_prognet.experiments._cross_corpus" in SOURCES
    assert len(SOURCES) > 40


@pytest.mark.parametrize("module", [m for m in SOURCES if m != COMPAT])
def test_private_third_party_helpers_only_through_compat(module):
    found = private_third_party_uses(module, SOURCES[module])
    assert not found, (
        f"{module} uses private names of {THIRD_PARTY}: {found}; import them from "
        f"{COMPAT}, with a comment there on why each is needed."
    )


def test_compat_is_where_the_private_helpers_are():
    # the rule above would pass vacuously if the scan missed them everywhere
    found = private_third_party_uses(COMPAT, SOURCES[COMPAT])
    assert any("_fit_context" in text for _, text in found)
    assert any("_safe_indexing" in text for _, text in found)


@pytest.mark.parametrize("module", sorted(SOURCES))
def test_no_private_name_crosses_a_subpackage(module):
    found = private_cross_subpackage_imports(module, SOURCES[module])
    assert not found, (
        f"{module} imports private names of another subpackage: {found}; the "
        "seam is in the wrong place (move the helper, or make it public there)."
    )


@pytest.mark.parametrize(
    "module, code, expected",
    [
        # experiments -> networks, by name and through a module
        (
            "sklearn_prognet.experiments._fits",
            "from sklearn_prognet.networks._estimators import _BaseNetwork",
            "from sklearn_prognet.networks._estimators import _BaseNetwork",
        ),
        (
            "sklearn_prognet.experiments._fits",
            "def f():\n    from sklearn_prognet.networks import _estimators\n"
            "    return _estimators._BaseNetwork",
            "sklearn_prognet.networks._estimators._BaseNetwork",
        ),
        # a root module -> networks, through a dotted import
        (
            "sklearn_prognet._persistence",
            "import sklearn_prognet.networks._training\n"
            "sklearn_prognet.networks._training._HIDDEN",
            "sklearn_prognet.networks._training._HIDDEN",
        ),
        # features -> networks, through an alias
        (
            "sklearn_prognet.features._embeddings",
            "import sklearn_prognet.networks._training as t\nt._x()",
            "sklearn_prognet.networks._training._x",
        ),
        # the root's modules are one group apart from networks
        (
            "sklearn_prognet.networks._batched_fit",
            "from sklearn_prognet.model_selection import _check_integer",
            "from sklearn_prognet.model_selection import _check_integer",
        ),
        # within a group, and a private module's public names: fine
        (
            "sklearn_prognet.networks._adapters",
            "from sklearn_prognet.networks._estimators import _BaseNetwork",
            None,
        ),
        (
            "sklearn_prognet.presets",
            "from sklearn_prognet import _recipe_search\n_recipe_search._draw",
            None,
        ),
        (
            "sklearn_prognet.experiments._fits",
            "from sklearn_prognet.networks import _knobs\n_knobs.names",
            None,
        ),
    ],
)
def test_a_private_name_across_a_subpackage_is_caught(module, code, expected):
    found = [
        text for _, text in private_cross_subpackage_imports(module, ast.parse(code))
    ]
    assert found == ([expected] if expected else [])


def test_the_experiment_modules_are_discovered():
    modules = experiment_modules()
    for name in ("_paralinguistic", "_cross_corpus", "_multi_corpus", "_multitask"):
        assert f"sklearn_prognet.experiments.{name}" in modules
    assert all(module in SOURCES for module in modules)


@pytest.mark.parametrize("module", experiment_modules())
def test_no_experiment_imports_another(module):
    siblings = set(experiment_modules())
    found = sibling_imports(module, SOURCES[module], siblings)
    assert not found, (
        f"{module} imports another experiment: {found}; move what they share to "
        "experiments/_skeleton.py or a module named after its job (_transfer.py)."
    )


# module -> what its documentation promises it does not import
TORCH_FREE = {
    # "import sklearn_prognet stays cheap and never imports torch, openSMILE,
    # transformers or matplotlib" (its docstring)
    "sklearn_prognet": ("torch", "opensmile", "transformers", "matplotlib"),
    # "This module never imports torch." (its docstring)
    "sklearn_prognet.model_selection": ("torch",),
    # "This module only needs numpy and scipy." (its docstring)
    "sklearn_prognet.stats": ("torch", "skorch"),
    # "Importing this module never imports torch" (its docstring): the two
    # modules above use it
    COMPAT: ("torch", "skorch"),
    # "torch is imported when a network is first needed, not with the
    # package" (experiments/_fits.py); the command line loads it "only once a
    # network is needed" (cli.py)
    "sklearn_prognet.experiments": ("torch", "skorch"),
    "sklearn_prognet.experiments.cli": ("torch", "skorch"),
    # "This module never imports torch when it is imported: the presets and
    # the command line read it." (its docstring)
    "sklearn_prognet.networks._knobs": ("torch", "skorch"),
    # "Importing this module never imports torch" (its docstring)
    "sklearn_prognet.presets": ("torch", "skorch"),
    # "importing this package imports neither torch nor skorch" (its docstring)
    "sklearn_prognet.networks": ("torch", "skorch"),
    # "importing this package imports none of them" (its docstring)
    "sklearn_prognet.features": ("torch", "opensmile", "transformers"),
}


@pytest.mark.parametrize("module", sorted(TORCH_FREE))
def test_torch_free_modules_do_not_import_torch(module):
    # A fresh interpreter: this one has imported torch long ago.
    code = (
        f"import sys, {module}\n"
        f"loaded = [m for m in {TORCH_FREE[module]!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, (
        f"importing {module} imports what its documentation says it does not: "
        f"{done.stderr.strip().splitlines()[-1:]}"
    )


# -- the families of scripts/draw_import_graph.py ----------------------------


def unplaced_modules(sources, families=graph.FAMILIES):
    """The modules of ``sources`` that no family holds."""
    return sorted(m for m in sources if graph.family_of(m, families) is None)


def test_every_module_is_in_one_family():
    assert not unplaced_modules(SOURCES), (
        f"{unplaced_modules(SOURCES)} belong to no family: add each to FAMILIES "
        "in scripts/draw_import_graph.py and to the map in docs/contributing.rst."
    )
    members = [m for family in graph.FAMILIES for m in family.members]
    assert len(members) == len(set(members)), "a member is declared twice"
    assert not set(members) - set(SOURCES), "a member names no module"


def test_a_new_module_needs_a_family():
    planted = {**SOURCES, "sklearn_prognet._new": ast.parse("")}
    assert unplaced_modules(planted) == ["sklearn_prognet._new"]
    # a new module of a subpackage declared whole joins its family
    planted = {**SOURCES, "sklearn_prognet.datasets._new": ast.parse("")}
    assert unplaced_modules(planted) == []


def test_imports_run_down_the_families():
    found = graph.upward_imports(SOURCES)
    names = [family.name for family in graph.FAMILIES]
    assert not found, (
        "imports that run up the families: "
        + "; ".join(
            f"{up.module}:{up.line} ({names[graph.family_of(up.module)]}) imports "
            f"{up.imported} ({names[graph.family_of(up.imported)]})"
            + (" lazily" if up.lazy else "")
            for up in found
        )
        + (
            ". Move the shared code down, or, if the import must stay, declare it "
            "in EXCEPTIONS of scripts/draw_import_graph.py with its reason."
        )
    )


def test_an_upward_import_is_caught():
    code = {
        # eager, through a re-export of the package root (its _LAZY_NAMES)
        "sklearn_prognet.utils._warnings": "from sklearn_prognet import DNNClassifier",
        # lazy, inside a function
        "sklearn_prognet.networks._modules": (
            "def f():\n    import sklearn_prognet.experiments"
        ),
        # through a subpackage's re-export
        "sklearn_prognet.stats": "from sklearn_prognet.datasets import load_emodb",
    }
    planted = {**SOURCES, **{m: ast.parse(text) for m, text in code.items()}}
    found = {(up.module, up.imported, up.lazy) for up in graph.upward_imports(planted)}
    assert found == {
        (
            "sklearn_prognet.utils._warnings",
            "sklearn_prognet.networks._estimators",
            False,
        ),
        ("sklearn_prognet.networks._modules", "sklearn_prognet.experiments", True),
        ("sklearn_prognet.stats", "sklearn_prognet.datasets._emodb", False),
    }


@pytest.mark.parametrize("pair", sorted(graph.EXCEPTIONS))
def test_every_exception_is_still_needed(pair):
    importer, imported = pair
    assert graph.EXCEPTIONS[pair], "an exception needs its reason"
    found = [
        up
        for up in graph.package_imports(importer, SOURCES)
        if up.imported == imported and graph._rises(up, graph.FAMILIES)
    ]
    assert found, f"{importer} no longer imports {imported} upwards: drop the exception"


def test_the_import_graph_is_drawn():
    import matplotlib.pyplot as plt

    ax = graph.draw_import_graph(SOURCES)
    try:
        boxes = [p for p in ax.patches if type(p).__name__ == "FancyBboxPatch"]
        assert len(boxes) == len(graph.FAMILIES)
        edges = graph.family_edges(SOURCES)
        labels = [t for t in ax.texts if t.get_color() in (graph.DOWN, graph.UP)]
        assert len(labels) == len(edges)  # one labelled arrow per pair
    finally:
        plt.close(ax.figure)
