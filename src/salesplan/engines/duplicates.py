"""Finding likely duplicate people and companies among many records.

Pure Python with numpy and rapidfuzz, no Django. The caller hands over columns (ids,
names, e-mails, phones, web domains and a "group" such as the account a contact works
at or the city of a company) and gets back scored candidate pairs with their reasons.

Comparing every record with every other is out of the question at a million records.
A pair scores high enough to be flagged only with some evidence beyond a similar name
(see below), so records are put into blocks that such a pair always shares, and only
pairs within a block are scored:
- the normalised e-mail, phone and web domain (exact blocks);
- people: the group (the account a contact works at, a lead's company);
- companies: the exact normalised name, and the group (city) with the first three
  letters of the first or the last sorted name token.
A block larger than `max_block` (a big account, a common name in a big city) is not
compared all-against-all: its members are sorted by name and each is compared with its
`window` neighbours (sorted neighbourhood), which bounds the work at any size. An exact
value on more than `max_shared` records (one phone number on a whole office: a
switchboard, a placeholder) identifies nobody and its block is left out.

Each pair's score (0–100) is 0.7 × the name similarity (rapidfuzz token-sort ratio on
the sorted tokens, computed for all pairs at once with `process.cpdist`), plus 30 for
strong evidence (same e-mail, phone or web domain, or for people the same group) and 15
for weak evidence (companies: the same city or the very same name). The same e-mail
scores at least 90. Two people who share only a name score at most 70: many people are
called John Smith.
"""

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com",
    "icloud.com", "proton.me", "protonmail.com", "gmx.com", "live.com", "msn.com",
})
COMPANY_WORDS = frozenset({
    "inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "company",
    "gmbh", "ag", "sa", "plc", "bv", "the", "and", "group", "holdings",
})
_NON_WORD = re.compile(r"[^0-9a-z]+")
_NON_DIGIT = re.compile(r"\D+")

NAME_WEIGHT = 0.7
STRONG_BONUS = 30
WEAK_BONUS = 15
SAME_EMAIL_FLOOR = 90
DEFAULT_THRESHOLD = 85

Progress = Callable[[str, float], None]


def normalise_email(value: str | None) -> str:
    """Lower case, no "+tag", no dots in a Gmail local part; "" when not an address."""
    text = (value or "").strip().lower()
    if "@" not in text:
        return ""
    local, domain = text.rsplit("@", 1)
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local and domain else ""


def normalise_phone(value: str | None) -> str:
    """The last ten digits (national number); "" for fewer than seven digits."""
    digits = _NON_DIGIT.sub("", value or "")
    return digits[-10:] if len(digits) >= 7 else ""


def normalise_domain(value: str | None) -> str:
    """example.com from "https://www.Example.com/about" or "pat@example.com"; free-mail
    domains say nothing about a company and give ""."""
    text = (value or "").strip().lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    for prefix in ("https://", "http://"):
        text = text.removeprefix(prefix)
    text = text.removeprefix("www.").split("/", 1)[0].split(":", 1)[0]
    return "" if text in FREE_MAIL_DOMAINS or "." not in text else text


def name_tokens(value: str | None, *, company: bool = False) -> list[str]:
    """Sorted lower-case tokens without accents or punctuation (and, for companies,
    without legal forms such as Inc or GmbH)."""
    text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    tokens = _NON_WORD.sub(" ", text.lower()).split()
    if company:
        tokens = [t for t in tokens if t not in COMPANY_WORDS] or tokens
    return sorted(tokens)


@dataclass
class Records:
    """Columns of the records to compare; every column has one entry per record."""

    ids: Sequence[int]
    names: Sequence[str]
    emails: Sequence[str] | None = None
    phones: Sequence[str] | None = None
    domains: Sequence[str] | None = None
    groups: Sequence[object] | None = None  # account id (people) or city (companies)
    company: bool = False  # names are company names (legal forms are ignored)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Candidate:
    """Two records that look like the same person or company."""

    left_id: int
    right_id: int
    score: int
    reasons: tuple[str, ...]


@dataclass
class ScanStats:
    records: int = 0
    blocks: int = 0
    pairs_compared: int = 0
    candidates: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _codes(values: Sequence[str] | None, n: int, normalise: Callable[[str], str]
           ) -> tuple[np.ndarray, list[str]]:
    """Integer code per record for its normalised value (-1 when empty) and the values."""
    codes = np.full(n, -1, dtype=np.int64)
    normalised = [""] * n
    if values is None:
        return codes, normalised
    seen: dict[str, int] = {}
    for i, raw in enumerate(values):
        value = normalise(raw) if raw else ""
        if value:
            normalised[i] = value
            codes[i] = seen.setdefault(value, len(seen))
    return codes, normalised


def _group_codes(values: Sequence[object] | None, n: int) -> np.ndarray:
    codes = np.full(n, -1, dtype=np.int64)
    if values is None:
        return codes
    seen: dict[object, int] = {}
    for i, value in enumerate(values):
        if value not in (None, ""):
            key = value.strip().lower() if isinstance(value, str) else value
            codes[i] = seen.setdefault(key, len(seen))
    return codes


