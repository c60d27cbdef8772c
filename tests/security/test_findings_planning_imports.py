"""Review findings: managers got 404 on the company plan their reps read; a rep's import
dry run said that a hidden contact exists."""

from salesplan.customers.models import Contact
from salesplan.imports.services import import_path
from salesplan.planning import services as planning

from ..factories import make_account, make_contact, make_team


def test_managers_read_the_plan_of_the_company_above_their_teams(org, client):
    company = make_team("Company")
    org.region.parent = company
    org.region.save()
    plan = planning.create_plan(by=org.admin, name="Company FY27", fiscal_year=2027,
                                team=company)
    for reader in (org.west_rep, org.vp, org.west_manager, org.east_manager):
        client.force_login(reader)
        assert client.get(f"/api/v1/plans/{plan.pk}").status_code == 200, reader.username
    # Reading is not changing it.
    client.force_login(org.west_manager)
    assert client.delete(f"/api/v1/plans/{plan.pk}?version={plan.version}").status_code == 403


def test_a_reps_import_dry_run_does_not_reveal_a_hidden_contact(org, tmp_path):
    hidden = make_contact(org.east_rep, email="secret@east.example", title="Keep",
                          account=make_account(org.east_rep))
    path = tmp_path / "contacts.csv"
    path.write_text("Last name,Email,Title\nX,secret@east.example,Changed\n", encoding="utf-8")
    report = import_path(str(path), by=org.west_rep, resource="contact",
                         on_duplicate="update", dry_run=True)
    said = " ".join(p["message"] for p in [*report.errors, *report.warnings])
    assert f"#{hidden.pk}" not in said and "existing" not in said
    assert Contact.objects.get(pk=hidden.pk).title == "Keep"
