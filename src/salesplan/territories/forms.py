"""Forms of the territory pages. They collect and type-check input; every save goes
through territories.services, whose refusals come back next to the field they name."""

from datetime import timedelta
from decimal import Decimal

from django import forms

from salesplan.core.clock import company_today
from salesplan.customers.models import Account
from salesplan.engines.territory_rules import FIELD_LABELS, FIELD_OPS, parse_condition
from salesplan.org.models import Role, User
from salesplan.ui.forms import LookupField, OwnerField

from .models import (
    Alignment,
    GoalFormula,
    MemberRole,
    Realignment,
    RuleCombine,
    Territory,
    TerritoryType,
)

OP_CHOICES = [("in", "is one of"), ("prefix", "starts with"), ("range", "in the range"),
              ("between", "between (band)")]
RULE_ROWS = 4  # empty condition rows offered below the rule's own


class AlignmentForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    copy_from = forms.ModelChoiceField(
        queryset=Alignment.objects.all(), required=False, empty_label="Start empty",
        help_text="Copy the hierarchy, rules, named accounts and members of this alignment.")


class ActivateForm(forms.Form):
    ownership = forms.ChoiceField(choices=Realignment.Ownership.choices,
                                  widget=forms.RadioSelect, initial=Realignment.Ownership.STAY,
                                  label="Accounts and open deals that move")


class TerritoryForm(forms.Form):
    name = forms.CharField(max_length=120)
    parent = forms.ModelChoiceField(queryset=Territory.objects.none(), required=False,
                                    empty_label="(top level)")
    type = forms.ChoiceField(choices=TerritoryType.choices, initial=TerritoryType.GEOGRAPHIC)
    priority = forms.IntegerField(initial=0, help_text="Higher wins when territories overlap.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    area_sq_km = forms.DecimalField(max_digits=12, decimal_places=1, required=False,
                                    label="Area (km²)", min_value=0)

    def __init__(self, *args, alignment: Alignment, territory: Territory | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        parents = Territory.objects.filter(alignment=alignment).order_by("name")
        if territory is not None:
            parents = parents.exclude(pk=territory.pk)
        self.fields["parent"].queryset = parents  # type: ignore[attr-defined]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["parent"] = data["parent"].pk if data.get("parent") else None
        return data


def _values(op: str, text: str) -> list:
    """What the manager typed, as the values the rule engine reads."""
    text = text.strip()
    if op == "range" and "," not in text:
        return [text]  # the engine splits "low-high" and says what is wrong with it
    if op == "between":
        low, _, high = text.partition("," if "," in text else "-")
        return [low.strip(), high.strip()]
    return [part.strip() for part in text.split(",")]


class RuleForm(forms.Form):
    """A boundary rule: how its conditions combine, and one row per condition
    (field, operator, values). Each row's problem is shown next to its values."""

    combine = forms.ChoiceField(choices=RuleCombine.choices, initial=RuleCombine.ALL,
                                label="Accounts must match")

    def __init__(self, *args, conditions: list | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        conditions = list(conditions or [])
        self.row_count = len(conditions) + RULE_ROWS
        fields = [("", "—")] + [(f, FIELD_LABELS[f].capitalize()) for f in FIELD_OPS]
        for i in range(self.row_count):
            existing = conditions[i] if i < len(conditions) else {}
            self.fields[f"field_{i}"] = forms.ChoiceField(
                choices=fields, required=False, label=f"Condition {i + 1}: field",
                initial=existing.get("field", ""))
            self.fields[f"op_{i}"] = forms.ChoiceField(
                choices=OP_CHOICES, required=False, label="operator",
                initial=existing.get("op", "in"))
            self.fields[f"values_{i}"] = forms.CharField(
                required=False, label="values", initial=self._text(existing),
                help_text="Comma-separated; a range or band as low-high, e.g. 94000-94999.")

    @staticmethod
    def _text(condition: dict) -> str:
        values = [("" if v is None else str(v)) for v in condition.get("values", [])]
        if condition.get("op") in ("range", "between"):
            return "-".join(values)
        return ", ".join(values)

    def rows(self):
        return [(self[f"field_{i}"], self[f"op_{i}"], self[f"values_{i}"])
                for i in range(self.row_count)]

    def clean(self):
        cleaned = super().clean() or self.cleaned_data
        conditions = []
        for i in range(self.row_count):
            field = cleaned.get(f"field_{i}")
            if not field:
                continue
            op = cleaned.get(f"op_{i}") or "in"
            raw = {"field": field, "op": op, "values": _values(op, cleaned.get(f"values_{i}", ""))}
            _, problems = parse_condition(raw)
            for _, message in problems:
                self.add_error(f"values_{i}", message)
            conditions.append(raw)
        if not conditions and not self.errors:
            self.add_error("field_0", "A rule needs at least one condition.")
        cleaned["conditions"] = conditions
        return cleaned


class MemberForm(forms.Form):
    user = OwnerField(queryset=User.objects.none(), label="Person")
    role = forms.ChoiceField(choices=MemberRole.choices, initial=MemberRole.OWNER)
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}),
                                 required=False, help_text="Default: today.")
    end_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            is_active=True, role__in=[Role.REP, Role.MANAGER, Role.ADMIN]
        ).order_by("first_name", "last_name", "username")


