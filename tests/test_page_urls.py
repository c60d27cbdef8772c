"""Addresses built from remembered shapes are the addresses Django's reversal gives,
for every named page of the product."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import (
    NoReverseMatch,
    URLPattern,
    URLResolver,
    get_resolver,
    reverse,
    set_script_prefix,
)

from salesplan.core.page_urls import page_url


def named_patterns(resolver=None, namespace=""):
    """(full name, number of arguments) of every named page of the URLconf."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from named_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", entry.pattern.regex.groups


def django_reverse(name, args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return NoReverseMatch


def shaped(name, args):
    try:
        return page_url(name, args)
    except NoReverseMatch:
        return NoReverseMatch


def test_every_named_page_has_the_address_django_gives():
    checked = 0
    for name, groups in named_patterns():
        for args in ([], [0], [7], [123456], [7, 8], [12, 3456], [1, 2, 3]):
            assert shaped(name, args) == django_reverse(name, args), (name, args)
        checked += groups > 0
    assert checked > 50  # the record pages were among them


def test_arguments_that_are_not_record_ids_take_djangos_reversal():
    for args in (["12"], [-3], [True], [3.0]):
        assert shaped("web:account_detail", args) == django_reverse("web:account_detail", args)


def test_the_script_prefix_is_part_of_the_shape():
    assert page_url("web:account_detail", [5]) == "/accounts/5/"
    set_script_prefix("/crm/")
    try:
        assert page_url("web:account_detail", [5]) == "/crm/accounts/5/"
    finally:
        set_script_prefix("/")
    assert page_url("web:account_detail", [5]) == "/accounts/5/"


def test_the_url_tag_keeps_its_forms():
    request = RequestFactory().get("/")
    template = Template("{% url 'web:account_detail' 5 %}|{% url 'web:account_detail' pk=6 %}|"
                        "{% url 'web:account_list' %}|{% url 'no-such-page' as gone %}[{{ gone }}]"
                        "{% url 'web:account_detail' 9 as mine %}{{ mine }}")
    assert template.render(Context({"request": request})) == (
        "/accounts/5/|/accounts/6/|/accounts/|[]/accounts/9/")
    with pytest.raises(NoReverseMatch):
        Template("{% url 'no-such-page' %}").render(Context())
