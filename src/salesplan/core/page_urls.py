"""Addresses of pages, built from a remembered shape instead of a full URL reversal.

A page names dozens to hundreds of addresses (the navigation's forty links, a link and
a form per row of a list); Django's `reverse` walks the URL resolver every time, about
a third of the processor time of a rep's My day page (500 addresses). An address is
the same text around its arguments every time, so the first reversal of a name stores
that text (its shape: reversed with marker numbers in place of the arguments) and later
ones put the arguments into it. Only plain non-negative integers (record ids) go into a
shape; any other argument, keyword arguments, or a name whose address does not show
each marker exactly once take Django's `reverse` as before.

Shapes are kept per process, keyed by name, argument count, current app, URLconf and
script prefix: they change only when the code does. The product's addresses do not
depend on the language (no `i18n_patterns`, no translated routes); tests compare every
named address of the URLconf with Django's own reversal.
"""

from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

# Markers stand for the arguments while a shape is taken: numbers no address holds.
_MARKER = 97_310_000_000_000
_shapes: dict[tuple, tuple[str, ...] | None] = {}


def page_url(view_name: str, args=(), current_app: str | None = None) -> str:
    """`reverse(view_name, args=args, current_app=current_app)`, from the shape."""
    if not all(type(arg) is int and arg >= 0 for arg in args):
        return reverse(view_name, args=args, current_app=current_app)
    key = (view_name, len(args), current_app, get_urlconf(), get_script_prefix())
    if key not in _shapes:
        _shapes[key] = _shape_of(view_name, len(args), current_app)
    shape = _shapes[key]
    if shape is None:
        return reverse(view_name, args=args, current_app=current_app)
    pieces = [shape[0]]
    for arg, after in zip(args, shape[1:], strict=True):
        pieces += [str(arg), after]
    return "".join(pieces)


def _shape_of(view_name: str, count: int, current_app: str | None) -> tuple[str, ...] | None:
    """The address's text around each argument, or None when it has no usable shape."""
    markers = [str(_MARKER + i) for i in range(count)]
    try:
        url = reverse(view_name, args=[int(m) for m in markers], current_app=current_app)
    except NoReverseMatch:
        return None
    pieces, rest = [], url
    for marker in markers:
        if url.count(marker) != 1 or marker not in rest:
            return None
        before, rest = rest.split(marker)
        pieces.append(before)
    return (*pieces, rest)
