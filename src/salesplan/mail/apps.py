from django.apps import AppConfig


class MailConfig(AppConfig):
    """Email with customers: templates, sending from records, reading mailboxes."""

    name = "salesplan.mail"
    label = "mail"
    default_auto_field = "django.db.models.BigAutoField"
