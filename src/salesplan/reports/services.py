"""Every write of the reports app: saved reports and their scheduled delivery by email."""

import calendar as month_calendar
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from salesplan.core.clock import company_now, in_company_time
from salesplan.core.jobs import start_job
from salesplan.core.models import BackgroundJob
from salesplan.core.records import claim_version
from salesplan.core.registry import require
from salesplan.org.models import User
from salesplan.org.selectors import managed_team_ids

from .catalog import get_report, run_report
from .exporting import FORMATS, build_export
from .models import Frequency, SavedReport, ScheduledReport
from .scope import parse_filters

FILTER_KEYS = ("period", "team", "owner", "territory", "pipeline", "currency", "by")
MAX_RECIPIENTS = 50


def clean_filters(report: str, filters: dict) -> dict:
    """Only known filter keys, checked by running them through the parser."""
    definition = get_report(report)
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise ValidationError({"filters": f"Unknown filters: {', '.join(sorted(unknown))}."})
    cleaned = {k: str(v) for k, v in filters.items() if v not in (None, "")}
    parse_filters(cleaned)
    by = cleaned.get("by", "")
    if by and by not in definition.groupings:
        raise ValidationError({"by": f"{definition.title} cannot group by {by!r}."})
    return cleaned


def visible_saved_reports(user: User) -> QuerySet[SavedReport]:
    """The user's own saved reports and those shared within the teams they belong to or
    answer for."""
    teams = set(managed_team_ids(user)) if user.role == "manager" else set()
    if user.team_id:
        teams.add(user.team_id)
    rule = Q(owner=user) | Q(shared=True, owner__team_id__in=teams)
    if user.is_admin:
        rule = Q()
    return SavedReport.objects.filter(rule).select_related("owner")


def _own(saved: SavedReport, by: User) -> None:
    require(by, "saved_report", "change", saved)


