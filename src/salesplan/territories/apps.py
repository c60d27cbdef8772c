from django.apps import AppConfig


class TerritoriesConfig(AppConfig):
    name = "salesplan.territories"
    label = "territories"

    def ready(self) -> None:
        from salesplan.core import hooks
        from salesplan.core.handover import field_provider
        from salesplan.core.visibility import register_account_scope

        from . import bulk_fix
        from .selectors import current_memberships, territory_account_scope
        from .services import account_saved, check_boundary

        # Members of a territory see its accounts (and, through the core rule, their
        # contacts, opportunities and activities).
        register_account_scope(territory_account_scope)
        # Accounts are assigned to territories as they are saved, and reps stay inside
        # their territories when they put deals on accounts.
        hooks.account_saved.register(account_saved)
        hooks.record_placed_on_account.register(check_boundary)
        # A departing person's current territory seats go to their successor.
        hooks.user_handover.register(field_provider("territories", [
            ("territory_memberships", "Territory memberships", current_memberships, "user"),
        ]))
        # The lists' bulk action "fix boundary violations".
        bulk_fix.register()
        # On PostgreSQL a deleted alignment's results partition goes with it.
        from django.db.models.signals import post_delete

        from .bulk_write import drop_alignment_partition
        from .models import Alignment

        post_delete.connect(drop_alignment_partition, sender=Alignment,
                            dispatch_uid="territories.drop_alignment_partition")
