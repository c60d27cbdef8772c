from django.contrib import admin

from .models import Commitment, Objective, Plan, PlanRevision


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Read-mostly: status and targets change only through the plan services."""

    list_display = ("name", "fiscal_year", "team", "owner", "status", "revision_number")
    list_filter = ("status", "fiscal_year")
    search_fields = ("name",)
    readonly_fields = ("status", "revision_number", "approved_by", "approved_at", "version")


@admin.register(PlanRevision)
class PlanRevisionAdmin(admin.ModelAdmin):
    list_display = ("plan", "number", "status", "created_by", "created_at")
    readonly_fields = ("plan", "number", "reason", "created_by", "status", "snapshot")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # revisions are a record: never edited


admin.site.register(Objective)
admin.site.register(Commitment)
