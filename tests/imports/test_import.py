"""Importing accounts, contacts, leads and opportunities: mapping, validation, duplicates,
all-or-nothing commits, permissions and the audit trail."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salesplan.core.models import AuditEntry
from salesplan.customers.models import Account, Contact, Lead
from salesplan.imports.columns import guess_mapping
from salesplan.imports.importer import describe
from salesplan.imports.selectors import mapping_for_headers
from salesplan.imports.services import import_path, remember_mapping
from salesplan.pipeline.models import Opportunity, OpportunityChange, StageKind
from tests.factories import make_account, make_contact


def texts(report) -> list[str]:
    return [describe(p) for p in report.errors]


def test_mapping_is_guessed_from_names_labels_and_synonyms():
    headers = ["E-mail", "First Name", "Surname", "Company", "Job Title", "Mobile phone",
               "Favourite colour"]
    assert guess_mapping("contact", headers) == [
        "email", "first_name", "last_name", "account", "title", "mobile", ""]
    assert guess_mapping("account", ["Account Name", "Zip", "Employees", "Web site"]) == [
        "name", "postal_code", "employees", "website"]


def test_mapping_is_remembered_per_user_resource_and_columns(org):
    headers = ["Surname", "Mail", "Notes"]
    remember_mapping(by=org.west_rep, resource="contact", headers=headers,
                     mapping=["last_name", "email", "title"])
    # Same columns in another order: the person's choices come back, column by column.
    assert mapping_for_headers(org.west_rep, "contact", ["Notes", "Surname", "Mail"]) == [
        "title", "last_name", "email"]
    # Someone else, or another record type, still gets the guess.
    assert mapping_for_headers(org.east_rep, "contact", headers) == ["last_name", "email", ""]
    assert mapping_for_headers(org.west_rep, "lead", headers) == ["last_name", "email", ""]


def test_dry_run_reports_every_bad_row_with_column_and_reason_and_writes_nothing(
        org, write_csv):
    path = write_csv([
        ["Name", "Domain", "Employees", "Lifecycle", "Owner", "Annual revenue"],
        ["Acme", "acme.example", "120", "customer", "westrep", "1,250,000.50"],
        ["", "nameless.example", "5", "", "", ""],
        ["Globex", "globex.example", "lots", "", "", ""],
        ["Initech", "initech.example", "10", "partner", "", ""],
        ["Umbrella", "umbrella.example", "10", "", "nobody", ""],
        ["Hooli", "hooli.example", "many", "", "", "-5"],
    ])
    report = import_path(path, by=org.west_rep, resource="account", dry_run=True)
    assert texts(report) == [
        "Row 3, column 'Name': a value is required",
        "Row 4, column 'Employees': 'lots' is not a whole number",
        "Row 5, column 'Lifecycle': 'partner' is not one of: prospect, customer, former",
        "Row 6, column 'Owner': no user with username or email 'nobody'",
        "Row 7, column 'Employees': 'many' is not a whole number",
        "Row 7, column 'Annual revenue': '-5' is less than 0",
    ]
    assert (report.rows, report.error_count, report.created) == (6, 6, 1)
    assert not Account.objects.exists()
    assert not AuditEntry.objects.exists()


def test_commit_is_all_or_nothing(org, write_csv):
    rows = [["Last name", "Email"], ["Good", "good@example.com"], ["Bad", "not-an-email"]]
    report = import_path(write_csv(rows), by=org.west_rep, resource="contact")
    assert not report.committed
    assert texts(report) == ["Row 3, column 'Email': 'not-an-email' is not a valid email address"]
    assert (report.created, Contact.objects.count()) == (0, 0)

    rows[2][1] = "bad.no.more@example.com"
    report = import_path(write_csv(rows), by=org.west_rep, resource="contact")
    assert report.committed and report.created == 2
    contacts = Contact.objects.order_by("email")
    assert [(c.last_name, c.email, c.owner, c.name_key) for c in contacts] == [
        ("Bad", "bad.no.more@example.com", org.west_rep, "bad"),
        ("Good", "good@example.com", org.west_rep, "good")]
    # One "created" entry per record, by the importer.
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.CREATE, record_type="contact")
    assert sorted(e.record_id for e in entries) == sorted(c.pk for c in contacts)
    assert {e.changed_by for e in entries} == {org.west_rep}


@pytest.fixture
def existing_contact(org):
    return make_contact(org.west_rep, first_name="Ann", last_name="Old", email="ann@acme.example",
                        title="Buyer")


def contact_file(write_csv):
    return write_csv([
        ["First name", "Last name", "Email", "Title"],
        ["Ann", "Old", "ANN@acme.example", "Head of buying"],
        ["Bob", "New", "bob@acme.example", "Engineer"],
        ["Bobby", "Again", "bob@acme.example", "Engineer"],
    ])


def test_duplicates_skipped(org, existing_contact, write_csv):
    report = import_path(contact_file(write_csv), by=org.west_rep, resource="contact",
                         on_duplicate="skip")
    assert (report.created, report.updated, report.skipped) == (1, 0, 2)
    assert [describe(w) for w in report.warnings] == [
        "Row 4, column 'Email': same email as row 3; skipped"]
    existing_contact.refresh_from_db()
    assert existing_contact.title == "Buyer"
    assert Contact.objects.filter(email="bob@acme.example").count() == 1


def test_duplicates_updated_with_version_and_audit(org, existing_contact, write_csv):
    report = import_path(contact_file(write_csv), by=org.west_rep, resource="contact",
                         on_duplicate="update")
    assert (report.created, report.updated, report.skipped) == (1, 1, 1)
    existing_contact.refresh_from_db()
    assert (existing_contact.title, existing_contact.version) == ("Head of buying", 2)
    change = AuditEntry.objects.get(action=AuditEntry.Action.UPDATE,
                                    record_id=existing_contact.pk)
    assert (change.field, change.old_value, change.new_value) == (
        "title", "Buyer", "Head of buying")


def test_duplicates_created_anyway(org, existing_contact, write_csv):
    report = import_path(contact_file(write_csv), by=org.west_rep, resource="contact",
                         on_duplicate="create")
    assert (report.created, report.updated, report.skipped) == (3, 0, 0)
    assert Contact.objects.filter(email="ann@acme.example").count() == 2


def test_accounts_match_by_domain_then_by_name(org, write_csv):
    by_domain = make_account(org.west_rep, name="Acme Corp", domain="acme.example")
    by_name = make_account(org.west_rep, name="Globex", domain="")
    path = write_csv([["Name", "Website", "Industry"],
                      ["ACME Incorporated", "https://www.acme.example/about", "Rockets"],
                      ["globex", "", "Energy"],
                      ["Initech", "initech.example", "Software"]])
    report = import_path(path, by=org.west_rep, resource="account", on_duplicate="update")
    assert (report.created, report.updated) == (1, 2)
    by_domain.refresh_from_db()
    by_name.refresh_from_db()
    assert (by_domain.industry, by_name.industry) == ("Rockets", "Energy")
    assert Account.objects.get(name="Initech").domain == "initech.example"


def test_opportunities_resolve_account_stage_and_owner(org, write_csv):
    """A manager imports deals for the team: account by domain or name, stage by name."""
    account = make_account(org.west_rep, name="Acme", domain="acme.example")
    path = write_csv([
        ["Name", "Account", "Stage", "Amount", "Close date", "Owner"],
        ["Rockets", "acme.example", "Closed Won", "12,500.00", "2026-03-31",
         "westrep2@example.com"],
        ["Anvils", "Acme", "", "300", "2026-04-30", ""],
        ["Ghost", "No Such Co", "Qualification", "1", "2026-04-30", ""],
        ["Mystery", "Acme", "Negotiating forever", "1", "2026-04-30", ""],
        ["Late", "Acme", "", "1", "31/04/2026", ""],
    ])
    report = import_path(path, by=org.west_manager, resource="opportunity", dry_run=True)
    assert texts(report) == [
        "Row 4, column 'Account': no account you can see is named 'No Such Co' or has that "
        "domain",
        "Row 5, column 'Stage': pipeline 'New business' has no stage 'Negotiating forever'",
        "Row 6, column 'Close date': '31/04/2026' is not a date (use YYYY-MM-DD)",
    ]
    good = write_csv([["Name", "Account", "Stage", "Amount", "Close date", "Owner"],
                      ["Rockets", "acme.example", "Closed Won", "12,500.00", "2026-03-31",
                       "westrep2@example.com"],
                      ["Anvils", "Acme", "", "300", "2026-04-30", ""]], "good.csv")
    report = import_path(good, by=org.west_manager, resource="opportunity")
    assert report.committed and report.created == 2
    won = Opportunity.objects.get(name="Rockets")
    assert (won.account, won.owner, won.status, won.amount) == (
        account, org.west_rep2, StageKind.WON, Decimal("12500.00"))
    assert won.closed_at is not None and won.stage.name == "Closed won"
    anvils = Opportunity.objects.get(name="Anvils")
    assert anvils.stage.position == 0 and anvils.probability == anvils.stage.probability
    assert OpportunityChange.objects.filter(opportunity__in=[won, anvils]).count() == 2


def test_xlsx_import(org, write_xlsx):
    path = write_xlsx([["Last name", "Email", "Company", "Employees", "Status"],
                       ["Lee", "lee@lead.example", "Lead Co", 25, "Working"],
                       ["Kim", "kim@lead.example", "Kim Co", 12.0, None],
                       [None, None, None, None, None]])
    report = import_path(path, by=org.marketer, resource="lead")
    assert report.committed and (report.rows, report.created) == (2, 2)
    lee = Lead.objects.get(email="lee@lead.example")
    assert (lee.employees, lee.status, lee.owner) == (25, "working", org.marketer)
    assert Lead.objects.get(email="kim@lead.example").employees == 12


def test_rep_cannot_import_records_owned_by_another_teams_rep(org, write_csv):
    path = write_csv([["Last name", "Owner"], ["Mine", "westrep"], ["Theirs", "eastrep"]])
    report = import_path(path, by=org.west_rep, resource="contact")
    assert texts(report) == ["Row 3, column 'Owner': you cannot assign records to 'eastrep'"]
    assert not Contact.objects.exists()
    # Their manager may assign within the team.
    report = import_path(write_csv([["Last name", "Owner"], ["Ok", "westrep2"]]),
                         by=org.west_manager, resource="contact")
    assert report.committed


def test_a_duplicate_the_importer_cannot_see_is_not_revealed_nor_changed(org, write_csv):
    hidden = make_contact(org.east_rep, email="secret@east.example", title="Keep")
    path = write_csv([["Last name", "Email", "Title"], ["X", "secret@east.example", "Changed"]])
    report = import_path(path, by=org.west_rep, resource="contact", on_duplicate="update")
    # The hidden contact does not exist for the rep: his row is a new contact of his own.
    assert texts(report) == [] and report.created == 1
    hidden.refresh_from_db()
    assert hidden.title == "Keep"


def test_executive_and_marketing_cannot_import_what_they_may_not_create(org, write_csv):
    path = write_csv([["Name"], ["Acme"]])
    with pytest.raises(PermissionDenied):
        import_path(path, by=org.executive, resource="account")
    with pytest.raises(PermissionDenied):
        import_path(path, by=org.marketer, resource="account")
    assert not Account.objects.exists()


def test_mapping_must_cover_required_fields_and_use_each_field_once(org, write_csv):
    path = write_csv([["Email", "Mail"], ["a@example.com", "b@example.com"]])
    with pytest.raises(ValidationError) as caught:
        import_path(path, by=org.west_rep, resource="contact",
                    overrides={"Mail": "email"})
    assert caught.value.message_dict == {
        "Mail": ["Field 'email' is already filled by column 'Email'."],
        "last_name": ["Map a column to the required field 'Last name'."]}


@pytest.mark.parametrize(("field", "text", "reason"), [
    ("email", "a@b", "'a@b' is not a valid email address"),
    ("do_not_contact", "maybe", "'maybe' is not yes or no"),
    ("buying_role", "boss", "'boss' is not one of: decision_maker, economic_buyer, "
                            "influencer, champion, user, gatekeeper, other"),
    ("phone", "1" * 41, "is longer than 40 characters"),
])
def test_cell_checks_match_the_model_constraints(org, write_csv, field, text, reason):
    path = write_csv([["Last name", "X"], ["Doe", text]])
    report = import_path(path, by=org.west_rep, resource="contact", dry_run=True,
                         overrides={"X": field})
    assert texts(report) == [f"Row 2, column 'X': {reason}"]


def test_choices_accept_labels_and_yes_no_words(org, write_csv):
    path = write_csv([["Last name", "Buying role", "Do not contact"],
                      ["Doe", "Decision maker", "Yes"]])
    import_path(path, by=org.west_rep, resource="contact")
    contact = Contact.objects.get()
    assert (contact.buying_role, contact.do_not_contact) == ("decision_maker", True)


@pytest.mark.parametrize("parts", [("Doe", "Jane"), ("  Doe ", ""), ("", " Jane"), (None, None),
                                   ("A" * 150, "B" * 150), ("Ünïcode", "ÉCOLE")])
def test_fast_search_key_matches_the_models(parts):
    from salesplan.customers.models import search_key
    from salesplan.imports.importer import fast_search_key

    assert fast_search_key(*parts) == search_key(*parts)


def test_converted_leads_are_not_updated_by_an_import(org, write_csv):
    from tests.factories import make_lead

    lead = make_lead(org.marketer, email="won@lead.example", status="converted", title="Old")
    path = write_csv([["Last name", "Email", "Title"], ["Won", "won@lead.example", "New"]])
    report = import_path(path, by=org.marketer, resource="lead", on_duplicate="update")
    assert texts(report) == [f"Row 2, column 'Email': matches lead #{lead.pk}, which has been "
                             "converted and cannot change"]
    lead.refresh_from_db()
    assert lead.title == "Old"


def test_good_rows_imported_and_bad_rows_left_out_when_chosen(org, write_csv):
    rows = [["Last name", "Email", "First name"],
            ["Good", "good@example.com", "Zoë"],
            ["", "not-an-email", "Twice wrong"],
            ["Also good", "also@example.com", "Émile"],
            ["Bad", "still-not-an-email", "Once"]]
    report = import_path(write_csv(rows), by=org.west_rep, resource="contact",
                         skip_bad_rows=True)
    assert report.committed and report.created == 2
    # Three problems on two rows: the summary counts rows.
    assert (report.error_count, report.bad_rows) == (3, 2)
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Zoë", "Émile"]
    assert [(n, cells) for n, cells, _ in report.bad_row_cells] == [
        (3, ["", "not-an-email", "Twice wrong"]), (5, ["Bad", "still-not-an-email", "Once"])]
    assert report.bad_row_cells[0][2] == (
        "Last name: a value is required; "
        "Email: 'not-an-email' is not a valid email address")


def test_skipping_bad_rows_still_writes_nothing_on_a_dry_run(org, write_csv):
    rows = [["Last name", "Email"], ["Good", "good@example.com"], ["Bad", "nope"]]
    report = import_path(write_csv(rows), by=org.west_rep, resource="contact",
                         skip_bad_rows=True, dry_run=True)
    assert (report.created, report.bad_rows, report.committed) == (1, 1, False)
    assert not Contact.objects.exists() and not AuditEntry.objects.exists()
