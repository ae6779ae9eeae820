"""The emergency trigger (≥ 30 people or an escalation signal) and its workflow."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from earlywarn import cases, emergencies
from earlywarn import warnings as wsvc
from earlywarn.orgs import seed_org_tree
from earlywarn.tables import Emergency, EmergencyEvent, Reminder, Report, RiskWarning
from tests.test_warnings import projects  # noqa: F401  (fixture)


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


# ------------------------------------------------------------------------------------------ from a warning

ESCALATION = {"id": "reports.escalation_signal", "title": "出现激化信号", "level": "red", "legal_basis": []}
COLLECTIVE = {"id": "reports.collective_emergency", "title": "群体性事件风险（30 人以上）", "level": "red",
              "legal_basis": []}


def test_warning_trigger_reads_the_rules_in_the_reasons():
    assert emergencies.warning_trigger({"rules": [ESCALATION]}) == ("escalation", ["出现激化信号"])
    assert emergencies.warning_trigger({"rules": [COLLECTIVE]}) == ("people", ["群体性事件风险（30 人以上）"])
    both = emergencies.warning_trigger({"rules": [COLLECTIVE, ESCALATION]})
    assert both == ("escalation", ["群体性事件风险（30 人以上）", "出现激化信号"])
    other = {"id": "reports.collective_dispute", "title": "集体争议"}
    for reasons in (None, {}, {"rules": []}, {"rules": [other]}, {"rules": ["reports.escalation_signal"]}):
        assert emergencies.warning_trigger(reasons) is None


def _score(session, project, level, *rules):
    wsvc.apply_scores(session=session, scores=[wsvc.ProjectScore(project.id, 0.9, level, {
        "summary": "工人聚集讨薪", "rules": list(rules)})], as_of=date(2026, 3, 2))
    session.expire_all()
    return session.exec(select(RiskWarning).where(RiskWarning.project_id == project.id)
                        .order_by(RiskWarning.id.desc())).first()


def test_scoring_an_escalation_starts_one_emergency_per_warning(session, projects, make_user):  # noqa: F811
    leader, mediator, ps = make_user("leader"), make_user("mediator"), projects
    calm = _score(session, ps["P2"], "orange")
    warning = _score(session, ps["P1"], "red", ESCALATION)
    [em] = session.exec(select(Emergency)).all()
    assert (em.warning_id, em.case_id, em.trigger) == (warning.id, None, "escalation")
    assert em.reason == "评分触发：出现激化信号"
    [note] = session.exec(select(Reminder).where(Reminder.key == f"emergency:{em.id}")).all()
    assert note.user_id == leader.id and note.link == f"/emergencies/{em.id}"
    assert calm.id != warning.id
    _score(session, ps["P1"], "red", ESCALATION)  # re-scored: the same warning, the same emergency
    assert len(session.exec(select(Emergency)).all()) == 1
    for item in emergencies.CHECKLIST:
        if item not in em.checklist and item != "police":
            emergencies.tick(session=session, emergency=em, item=item, actor=leader)
    emergencies.close_emergency(session=session, emergency=em, note="已平息", actor=leader)
    _score(session, ps["P1"], "red", ESCALATION)
    assert len(session.exec(select(Emergency)).all()) == 1  # closed stays closed for this warning

    # A collective report of 35 people on another project: the people trigger, with the count from the report.
    r = Report(uid="c35", received_at=datetime(2026, 3, 1, 2, tzinfo=UTC), township="梅溪镇", text="35 人讨薪",
               project_id=ps["P3"].id, workers_involved=35, collective=True)
    session.add(r)
    session.commit()
    crowd = _score(session, ps["P3"], "red", COLLECTIVE)
    em2 = session.exec(select(Emergency).where(Emergency.warning_id == crowd.id)).one()
    assert (em2.trigger, em2.people) == ("people", 35) and "报告涉及 35 人" in em2.reason
    # A case opened from that warning takes the warning's emergency instead of starting a second one.
    case = wsvc.open_case_from_warning(session=session, warning=crowd, actor=mediator)
    session.expire_all()
    assert session.get(Emergency, em2.id).case_id == case.id
    assert len(session.exec(select(Emergency)).all()) == 2


def test_the_warning_page_starts_the_emergency_by_hand_once(client, session, projects, make_user):  # noqa: F811
    from tests.conftest import csrf_of, login

    make_user("leader")
    assert login(client, "u_leader").status_code == 303
    auto = _score(session, projects["P1"], "red", ESCALATION)
    page = client.get(f"/warnings/{auto.id}").text
    em = session.exec(select(Emergency).where(Emergency.warning_id == auto.id)).one()
    assert f'href="/emergencies/{em.id}"' in page and "应急处置进行中" in page and "启动应急处置" not in page

    warning = _score(session, projects["P2"], "orange")
    page = client.get(f"/warnings/{warning.id}").text
    assert "启动应急处置" in page and "达到应急处置条件" not in page
    path = f"/warnings/{warning.id}/emergency"
    for data, message in (({"people": "12", "reason": "工人聚集"}, "涉及 30 人以上，或出现激化信号"),
                          ({"people": "三十", "reason": "工人聚集"}, "涉及人数应为整数"),
                          ({"people": "40", "reason": ""}, "请写明启动理由")):
        r = client.post(path, data={"csrf_token": csrf_of(client, f"/warnings/{warning.id}"), **data},
                        follow_redirects=False)
        assert r.status_code == 400 and message in r.text
    assert session.exec(select(Emergency).where(Emergency.warning_id == warning.id)).all() == []
    for _ in range(2):
        r = client.post(path, data={"csrf_token": csrf_of(client, f"/warnings/{warning.id}"), "people": "40",
                                    "reason": "40 名工人在项目部聚集讨薪"}, follow_redirects=False)
        assert r.status_code == 303
    session.commit()  # a fresh snapshot: the app wrote in its own transaction
    [em] = session.exec(select(Emergency).where(Emergency.warning_id == warning.id)).all()
    assert r.headers["location"] == f"/emergencies/{em.id}" and (em.trigger, em.people) == ("people", 40)
    assert client.get(f"/api/warnings/{warning.id}").json()["emergency"]["id"] == em.id
