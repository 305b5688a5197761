"""Exceptions that carry a message meant for the user.

The CLI prints ``str(error)`` on one line and exits non-zero; library callers can catch
the specific subclass.
"""


class LatentmapError(Exception):
    """Base class: something the user can fix (bad input, missing data, bad path)."""


class DataError(LatentmapError):
    """A data file is missing, corrupt, truncated or in the wrong format."""


class DatasetSpecError(LatentmapError):
    """A dataset spec names no known dataset and no readable font_set.json."""


class FontSetError(LatentmapError):
    """A font_set.json is malformed or names typefaces/characters that do not exist."""


class RequestError(LatentmapError):
    """A request the user can correct (bad index, too many items, impossible parameters);
    the web apps answer it with 422."""


class DownloadError(LatentmapError):
    """A file could not be fetched from any mirror, or failed its checksum."""


class LatentmapWarning(UserWarning):
    """Something the user should know and may want to fix (a stale file, a fallback);
    the command line prints it as one line."""
