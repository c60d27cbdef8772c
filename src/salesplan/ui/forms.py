"""Form building blocks shared by every record form.

Forms only collect and type-check input; the save goes through the domain service, and
whatever the service refuses comes back as an error next to the field it names.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse

from salesplan.core.errors import STALE_MESSAGE, StaleVersion


class LookupWidget(forms.Widget):
    """A type-ahead picker: a visible text box suggests records (htmx), a hidden input
    carries the chosen id. Never renders a list of every record."""

    template_name = "web/widgets/lookup.html"

    def __init__(self, lookup: str, attrs=None):
        super().__init__(attrs)
        self.lookup = lookup
        # A CSS selector of other inputs sent along with the typed text, e.g. the chosen
        # account's id so that the contact picker offers only that account's people.
        self.include = ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if isinstance(value, dict):
            chosen_id, chosen_label = value.get("id") or "", value.get("label") or ""
        elif hasattr(value, "pk"):
            chosen_id, chosen_label = value.pk, str(value)
        else:
            chosen_id, chosen_label = "", ""
        context["widget"].update({
            "lookup_url": reverse("web:lookup", args=[self.lookup]),
            "chosen_id": chosen_id, "chosen_label": chosen_label, "include": self.include,
        })
        return context

    def value_from_datadict(self, data, files, name):
        return {"id": data.get(name, ""), "label": data.get(f"{name}_search", "")}

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_search" not in data


class LookupField(forms.Field):
    """The id of a record chosen with a LookupWidget; the service checks the user may use it."""

    def __init__(self, lookup: str, *, model, **kwargs):
        kwargs.setdefault("widget", LookupWidget(lookup))
        super().__init__(**kwargs)
        self.model = model
        self.user = None

    def to_python(self, value):
        if isinstance(value, dict):
            raw, label = str(value.get("id") or "").strip(), (value.get("label") or "").strip()
        else:
            raw, label = str(value or "").strip(), ""
        if not raw:
            if label:
                raise ValidationError("Choose one of the suggestions, or clear the box.")
            return None
        try:
            return int(raw)
        except ValueError as exc:
            raise ValidationError("Choose one of the suggestions.") from exc

    def prepare_value(self, value):
        if hasattr(value, "pk") or isinstance(value, dict):
            return value
        if value in (None, "") or self.user is None:
            return None
        # Only name records the user may see; anything else shows as empty.
        return self.model.objects.visible_to(self.user).filter(pk=value).first()


class ServiceForm(forms.ModelForm):
    """A ModelForm whose model validation and save are the service's job.

    Subclasses set `create_service` and `update_service`; `save(by=user)` returns the
    saved record, or None after adding the service's complaints to the form.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    create_service: Callable[..., Any] | None = None
    update_service: Callable[..., Any] | None = None

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            if isinstance(field, LookupField):
                field.user = user
        setup_owner(self, user)
        if self.instance.pk is None:
            self.fields.pop("version")
        else:
            self.fields["version"].initial = self.instance.version

    def _post_clean(self):
        """Model validation happens in the service, inside its transaction."""

    def service_data(self) -> dict:
        data = {name: value for name, value in self.cleaned_data.items() if name != "version"}
        if data.get("owner", "") is None:
            data.pop("owner")  # "Me" on a new record; unchanged on an edit
        return data

    def save(self, commit=True, *, by=None):
        by = by or self.user
        data = self.service_data()
        try:
            create, update = type(self).create_service, type(self).update_service
            if create is None or update is None:
                raise TypeError(f"{type(self).__name__} names no create or update service.")
            if self.instance.pk is None:
                return create(by=by, data=data)
            # A form that cannot say which version it edits saves nothing: 0 is no version.
            version = self.cleaned_data.get("version") or 0
            update(self.instance, by=by, data=data, expected_version=version)
            return self.instance
        except StaleVersion:
            self.add_error(None, STALE_MESSAGE)
        except ValidationError as exc:
            self.service_refused(exc)
        return None

    def service_refused(self, exc: ValidationError) -> None:
        """Show the service's refusal on the form (subclasses may show more)."""
        add_service_errors(self, exc)


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names; the rest on top."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for message in errors:
            if target is None and field != "__all__":
                message = f"{field.replace('_', ' ').capitalize()}: {message}"
            form.add_error(target, message)


def owner_choices(user):
    """People the user may assign records to: themselves, their teams, or anyone."""
    ids = user.visible_owner_ids
    # The user model by setting, not by import: the kit sits below `org`, whose settings
    # page uses it too.
    people = get_user_model().objects.filter(is_active=True)
    if ids is not None:
        people = people.filter(pk__in=ids)
    return people.order_by("first_name", "last_name", "username")


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


def setup_owner(form: forms.BaseForm, user, *, required: bool = False) -> None:
    if "owner" in form.fields:
        field = OwnerField(queryset=owner_choices(user), required=required,
                           empty_label="Me" if not required else None,
                           help_text="Leave as “Me” to own it yourself.")
        field.label = "Owner"
        form.fields["owner"] = field
