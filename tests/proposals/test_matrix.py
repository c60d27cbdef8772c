"""The discount approval matrix: which approvals a quote's lines need, in which order, and
why; and who may change the matrix."""

from dataclasses import dataclass
from decimal import Decimal as D

from salesplan.proposals.approvals import RuleView, active_rules, required_approvals
from salesplan.proposals.models import ApprovalRule

from ..api.conftest import assert_problem

# The matrix a new installation starts with (migration 0002).
DEFAULT = [
    RuleView(1, "Discount above 10%", "discount", D(10), "manager", 1),
    RuleView(2, "Discount above 20%", "discount", D(20), "director", 2),
    RuleView(3, "Below floor or minimum margin", "floor", D(0), "manager", 1),
]


@dataclass
class Line:
    sku: str
    requested_discount_pct: D
    margin_pct: D | None = D(40)
    below_floor: bool = False
    below_min_margin: bool = False


def test_rep_limit_needs_nothing_and_exactly_ten_percent_is_within_it():
    assert required_approvals([Line("A", D(0)), Line("B", D("10.00"))], DEFAULT) == []


def test_over_ten_needs_the_manager_over_twenty_the_director_after_the_manager():
    needed = required_approvals([Line("A", D("10.01"))], DEFAULT)
    assert [(n.step, n.approver) for n in needed] == [(1, "manager")]
    assert needed[0].reasons[0]["lines"] == [
        {"line": 1, "sku": "A", "why": "extra discount 10.01%"}]

    needed = required_approvals([Line("A", D(5)), Line("B", D(25))], DEFAULT)
    assert [(n.step, n.approver) for n in needed] == [(1, "manager"), (2, "director")]
    assert needed[1].reasons[0]["rule"] == "Discount above 20%"
    assert needed[1].reasons[0]["lines"][0]["line"] == 2


def test_a_line_under_its_floor_needs_approval_even_without_a_discount_rule_tripping():
    needed = required_approvals([Line("A", D(0), below_floor=True),
                                 Line("B", D(0), below_min_margin=True)], DEFAULT)
    assert [(n.step, n.approver) for n in needed] == [(1, "manager")]
    reason = needed[0].reasons[0]
    assert reason["line_count"] == 2
    assert [entry["why"] for entry in reason["lines"]] == [
        "below its floor price", "below its minimum margin"]


def test_rules_of_one_step_and_approver_make_one_approval_with_every_reason():
    rules = [*DEFAULT, RuleView(4, "Margin under 15%", "margin", D(15), "manager", 1)]
    needed = required_approvals([Line("A", D(12), margin_pct=D(9), below_floor=True)], rules)
    assert len(needed) == 1
    assert sorted(r["rule"] for r in needed[0].reasons) == [
        "Below floor or minimum margin", "Discount above 10%", "Margin under 15%"]


def test_a_line_without_margin_does_not_trip_a_margin_rule():
    rules = [RuleView(4, "Margin under 15%", "margin", D(15), "admin", 1)]
    assert required_approvals([Line("A", D(0), margin_pct=None)], rules) == []


def test_the_default_matrix_is_installed(db):
    assert sorted((r.metric, r.threshold_pct, r.approver, r.step) for r in active_rules()) == [
        ("discount", D("10.00"), "manager", 1), ("discount", D("20.00"), "director", 2),
        ("floor", D("0.00"), "manager", 1)]


def test_only_admins_edit_the_matrix_over_the_api(org, api_as):
    before = list(ApprovalRule.objects.values_list("id", "threshold_pct"))
    rule_id = before[0][0]
    for user in (org.west_rep, org.west_manager, org.executive):
        caller = api_as(user)
        assert len(caller.get("/quotes/approval-rules").data) == 3
        assert_problem(caller.post("/quotes/approval-rules", {
            "name": "Mine", "metric": "discount", "threshold_pct": "50",
            "approver": "manager"}), 403)
        assert_problem(caller.patch(f"/quotes/approval-rules/{rule_id}",
                                    {"threshold_pct": "90", "version": 1}), 403)
        assert_problem(caller.delete(f"/quotes/approval-rules/{rule_id}?version=1"), 403)
    assert list(ApprovalRule.objects.values_list("id", "threshold_pct")) == before

    admin = api_as(org.admin)
    created = admin.post("/quotes/approval-rules", {
        "name": "Margin under 15%", "metric": "margin", "threshold_pct": "15",
        "approver": "admin", "step": 3})
    assert created.status_code == 201, created.data
    assert_problem(admin.post("/quotes/approval-rules", {
        "name": "Bad", "metric": "discount", "threshold_pct": "150", "approver": "manager"}),
        422, "threshold_pct")
    changed = admin.patch(f"/quotes/approval-rules/{rule_id}",
                          {"threshold_pct": "12.5", "version": 1})
    assert changed.data["threshold_pct"] == "12.50" and changed.data["version"] == 2
    new_rule = f"/quotes/approval-rules/{created.data['id']}?version={created.data['version']}"
    assert admin.delete(new_rule).status_code == 204
    assert ApprovalRule.objects.count() == 3
    from salesplan.core.audit import history_for

    assert [(e.field, e.new_value) for e in history_for(ApprovalRule.objects.get(pk=rule_id))
            ] == [("threshold_pct", "12.5")]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

lines_strategy = st.lists(st.builds(
    Line, sku=st.sampled_from(["A", "B", "C"]),
    requested_discount_pct=st.decimals(min_value=0, max_value=100, places=2),
    margin_pct=st.one_of(st.none(), st.decimals(min_value=-50, max_value=90, places=2)),
    below_floor=st.booleans(), below_min_margin=st.booleans()), max_size=8)


@settings(deadline=None)  # a busy machine must not fail it
@given(lines=lines_strategy)
def test_every_line_over_a_limit_is_named_and_steps_come_in_order(lines):
    needed = required_approvals(lines, DEFAULT)
    assert [n.step for n in needed] == sorted(n.step for n in needed)
    named = {entry["line"] for n in needed for r in n.reasons for entry in r["lines"]}
    over = {i + 1 for i, line in enumerate(lines)
            if line.requested_discount_pct > 10 or line.below_floor or line.below_min_margin}
    assert named == over
    deep = any(line.requested_discount_pct > 20 for line in lines)
    assert any(n.approver == "director" for n in needed) == deep
