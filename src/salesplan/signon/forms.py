"""Page forms of sign-on; each only types the input, the services decide."""

from django import forms

from salesplan.org.models import Role, Team


class CodeForm(forms.Form):
    code = forms.CharField(label="Authentication code", max_length=40, widget=forms.TextInput(
        attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
        help_text="The 6 digits your authenticator app shows, or one of your recovery codes.")


class ConfirmForm(forms.Form):
    code = forms.CharField(label="Code from the app", max_length=10, widget=forms.TextInput(
        attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class PasswordForm(forms.Form):
    password = forms.CharField(label="Your password", strip=False,
                               widget=forms.PasswordInput(attrs={
                                   "autocomplete": "current-password"}))


class MappingForm(forms.Form):
    group = forms.CharField(label="Provider group", max_length=200)
    role = forms.ChoiceField(label="Role", required=False,
                             choices=[("", "— leave as is —"), *Role.choices])
    team = forms.ModelChoiceField(label="Team", required=False, queryset=Team.objects.all(),
                                  empty_label="— leave as is —")


class PolicyForm(forms.Form):
    require_admin_two_factor = forms.BooleanField(
        label="Require two-factor authentication for admins", required=False)
