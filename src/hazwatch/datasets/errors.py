"""Errors of the benchmark readers: a file or folder that is not in the expected format."""

from __future__ import annotations


class DatasetError(ValueError):
    """A data set cannot be read or evaluated; the message names the file and the problem."""
