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
        """Return ``obj`` with its docstring, and its methods' ones, filled in."""
        obj.__doc__ = self._fill(obj.__doc__)
        if isinstance(obj, type):
            # Methods such as ``fit`` have fields too ({fit_parameters}).
            for member in vars(obj).values():
                if callable(member) and member.__doc__:
                    member.__doc__ = self._fill(member.__doc__)
        return obj

    def _fill(self, doc):
        if doc is None:
            return None
        for name, text in self.texts.items():
            doc = doc.replace("{" + name + "}", text.strip())
        return doc
