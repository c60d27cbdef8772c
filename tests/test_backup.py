"""`salesplan backup` and `salesplan restore`: what an operator gets back after a loss."""

import io
import json
import tarfile

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from salesplan.customers.models import Account
from tests.factories import make_account

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "imports").mkdir(parents=True)
    return settings.MEDIA_ROOT


def test_restore_brings_back_records_and_files_as_they_were_at_the_backup(org, media_root,
                                                                           tmp_path):
    kept = make_account(org.west_rep, name="Kept Ltd")
    upload = media_root / "imports" / "customers.csv"
    upload.write_text("name\nKept Ltd\n", encoding="utf-8")
    target = tmp_path / "backups" / "nightly.tar"
    out = io.StringIO()
    call_command("backup", str(target), stdout=out)
    assert f"the {connection.vendor} database and 1 uploaded file to" in out.getvalue()

    # After the backup: a record deleted, one added, a file changed.
    Account.objects.filter(pk=kept.pk).delete()
    make_account(org.west_rep, name="Added Later")
    upload.write_text("overwritten", encoding="utf-8")

    call_command("restore", str(target), "--yes", stdout=io.StringIO())
    assert list(Account.objects.values_list("name", flat=True)) == ["Kept Ltd"]
    assert Account.objects.get().version == kept.version
    assert upload.read_text(encoding="utf-8") == "name\nKept Ltd\n"
    # The restored database takes new records as before.
    assert make_account(org.west_rep, name="After Restore").pk > kept.pk


def test_restore_asks_before_replacing_anything(org, media_root, tmp_path):
    make_account(org.west_rep, name="Before")
    target = tmp_path / "b.tar"
    call_command("backup", str(target), stdout=io.StringIO())
    make_account(org.west_rep, name="After")
    with pytest.raises(CommandError, match="add --yes to confirm"):
        call_command("restore", str(target), stdout=io.StringIO())
    assert Account.objects.count() == 2


def test_restore_refuses_another_database_kind_or_a_newer_salesplan(org, media_root, tmp_path):
    target = tmp_path / "b.tar"
    call_command("backup", str(target), stdout=io.StringIO())
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    with tarfile.open(target) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())

    def rewritten(name: str, **changes) -> str:
        path = tmp_path / name
        with tarfile.open(path, "w") as archive:
            body = json.dumps({**manifest, **changes}).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
        return str(path)

    with pytest.raises(CommandError, match=f"backup of a {other} database"):
        call_command("restore", rewritten("other.tar", database=other), "--yes",
                     stdout=io.StringIO())
    newer = [*manifest["migrations"], ["customers", "9999_from_the_future"]]
    with pytest.raises(CommandError, match="newer version of Salesplan"):
        call_command("restore", rewritten("newer.tar", migrations=newer), "--yes",
                     stdout=io.StringIO())
    (tmp_path / "junk.tar").write_bytes(b"not a tar file")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("restore", str(tmp_path / "junk.tar"), "--yes", stdout=io.StringIO())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the restore script is PostgreSQL's")
def test_a_restore_that_fails_half_way_leaves_the_database_as_it_was(org, media_root, tmp_path,
                                                                     monkeypatch):
    from salesplan.config import backup

    make_account(org.west_rep, name="In The Backup")
    target = tmp_path / "b.tar"
    call_command("backup", str(target), stdout=io.StringIO())
    make_account(org.west_rep, name="Written Since")
    run = backup._run

    def failing_after_the_data(args, env):
        run(args, env)
        if args[0] == "pg_restore":  # the schema is dropped and every table loaded first
            with open(args[args.index("--file") + 1], "a", encoding="utf-8") as script:
                script.write("\nSELECT 1 / 0;\n")

    monkeypatch.setattr(backup, "_run", failing_after_the_data)
    with pytest.raises(CommandError, match="division by zero"):
        call_command("restore", str(target), "--yes", stdout=io.StringIO())
    assert sorted(Account.objects.values_list("name", flat=True)) == [
        "In The Backup", "Written Since"]
