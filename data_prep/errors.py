"""The one exception the data tools raise for bad input."""
from __future__ import annotations


class DataError(Exception):
    """Input that cannot be turned into a dataset: the message is one line that names the file
    and says how to fix it.  The CLI prints it as `error: ...` and exits with status 2."""
