"""The comment box and the notification settings."""

from django import forms

from .services import MAX_BODY


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment", max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a comment; @username "
                                     "tells a colleague who can see this record."}))


class NotificationSettingsForm(forms.Form):
    email_mentions = forms.BooleanField(label="Also email me when someone mentions me",
                                        required=False)
