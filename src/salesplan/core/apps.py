from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class CoreConfig(AppConfig):
    name = "salesplan.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from salesplan.core.clock import company_saved, forget_company_time_zone

        from .registry import create_grant_permissions
        from .request_memo import forget_remembered

        # Any save of the company (settings page, demo build, import) may change its
        # time zone; the clock must not keep dating things in the old one.
        post_save.connect(company_saved, sender="org.Company", dispatch_uid="clock-saved")
        post_delete.connect(forget_company_time_zone, sender="org.Company",
                            dispatch_uid="clock-deleted")
        # What a request remembered (request_memo) is read from these; a request that
        # changes one reads it afresh afterwards.
        for model in ("org.Company", "org.Holiday", "org.Team", "org.User"):
            post_save.connect(forget_remembered, sender=model,
                              dispatch_uid=f"memo-saved-{model}")
            post_delete.connect(forget_remembered, sender=model,
                                dispatch_uid=f"memo-deleted-{model}")
        # Every app declares its actions in its own permissions.py; core collects them
        # without importing any app by name.
        autodiscover_modules("permissions")
        post_migrate.connect(create_grant_permissions, dispatch_uid="registry-grants")
