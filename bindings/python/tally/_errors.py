"""tally's exceptions, and which libtally error code raises which.

Every exception carries libtally's own sentence (tally_strerror: what is
wrong and what to do) after what it concerns, and the code in ``.code``.
System errors (a negative errno) become the matching OSError subclass
(PermissionError, FileNotFoundError, ...), as ``open()`` would raise.
"""
import errno as _errno


class Error(Exception):
    """Base of every error libtally reports; ``code`` is its error code."""

    code = 0


class RegionFull(Error):
    """Every counter slot of the region is taken (TALLY_EFULL)."""


class BadName(Error, ValueError):
    """Not a counter name: 1 to 64 bytes of UTF-8 without control characters."""


class BadRegion(Error):
    """The file is not a region this process may use: empty, truncated,
    corrupt, of another layout, not a regular file, a symlink in /dev/shm,
    owned by an untrusted user or writable by everyone."""


class ReadOnly(Error):
    """A write (add, reset, new counter) to a region attached read-only."""


class NoRegion(Error, FileNotFoundError):
    """The region does not exist and create=False (or readonly=True)."""


class NoCounter(Error, KeyError):
    """No counter of that name in the region."""

    def __str__(self):  # KeyError would show the message's repr
        return str(self.args[0]) if self.args else ""


class GroupDenied(Error, PermissionError):
    """The new region could not be given its group (TALLY_EGROUP)."""


class InvalidArgument(Error, ValueError):
    """An argument libtally refuses (a bad region name, bad options)."""


class ClosedRegion(Error, ValueError):
    """The region (or a counter's region) was closed in this process."""


# libtally's codes (shm/tally.h), by exception.
_CODES = {
    RegionFull: (-1001,),
    BadName: (-1002,),
    BadRegion: (-1003, -1004, -1005, -1006, -1007, -1008, -1012, -1013, -1014, -1015, -1016,
                -1017, -1018, -1019),
    NoCounter: (-1009,),
    InvalidArgument: (-1010,),
    NoRegion: (-1011,),
    ReadOnly: (-1020,),
    GroupDenied: (-1021,),
}
_BY_CODE = {code: cls for cls, codes in _CODES.items() for code in codes}


def exception_for(code, message, subject=None):
    """The exception to raise for libtally's error code (called by the C
    module; message is the full text)."""
    cls = _BY_CODE.get(code)
    if cls is None and -4096 < code < 0:
        e = OSError(-code, message)  # OSError picks the subclass by errno
        e.code = code
        return e
    if cls is None:
        cls = Error
    if issubclass(cls, OSError):
        e = cls(_errno.EACCES if cls is GroupDenied else _errno.ENOENT, message)
    else:
        e = cls(message)
    e.code = code
    return e
