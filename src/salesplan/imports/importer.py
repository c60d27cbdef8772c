"""The import engine: validate every row, match duplicates, write all rows or none —
or, when the person chooses it, the good rows only.

Rows are handled in chunks of 2,000: parse each cell with the column's fast parser,
resolve owners/accounts/stages and look up duplicates with one query per chunk, then
(when committing and no row has failed so far) write the chunk with batched inserts and
updates (bulk.py says why not the ORM's bulk_create/bulk_update) inside the single
transaction that wraps the whole import. The first bad row stops the writing;
validation continues to the end so every bad row is reported, and the transaction is
rolled back. With `skip_bad_rows` the good rows of every chunk are written and the bad
ones are kept aside, cells and reasons, for the person to fix and import again.

Audit: every created record gets its own "create" AuditEntry and every changed field of
an updated record its own "update" entry, inserted in batches in the same transaction.
That keeps each record's history complete (who created it, when) for one extra batched
insert per chunk, which the benchmark (bench/bench_import.py) shows is affordable; a
single import-level entry would leave imported records without a creation entry.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from salesplan.core.audit import display_value
from salesplan.core.clock import company_today
from salesplan.core.models import AuditEntry
from salesplan.core.permissions import NONE, OWN, can_assign_owner, require, scope_for
from salesplan.customers.models import Account, LeadStatus, search_key
from salesplan.customers.services import domain_of
from salesplan.org.models import User
from salesplan.pipeline.models import (
    ForecastCategory,
    OpportunityChange,
    Pipeline,
    StageKind,
)

from . import bulk
from .columns import COLUMNS, MODELS, REFERENCE_FIELDS, REQUIRED, CellError

CHUNK_SIZE = 2000
MAX_REPORTED_ERRORS = 10_000
DUPLICATE_POLICIES = ("skip", "update", "create")


@dataclass
class ImportOptions:
    """What to import and how: `mapping` holds the field for each column ("" = ignore)."""

    resource: str
    mapping: list[str]
    on_duplicate: str = "skip"
    dry_run: bool = True
    pipeline_id: int | None = None
    # Write the good rows and leave the bad ones out (the default is all or nothing).
    skip_bad_rows: bool = False


@dataclass
class ImportReport:
    """The outcome the person reads: counts, and every bad row with column and reason."""

    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    error_count: int = 0
    # Rows with at least one problem (a row can have several): what a summary counts.
    bad_rows: int = 0
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    committed: bool = False
    skip_bad_rows: bool = False
    # The bad rows as read (row number, cells, reasons), to give back as a file.
    bad_row_cells: list[tuple[int, list[str], str]] = field(default_factory=list)

    def add_error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "column": column, "message": message})

    def add_warning(self, row: int, column: str, message: str) -> None:
        if len(self.warnings) < MAX_REPORTED_ERRORS:
            self.warnings.append({"row": row, "column": column, "message": message})

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "rows": self.rows, "created": self.created,
                "updated": self.updated, "skipped": self.skipped,
                "error_count": self.error_count, "bad_rows": self.bad_rows,
                "errors": self.errors, "warnings": self.warnings, "committed": self.committed,
                "skip_bad_rows": self.skip_bad_rows}


def describe(problem: dict) -> str:
    """'Row 7, column 'Employees': 'many' is not a whole number'."""
    return f"Row {problem['row']}, column '{problem['column']}': {problem['message']}"


@dataclass
class Row:
    number: int
    values: dict
    failed: bool = False
    refs: dict = field(default_factory=dict)


class Importer:
    """Imports rows of one record type for one person; see the module docstring."""

    def __init__(self, user: User, options: ImportOptions, headers: list[str]):
        require(user, options.resource, "create")
        self.user = user
        self.user_id = user.pk
        self.options = options
        self.resource = options.resource
        # Any: the record types share managers (visible_to) the base Model type lacks.
        self.model: Any = MODELS[self.resource]
        self.headers = headers
        self.columns = COLUMNS[self.resource]
        self.mapped = check_mapping(self.resource, headers, options.mapping)
        if options.on_duplicate not in DUPLICATE_POLICIES:
            raise ValidationError({"on_duplicate": "Choose skip, update or create."})
        self.report = ImportReport(dry_run=options.dry_run,
                                   skip_bad_rows=options.skip_bad_rows)
        self._row_problems: dict[int, list[str]] = {}
        self.header_for = {f: headers[i] for i, f in self.mapped}
        self._parsers = [(i, f, self.columns[f].parse, self.columns[f].required)
                         for i, f in self.mapped]
        self._users = _users_by_login()
        self._assignable: dict[int, bool] = {}
        self._seen: dict[tuple, int] = {}
        self.now = timezone.now()
        change_scope = scope_for(user, self.resource, "change")
        self._can_change = change_scope != NONE
        self._change_own_only = change_scope == OWN
        if self.resource == "opportunity":
            self._load_pipeline(options.pipeline_id)

    # --- running -------------------------------------------------------------------

    def run(self, rows: Iterable[list[str]], progress=None) -> ImportReport:
        """Validate (and unless a dry run, write) every row; all or nothing, or with
        `skip_bad_rows` every good row."""
        if self.options.dry_run:
            self._run_chunks(rows, progress)
        else:
            with transaction.atomic():
                self._run_chunks(rows, progress)
                if self.report.error_count and not self.options.skip_bad_rows:
                    transaction.set_rollback(True)
                    self.report.created = self.report.updated = 0
                else:
                    self.report.committed = True
        # Cell errors are found before reference errors in each chunk; people read by row.
        self.report.errors.sort(key=lambda p: p["row"])
        return self.report

    def _run_chunks(self, rows: Iterable[list[str]], progress) -> None:
        chunk: list[tuple[int, list[str]]] = []
        for number, cells in enumerate(rows, start=2):
            if not any(cells):
                continue  # blank lines (often at the end of a file) are not rows
            chunk.append((number, cells))
            if len(chunk) >= CHUNK_SIZE:
                self._process(chunk)
                chunk = []
                if progress is not None:
                    progress.advance_to(self.report.rows, self._progress_message())
        if chunk:
            self._process(chunk)
        if progress is not None:
            progress.advance_to(self.report.rows, self._progress_message())

    def _progress_message(self) -> str:
        verb = "Checked" if self.options.dry_run else "Imported"
        return f"{verb} {self.report.rows:,} rows, {self.report.error_count:,} with errors"

    def _process(self, chunk: list[tuple[int, list[str]]]) -> None:
        self.report.rows += len(chunk)
        parsed = [self._parse(number, cells) for number, cells in chunk]
        self._resolve_references(parsed)
        creates, updates = self._plan(parsed)
        writing = not self.options.dry_run and (self.options.skip_bad_rows
                                                or not self.report.error_count)
        if writing:
            self._write(creates, updates)
        self.report.created += len(creates)
        self.report.updated += len(updates)
        self._keep_bad_rows(chunk)

    def _keep_bad_rows(self, chunk: list[tuple[int, list[str]]]) -> None:
        if not self._row_problems:
            return
        kept = self.report.bad_row_cells
        for number, cells in chunk:
            reasons = self._row_problems.get(number)
            if reasons and len(kept) < MAX_REPORTED_ERRORS:
                kept.append((number, cells, "; ".join(reasons)))
        self._row_problems = {}

    # --- cells ----------------------------------------------------------------------

    def _parse(self, number: int, cells: list[str]) -> Row:
        row = Row(number, {})
        values = row.values
        width = len(cells)
        for index, name, parse, required in self._parsers:
            text = cells[index].strip() if index < width else ""
            if not text:
                if required:
                    self._fail(row, name, "a value is required")
                continue
            try:
                values[name] = parse(text)
            except CellError as exc:
                self._fail(row, name, str(exc))
        return row

    def _fail(self, row: Row, field_name: str, message: str) -> None:
        if not row.failed:
            self.report.bad_rows += 1
        row.failed = True
        column = self.header_for.get(field_name, field_name)
        self.report.add_error(row.number, column, message)
        self._row_problems.setdefault(row.number, []).append(f"{column}: {message}")

    # --- references -----------------------------------------------------------------

    def _resolve_references(self, rows: list[Row]) -> None:
        if "account" in self.header_for:
            self._resolve_accounts(rows)
        for row in rows:
            login = row.values.pop("owner", None)
            if login is not None:
                self._resolve_owner(row, login)
            if self.resource == "opportunity":
                self._resolve_stage(row)

    def _resolve_owner(self, row: Row, login: str) -> None:
        owner = self._users.get(login.lower())
        if owner is None:
            self._fail(row, "owner", f"no user with username or email '{login}'")
            return
        if owner.pk not in self._assignable:
            self._assignable[owner.pk] = can_assign_owner(self.user, owner)
        if not self._assignable[owner.pk]:
            self._fail(row, "owner", f"you cannot assign records to '{login}'")
            return
        row.refs["owner_id"] = owner.pk

    def _resolve_accounts(self, rows: list[Row]) -> None:
        wanted = {row.values["account"] for row in rows if "account" in row.values}
        keys = {search_key(v) for v in wanted}
        by_domain: dict[str, int] = {}
        by_name: dict[str, list[int]] = {}
        found = (Account.objects.visible_to(self.user)
                 .filter(Q(domain__in={v.lower() for v in wanted}) | Q(name_key__in=keys))
                 .values_list("pk", "domain", "name_key"))
        for pk, domain, name_key in found:
            if domain:
                by_domain.setdefault(domain, pk)
            by_name.setdefault(name_key, []).append(pk)
        for row in rows:
            value = row.values.pop("account", None)
            if value is None:
                continue
            pk = by_domain.get(value.lower())
            if pk is None:
                matches = by_name.get(search_key(value), [])
                if len(matches) > 1:
                    self._fail(row, "account", f"{len(matches)} accounts are named '{value}'; "
                               "use the account's domain instead")
                    continue
                pk = matches[0] if matches else None
            if pk is None:
                self._fail(row, "account", f"no account you can see is named '{value}' "
                           "or has that domain")
            else:
                row.refs["account_id"] = pk

    def _load_pipeline(self, pipeline_id: int | None) -> None:
        pipelines = Pipeline.objects.filter(active=True)
        pipeline = (pipelines.filter(pk=pipeline_id).first() if pipeline_id
                    else pipelines.order_by("-is_default", "position").first())
        if pipeline is None:
            raise ValidationError({"pipeline": "Choose an active pipeline."})
        self.pipeline = pipeline
        stages = list(pipeline.stages.order_by("position"))
        if not stages:
            raise ValidationError({"pipeline": f"Pipeline {pipeline} has no stages."})
        self.first_stage = stages[0]
        self.stages = {s.name.strip().lower(): s for s in stages}

    def _resolve_stage(self, row: Row) -> None:
        name = row.values.pop("stage", None)
        if name is None:
            row.refs["stage"] = self.first_stage
            return
        stage = self.stages.get(name.lower())
        if stage is None:
            self._fail(row, "stage", f"pipeline '{self.pipeline}' has no stage '{name}'")
        row.refs["stage"] = stage

    # --- duplicates and planning ----------------------------------------------------

    def _keys(self, row: Row) -> list[tuple]:
        values = row.values
        if self.resource == "account":
            keys = []
            domain = values.get("domain") or domain_of(values.get("website", ""))
            if domain:
                keys.append(("domain", domain.lower()))
            if values.get("name"):
                keys.append(("name", search_key(values["name"])))
            return keys
        if self.resource in ("contact", "lead") and values.get("email"):
            return [("email", values["email"])]
        return []

    def _plan(self, rows: list[Row]) -> tuple[list[Row], list[tuple[Row, models.Model]]]:
        """Decide for each good row: create, update (with the record) or skip."""
        keyed = [(row, self._keys(row)) for row in rows if not row.failed]
        existing = self._existing([k for _, keys in keyed for k in keys])
        creates: list[Row] = []
        updates: list[tuple[Row, models.Model]] = []
        policy = self.options.on_duplicate
        seen = self._seen
        # Plain loops, not generator expressions: this runs for every row of the file.
        for row, keys in keyed:
            if policy != "create":
                earlier = None
                for key in keys:
                    earlier = seen.get(key)
                    if earlier is not None:
                        break
                if earlier is not None:
                    self._report_file_duplicate(row, keys[0][0], earlier)
                    continue
                for key in keys:
                    seen[key] = row.number
            match = None
            for key in keys:
                match = existing.get(key)
                if match is not None:
                    break
            if match is None or policy == "create":
                creates.append(row)
            elif policy == "skip":
                self.report.skipped += 1
            elif self._may_update(row, match, keys):
                updates.append((row, match))
        return creates, updates

    def _report_file_duplicate(self, row: Row, kind: str, earlier: int) -> None:
        self.report.skipped += 1
        self.report.add_warning(row.number, self.header_for.get(kind, kind),
                                f"same {kind} as row {earlier}; skipped")

    def _existing(self, keys: list[tuple]) -> dict[tuple, models.Model]:
        """Existing records matching any key that the importer may see, in one query. A
        match the importer may see but not change is reported; a record they may not
        see does not exist for them, as everywhere else: no message names it, and the
        row is created as a form would create it."""
        if not keys or self.options.on_duplicate == "create":
            return {}
        ids: set[int] = set()
        for kind in ("domain", "name", "email"):
            values = {v for k, v in keys if k == kind}
            if values:
                ids.update(matching_ids(self.model, "name_key" if kind == "name" else kind,
                                        values))
        # The oldest match wins.
        records = sorted(self.model.objects.filter(pk__in=ids), key=lambda r: r.pk) \
            if ids else []
        if self.user.visible_owner_ids is None:  # sees every record (admin, executive)
            visible = {r.pk for r in records}
        else:
            visible = set(self.model.objects.visible_to(self.user)
                          .filter(pk__in=[r.pk for r in records]).values_list("pk", flat=True))
        found: dict[tuple, models.Model] = {}
        for record in records:
            if record.pk not in visible:
                continue
            record._import_visible = True
            for key in self._record_keys(record):
                found.setdefault(key, record)
        return found

    def _record_keys(self, record) -> list[tuple]:
        if self.resource == "account":
            keys = [("name", record.name_key)]
            return [("domain", record.domain), *keys] if record.domain else keys
        return [("email", record.email)] if record.email else []

    def _may_update(self, row: Row, record, keys: list[tuple]) -> bool:
        allowed = (self._can_change and record._import_visible
                   and (not self._change_own_only or record.owner_id == self.user.pk))
        if not allowed:
            self._fail(row, keys[0][0], f"matches an existing {self.resource} "
                       f"(#{record.pk}) that you may not change")
            return False
        if getattr(record, "status", None) == LeadStatus.CONVERTED and self.resource == "lead":
            self._fail(row, keys[0][0], f"matches lead #{record.pk}, which has been "
                       "converted and cannot change")
            return False
        return True

    # --- writing --------------------------------------------------------------------

    def _write(self, creates: list[Row], updates: list[tuple[Row, models.Model]]) -> None:
        if creates:
            self._create(creates)
        if updates:
            self._update(updates)

    def _create(self, rows: list[Row]) -> None:
        records = [self._new_values(row) for row in rows]
        pks = bulk.insert(self.model, records)
        record_type = self.model._meta.model_name
        if self.resource == "opportunity":
            bulk.insert(OpportunityChange, [
                {"opportunity_id": pk, "field": OpportunityChange.Field.STAGE,
                 "to_stage_id": r["stage_id"], "changed_at": self.now,
                 "changed_by_id": self.user.pk} for pk, r in zip(pks, records, strict=True)])
        bulk.insert(AuditEntry, [
            {"record_type": record_type, "record_id": pk, "action": AuditEntry.Action.CREATE,
             "changed_by_id": self.user_id} for pk in pks])

    def _new_values(self, row: Row) -> dict:
        """The new record's column values (by attname); absent ones take model defaults."""
        values = {**row.values, **row.refs}
        values.setdefault("owner_id", self.user_id)
        if self.resource == "account" and not values.get("domain") and values.get("website"):
            values["domain"] = domain_of(values["website"])
        stage = values.pop("stage", None)
        if stage is not None:
            self._apply_stage(values, stage)
        values.update(derived_keys(self.resource, values))
        return values

    def _apply_stage(self, values: dict, stage) -> None:
        values["pipeline_id"] = self.pipeline.pk
        values["stage_id"] = stage.pk
        values["status"] = stage.kind
        values.setdefault("probability", stage.probability)
        values.setdefault("close_date", company_today())
        if stage.kind != StageKind.OPEN:
            values["closed_at"] = self.now
            values["forecast_category"] = (ForecastCategory.CLOSED if stage.kind ==
                                           StageKind.WON else ForecastCategory.OMITTED)

    def _update(self, pairs: list[tuple[Row, Any]]) -> None:
        changed_records: list[models.Model] = []
        entries: list[dict] = []
        fields: set[str] = set()
        record_type = self.model._meta.model_name
        for row, record in pairs:
            changes = {}
            for name, value in {**row.values, **row.refs}.items():
                old = getattr(record, name)
                if old != value:
                    changes[name] = (old, value)
                    setattr(record, name, value)
            if not changes:
                self.report.skipped += 1
                continue
            current = {f: getattr(record, f) for f in KEY_SOURCES[self.resource]}
            for name, value in derived_keys(self.resource, current).items():
                setattr(record, name, value)
            record.version += 1
            record.updated_at = self.now
            fields.update(changes)
            changed_records.append(record)
            entries.extend(
                {"record_type": record_type, "record_id": record.pk,
                 "action": AuditEntry.Action.UPDATE, "field": name.removesuffix("_id"),
                 "old_value": display_value(old), "new_value": display_value(new),
                 "changed_by_id": self.user.pk}
                for name, (old, new) in changes.items())
        # Rows that changed nothing were counted as skipped above, not as updated.
        self.report.updated -= len(pairs) - len(changed_records)
        if changed_records:
            derived = set(KEY_SOURCES[self.resource]) | {"name_key"}
            bulk.update(self.model, changed_records,
                        sorted(fields | derived | {"version", "updated_at"}))
            bulk.insert(AuditEntry, entries)