class ExceptionForm(forms.Form):
    account = LookupField("accounts", model=Account)
    reason = forms.CharField(max_length=500)
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].user = user  # type: ignore[attr-defined]
        self.fields["until"].initial = company_today() + timedelta(days=90)


class NamedAccountForm(forms.Form):
    account = LookupField("accounts", model=Account)
    include = forms.TypedChoiceField(
        choices=[("1", "Include in this territory"), ("0", "Keep out of this territory")],
        coerce=lambda v: v == "1", initial="1", label="Named account")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].user = user  # type: ignore[attr-defined]


class GoalForm(forms.Form):
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    formula = forms.ChoiceField(choices=[c for c in GoalFormula.choices
                                         if c[0] != GoalFormula.MANUAL],
                                initial=GoalFormula.PRIOR_BOOKINGS)
    total = forms.DecimalField(max_digits=14, decimal_places=2, required=False, min_value=0,
                               help_text="The territory's goal; empty: the sum of the "
                                         "formula's numbers (needed for share of potential).")
    growth = forms.DecimalField(max_digits=6, decimal_places=3, required=False, initial=0,
                                help_text="For prior bookings: 0.1 means +10%.")
    calls_per_day = forms.IntegerField(min_value=1, max_value=100, initial=6, required=False,
                                       help_text="For capacity × conversion: calls or "
                                                 "meetings a member can make per selling day.")
    mix_potential = forms.DecimalField(min_value=0, required=False, label="Mix: potential",
                                       decimal_places=2)
    mix_prior = forms.DecimalField(min_value=0, required=False, label="Mix: prior bookings",
                                   decimal_places=2)
    mix_per_day = forms.DecimalField(min_value=0, required=False,
                                     label="Mix: sales per day", decimal_places=2)
    mix_capacity = forms.DecimalField(min_value=0, required=False,
                                      label="Mix: capacity × conversion", decimal_places=2)
    mix_workload = forms.DecimalField(min_value=0, required=False,
                                      label="Mix: workload days", decimal_places=2,
                                      help_text="Weights of the weighted mix.")

    MIX_FIELDS = {"mix_potential": GoalFormula.SHARE_OF_POTENTIAL,
                  "mix_prior": GoalFormula.PRIOR_BOOKINGS,
                  "mix_per_day": GoalFormula.SALES_PER_DAY,
                  "mix_capacity": GoalFormula.CAPACITY_CONVERSION,
                  "mix_workload": GoalFormula.WORKLOAD_DAYS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = company_today()
        self.fields["period_start"].initial = today
        self.fields["period_end"].initial = today + timedelta(days=364)

    def mix(self) -> dict[str, Decimal]:
        return {formula: self.cleaned_data[name] for name, formula in self.MIX_FIELDS.items()
                if self.cleaned_data.get(name)}

    def problems(self) -> str:
        """The form's errors, each after the label of its field."""
        return " ".join(f"{self[name].label}: {' '.join(map(str, errors))}"
                        if name in self.fields else " ".join(map(str, errors))
                        for name, errors in self.errors.items())


class OptimiseForm(forms.Form):
    """What the territory optimiser should balance, and how hard it may try."""

    parent = forms.ModelChoiceField(
        queryset=Territory.objects.none(), required=False, empty_label="—",
        help_text="Rebalance the children of this territory.")
    territories = forms.ModelMultipleChoiceField(
        queryset=Territory.objects.none(), required=False,
        help_text="Or choose territories (of one type, without sub-territories). Leave both "
                  "empty for every geographic territory without sub-territories.")
    unit = forms.ChoiceField(choices=[("account", "Accounts"), ("zip", "ZIP codes")],
                             initial="account", label="Move",
                             help_text="ZIP codes keep each ZIP's accounts together.")
    measures = forms.MultipleChoiceField(
        choices=[("accounts", "Number of accounts"), ("potential", "Potential"),
                 ("pipeline", "Open pipeline"),
                 ("workload", "Workload (activities in the last year)"),
                 ("visit_days", "Workload in visit days a month (field visits)")],
        initial=["accounts"], widget=forms.CheckboxSelectMultiple, label="Balance")
    tau = forms.DecimalField(min_value=0.1, max_value=99, initial=5, decimal_places=1,
                             label="Tolerance (± % of the mean)")
    objective = forms.ChoiceField(
        choices=[("squared", "Compact (squared distance)"), ("distance", "Plain distance")],
        initial="squared")
    locked = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Keep in place",
        help_text="Account ids (or ZIP codes when moving ZIP codes), separated by spaces or "
                  "commas.")
    keep_share = forms.DecimalField(min_value=0, max_value=100, required=False,
                                    label="Keep at least (% of the first measure)")
    move_penalty = forms.FloatField(min_value=0, required=False, initial=0,
                                    help_text="Added cost per unit of the first measure "
                                              "that moves; higher keeps more in place.")
    time_limit = forms.IntegerField(min_value=1, max_value=600, initial=30,
                                    label="Time limit (seconds)")
    contiguous = forms.BooleanField(
        required=False, label="Keep each territory in one piece",
        help_text="Neighbouring units come from a triangulation of their points: no unit "
                  "lies between two neighbours.")
    name = forms.CharField(max_length=120, required=False, label="Name of the new draft")

    def __init__(self, *args, alignment: Alignment, **kwargs):
        super().__init__(*args, **kwargs)
        territories = Territory.objects.filter(alignment=alignment).order_by("name")
        parent = self.fields["parent"]
        chosen = self.fields["territories"]
        assert isinstance(parent, forms.ModelChoiceField)  # noqa: S101 - declared above
        assert isinstance(chosen, forms.ModelMultipleChoiceField)  # noqa: S101
        parent.queryset = territories.filter(children__isnull=False).distinct()
        chosen.queryset = territories.filter(children__isnull=True)


def optimise_initial(options: dict, *, tau_pct: float | None = None) -> dict:
    """The optimiser form filled in as an earlier run asked (to try again after a
    refusal), optionally with a wider tolerance in per cent."""
    keep = options.get("min_keep_share")
    tau = tau_pct if tau_pct is not None else round(100 * float(options.get("tau", 0.05)), 1)
    return {
        "territories": list(options.get("territory_ids", [])),
        "unit": options.get("unit", "account"),
        "measures": list(options.get("measures", ["accounts"])),
        "tau": tau,
        "objective": options.get("objective", "squared"),
        "locked": " ".join(options.get("locked", [])),
        "keep_share": None if keep is None else round(100 * float(keep), 1),
        "move_penalty": options.get("move_penalty") or 0,
        "time_limit": int(options.get("time_limit", 30)),
        "contiguous": bool(options.get("contiguous")),
        "name": options.get("name", ""),
    }
