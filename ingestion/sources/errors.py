"""Errors shared by every source parser.

A parser that meets a payload it does not understand raises `SourceFormatError` instead of guessing: an
ingestion run that stops loudly is recoverable, a run that quietly stores invented or shifted rows is not.
"""


class SourceFormatError(Exception):
    """A source answered with something that is not the format its parser was written for.

    The message names what was expected and what was missing, so that the ingestion run log tells a
    maintainer where the source changed without re-fetching it.
    """
