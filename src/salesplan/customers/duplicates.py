"""The duplicate check when an account, contact or lead is created.

The matching rules are the duplicate engine's normalisation (`engines.duplicates`), the
same the quality scan uses: an account matches on its web domain or on its name without
case, punctuation and legal forms ("ACME, Inc." is "Acme LLC"); a person on their e-mail
(without case) or their phone number (the national number, whatever the formatting).

Matches the user may see are named; matches they may not see are only counted, so the
check never tells a rep what another team's hidden records are.
"""

import re
from dataclasses import dataclass, field

from django.db.models import Q

from salesplan.core import audit
from salesplan.core.errors import DuplicatesFound, ValidationError
from salesplan.engines.duplicates import (
    name_tokens,
    normalise_domain,
    normalise_phone,
)

from .models import Account, Contact, Lead

_WORD = re.compile(r"[\W_]+")
MAX_MATCHES = 10
MAX_NAME_CANDIDATES = 500
REASON_FIELD = "duplicate_reason"


@dataclass
class Matches:
    """Existing records that look like the new one: those the user sees, and how many
    others exist that they may not see."""

    visible: list[dict] = field(default_factory=list)
    hidden: int = 0

    @property
    def any(self) -> bool:
        return bool(self.visible or self.hidden)


def _value(data: dict, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def account_candidates(data: dict) -> dict[int, list[str]]:
    """Ids of accounts that look like `data`, each with why."""
    found: dict[int, list[str]] = {}
    domain = normalise_domain(_value(data, "domain")) or normalise_domain(_value(data, "website"))
    if domain:
        for pk in Account.objects.filter(domain__iexact=domain).values_list("pk", flat=True)[:50]:
            found.setdefault(pk, []).append(f"same web domain {domain}")
    name = _value(data, "name")
    tokens = name_tokens(name, company=True)
    if tokens:
        # Candidates share the longest word, as written or without accents ("Müller" is
        # looked for as "müller" and "muller"); the normalised names then decide.
        longest = max(tokens, key=len)
        words = [w for w in _WORD.split(name.lower()) if name_tokens(w) == [longest]]
        query = Q(name_key__contains=longest)
        for word in words:
            query |= Q(name_key__contains=word)
        rows = Account.objects.filter(query).values_list("pk", "name")[:MAX_NAME_CANDIDATES]
        for pk, name in rows:
            if name_tokens(name, company=True) == tokens:
                found.setdefault(pk, []).append("same name")
    return found


def person_candidates(model: type[Contact] | type[Lead], data: dict) -> dict[int, list[str]]:
    """Ids of contacts or leads with the e-mail or phone of `data`, each with why."""
    found: dict[int, list[str]] = {}
    email = _value(data, "email").lower()
    if email:
        for pk in model.objects.filter(email=email).values_list("pk", flat=True)[:50]:
            found.setdefault(pk, []).append("same e-mail")
    for name in ("phone", "mobile"):
        phone = normalise_phone(_value(data, name))
        if not phone:
            continue
        columns = ["phone", "mobile"] if model is Contact else ["phone"]
        query = Q()
        for column in columns:
            query |= Q(**{f"{column}__contains": phone[-4:]})
        for row in model.objects.filter(query).values("pk", *columns)[:MAX_NAME_CANDIDATES]:
            if any(normalise_phone(row[c]) == phone for c in columns):
                found.setdefault(row["pk"], []).append("same phone")
    return found


def find(resource: str, data: dict, *, by) -> Matches:
    """Existing records of this kind that look like `data`, split by what `by` may see."""
    model: type[Account] | type[Contact] | type[Lead]
    if resource == "account":
        model, found = Account, account_candidates(data)
    else:
        model = Contact if resource == "contact" else Lead
        found = person_candidates(model, data)
    if not found:
        return Matches()
    seen = {obj.pk: obj for obj in model.objects.visible_to(by).filter(pk__in=list(found))}
    visible = [{"type": resource, "id": pk, "name": str(seen[pk]),
                "reasons": sorted(set(found[pk]))}
               for pk in sorted(found) if pk in seen][:MAX_MATCHES]
    return Matches(visible=visible, hidden=len(set(found) - set(seen)))


def check(resource: str, data: dict, *, by) -> str:
    """Before a create: pop `allow_duplicate` and `duplicate_reason` from `data`; raise
    DuplicatesFound when the record looks like existing ones and the caller did not say
    to create it anyway (with a reason). Returns the reason given ("" when none)."""
    allow = bool(data.pop("allow_duplicate", False))
    reason = str(data.pop(REASON_FIELD, "") or "").strip()
    if allow and not reason:
        raise ValidationError({REASON_FIELD: "Say why this record is not a duplicate."})
    if allow:
        return reason
    matches = find(resource, data, by=by)
    if matches.any:
        raise DuplicatesFound(resource, matches.visible, matches.hidden)
    return ""


def note_reason(obj, reason: str, *, by) -> None:
    """Keep, in the record's audit trail, why it was created despite looking like others."""
    if reason:
        audit.record_changes(obj, {REASON_FIELD: ("", reason[:500])}, by)



def details_to_add(record, initial: dict, posted, fields: list[str]) -> tuple[dict, list[str],
                                                                            list[str]]:
    """Merge a new record's details into an existing one: what the existing record lacks.

    `initial` holds the existing record's form values and `posted` the new record's. A
    field the existing record leaves empty takes the new value; a field it already has
    keeps its value, and is named among those that differ so the person can look. Returns
    the form data to save, the fields filled and the fields that differ.
    """
    data: dict = {}
    filled: list[str] = []
    differing: list[str] = []
    for name in fields:
        current = initial.get(name)
        current_text = "" if current is None else str(current).strip()
        new_text = str(posted.get(name, "") or "").strip()
        if not current_text and new_text:
            data[name] = new_text
            filled.append(name)
            continue
        data[name] = "" if current is None else current
        if new_text and new_text.lower() != current_text.lower():
            differing.append(name)
    data["version"] = record.version
    return data, filled, differing
