"""Forms of the field-visit pages."""

from django import forms

from salesplan.org.models import User
from salesplan.territories import selectors as territory_reads

from .whatif import WhatIfChange


class WhatIfForm(forms.Form):
    """A rep and the change to try: a home base (coordinates or an account) and/or the
    territories they would work."""

    rep = forms.TypedChoiceField(coerce=int, label="Rep")
    latitude = forms.DecimalField(required=False, min_value=-90, max_value=90,
                                  decimal_places=6, label="New home latitude")
    longitude = forms.DecimalField(required=False, min_value=-180, max_value=180,
                                   decimal_places=6, label="New home longitude")
    home_account = forms.IntegerField(required=False, min_value=1,
                                      label="Or start from account (id)",
                                      help_text="The days start and end at its address.")
    territories = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label="Work these territories instead",
        help_text="Leave empty to keep the rep's own accounts.")
    days = forms.IntegerField(required=False, min_value=1, max_value=91,
                              label="Days to plan", help_text="Default: the company's horizon.")

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        rep: forms.TypedChoiceField = self.fields["rep"]  # type: ignore[assignment]
        rep.choices = [(u.pk, str(u)) for u in _reps(user)]
        self.fields["rep"].initial = user.pk
        alignment = territory_reads.active_alignment()
        territories: forms.TypedMultipleChoiceField = \
            self.fields["territories"]  # type: ignore[assignment]
        territories.choices = [
            (t.pk, t.name) for t in territory_reads.territories_of(
                alignment.pk if alignment else None)
            if territory_reads.can_open_territory(user, t)]

    def change(self) -> WhatIfChange:
        data = self.cleaned_data
        return WhatIfChange(data["latitude"], data["longitude"], data["home_account"],
                            data["territories"] or None)


def _reps(user: User) -> list[User]:
    """Whose plan the user may try a change on: a rep their own, a manager their reps."""
    if user.role == "rep":
        return [user]
    reps = User.objects.filter(is_active=True, role="rep").order_by("first_name", "last_name",
                                                                    "pk")
    visible = user.visible_owner_ids
    return list(reps if visible is None else reps.filter(pk__in=visible))
