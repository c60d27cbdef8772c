"""The duplicate scan: read every record of a type, run the matching engine, and store
the candidate pairs (pairs someone dismissed or merged stay decided)."""

import time
from collections.abc import Callable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from salesplan.core.jobs import start_job
from salesplan.core.registry import require
from salesplan.customers.models import Account, Contact, Lead
from salesplan.engines.duplicates import Records, ScanStats, find_duplicates

from .models import (
    DUPLICATE_TYPES,
    DuplicateCandidate,
    DuplicateScan,
    DuplicateStatus,
    QualitySettings,
    RecordType,
)

CHUNK = 50_000
MAX_STORED = 100_000  # the best pairs kept per scan; after merging them, scan again
Progress = Callable[[str, float], None]


def load_records(record_type: str) -> Records:
    """The columns the engine compares, read in primary-key order, in chunks."""
    ids: list[int] = []
    names: list[str] = []
    emails: list[str] = []
    phones: list[str] = []
    domains: list[str] = []
    groups: list[object] = []
    if record_type == RecordType.ACCOUNT:
        rows = Account.objects.order_by("pk").values_list("pk", "name", "domain", "website",
                                                          "city")
        for pk, name, domain, website, city in rows.iterator(chunk_size=CHUNK):
            ids.append(pk)
            names.append(name)
            domains.append(domain or website)
            groups.append(city)
        return Records(ids=ids, names=names, domains=domains, groups=groups, company=True)
    if record_type == RecordType.CONTACT:
        people = Contact.objects.order_by("pk").values_list(
            "pk", "first_name", "last_name", "email", "phone", "mobile", "account_id")
        for pk, first, last, email, phone, mobile, account_id in people.iterator(
                chunk_size=CHUNK):
            ids.append(pk)
            names.append(f"{first} {last}")
            emails.append(email)
            phones.append(phone or mobile)
            groups.append(account_id)
        return Records(ids=ids, names=names, emails=emails, phones=phones, groups=groups)
    if record_type == RecordType.LEAD:
        leads = Lead.objects.order_by("pk").values_list("pk", "first_name", "last_name", "email",
                                                        "phone", "company")
        for pk, first, last, email, phone, company in leads.iterator(chunk_size=CHUNK):
            ids.append(pk)
            names.append(f"{first} {last}")
            emails.append(email)
            phones.append(phone)
            groups.append(company)
        return Records(ids=ids, names=names, emails=emails, phones=phones, groups=groups)
    raise ValidationError({"record_type": "Choose account, contact or lead."})


def run_scan(record_type: str, *, scan: DuplicateScan | None = None,
             progress: Progress | None = None) -> DuplicateScan:
    """Scan all records of a type and replace the open candidate pairs with the new ones."""
    if record_type not in DUPLICATE_TYPES:
        raise ValidationError({"record_type": "Choose account, contact or lead."})
    started = time.perf_counter()
    scan = scan or DuplicateScan.objects.create(record_type=record_type)
    if progress:
        progress("Reading records", 0.05)
    records = load_records(record_type)
    read_seconds = time.perf_counter() - started
    stats = ScanStats()
    threshold = QualitySettings.current().duplicate_threshold
    found = find_duplicates(records, threshold=threshold, stats=stats, progress=progress,
                            limit=MAX_STORED)
    store_started = time.perf_counter()
    with transaction.atomic():
        pairs = DuplicateCandidate.objects.filter(record_type=record_type)
        decided = set(pairs.exclude(status=DuplicateStatus.OPEN)
                      .values_list("left_id", "right_id"))
        pairs.filter(status=DuplicateStatus.OPEN).delete()
        DuplicateCandidate.objects.bulk_create(
            (DuplicateCandidate(record_type=record_type, left_id=c.left_id,
                                right_id=c.right_id, score=c.score, reasons=list(c.reasons),
                                scan=scan)
             for c in found if (c.left_id, c.right_id) not in decided),
            batch_size=2000)
        scan.records = stats.records
        scan.pairs_compared = stats.pairs_compared
        scan.candidates = len([c for c in found if (c.left_id, c.right_id) not in decided])
        scan.seconds = Decimal(str(round(time.perf_counter() - started, 2)))
        scan.finished_at = timezone.now()
        scan.save()
    # Where the time went, for the command line and the benchmark (not stored).
    scan.timings = {"read": round(read_seconds, 2), **stats.timings,  # type: ignore[attr-defined]
                    "store": round(time.perf_counter() - store_started, 2)}
    return scan


def start_scan(*, by, record_type: str):
    """Start a scan as a background job (managers and admins); returns the job."""

    from .tasks import scan_duplicates

    require(by, "duplicate", "scan")
    if record_type not in DUPLICATE_TYPES:
        raise ValidationError({"record_type": "Choose account, contact or lead."})
    return start_job("quality.duplicates", by=by, task=scan_duplicates,
                     params={"record_type": record_type})
