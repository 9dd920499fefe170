"""Per-request costs of moto's server, cut without changing any answer.

The emulator is one Python process, and every request holds the GIL for all of
its work, so whatever moto spends per request bounds every client: the S3 copy
benchmark's "emulator ceiling" is this process's speed. Profiled with py-spy
under 16 concurrent CopyObject calls (emulator/README.md, "How we run moto";
bench/README.md, "Last runs"), these costs had little or nothing to do with
the request itself:

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
- Serializing a response looked up every member of every structure through
  six alias providers, instantiated anew each time (about a third of a
  ListObjectsV2 page). Which attribute names to try depends only on the
  object's class, the member and its shape: remembered per combination.
- ListObjectsV2 pages, the one response with a thousand structures in it,
  went through that generic serializer and then xmltodict: about 130 µs of
  the server's one core per key listed, taken from every other request.
  `list_objects_v2_xml` writes the same bytes directly (checked against
  moto's serializer in emulator/tests/test_speed.py), for the members moto
  fills; anything else still goes through moto.
- Every lookup of an account's backend (several per request) copied the
  list of known accounts and compared the service with every service in use,
  under a global lock, to learn that the account was known: a dictionary
  lookup now says so first (a new account, or one after a reset, still
  takes moto's way).
- Werkzeug's development server closes every connection after one response
  ("Connection: close"), because `http.server` cannot tell where an unread
  request body ends. Every request paid a TCP handshake and a new thread, and
  the thread then waited 10 ms for stray body bytes. `KeepAliveHandler` reads
  each body through a reader that knows its length (or its chunked framing),
  discards what the application left unread, and keeps the connection open
  for the client's next request, as any HTTP/1.1 server does.

One cost grew with the server's age rather than with the request: moto's
`BaseModel` records every model object it ever makes in its class's
`instances_tracked` list, for its reset and its `/moto-api/data.json` view,
and so keeps them all alive: every S3 object ever written, with its ACL,
grants and metadata (about 20 Python objects), stayed in memory after its
deletion, and every full garbage collection walked them. `WeakInstances`
keeps the same list of weak references instead; what is still in use is
still listed. (Measured on the S3 benchmark's 3,000-copy rounds, its effect
on speed is within the rounds' noise: a memory fix for a long-lived
emulator, such as the one the demo leaves running.)
"""

from __future__ import annotations

import functools
import io
import selectors
import socket
import threading
import types
import weakref
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

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


class Body(io.RawIOBase):
    """A request body of known length on the connection's stream: reads stop
    at its end, and `drain` discards what the application did not read."""

    def __init__(self, rfile: Any, length: int) -> None:
        super().__init__()
        self._rfile = rfile
        self.left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), self.left)]
        n = self._rfile.readinto(view) or 0
        self.left = self.left - n if n else 0
        return n

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self.left
        out = bytearray()
        while len(out) < size and self.left > 0:
            chunk = self._rfile.read(min(size - len(out), self.left))
            if not chunk:
                self.left = 0
                break
            self.left -= len(chunk)
            out += chunk
        return bytes(out)

    def readline(self, size: int | None = -1) -> bytes:
        limit = self.left if size is None or size < 0 else min(size, self.left)
        line = self._rfile.readline(limit) if limit > 0 else b""
        self.left = self.left - len(line) if line else 0
        return line

    def drain(self) -> None:
        while self.left > 0 and self.read(min(self.left, 1 << 20)):
            pass


class NoSelector:
    """Stands in for werkzeug's post-response drain (a 10 ms `select` on the
    socket, then reading whatever arrived): on a kept-alive connection that
    would swallow the client's next request. `KeepAliveHandler` drains by
    length instead."""

    def register(self, *_: Any) -> None:
        pass

    def select(self, timeout: float | None = None) -> list[Any]:
        return []

    def close(self) -> None:
        pass


def remembered_attribute_names(picker: type) -> None:
    """`AttributePicker.__call__` with the names it tries remembered.

    moto's alias providers decide from the object's class (its name, its
    `Meta`), the member's name, its shape and the shape's parent structure,
    nothing else. moto builds a new service model (new shape objects) for
    every response, so shapes are keyed by what names them: the service,
    the parent structure's name and the member's, which fix the member's
    shape within a model. The cache is bounded by the models' sizes."""
    from moto.core.utils import MISSING, get_value

    names: dict[tuple[Any, ...], tuple[str, ...]] = {}

    def __call__(self: Any, context: Any) -> Any:
        obj, shape = context.obj, context.shape
        parent = getattr(shape, "parent", None)
        key = (
            type(self),
            type(obj),
            None if isinstance(obj, dict) else getattr(obj, "Meta", None),
            context.key,
            getattr(context.service_model, "service_name", None),
            getattr(parent, "name", None),
            getattr(shape, "name", None),
        )
        tried = names.get(key)
        if tried is None:
            tried = names[key] = tuple(self.get_possible_keys(context))
        value = None
        for name in tried:
            found = get_value(obj, name, MISSING)
            if found is not MISSING:
                value = found
                break
        if self.response_transformers:
            key_path = f"{context.key_path}.{context.key}"
            for transform_path, transform in self.response_transformers.items():
                if key_path.endswith(transform_path):
                    return transform(value)
        return value

    picker.__call__ = __call__  # type: ignore[method-assign]


