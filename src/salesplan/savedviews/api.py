"""API of saved views (mounted at /api/v1/views), from the record kit: list, export, get,
create, change (rename, share) and delete your own; views shared with your team are
listed too."""

from ninja import Router

from salesplan.core.record_kit import Actions, RecordType, install

from . import selectors, services
from .models import SavedView
from .schemas import SavedViewIn, SavedViewOut, SavedViewPatch

router = Router(tags=["views"])

saved_views = RecordType(
    name="saved_view", plural="saved_views", path="views", resource="saved_view",
    label="saved view",
    actions=Actions(view="view", create="manage", change="manage", delete="manage"),
    model=SavedView, rows=selectors.saved_views, out=SavedViewOut, paged=False,
    audit=False, create_in=SavedViewIn, create=services.create_view,
    patch_in=SavedViewPatch, update=services.update_view, delete=services.delete_view)

install(router, "", [saved_views])
