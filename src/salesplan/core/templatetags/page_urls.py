"""`{% url %}` with record ids built from the address's remembered shape (see
core.page_urls). Installed as a template builtin, so every template's `{% url %}` is
this one; it takes the same arguments and behaves the same, `as var` included."""

from django import template
from django.template.defaulttags import URLNode, url
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from salesplan.core.page_urls import page_url

register = template.Library()


class ShapedURLNode(URLNode):
    def render(self, context):
        if self.kwargs:
            return super().render(context)
        args = [arg.resolve(context) for arg in self.args]
        view_name = self.view_name.resolve(context)
        request = getattr(context, "request", None)
        try:
            current_app = request.current_app  # type: ignore[union-attr]
        except AttributeError:
            match = getattr(request, "resolver_match", None)
            current_app = match.namespace if match is not None else None
        address = ""
        try:
            address = page_url(view_name, args, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = address
            return ""
        return conditional_escape(address) if context.autoescape else address


@register.tag(name="url")
def shaped_url(parser, token):
    node = url(parser, token)
    return ShapedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
