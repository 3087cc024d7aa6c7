"""tally: named 64-bit counters in a shared-memory region, for Python.

A region is shared by every process that opens it (gunicorn or uvicorn
workers, scripts, the tally agent); an add through a Counter handle is one
lock-free atomic instruction, exact across processes and threads::

    import tally
    r = tally.Region("tally")              # create or attach /dev/shm/tally
    requests = r.counter("api.requests.total")
    requests.add()                         # about the cost of a method call
    r.add("llm.gpt-4o.tokens", 1234)       # by name: a lookup, then the add
    r.items("api.requests.")               # {"api.requests.total": 1, ...}

The full API is in docs/python.md of the tally repository.
"""
from ._errors import (
    BadName,
    BadRegion,
    ClosedRegion,
    Error,
    GroupDenied,
    InvalidArgument,
    NoCounter,
    NoRegion,
    ReadOnly,
    RegionFull,
)
from ._tally import (
    DEFAULT_CAPACITY,
    MAX_CAPACITY,
    NAME_MAX,
    Counter,
    Info,
    Region,
    name_valid,
    strerror,
)

__version__ = "0.2.0"

# Shown as tally.BadName, not tally._errors.BadName, in tracebacks.
for _cls in (BadName, BadRegion, ClosedRegion, Error, GroupDenied, InvalidArgument, NoCounter,
             NoRegion, ReadOnly, RegionFull):
    _cls.__module__ = __name__
del _cls

__all__ = [
    "BadName",
    "BadRegion",
    "ClosedRegion",
    "Counter",
    "DEFAULT_CAPACITY",
    "Error",
    "GroupDenied",
    "Info",
    "InvalidArgument",
    "MAX_CAPACITY",
    "NAME_MAX",
    "NoCounter",
    "NoRegion",
    "ReadOnly",
    "Region",
    "RegionFull",
    "name_valid",
    "strerror",
]
