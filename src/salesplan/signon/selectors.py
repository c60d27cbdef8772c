"""Reads of sign-on."""

from django.db.models import QuerySet

from salesplan.org.models import User

from .models import GroupMapping, RecoveryCode


def mappings() -> QuerySet[GroupMapping]:
    return GroupMapping.objects.select_related("team").order_by("group", "id")


def users_with_two_factor() -> QuerySet[User]:
    return (User.objects.filter(totp_device__confirmed_at__isnull=False)
            .select_related("totp_device").order_by("username"))


def recovery_codes_left(user) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
