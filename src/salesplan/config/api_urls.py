from itertools import groupby

from django.urls import URLPattern, URLResolver, include, path, re_path

from salesplan.config.api import api
from salesplan.core.api_support import api_not_found


def by_first_segment(patterns: list) -> list[URLPattern | URLResolver]:
    """The API's routes nested under their first path segment ("marketing/…"). Django
    tries URL patterns one by one, and the API has hundreds: nesting makes a request
    try a couple of dozen prefixes and then only its own app's routes."""
    def segment(pattern: URLPattern) -> str:
        route = str(pattern.pattern)
        return route.split("/", 1)[0] if "/" in route and "<" not in route.split("/", 1)[0] \
            else ""

    nested: list[URLPattern | URLResolver] = []
    for prefix, group in groupby(patterns, key=segment):
        members = list(group)
        if not prefix:
            nested.extend(members)
            continue
        cut = len(prefix) + 1
        nested.append(path(f"{prefix}/", include([
            path(str(p.pattern)[cut:], p.callback, p.default_args, p.name) for p in members])))
    return nested


# (Not module-level names app_name/namespace: include() would read them as this module's.)
_routes, _app, _namespace = api.urls
urlpatterns = [
    path("", include((by_first_segment(_routes), _app), namespace=_namespace)),
    # Anything else under /api/v1/ answers in the API's error shape, not an HTML page.
    re_path(r"^(?P<rest>.*)$", api_not_found),
]
