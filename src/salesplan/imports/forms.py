"""Forms for the import pages; the mapping form is built from the file's own columns."""

from django import forms

from salesplan.pipeline.models import Pipeline

from .columns import COLUMNS
from .importer import DUPLICATE_POLICIES
from .models import RESOURCE_CHOICES

POLICY_CHOICES = [("skip", "Skip the row (keep the existing record)"),
                  ("update", "Update the existing record"),
                  ("create", "Create another record anyway")]
assert [p for p, _ in POLICY_CHOICES] == list(DUPLICATE_POLICIES)  # noqa: S101


class UploadForm(forms.Form):
    resource = forms.ChoiceField(label="What are you importing?", choices=RESOURCE_CHOICES)
    file = forms.FileField(label="CSV or Excel (.xlsx) file",
                           help_text="The first row must hold the column names.")


class MappingForm(forms.Form):
    """One choice per file column (the field it fills, or nothing), plus the policy."""

    on_duplicate = forms.ChoiceField(label="When a row matches an existing record",
                                      choices=POLICY_CHOICES, initial="skip",
                                      widget=forms.RadioSelect)
    skip_bad_rows = forms.BooleanField(
        label="Import the good rows and leave the bad ones out", required=False,
        help_text="Otherwise nothing is imported while any row is bad. The rows left out "
                  "come back as a file to fix and import again.")

    def __init__(self, *args, resource: str, headers: list[str], initial_mapping: list[str],
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = [("", "— don't import —")] + [
            (name, column.label + (" (required)" if column.required else ""))
            for name, column in COLUMNS[resource].items()]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or f"Column {index + 1}", choices=choices, required=False,
                initial=initial_mapping[index] if index < len(initial_mapping) else "")
        if resource == "opportunity":
            self.fields["pipeline"] = forms.ModelChoiceField(
                Pipeline.objects.filter(active=True), required=False,
                help_text="Stages in the file are looked up in this pipeline.")

    def column_fields(self):
        return [self[f"col_{i}"] for i in range(len(self.headers))]

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"col_{i}", "") for i in range(len(self.headers))]

    def pipeline_id(self) -> int | None:
        pipeline = self.cleaned_data.get("pipeline")
        return pipeline.pk if pipeline else None
