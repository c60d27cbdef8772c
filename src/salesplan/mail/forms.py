"""Page forms of the email app (the services check everything again)."""

from django import forms

from .merge import FIELDS
from .models import EmailTemplate, Mailbox


class ComposeForm(forms.Form):
    template = forms.ModelChoiceField(queryset=EmailTemplate.objects.none(), required=False,
                                      empty_label="— none —")
    to = forms.CharField(max_length=254, required=False)
    subject = forms.CharField(max_length=500, required=False)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False,
                           help_text="Merge fields: " + ", ".join(
                               "{{ " + name + " }}" for name in FIELDS))

    def __init__(self, *args, templates=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["template"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
        field.queryset = templates if templates is not None else EmailTemplate.objects.none()


class TemplateForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = ["name", "subject", "body", "active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}
        help_texts = {"body": "Merge fields: " + ", ".join("{{ " + n + " }}" for n in FIELDS)}


class MailboxForm(forms.ModelForm):
    password = forms.CharField(widget=forms.PasswordInput, max_length=200)

    class Meta:
        model = Mailbox
        fields = ["name", "host", "port", "use_ssl", "username", "password", "folder"]


class SignatureForm(forms.Form):
    text = forms.CharField(label="Your signature", widget=forms.Textarea(attrs={"rows": 4}),
                           required=False, max_length=2000)


class LinkForm(forms.Form):
    record = forms.ChoiceField(choices=[("contact", "Contact"), ("lead", "Lead"),
                                        ("account", "Account"), ("opportunity", "Deal")])
    record_id = forms.IntegerField(min_value=1, label="Id")