@transaction.atomic
def save_report(*, by: User, name: str, report: str, filters: dict,
                shared: bool = False) -> SavedReport:
    """Keep a report with its filters under a name."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the saved report a name."})
    if SavedReport.objects.filter(owner=by, name=name).exists():
        raise ValidationError({"name": f"You already have a saved report called {name!r}."})
    return SavedReport.objects.create(name=name[:120], report=report,
                                      filters=clean_filters(report, filters), owner=by,
                                      shared=shared)


@transaction.atomic
def update_saved_report(saved: SavedReport, *, by: User, name: str | None = None,
                        filters: dict | None = None, shared: bool | None = None,
                        expected_version: int | None = None) -> SavedReport:
    _own(saved, by)
    claim_version(saved, expected_version)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": "Give the saved report a name."})
        if SavedReport.objects.filter(owner=saved.owner, name=name).exclude(pk=saved.pk).exists():
            raise ValidationError({"name": f"You already have a saved report called {name!r}."})
        saved.name = name[:120]
    if filters is not None:
        saved.filters = clean_filters(saved.report, filters)
    if shared is not None:
        saved.shared = shared
    saved.save()
    return saved


@transaction.atomic
def delete_saved_report(saved: SavedReport, *, by: User,
                        expected_version: int | None = None) -> None:
    _own(saved, by)
    claim_version(saved, expected_version)
    saved.delete()


def _recipients(addresses) -> list[str]:
    if isinstance(addresses, str):
        addresses = [a for a in addresses.replace(";", ",").split(",")]
    cleaned = [a.strip() for a in addresses or [] if a and a.strip()]
    if not cleaned:
        raise ValidationError({"recipients": "Name at least one email address."})
    if len(cleaned) > MAX_RECIPIENTS:
        raise ValidationError({"recipients": f"At most {MAX_RECIPIENTS} recipients."})
    for address in cleaned:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"recipients": f"{address!r} is not an email address."}
                                  ) from None
    return list(dict.fromkeys(cleaned))


def next_after(moment: datetime, frequency: str) -> datetime:
    """The next delivery after `moment` at the same time of day."""
    if frequency == Frequency.DAILY:
        return moment + timedelta(days=1)
    if frequency == Frequency.WEEKLY:
        return moment + timedelta(days=7)
    local = in_company_time(moment)
    year, month = local.year + (local.month == 12), local.month % 12 + 1
    day = min(local.day, month_calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


@transaction.atomic
def schedule_report(*, by: User, saved_report: SavedReport, recipients, frequency: str,
                    fmt: str = "xlsx", first_run: datetime | None = None) -> ScheduledReport:
    """Send a saved report by email at a frequency, starting at `first_run` (now)."""
    _own(saved_report, by)
    if frequency not in Frequency.values:
        raise ValidationError({"frequency": f"Choose one of {', '.join(Frequency.values)}."})
    if fmt not in FORMATS:
        raise ValidationError({"format": f"Choose one of {', '.join(FORMATS)}."})
    return ScheduledReport.objects.create(
        saved_report=saved_report, recipients=_recipients(recipients), frequency=frequency,
        format=fmt, next_run=first_run or timezone.now(), created_by=by)


@transaction.atomic
def cancel_schedule(schedule: ScheduledReport, *, by: User,
                    expected_version: int | None = None) -> None:
    _own(schedule.saved_report, by)
    claim_version(schedule, expected_version)
    schedule.delete()


def send_due(now: datetime | None = None) -> list[BackgroundJob]:
    """Start one delivery job per schedule that is due, moving its next run on first, so
    two workers calling at once never send the same report twice."""
    from .tasks import deliver_scheduled_report

    now = now or timezone.now()
    jobs = []
    with transaction.atomic():
        # A report runs as its owner: a deactivated owner's deliveries stop.
        due = ScheduledReport.objects.select_for_update(skip_locked=True).filter(
            active=True, next_run__lte=now, saved_report__owner__is_active=True
        ).select_related("saved_report")
        for schedule in due:
            following = schedule.next_run
            while following <= now:
                following = next_after(following, schedule.frequency)
            schedule.next_run = following
            schedule.save(update_fields=["next_run", "updated_at"])
            jobs.append(start_job("scheduled_report", by=schedule.created_by,
                                  task=deliver_scheduled_report,
                                  params={"schedule_id": schedule.pk}))
    return jobs


def deliver(schedule: ScheduledReport) -> dict:
    """Run the saved report as its owner and email it with the export attached."""
    saved = schedule.saved_report
    owner = saved.owner
    filters = dict(saved.filters)
    by = filters.pop("by", "")
    result = run_report(saved.report, owner, parse_filters(filters), by)
    export = build_export(title=f"{saved.name}: {result.title}", columns=result.columns,
                          rows=result.plain_rows(), fmt=schedule.format,  # type: ignore[arg-type]
                          filters=result.filters.described(), filename=saved.name)
    body = (f"{saved.name} ({result.title}, {result.filters.period.label}), run for "
            f"{owner} on {company_now():%Y-%m-%d %H:%M %Z}.\n\n"
            f"The report is attached as {export.filename}.\n")
    message = EmailMessage(subject=f"Report: {saved.name}", body=body, to=schedule.recipients)
    message.attach(export.filename, export.content, export.content_type.split(";")[0])
    message.send()
    schedule.last_run = timezone.now()
    schedule.last_error = ""
    schedule.save(update_fields=["last_run", "last_error", "updated_at"])
    return {"schedule_id": schedule.pk, "recipients": len(schedule.recipients),
            "attachment": export.filename, "rows": len(result.rows)}


def start_rebuild(*, by: User) -> BackgroundJob:
    """Recompute the report rollups as a background job (admins only): after a bulk
    change made outside the services, or to spread the first build of a large company."""
    from .tasks import rebuild_rollups

    require(by, "report_rollup", "rebuild")
    return start_job("reports_rebuild", by=by, task=rebuild_rollups)
