# Authors: The sklearn_prognet developers
# SPDX-License-Identifier: BSD-3-Clause
"""Messages that name parameters as structured data, not as text.

An error or a warning says which parameter is wrong in the words of the
Python API (``n_splits=3``). The command line gives the same parameters as
flags (``--n-splits 3``): rather than rewriting the text, it spells each
named parameter again from the parts of the message (see
``experiments/_options.py``).

A :class:`Message` is a ``str`` (its Python spelling), so that it can be
raised, warned, compared and matched like any message; its :attr:`parts`
keep the parameters apart.
"""

__all__ = ["Message", "Param", "spelled"]

#: The value of a :class:`Param` that names the parameter alone (``out=``).
NO_VALUE = ...


class Param:
    """A parameter named in a message: its name and, if any, the value given.

    Parameters
    ----------
    name : str
        The parameter's name in the Python API.
    value : object, default=NO_VALUE
        The value given, shown with ``repr``; left out, the message names the
        parameter alone (``name=``).
    """

    __slots__ = ("name", "value")

    def __init__(self, name, value=NO_VALUE):
        self.name = name
        self.value = value

    @property
    def has_value(self):
        """Whether the message shows a value."""
        return self.value is not NO_VALUE

    def python(self):
        """The Python API's spelling: ``name=value`` or ``name=``."""
        return f"{self.name}={self.value!r}" if self.has_value else f"{self.name}="

    def __repr__(self):
        return f"Param({self.name!r}, {self.value!r})"


class Message(str):
    """A message whose parameters (:class:`Param`) stay apart from its text.

    ``Message("Use ", Param("n_splits", 3), " or fewer.")`` reads
    ``"Use n_splits=3 or fewer."``; :func:`spelled` writes it with another
    spelling of the parameters. Adding a string to a Message gives a Message.

    Examples
    --------
    >>> from sklearn_prognet.utils._messages import Message, Param
    >>> message = Message("Use ", Param("n_splits", 3), " or fewer.")
    >>> message
    'Use n_splits=3 or fewer.'
    >>> spelled(message, lambda p: f"--{p.name} {p.value}")
    'Use --n_splits 3 or fewer.'
    """

    def __new__(cls, *parts):
        flat = []
        for part in parts:
            flat.extend(part.parts if isinstance(part, Message) else [part])
        self = super().__new__(cls, _join(flat, Param.python))
        self.parts = tuple(flat)
        return self

    def __add__(self, other):
        return Message(self, other) if isinstance(other, str) else NotImplemented

    def __radd__(self, other):
        return Message(other, self) if isinstance(other, str) else NotImplemented

    def __reduce__(self):  # pickled across processes with its parts
        return (Message, self.parts)


def _join(parts, spell):
    return "".join(spell(p) if isinstance(p, Param) else str(p) for p in parts)


def spelled(message, spell):
    """The text of ``message`` with every :class:`Param` written by ``spell``.

    ``message`` may be an exception or a warning whose first argument is a
    Message, a Message, or anything else (then its ``str``, unchanged).
    """
    if isinstance(message, BaseException) and message.args:
        if isinstance(message.args[0], Message) and len(message.args) == 1:
            message = message.args[0]
    if isinstance(message, Message):
        return _join(message.parts, spell)
    return str(message)
