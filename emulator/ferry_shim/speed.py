"""Per-request costs of moto's server, cut without changing any answer.

The emulator is one Python process, and every request holds the GIL for all of
its work, so whatever moto spends per request bounds every client: the S3 copy
benchmark's "emulator ceiling" is this process's speed. Profiled with py-spy
under 16 concurrent CopyObject calls (bench/README.md, "The emulator"), three
costs had nothing to do with the request itself:

- Every timestamp in a response went through `dateutil.parser.parse` (botocore's
  `parse_to_aware_datetime`): about a sixth of the server's time under
  CopyObject, and most of a ListObjectsV2 page, whose every key carries one.
  ISO 8601 strings now go through `datetime.fromisoformat` (C); anything else
  still goes to botocore's function.
- Dispatch called `moto.backends.list_of_moto_modules()`, a directory listing
  with an `isdir` per entry, for every request, under the dispatcher's lock.
  The package's directories do not change while the server runs: listed once.
- Dispatch then matched the request's host against every service's URL
  patterns in turn, also under that lock. The answer depends on the host alone
  (a handful per run): remembered per host.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.utils import parse_to_aware_datetime as botocore_parse
from dateutil.tz import tzutc

UTC = tzutc()


def aware_datetime(value: Any) -> datetime:
    """`botocore.utils.parse_to_aware_datetime`, with ISO 8601 strings parsed in C.

    Only strings that start like a date (YYYY-MM-DD...) take the fast path: a
    string of digits is an epoch to botocore, and `fromisoformat` would read
    "20261123" as a date."""
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return botocore_parse(value)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    return botocore_parse(value)


def apply() -> None:
    import moto.backends
    import moto.core.serialize
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    moto.core.serialize.parse_to_aware_datetime = aware_datetime  # type: ignore[attr-defined]

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]

    original = DomainDispatcherApplication.get_backend_for_host
    by_host: dict[str, Any] = {}

    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        # Called under the dispatcher's lock, so the dict needs no lock of its own.
        if host is None:
            return None
        if host not in by_host:
            by_host[host] = original(self, host)
        return by_host[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