#: ListObjectsV2Output's members in the model's order, and how each is
#: written: "s" text, "i" number, "b" boolean, and the flattened lists.
LIST_V2_MEMBERS = (
    ("IsTruncated", "b"),
    ("Contents", "contents"),
    ("Name", "s"),
    ("Prefix", "s"),
    ("Delimiter", "s"),
    ("MaxKeys", "i"),
    ("CommonPrefixes", "prefixes"),
    ("EncodingType", "s"),
    ("KeyCount", "i"),
    ("ContinuationToken", "s"),
    ("NextContinuationToken", "s"),
    ("StartAfter", "s"),
)
#: An Object's members that moto fills, in the model's order.
OBJECT_MEMBERS = ("Key", "LastModified", "ETag", "ChecksumAlgorithm", "Size", "StorageClass", "Owner")
LIST_V2_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'


def _element(name: str, text: str) -> str:
    return f"<{name}>{escape(text)}</{name}>" if text else f"<{name}/>"


@functools.lru_cache(maxsize=65536)
def _zeroed(value: Any) -> str:
    """A body timestamp as moto's S3 serializer writes it (ISO 8601, milliseconds zeroed)."""
    return aware_datetime(value).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _object_xml(item: dict[str, Any]) -> str | None:
    if not OBJECT_MEMBERS_SET.issuperset(item):
        return None
    out = ["<Contents>"]
    for name in OBJECT_MEMBERS:
        value = item.get(name)
        if value is None:
            continue
        if name == "LastModified":
            out.append(f"<LastModified>{_zeroed(value)}</LastModified>")
        elif name == "Size":
            out.append(f"<Size>{int(value)}</Size>")
        elif name == "ChecksumAlgorithm":
            out.extend(_element("ChecksumAlgorithm", str(a)) for a in value)
        elif name == "Owner":
            if not isinstance(value, dict) or not {"DisplayName", "ID"}.issuperset(value):
                return None
            inner = "".join(_element(k, str(value[k])) for k in ("DisplayName", "ID") if value.get(k) is not None)
            out.append(f"<Owner>{inner}</Owner>" if inner else "<Owner/>")
        else:
            out.append(_element(name, str(value)))
    out.append("</Contents>")
    return "".join(out)


OBJECT_MEMBERS_SET = frozenset(OBJECT_MEMBERS)
LIST_V2_MEMBERS_SET = frozenset(name for name, _ in LIST_V2_MEMBERS)


def list_objects_v2_xml(result: dict[str, Any]) -> str | None:
    """The body of a ListObjectsV2 response for moto's `result`, byte for
    byte what moto's S3 serializer writes; None when the result holds
    anything this does not write (moto's serializer answers then)."""
    if not LIST_V2_MEMBERS_SET.issuperset(result):
        return None
    out = [LIST_V2_HEAD]
    for name, kind in LIST_V2_MEMBERS:
        value = result.get(name)
        if value is None:
            continue
        if kind == "b":
            out.append(f"<{name}>{'true' if value else 'false'}</{name}>")
        elif kind == "i":
            out.append(f"<{name}>{int(value)}</{name}>")
        elif kind == "contents":
            for item in value:
                xml = _object_xml(item) if isinstance(item, dict) else None
                if xml is None:
                    return None
                out.append(xml)
        elif kind == "prefixes":
            for item in value:
                if not isinstance(item, dict) or set(item) - {"Prefix"}:
                    return None
                prefix = item.get("Prefix")
                out.append("<CommonPrefixes/>" if prefix is None else f"<CommonPrefixes>{_element('Prefix', str(prefix))}</CommonPrefixes>")
        else:
            out.append(_element(name, str(value)))
    out.append("</ListBucketResult>")
    return "".join(out)


def known_accounts_first(backend_dict: type) -> None:
    """`BackendDict._create_account_specific_backend` returns at once for an
    account it holds: moto's body would do nothing for it but build a list
    of every account and scan the registry of services in use."""
    original = backend_dict._create_account_specific_backend

    def create(self: Any, account_id: str) -> None:
        if dict.__contains__(self, account_id):
            return
        original(self, account_id)

    backend_dict._create_account_specific_backend = create  # type: ignore[method-assign]


def fast_listings(response: type) -> None:
    """S3Response.serialized answers ListObjectsV2 with `list_objects_v2_xml`."""
    from moto import settings
    from moto.core.responses import ActionResult, BaseResponse

    original = response.serialized

    def serialized(self: Any, action_result: Any) -> Any:
        if (
            type(action_result) is ActionResult
            and isinstance(action_result.result, dict)
            and self.data.get("Action") == "ListObjectsV2"
            and not BaseResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER
            and not settings.PRETTIFY_RESPONSES
        ):
            body = list_objects_v2_xml(action_result.result)
            if body is not None:
                headers = {"Content-Type": "application/xml"}
                headers.update(self.response_headers)
                return 200, headers, body
        return original(self, action_result)

    response.serialized = serialized  # type: ignore[method-assign]


