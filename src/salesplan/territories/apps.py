from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "salesplan.territories"
    label = "territories"

    def ready(self) -> None:
        from salesplan.core.visibility import register_account_scope

        from .selectors import territory_account_scope

        # Members of a territory see its accounts (and, through the core rule, their
        # contacts, opportunities and activities).
        register_account_scope(territory_account_scope)
