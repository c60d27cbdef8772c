from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CoreConfig(AppConfig):
    name = "salesplan.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from salesplan.core.clock import company_saved, forget_company_time_zone

        # Any save of the company (settings page, demo build, import) may change its
        # time zone; the clock must not keep dating things in the old one.
        post_save.connect(company_saved, sender="org.Company", dispatch_uid="clock-saved")
        post_delete.connect(forget_company_time_zone, sender="org.Company",
                            dispatch_uid="clock-deleted")