def keep_alive_handler(base: type) -> type:
    class KeepAliveHandler(base):  # type: ignore[misc, valid-type]
        protocol_version = "HTTP/1.1"
        # An idle kept-alive connection holds a thread: let it go after this.
        timeout = 300
        body: Any = None

        def setup(self) -> None:
            super().setup()
            # The status line and headers go out in one write and the body in
            # another: without this, Nagle's algorithm holds the body back
            # until the client's delayed ACK of the headers (tens of ms), once
            # the connection outlives the response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's reader
                self.body = environ["wsgi.input"]
                return environ
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
                self.body = None
                return environ
            self.body = Body(self.rfile, length)
            environ["wsgi.input"] = self.body
            return environ

        def send_header(self, keyword: str, value: str) -> None:
            # werkzeug sends "Connection: close" on every response; it stays
            # when the connection closes anyway (the client asked, or an
            # HTTP/1.0 client: http.server's parse_request decided).
            if (
                keyword.lower() == "connection"
                and value.lower() == "close"
                and self.body is not None
                and not self.close_connection
            ):
                return
            super().send_header(keyword, value)

        def run_wsgi(self) -> None:
            try:
                super().run_wsgi()
            finally:
                body, self.body = self.body, None
            if body is None:
                self.close_connection = True
                return
            try:
                if isinstance(body, Body):
                    body.drain()
                else:
                    while body.read(1 << 20):
                        pass
            except (OSError, ValueError):
                self.close_connection = True

    return KeepAliveHandler


class WeakInstances:
    """The `instances_tracked` of a moto model class, holding its instances
    weakly: iterating yields those still alive, as moto's reset and its
    data view expect. Dead references are dropped in batches as new ones
    come. An object without weak reference support is held as moto held it."""

    COMPACT_AFTER = 1024

    def __init__(self, items: Any = ()) -> None:
        self._refs: list[Any] = []
        self._dead = 0
        self._lock = threading.Lock()
        for item in items:
            self.append(item)

    def _died(self, _ref: Any) -> None:
        # Runs wherever the object is freed, perhaps inside append below: it
        # only counts (a lost increment only delays a compaction).
        self._dead += 1

    def append(self, obj: Any) -> None:
        try:
            ref: Any = weakref.ref(obj, self._died)
        except TypeError:
            ref = functools.partial(lambda o: o, obj)
        with self._lock:
            if self._dead > self.COMPACT_AFTER and 2 * self._dead > len(self._refs):
                self._refs = [r for r in self._refs if r() is not None]
                self._dead = 0
            self._refs.append(ref)

    def __iter__(self) -> Any:
        for ref in list(self._refs):
            obj = ref()
            if obj is not None:
                yield obj

    def __len__(self) -> int:
        return sum(1 for _ in self)


def weak_model_tracking() -> None:
    """Every moto model class, those made so far and those its lazily
    imported services make later, tracks its instances weakly, also after a
    reset of moto's model data."""
    import moto.core.model_instances as model_instances
    from moto.core.base_backend import InstanceTrackerMeta

    for models in model_instances.model_data.values():
        for model in models.values():
            model.instances_tracked = WeakInstances(model.instances_tracked)  # type: ignore[attr-defined]
    original_new = InstanceTrackerMeta.__new__

    def new(meta: type, name: str, bases: Any, dct: dict[str, Any]) -> type:
        cls = original_new(meta, name, bases, dct)
        if name != "BaseModel":
            cls.instances_tracked = WeakInstances()  # type: ignore[attr-defined]
        return cls

    InstanceTrackerMeta.__new__ = staticmethod(new)  # type: ignore[assignment]

    def reset_model_data() -> None:
        for models in model_instances.model_data.values():
            for model in models.values():
                model.instances_tracked = WeakInstances()  # type: ignore[attr-defined]

    import moto.core.models
    import moto.moto_api._internal.models

    for module in (model_instances, moto.core.models, moto.moto_api._internal.models):
        module.reset_model_data = reset_model_data  # type: ignore[attr-defined]


def apply() -> None:
    import moto.backends
    import moto.server
    import werkzeug.serving
    import moto.core.serialize
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    weak_model_tracking()
    moto.core.serialize.parse_to_aware_datetime = aware_datetime  # type: ignore[attr-defined]
    remembered_attribute_names(moto.core.serialize.AttributePicker)
    from moto.core.base_backend import BackendDict
    from moto.s3.responses import S3Response

    known_accounts_first(BackendDict)

    fast_listings(S3Response)

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

    moto.server.MotoRequestHandler = keep_alive_handler(moto.server.MotoRequestHandler)  # type: ignore[misc]
    werkzeug.serving.selectors = types.SimpleNamespace(  # type: ignore[attr-defined]
        DefaultSelector=NoSelector, EVENT_READ=selectors.EVENT_READ
    )