KEY_SOURCES = {"account": ("name", "domain"), "contact": ("first_name", "last_name", "email"),
               "lead": ("first_name", "last_name", "email"), "opportunity": ("name",)}


def matching_ids(model: Any, column: str, values: set[str]) -> list[int]:
    """Ids of rows whose `column` equals one of `values`, in one indexed query.

    Plain SQL because the ORM prepares each of the 2,000 values of an IN lookup one by
    one, which cost more than the query itself; values are still passed as parameters.
    """
    quote = connection.ops.quote_name
    field = model._meta.get_field(column)
    sql = (f"SELECT {quote(model._meta.pk.column)} FROM {quote(model._meta.db_table)} "  # noqa: S608
           f"WHERE {quote(field.column)} IN ({', '.join(['%s'] * len(values))})")
    with connection.cursor() as cursor:
        cursor.execute(sql, list(values))
        return [pk for (pk,) in cursor.fetchall()]


def derived_keys(resource: str, values: dict) -> dict:
    """What the models' save() derives (search key, lower-case email or domain), for
    batched writes that bypass save()."""
    if resource == "account":
        return {"name_key": fast_search_key(values.get("name")),
                "domain": (values.get("domain") or "").strip().lower()}
    if resource == "opportunity":
        return {"name_key": fast_search_key(values.get("name"))}
    return {"name_key": fast_search_key(values.get("last_name"), values.get("first_name")),
            "email": (values.get("email") or "").strip().lower()}


