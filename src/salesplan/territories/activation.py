"""Activating an alignment — a draft, or the draft an optimisation produced — previewed
first, then done by a background job.

The preview writes nothing: it compares the draft with the active alignment (the
what-if), counts the accounts that change territory per territory, and, when ownership
moves with the accounts, what each rep gains and loses; it warns when a large share of
the accounts moves. Its fingerprint has two parts: the state it was drawn from (both
alignments' versions, rules and assignment runs, the members, the accounts' owners),
checked when the activation is confirmed (409 if it moved), and the figures themselves,
drawn again by the job under the alignment's lock — if they differ, nothing is
activated and the job says why.
"""

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max

from salesplan.core.errors import PreviewChanged, StaleVersion
from salesplan.core.jobs import Progress, start_job
from salesplan.core.models import BackgroundJob
from salesplan.core.records import claim_version
from salesplan.core.registry import require
from salesplan.customers.models import Account
from salesplan.org.models import User

from . import services
from .models import AccountTerritory, Alignment, Realignment, TerritoryMember
from .selectors import active_alignment, what_if

JOB_KIND = "territory_activation"
LARGE_SHARE = Decimal("0.2")  # warn when a fifth of the accounts or more changes territory


@dataclass
class ActivationPreview:
    """What activating a draft would do; nothing is written to draw it."""

    alignment: Alignment
    previous: Alignment | None
    ownership: str
    moved_accounts: int = 0
    total_accounts: int = 0
    moves: list[dict] = field(default_factory=list)  # per (type, from, to)
    territories: list[dict] = field(default_factory=list)  # per territory: before, after
    reps: list[dict] = field(default_factory=list)  # per rep: accounts gained and lost
    warnings: list[str] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def share(self) -> Decimal:
        if not self.total_accounts:
            return Decimal(0)
        return (Decimal(self.moved_accounts) / self.total_accounts).quantize(Decimal("0.001"))


def _check(alignment: Alignment, by, ownership: str) -> Alignment:
    require(by, "alignment", "activate", alignment)
    alignment = Alignment.objects.get(pk=alignment.pk)
    if alignment.status != Alignment.Status.DRAFT:
        raise ValidationError({"alignment": "Only a draft can be activated."})
    if ownership not in Realignment.Ownership.values:
        raise ValidationError({"ownership": "Choose 'stay' or 'move'."})
    if not alignment.results_current:
        raise ValidationError({"alignment": f"The assignment of {alignment.name} is out of "
                                            "date; run it, then preview the activation."})
    return alignment


