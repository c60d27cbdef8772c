"""Read-mostly admin views of territories; changes go through the services (API, CLI)."""

from django.contrib import admin

from .models import (
    AccountTerritory,
    Alignment,
    BoundaryException,
    BoundaryRule,
    Realignment,
    Territory,
    TerritoryGoal,
    TerritoryMember,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Territory changes re-assign accounts and are audited, so the admin only shows."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Alignment)
class AlignmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "activated_at", "assigned_at", "conflict_count")


@admin.register(Territory)
class TerritoryAdmin(ReadOnlyAdmin):
    list_display = ("name", "alignment", "parent", "type", "priority")
    list_filter = ("alignment", "type")
    search_fields = ("name",)


@admin.register(BoundaryRule)
class BoundaryRuleAdmin(ReadOnlyAdmin):
    list_display = ("territory", "position", "combine")


@admin.register(TerritoryMember)
class TerritoryMemberAdmin(ReadOnlyAdmin):
    list_display = ("territory", "user", "role", "start_date", "end_date")


@admin.register(AccountTerritory)
class AccountTerritoryAdmin(ReadOnlyAdmin):
    list_display = ("account", "territory", "type", "reason")
    raw_id_fields = ("account",)
    show_full_result_count = False


@admin.register(BoundaryException)
class BoundaryExceptionAdmin(ReadOnlyAdmin):
    list_display = ("rep", "account", "status", "until", "approved_by")


@admin.register(Realignment)
class RealignmentAdmin(ReadOnlyAdmin):
    list_display = ("alignment", "previous", "ownership", "changed_at", "accounts_moved")


@admin.register(TerritoryGoal)
class TerritoryGoalAdmin(ReadOnlyAdmin):
    list_display = ("territory", "period_start", "period_end", "amount", "currency")
