"""tally.asgi: count an ASGI application's requests into a tally region.

    app = FastAPI()
    app.add_middleware(TallyMiddleware, region="tally", prefix="api")

Each HTTP request adds 1 to five counters (with prefix "api"):

    api.requests.total            every request
    api.requests.<route>          the matched route's template, e.g.
                                  api.requests.items.{item_id} for
                                  /items/{item_id}; "unmatched" when no
                                  route matched (a 404 from the router)
    api.requests.method.<METHOD>  GET, POST, ...; "other" for any other
    api.status.<N>xx              1xx..5xx; a request whose app raised, or
                                  returned without a response, counts 5xx
    api.requests.today            the same, zeroed by the tally agent at the
                                  business midnight (the shm source's
                                  daily = { "api.requests.today" })

Route templates, never raw paths: a name per URL would fill the region
with /items/1, /items/2, ... The template comes from the router's match:
FastAPI puts the matched route in the scope; for plain Starlette the
endpoint's route is looked up in the router's routes (mounts included),
or matched again when one endpoint serves several routes. A FastAPI
application mounted in another gets the mount's path in front as it was
matched, so a mount path with parameters would make a name per value:
for that reason, and against any other surprise, at most max_routes
distinct templates get a name of their own and the rest count under
"other". Counters are registered on first use and their handles kept, so
a request costs a few dict lookups and five atomic adds.

The region is a tally.Region, or a name or path that each process opens
on its first request (so workers that fork, or start afresh, each open
their own mapping of the same region). A Region opened before a fork
stays valid in every child as well.
"""
import hashlib

from . import NAME_MAX, Region, name_valid

__all__ = ["TallyMiddleware", "route_name"]

_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
                      "CONNECT"))
# Route names that would land on the middleware's own counters.
_RESERVED = frozenset(("total", "today", "method", "unmatched", "other"))


def route_name(template, room=NAME_MAX):
    """A route template as the last part of a counter name, in at most
    room bytes: "/items/{item_id}" -> "items.{item_id}", "/" -> "root".
    Slashes become dots; control characters and spaces become "_"; a name
    too long is cut and ends in a hash of the whole template, so two long
    templates stay two names."""
    text = "".join("_" if (ch.isspace() or not ch.isprintable()) else ch for ch in template)
    text = ".".join(part for part in text.split("/") if part) or "root"
    if text in _RESERVED or text.startswith("method."):
        text = "route." + text
    data = text.encode("utf-8", "replace")
    if len(data) <= room:
        return data.decode("utf-8")
    digest = "~" + hashlib.sha1(template.encode("utf-8", "replace")).hexdigest()[:8]
    cut = data[: room - len(digest)].decode("utf-8", "ignore")  # never half a character
    return cut + digest


_AMBIGUOUS = object()


def _route_template(route):
    # A Mount's path_format ends in "/{path}", its path is only the prefix.
    if getattr(route, "routes", None) is not None and hasattr(route, "app"):
        return getattr(route, "path", "")
    return getattr(route, "path_format", None) or getattr(route, "path", "")


def _endpoint_templates(routes, prefix="", found=None):
    """endpoint -> full template for a Starlette router's routes and its
    mounts'; an endpoint serving two routes maps to _AMBIGUOUS."""
    found = {} if found is None else found
    for route in routes:
        template = prefix + _route_template(route)
        sub = getattr(route, "routes", None)
        if sub:
            _endpoint_templates(sub, template, found)
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None:
            old = found.get(endpoint)
            found[endpoint] = template if old in (None, template) else _AMBIGUOUS
    return found


def _match(routes, path, method):
    """The template of the route a Starlette router picks for path, by
    matching again (only for an endpoint that serves several routes)."""
    partial = None
    for route in routes:
        try:
            match, child = route.matches({"type": "http", "path": path, "method": method,
                                          "root_path": "", "headers": []})
        except Exception:  # a route type that needs more of the scope
            continue
        name = getattr(match, "name", "")
        if name == "FULL":
            sub = getattr(route, "routes", None)
            if sub is None:
                return _route_template(route)
            inner = _match(sub, child.get("path", ""), method)
            return None if inner is None else _route_template(route) + inner
        if name == "PARTIAL" and partial is None:
            partial = _route_template(route)
    return partial


class TallyMiddleware:
    """ASGI middleware counting requests per route template, method and
    status class into a tally region (see the module's documentation)."""

    def __init__(self, app, region="tally", prefix="api", max_routes=256):
        if not name_valid(prefix + ".requests.x"):
            raise ValueError(f"prefix {prefix!r} makes invalid counter names: use a short "
                             "printable name such as 'api'")
        self.app = app
        self.prefix = prefix
        self.max_routes = max_routes
        self._region = region if isinstance(region, Region) else None
        self._region_name = None if isinstance(region, Region) else region
        self._handles = {}    # (route, method, status class) -> the five counters
        self._routes = {}     # template -> counter name part
        self._endpoints = {}  # id(router) -> {endpoint: template}

    def _region_now(self):
        if self._region is None:
            self._region = Region(self._region_name)
        return self._region

    def _route_of(self, scope, entry):
        """The matched route's template, or None when nothing matched;
        entry is (root_path, path) as the request reached the middleware
        (routers rewrite both on the way to a mounted application)."""
        route = scope.get("route")  # FastAPI's matched route
        if route is not None:
            # Relative to a mounted FastAPI application's own root: the
            # mount's matched path (the grown root_path) goes in front.
            return scope.get("root_path", "")[len(entry[0]):] + _route_template(route)
        endpoint = scope.get("endpoint")  # Starlette's: look up its route
        if endpoint is None:
            return None
        router = scope.get("router")
        routes = getattr(router, "routes", ())
        table = self._endpoints.get(id(router))
        if table is None:
            table = self._endpoints[id(router)] = _endpoint_templates(routes)
        template = table.get(endpoint)
        if template is _AMBIGUOUS:
            template = _match(routes, entry[1], scope.get("method", ""))
        return template

    def _route_part(self, template):
        if template is None:
            return "unmatched"
        part = self._routes.get(template)
        if part is None:
            if len(self._routes) >= self.max_routes:
                return "other"
            room = NAME_MAX - len(f"{self.prefix}.requests.".encode())
            part = self._routes[template] = route_name(template, room)
        return part

    def _count(self, scope, entry, status):
        route = self._route_part(self._route_of(scope, entry))
        method = scope.get("method", "")
        method = method if method in _METHODS else "other"
        status_class = f"{status // 100}xx" if 100 <= status <= 599 else "other"
        key = (route, method, status_class)
        handles = self._handles.get(key)
        if handles is None:
            region, p = self._region_now(), self.prefix
            names = (f"{p}.requests.total", f"{p}.requests.today", f"{p}.requests.{route}",
                     f"{p}.requests.method.{method}", f"{p}.status.{status_class}")
            handles = self._handles[key] = tuple(region.counter(n) for n in names)
        for counter in handles:
            counter.add()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The adds happen when the response starts, before its first byte
        # leaves: a client that has its response finds the request counted.
        counted = False
        entry = (scope.get("root_path", ""), scope.get("path", ""))

        async def send_counted(message):
            nonlocal counted
            if not counted and message["type"] == "http.response.start":
                counted = True
                self._count(scope, entry, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except BaseException:
            if not counted:
                counted = True
                self._count(scope, entry, 500)
            raise
        if not counted:  # the server answers 500 to an app that sent nothing
            self._count(scope, entry, 500)
