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


# The references that several public docstrings cite (stats, model_selection),
# as Substitution fields: ``.. [1] {gideon_2017}`` in the docstring of a
# module-level function or class, whose indentation the continuation lines have.
REFERENCES = {
    "gideon_2017": """
    J. Gideon, S. Khorram, Z. Aldeneh, D. Dimitriadis and E. M. Provost,
       "Progressive Neural Networks for Transfer Learning in Emotion
       Recognition", Proc. Interspeech, 2017.""",
    "nadeau_2003": """
    C. Nadeau and Y. Bengio, "Inference for the Generalization Error",
       Machine Learning, 52(3):239-281, 2003.""",
    "bouckaert_2004": """
    R. R. Bouckaert and E. Frank, "Evaluating the Replicability of
       Significance Tests for Comparing Learning Algorithms", Advances in
       Knowledge Discovery and Data Mining (PAKDD), LNCS 3056, pp. 3-12, 2004.""",
}