def _basis(alignment: Alignment, previous: Alignment | None, ownership: str) -> str:
    """A digest of the state a preview is drawn from (cheap to read again)."""
    def state(a: Alignment | None) -> list:
        # The draft's own version is checked apart: confirming claims it.
        if a is None:
            return []
        a = Alignment.objects.get(pk=a.pk)
        return [a.pk, a.version if a.pk != alignment.pk else 0, a.status, a.rules_version,
                a.assigned_version]

    members = TerritoryMember.objects.filter(
        territory__alignment_id__in=[alignment.pk] + ([previous.pk] if previous else [])
    ).aggregate(n=Count("id"), last=Max("updated_at"))
    accounts = Account.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    text = json.dumps([state(alignment), state(previous), ownership, members, accounts],
                      default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _figures_digest(preview: ActivationPreview) -> str:
    text = json.dumps([preview.moved_accounts, preview.moves, preview.reps], default=str,
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def preview_activation(alignment: Alignment, *, by, ownership: str = "stay"
                       ) -> ActivationPreview:
    """What activating the draft would change, per territory and per rep."""
    alignment = _check(alignment, by, ownership)
    previous = active_alignment()
    preview = ActivationPreview(alignment, previous, ownership)
    preview.total_accounts = AccountTerritory.objects.filter(
        alignment=previous or alignment).values("account_id").distinct().count()
    if previous is not None:
        comparison = what_if(alignment, previous, sample_size=0)
        preview.moved_accounts = comparison.moved_accounts
        preview.moves = comparison.moves[:200]
        preview.territories = [
            {**row, "accounts_change": row["accounts_after"] - row["accounts_before"],
             "potential_change": row["potential_after"] - row["potential_before"]}
            for row in comparison.balance]
        if ownership == Realignment.Ownership.MOVE:
            preview.reps = _rep_changes(services.ownership_changes(alignment, previous))
    preview.warnings = _warnings(preview)
    preview.fingerprint = f"{_basis(alignment, previous, ownership)}.{_figures_digest(preview)}"
    return preview


def _rep_changes(changes: dict[int, list[int]]) -> list[dict]:
    gained = {owner: len(ids) for owner, ids in changes.items()}
    lost: dict[int, int] = {}
    moving = [a for ids in changes.values() for a in ids]
    for start in range(0, len(moving), 5000):
        for owner_id, n in (Account.objects.filter(pk__in=moving[start:start + 5000])
                            .values_list("owner_id").annotate(n=Count("id")).order_by()):
            lost[owner_id] = lost.get(owner_id, 0) + n
    people = User.objects.in_bulk(set(gained) | set(lost))
    rows = [{"rep_id": pk, "rep": str(people.get(pk, pk)), "gains": gained.get(pk, 0),
             "loses": lost.get(pk, 0), "change": gained.get(pk, 0) - lost.get(pk, 0)}
            for pk in set(gained) | set(lost)]
    return sorted(rows, key=lambda r: (-abs(r["change"]), r["rep"]))


def _warnings(preview: ActivationPreview) -> list[str]:
    found = []
    if preview.previous is None:
        found.append("There is no active alignment: this one becomes the first.")
    elif preview.total_accounts and preview.share >= LARGE_SHARE:
        found.append(
            f"{preview.moved_accounts:,} of {preview.total_accounts:,} accounts "
            f"({preview.share:.0%}) change territory. Check the moves below before "
            "activating.")
    if preview.reps:
        owners = sum(r["gains"] for r in preview.reps)
        found.append(f"{owners:,} accounts (and their open deals) change owner.")
    return found


def confirm_activation(alignment: Alignment, *, by, ownership: str, version: int,
                       fingerprint: str) -> BackgroundJob:
    """Start the job that activates the draft as previewed; a preview drawn before the
    draft, the active alignment, their members or the accounts' owners changed is
    refused (409) with nothing written."""
    alignment = _check(alignment, by, ownership)
    if alignment.version != version:
        raise StaleVersion(alignment.version, version)
    basis, _, _ = fingerprint.partition(".")
    if basis != _basis(alignment, active_alignment(), ownership):
        raise PreviewChanged(STALE)
    from .tasks import run_activation

    with transaction.atomic():
        # Under way: the draft moves to its next version now, so a second confirmation
        # (or an edit drawn before) is refused; the job activates that version.
        claim_version(alignment, version)
        return start_job(JOB_KIND, by=by, task=run_activation, params={
            "alignment_id": alignment.pk, "ownership": ownership,
            "version": alignment.version, "fingerprint": fingerprint})


STALE = ("The alignments, their members or the accounts changed since this preview was "
         "drawn; nothing was activated. Preview the activation again and check it.")


def run_activation_job(job: BackgroundJob) -> tuple[dict[str, Any], str]:
    """Draw the preview again under the draft's lock; activate only if it is the same."""
    params = job.params
    progress = Progress(job, 3, every=1)
    with transaction.atomic():
        alignment = Alignment.objects.select_for_update().get(pk=params["alignment_id"])
        again = preview_activation(alignment, by=job.created_by, ownership=params["ownership"])
        if again.fingerprint != params["fingerprint"]:
            raise PreviewChanged(STALE)
        progress.advance_to(1, "Checked: the same as the preview.")
        done = services.activate_alignment(alignment, by=job.created_by,
                                           ownership=params["ownership"],
                                           expected_version=params["version"])
        progress.advance_to(3)
    result = {"alignment_id": alignment.pk, "realignment_id": done.pk,
              "accounts_moved": done.accounts_moved, "owners_changed": done.owners_changed}
    return result, (f"{alignment.name} is now active: {done.accounts_moved} accounts moved, "
                    f"{done.owners_changed} owners changed.")
