# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Where the modules of sklearn_prognet 0.1.0 moved, so that old names load.

Release 0.1.0 kept every module at the package root; 0.2.0 moved the
networks into :mod:`sklearn_prognet.networks` and the audio front ends into
:mod:`sklearn_prognet.features`. Pickles and skops files name classes by
their module (``sklearn_prognet._training.ProgressiveNetTrainer``), so
:data:`MOVED` maps each old module to its new one, in one place, and
:class:`MovedModuleFinder` (installed on ``sys.meta_path`` when
``sklearn_prognet`` is imported) makes ``import sklearn_prognet._training``
give the module ``sklearn_prognet.networks._training`` itself: the same
module object, so that its classes are the same classes.
:func:`current_name` turns an old qualified name into the new one, for the
trusted-type lists of :mod:`sklearn_prognet._persistence`.

This module imports nothing of the package.
"""

import importlib
import importlib.abc
import importlib.util
import sys

#: old module -> the module it is now (0.1.0 -> 0.2.0)
MOVED = {
    **{
        f"sklearn_prognet.{name}": f"sklearn_prognet.networks.{name}"
        for name in (
            "_modules",
            "_adapter_modules",
            "_multitask",
            "_columns",
            "_knobs",
            "_training",
            "_batched",
            "_estimators",
            "_adapters",
            "_ratings",
            "_batched_fit",
        )
    },
    **{
        f"sklearn_prognet.{name}": f"sklearn_prognet.features.{name}"
        for name in ("_audio", "_features", "_embeddings", "_speaker", "_ge2e")
    },
}


def current_name(name):
    """The qualified name that ``name`` has now.

    ``'sklearn_prognet._training.ProgressiveNetTrainer'`` becomes
    ``'sklearn_prognet.networks._training.ProgressiveNetTrainer'``; a name
    outside a moved module is returned as it is.
    """
    for old, new in MOVED.items():
        if name == old or name.startswith(f"{old}."):
            return new + name[len(old) :]
    return name


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds each old module of :data:`MOVED` as the module it moved to."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, _Alias(MOVED[fullname]))


class _Alias(importlib.abc.Loader):
    """Loads an old module name as the new module, imported once."""

    def __init__(self, new):
        self.new = new

    def create_module(self, spec):
        module = importlib.import_module(self.new)
        self._spec = module.__spec__
        return module

    def exec_module(self, module):
        # The import system has set the module's __spec__ to the old name's
        # spec (it always does): give the module its own back.
        module.__spec__ = self._spec


def install():
    """Put a :class:`MovedModuleFinder` first on ``sys.meta_path``, once.

    First, because an old name must never find a file: a stale one left by an
    older install, or one that another finder (an editable install of
    another checkout) maps the package's names to.
    """
    if not any(isinstance(finder, MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
