from django.apps import AppConfig


class SignOnConfig(AppConfig):
    """Sign-on: OpenID Connect login with group mapping, and TOTP two-factor authentication."""

    name = "salesplan.signon"
    label = "signon"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .session import note_login

        user_logged_in.connect(note_login, dispatch_uid="signon.note_login")
