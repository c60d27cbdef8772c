from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo company; an app only so that `salesplan demo` lives beside what it builds."""

    name = "salesplan.demo"
    label = "demo"
    verbose_name = "Demo company"