def fast_search_key(first: str | None, second: str | None = None) -> str:
    """customers.models.search_key for one or two parts, without a generator per call
    (it runs for every imported row)."""
    a = first.strip().lower() if first else ""
    b = second.strip().lower() if second else ""
    return (f"{a} {b}" if a and b else a or b)[:200]


def _users_by_login() -> dict[str, User]:
    users: dict[str, User] = {}
    for user in User.objects.filter(is_active=True).select_related("team"):
        users.setdefault(user.username.lower(), user)
        if user.email:
            users.setdefault(user.email.lower(), user)
    return users


def check_mapping(resource: str, headers: list[str], mapping: list[str]) -> list[tuple[int, str]]:
    """The (column index, field) pairs to import; refuses unknown or repeated fields and
    missing required ones, naming them."""
    columns = COLUMNS[resource]
    errors: dict[str, str] = {}
    pairs: list[tuple[int, str]] = []
    seen: dict[str, str] = {}
    for index, name in enumerate(mapping[: len(headers)]):
        if not name:
            continue
        header = headers[index]
        if name not in columns:
            errors[header] = f"'{name}' is not a {resource} field you can import."
        elif name in seen:
            errors[header] = f"Field '{name}' is already filled by column '{seen[name]}'."
        else:
            seen[name] = header
            pairs.append((index, name))
    for name in sorted(REQUIRED[resource] - set(seen)):
        errors[name] = f"Map a column to the required field '{columns[name].label}'."
    if errors:
        raise ValidationError(errors)
    return pairs


__all__ = ["REFERENCE_FIELDS", "ImportOptions", "ImportReport", "Importer", "describe"]
