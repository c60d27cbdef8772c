"""A closed period's pay for payroll, one row per rep, as CSV or as an XLSX workbook.

Both files hold the same rows from `payroll_rows`. In the workbook money cells are
numbers with two decimals (the currency in its own column), so payroll can add them up
without reading text."""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from salesplan.core.permissions import require
from salesplan.core.spreadsheet import formula_safe, write_xlsx

from .models import CompPeriod, CompStatement

PAYROLL_COLUMNS = ("Employee email", "Name", "Period", "Currency", "Earned", "Commission",
                   "Bonuses", "SPIFFs", "Clawbacks", "Adjustments", "Draw", "Paid",
                   "Draw balance")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class PayrollRow:
    """One rep's pay in a closed period: who, in which currency, and the money columns."""

    email: str
    name: str
    period: str
    currency: str
    amounts: tuple[Decimal, ...]

    def cells(self) -> list[str | Decimal]:
        return [self.email, self.name, self.period, self.currency, *self.amounts]


def _sums_by_kind(statement: CompStatement) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = {}
    for line in statement.lines.all():
        sums[line.kind] = sums.get(line.kind, Decimal(0)) + line.amount
    return sums


def _row(statement: CompStatement, period: CompPeriod) -> PayrollRow:
    sums = _sums_by_kind(statement)

    def of(*kinds: str) -> Decimal:
        return sum((sums.get(kind, Decimal(0)) for kind in kinds), Decimal(0))

    rep = statement.rep
    amounts = (statement.earned, of("commission", "cap"), of("bonus", "new_logo", "mbo"),
               of("spiff"), of("clawback"), of("adjustment"), of("draw", "draw_recovery"),
               statement.paid, statement.draw_balance)
    return PayrollRow(rep.email, rep.get_full_name() or rep.username, period.name,
                      statement.currency,
                      tuple(Decimal(a).quantize(Decimal("0.01")) for a in amounts))


def payroll_rows(user, period: CompPeriod) -> list[PayrollRow]:
    """The closed period's pay, one row per rep (admins only)."""
    require(user, "comp_period", "manage", period)
    if not period.is_closed:
        raise ValidationError({"period": "Close the period before exporting it to payroll."})
    statements = (CompStatement.objects.filter(period=period).select_related("rep")
                  .prefetch_related("lines").order_by("rep__last_name", "rep_id"))
    return [_row(statement, period) for statement in statements]


def payroll_csv(user, period: CompPeriod) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PAYROLL_COLUMNS)
    for row in payroll_rows(user, period):
        writer.writerow([formula_safe(str(c)) for c in row.cells()])
    return out.getvalue()


def payroll_xlsx(user, period: CompPeriod) -> bytes:
    """The same rows as the CSV in one sheet: a header row, then a row per rep."""
    text_columns = 4
    return write_xlsx("Payroll", PAYROLL_COLUMNS, (
        [formula_safe(text) for text in (row.email, row.name, row.period, row.currency)]
        + list(row.amounts) for row in payroll_rows(user, period)),
        formats=[None] * text_columns + [MONEY_FORMAT] * (len(PAYROLL_COLUMNS) - text_columns))


def filename(period: CompPeriod, extension: str) -> str:
    return f"payroll-{period.starts}.{extension}"
