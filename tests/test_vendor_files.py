"""The front-end files from npm that the pages load are the ones collected, and only they."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.management import call_command

from salesplan.config import vendor_files

SOURCE = Path(vendor_files.__file__).resolve().parents[1]
NAMED = re.compile(r"vendor/([A-Za-z0-9_.@-]+/[A-Za-z0-9_./@-]+\.(?:json|js|css|png))\b")


def test_every_front_end_file_a_page_names_is_served():
    named = {match for path in SOURCE.rglob("*") if path.suffix in {".html", ".js", ".py"}
             for match in NAMED.findall(path.read_text(errors="ignore"))}
    assert named, "no page names a front-end file: the pattern above went stale"
    assert named <= set(vendor_files.FILES), sorted(named - set(vendor_files.FILES))
    for name in named:
        assert finders.find(f"vendor/{name}"), name


def test_collecting_takes_only_the_listed_files(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    call_command("collectstatic", interactive=False, verbosity=0)
    collected = {p.relative_to(tmp_path / "vendor").as_posix()
                 for p in (tmp_path / "vendor").rglob("*") if p.is_file()}
    assert collected == set(vendor_files.FILES)
    assert not finders.find("vendor/htmx.org/package.json")


def test_production_storage_collects_them_with_every_file_they_name(tmp_path, settings):
    """The manifest storage of production follows each file's references (a style sheet's
    source map, say) and refuses to start the server when one is not collected."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
    call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "staticfiles.json").is_file()
