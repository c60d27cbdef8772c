"""API for the global search box."""

from ninja import Field, Query, Router, Schema

from .selectors import global_search

router = Router(tags=["search"])


class SearchParams(Schema):
    q: str = Field(..., max_length=200, description="At least two characters; matches the "
                                                    "start of names, emails and domains.")


class SearchHitOut(Schema):
    kind: str
    id: int
    title: str
    subtitle: str


class SearchOut(Schema):
    accounts: list[SearchHitOut]
    contacts: list[SearchHitOut]
    leads: list[SearchHitOut]
    opportunities: list[SearchHitOut]


@router.get("", response=SearchOut)
def search(request, params: Query[SearchParams]):
    """Accounts, contacts, leads and opportunities you may see whose name (or email, or
    domain) starts with `q`; a few of each kind, alphabetically."""
    hits = global_search(request.auth, params.q)
    return {"accounts": hits.get("account", []), "contacts": hits.get("contact", []),
            "leads": hits.get("lead", []), "opportunities": hits.get("opportunity", [])}
