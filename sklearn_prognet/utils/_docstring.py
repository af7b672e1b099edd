# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Shared docstring text, written once and filled in by a decorator."""


class Substitution:
    """Fill ``{name}`` fields of a docstring with shared text (imblearn style).

    Only the named fields are replaced, so literal braces elsewhere in the
    docstring (dicts in Examples) stay untouched.
    """

    def __init__(self, **texts):
        self.texts = texts

    def __call__(self, obj):
        """Return ``obj`` with its docstring filled in."""
        doc = obj.__doc__
        for name, text in self.texts.items():
            doc = doc.replace("{" + name + "}", text.strip())
        obj.__doc__ = doc
        return obj
