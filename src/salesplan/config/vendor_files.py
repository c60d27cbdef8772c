"""The front-end files the pages load from npm packages, served under `static/vendor/`.

Only these are collected: `node_modules` holds about 90 MB of sources, maps and other
builds, and collecting (and, in production, compressing) all of it made every
`salesplan serve` start wait for minutes. A page that loads a new file lists it here;
`tests/test_vendor_files.py` fails on a template naming a file that is not listed.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

PREFIX = "vendor"
FILES = (
    "d3-array/dist/d3-array.min.js",
    "d3-geo/dist/d3-geo.min.js",
    "echarts/dist/echarts.min.js",
    "htmx.org/dist/htmx.min.js",
    "sortablejs/Sortable.min.js",
    "swagger-ui-dist/favicon-32x32.png",
    "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui-dist/swagger-ui.css",
    # named by swagger-ui.css; production's manifest storage refuses a missing reference
    "swagger-ui-dist/swagger-ui.css.map",
    "topojson-client/dist/topojson-client.min.js",
    "us-atlas/states-albers-10m.json",
)


def _root() -> Path:
    return Path(settings.BASE_DIR) / "node_modules"


class VendorFinder(BaseFinder):
    """Finds the listed files of `node_modules` as `vendor/<package path>`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=_root())
        self.storage.prefix = PREFIX  # type: ignore[attr-defined]  # read by collectstatic

    def check(self, **kwargs):
        missing = [name for name in FILES if not (_root() / name).is_file()]
        if missing and (_root()).is_dir():
            return [Error(f"front-end files missing from node_modules: {', '.join(missing)}",
                          hint="Run `make setup` (npm ci).", id="salesplan.E001")]
        return []

    def find(self, path, find_all=False):
        name = path.removeprefix(f"{PREFIX}/")
        if name == path or name not in FILES or not (_root() / name).is_file():
            return []
        found = str(_root() / name)
        return [found] if find_all else found

    def list(self, ignore_patterns):
        for name in FILES:
            if (_root() / name).is_file():
                yield name, self.storage