def _pairs_in_blocks(block_of: np.ndarray, member: np.ndarray, sort_names: np.ndarray,
                     max_block: int, window: int, exact_from: int, max_shared: int
                     ) -> tuple[np.ndarray, np.ndarray, int]:
    """All pairs (a, b) of records sharing a block; large blocks by sorted neighbourhood,
    except exact-value blocks (ids from `exact_from`): an e-mail, phone or domain shared by
    more than `max_shared` records is a switchboard or a placeholder, not an identity."""
    order = np.argsort(block_of, kind="stable")
    blocks, members = block_of[order], member[order]
    starts = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]])
    sizes = np.diff(np.r_[starts, len(blocks)])
    shared = (blocks[starts] >= exact_from) & (sizes > max_shared)
    starts, sizes = starts[~shared], sizes[~shared]
    lefts: list[np.ndarray] = []
    rights: list[np.ndarray] = []
    for size in np.unique(sizes[(sizes >= 2) & (sizes <= max_block)]):
        group_starts = starts[sizes == size]
        matrix = members[group_starts[:, None] + np.arange(size)]
        i, j = np.triu_indices(int(size), k=1)
        lefts.append(matrix[:, i].ravel())
        rights.append(matrix[:, j].ravel())
    for start, size in zip(starts[sizes > max_block], sizes[sizes > max_block], strict=True):
        group = members[start:start + size]
        group = group[np.argsort(sort_names[group], kind="stable")]
        for step in range(1, min(window, len(group) - 1) + 1):
            lefts.append(group[:-step])
            rights.append(group[step:])
    block_count = int((sizes >= 2).sum())
    if not lefts:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, block_count
    return np.concatenate(lefts), np.concatenate(rights), block_count


def find_duplicates(records: Records, *, threshold: int = DEFAULT_THRESHOLD,
                    max_block: int = 200, window: int = 20, max_shared: int = 25,
                    workers: int = -1,
                    progress: Progress | None = None, stats: ScanStats | None = None,
                    limit: int | None = None) -> list[Candidate]:
    """Likely duplicate pairs scoring at least `threshold`, best first (the best `limit`
    of them when given)."""
    import time

    stats = stats if stats is not None else ScanStats()
    tick = time.perf_counter()
    n = len(records)
    stats.records = n

    def step(name: str, fraction: float) -> None:
        nonlocal tick
        now = time.perf_counter()
        stats.timings[name] = round(now - tick, 3)
        tick = now
        if progress is not None:
            progress(name, fraction)

    if n < 2:
        return []
    email, _ = _codes(records.emails, n, normalise_email)
    phone, _ = _codes(records.phones, n, normalise_phone)
    domain, _ = _codes(records.domains, n, normalise_domain)
    group = _group_codes(records.groups, n)
    token_lists = [name_tokens(name, company=records.company) for name in records.names]
    names = np.array([" ".join(tokens) for tokens in token_lists], dtype=object)
    step("normalise", 0.3)

    keys: dict[str, int] = {}
    block_of: list[int] = []
    member: list[int] = []

    def add(key: str, i: int) -> None:
        block_of.append(keys.setdefault(key, len(keys)))
        member.append(i)

    for i, tokens in enumerate(token_lists):
        if not tokens:
            continue
        if records.company:
            add("n" + names[i], i)
            if group[i] >= 0:
                add(f"g{group[i]}|{tokens[0][:3]}", i)
                if len(tokens) > 1:
                    add(f"g{group[i]}|{tokens[-1][:3]}", i)
        elif group[i] >= 0:
            add(f"g{group[i]}", i)
    offset = len(keys)
    for codes, tag in ((email, 1), (phone, 2), (domain, 3)):
        present = np.flatnonzero(codes >= 0)
        block_of.extend((offset + codes[present] * 4 + tag).tolist())
        member.extend(present.tolist())
    left, right, stats.blocks = _pairs_in_blocks(
        np.asarray(block_of, dtype=np.int64), np.asarray(member, dtype=np.int64), names,
        max_block, window, offset, max_shared)
    a, b = np.minimum(left, right), np.maximum(left, right)
    unique = np.unique(a[a != b] * n + b[a != b])
    a, b = unique // n, unique % n
    stats.pairs_compared = len(a)
    step("block", 0.6)

    if not len(a):
        return []
    similarity = process.cpdist(names[a], names[b], scorer=fuzz.token_sort_ratio,
                                workers=workers, dtype=np.uint8).astype(np.int64)
    step("compare", 0.9)

    same = {
        "email": (email[a] >= 0) & (email[a] == email[b]),
        "phone": (phone[a] >= 0) & (phone[a] == phone[b]),
        "domain": (domain[a] >= 0) & (domain[a] == domain[b]),
        "group": (group[a] >= 0) & (group[a] == group[b]),
    }
    strong = same["email"] | same["phone"] | same["domain"]
    weak = np.zeros(len(a), dtype=bool)
    if records.company:
        weak = same["group"] | (similarity == 100)
    else:
        strong = strong | same["group"]
    score = np.minimum(100, np.rint(NAME_WEIGHT * similarity + STRONG_BONUS * strong
                                    + WEAK_BONUS * weak)).astype(np.int64)
    score = np.where(same["email"], np.maximum(score, SAME_EMAIL_FLOOR), score)
    keep = np.flatnonzero(score >= threshold)
    keep = keep[np.lexsort((a[keep], -score[keep]))][:limit]
    group_label = "same city" if records.company else "same account"
    ids = records.ids
    found = []
    for k in keep.tolist():
        reasons = [f"name {int(similarity[k])}% alike"]
        for key, label in (("email", "same e-mail"), ("phone", "same phone"),
                           ("domain", "same web domain"), ("group", group_label)):
            if same[key][k]:
                reasons.append(label)
        found.append(Candidate(int(ids[a[k]]), int(ids[b[k]]), int(score[k]), tuple(reasons)))
    stats.candidates = len(found)
    step("score", 1.0)
    return found
