# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Public names that a package loads on first use (PEP 562).

The root package and the ``networks`` and ``features`` subpackages re-export
classes whose modules import torch, openSMILE or transformers; they declare
``_LAZY_NAMES`` (public name -> module that defines it) and take their
module-level ``__getattr__``, ``__dir__`` and ``__all__`` from
:func:`lazy_attributes`, so that importing the package imports none of
those.
"""

import importlib
import sys


def lazy_attributes(package, names, submodules=()):
    """The ``__getattr__``, ``__dir__`` and ``__all__`` of a package with lazy names.

    Parameters
    ----------
    package : str
        The package's ``__name__``; it must be in ``sys.modules`` (true while
        its ``__init__`` runs).
    names : dict
        Public name -> the module that defines it.
    submodules : sequence of str, default=()
        Submodules loaded on first access as attributes.

    Returns
    -------
    getattr_, dir_ : callable
        To assign to the package's ``__getattr__`` and ``__dir__``.
    all_ : list of str
        The lazy names and the submodules, for the package's ``__all__``.
    """
    module = sys.modules[package]

    def getattr_(name):
        if name in names:
            value = getattr(importlib.import_module(names[name]), name)
        elif name in submodules:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(module, name, value)  # later look-ups skip __getattr__
        return value

    def dir_():
        return sorted(set(vars(module)) | set(module.__all__))

    return getattr_, dir_, [*names, *submodules]
