"""The emergency trigger (≥ 30 people or an escalation signal) and its workflow."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from earlywarn import cases, emergencies
from earlywarn.orgs import seed_org_tree
from earlywarn.tables import Emergency, EmergencyEvent, Reminder, Report


@pytest.mark.parametrize("people, escalation, expected", [
    (None, False, None), (29, False, None), (30, False, "people"), (5, True, "escalation"), (None, True, "escalation"),
])
def test_trigger(people, escalation, expected):
    assert emergencies.trigger_of(people=people, escalation=escalation) == expected


def _report(session, text, escalation=False, workers=None) -> int:
    r = Report(uid=text, received_at=datetime(2026, 3, 2, 2, tzinfo=UTC), township="梅溪镇", text=text,
               escalation=escalation, workers_involved=workers)
    session.add(r)
    session.commit()
    return r.id


def test_a_report_with_an_escalation_signal_starts_the_workflow_once(session, settings, make_user):
    seed_org_tree(session=session, path=settings.reference_file)
    mediator, leader, _ = make_user("mediator"), make_user("leader"), make_user("leader", "u_leader2")
    calm = _report(session, "工资拖了两个月", workers=8)
    case = cases.open_case(session=session, source="reports", title="欠薪", summary="八名工人工资未发",
                           report_ids=[calm], actor=mediator)
    assert session.exec(select(Emergency)).all() == []
    hot = _report(session, "工人说要爬塔吊", escalation=True)
    from earlywarn.case_timeline import link_report

    link_report(session=session, case=case, report_id=hot, actor=mediator)
    em = session.exec(select(Emergency)).one()
    assert (em.trigger, em.case_id, em.status) == ("escalation", case.id, "open")
    assert len(session.exec(select(Reminder).where(Reminder.key == f"emergency:{em.id}")).all()) == 2
    assert emergencies.check_emergency(session=session, case=case, actor=mediator) is None  # one at a time
    with pytest.raises(emergencies.EmergencyError, match="清单尚未完成"):
        emergencies.close_emergency(session=session, emergency=em, note="平息", actor=leader)
    for item in emergencies.CHECKLIST:
        if item not in ("leaders", "police"):
            emergencies.tick(session=session, emergency=em, item=item, actor=leader)
    with pytest.raises(emergencies.EmergencyError, match="该项已完成"):
        emergencies.tick(session=session, emergency=em, item="on_site", actor=leader)
    emergencies.close_emergency(session=session, emergency=em, note="工资已到位，人员散去", actor=leader)
    assert em.status == "closed"
    bodies = [e.body for e in session.exec(select(EmergencyEvent).order_by(EmergencyEvent.id))]
    assert bodies[0].startswith("启动应急处置") and bodies[-1] == "结束应急处置：工资已到位，人员散去"
