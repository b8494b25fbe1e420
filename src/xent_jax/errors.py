"""The one exception type for bad input.

Every check of a user-supplied value raises :class:`InputError`, a ``ValueError`` subclass, with
a one-line message naming the bad value. The command line turns exactly this type into exit
status 2; any other exception is a bug and keeps its traceback.
"""


class InputError(ValueError):
    """A bad argument, setting or file given by the user (one line, names the value)."""
