"""The warning lifecycle (earlywarn.warnings) and the triage pages (earlywarn.warning_pages); both backends."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from earlywarn import warnings as svc
from earlywarn.db import make_engine
from earlywarn.orgs import seed_org_tree
from earlywarn.tables import AuditLog, CaseEvent, Company, MediationCase, MediationOrg, Project, RiskWarning
from earlywarn.warnings import ProjectScore, WarningError
from tests.conftest import csrf_of, login

D0 = date(2026, 1, 5)
CASE_NO = re.compile(r"AJ调〔(\d{4})〕(\d{4})号")


@pytest.fixture
def projects(session, settings) -> dict[str, Project]:
    seed_org_tree(session=session, path=settings.reference_file)
    gc = Company(name="安吉建工集团有限公司")
    session.add(gc)
    session.flush()
    out = {}
    for code, township in (("P1", "梅溪镇"), ("P2", "梅溪镇"), ("P3", "递铺街道"), ("P4", "孝丰镇")):
        out[code] = Project(code=f"AJ-{code}", name=f"{code} 安置房工程", township=township,
                            general_contractor_id=gc.id, start_date=date(2025, 3, 1))
        session.add(out[code])
    session.commit()
    return out


def score(p: Project, value: float, level: str | None, **reasons) -> ProjectScore:
    return ProjectScore(p.id, value, level, {"summary": f"{p.code} 3 个月未足额发放", **reasons})


def apply(session, *scores, as_of=D0, **kw):
    return svc.apply_scores(session=session, scores=scores, as_of=as_of, **kw)


def open_of(session, p: Project) -> list[RiskWarning]:
    session.commit()  # a fresh snapshot: the app or another thread may have written
    q = select(RiskWarning).where(RiskWarning.project_id == p.id, RiskWarning.status.in_(svc.OPEN))
    return list(session.exec(q.execution_options(populate_existing=True)))


def actions(session) -> list[str]:
    session.commit()
    return [a for a in session.exec(select(AuditLog.action).order_by(AuditLog.id))]


# ------------------------------------------------------------------------------------------ scoring


def test_one_open_warning_per_project(session, projects):
    p1, p2, p3 = projects["P1"], projects["P2"], projects["P3"]
    r = apply(session, score(p1, 0.9, "red"), score(p2, 0.4, "yellow"), score(p3, 0.05, None))
    assert (r.created, r.updated, r.resolved) == (2, 0, 0)
    r = apply(session, score(p1, 0.9, "red"), score(p2, 0.4, "yellow"), score(p1, 0.91, "red"))
    assert (r.created, r.updated) == (0, 1)  # the last verdict on P1 in a run counts
    assert [len(open_of(session, p)) for p in (p1, p2, p3)] == [1, 1, 0]
    w = open_of(session, p1)[0]
    assert (w.level, w.status, w.score) == ("red", "new", 0.91)
    assert w.reasons["summary"] == "AJ-P1 3 个月未足额发放"
    assert actions(session) == ["warning.apply_scores"] * 2


def test_concurrent_runs_still_make_one_warning(settings, session, projects):
    p1 = projects["P1"]
    engine = make_engine(settings)  # the app's engine: BEGIN IMMEDIATE on SQLite
    barrier, errors = threading.Barrier(2), []

    def run(value):
        try:
            with Session(engine, expire_on_commit=False) as s:
                barrier.wait()
                apply(s, score(p1, value, "orange"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(v,)) for v in (0.6, 0.7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert errors == [] and len(open_of(session, p1)) == 1


def test_history_on_change_only_and_escalation_keeps_status(session, projects):
    p1 = projects["P1"]
    apply(session, score(p1, 0.50, "yellow"))
    apply(session, score(p1, 0.505, "yellow", summary="新的说明"))  # < 0.01: no history, fresh reasons
    w = open_of(session, p1)[0]
    assert len(w.history) == 1 and w.score == 0.5 and w.reasons["summary"] == "新的说明"
    svc.acknowledge_warning(session=session, warning=w, actor=None)
    apply(session, score(p1, 0.62, "orange"), as_of=D0 + timedelta(days=1))
    apply(session, score(p1, 0.81, "red"), as_of=D0 + timedelta(days=2))
    w = open_of(session, p1)[0]
    scores = [(e["level"], e["score"]) for e in w.history if "score" in e]
    assert scores == [("yellow", 0.5), ("orange", 0.62), ("red", 0.81)]
    assert w.status == "acknowledged" and w.reasons["escalated_from"] == "yellow"  # what the mediator saw
    apply(session, score(p1, 0.4, "yellow"), as_of=D0 + timedelta(days=3))
    assert "escalated_from" not in open_of(session, p1)[0].reasons


def test_auto_resolve_after_n_days_below_but_never_a_case(session, projects):
    p1, p2, p3, p4 = (projects[c] for c in ("P1", "P2", "P3", "P4"))
    apply(session, *(score(p, 0.7, "orange") for p in (p1, p2, p3, p4)))
    svc.open_case_from_warning(session=session, warning=open_of(session, p2)[0], actor=None)
    calm = [score(p, 0.05, None) for p in (p1, p2, p3)]
    apply(session, *calm, score(p4, 0.05, None), as_of=D0 + timedelta(days=1))
    apply(session, score(p4, 0.7, "orange"), as_of=D0 + timedelta(days=5))  # back: the count starts again
    apply(session, score(p4, 0.05, None), as_of=D0 + timedelta(days=6))
    assert apply(session, *calm, as_of=D0 + timedelta(days=14)).resolved == 0
    r = apply(session, *calm, score(p4, 0.05, None), as_of=D0 + timedelta(days=15))
    assert r.resolved == 2 and open_of(session, p1) == open_of(session, p3) == []
    assert open_of(session, p2)[0].status == "case_opened" and len(open_of(session, p4)) == 1
    done = session.exec(select(RiskWarning).where(RiskWarning.project_id == p1.id)).one()
    assert done.status == "resolved" and done.closed_at is not None
    assert done.history[-1]["note"] == "风险已消退 14 天，自动解除"
    assert [e["level"] for e in done.history if "score" in e] == ["orange", None]
    apply(session, score(p1, 0.8, "red"), as_of=D0 + timedelta(days=20))  # new risk: a new warning
    again = open_of(session, p1)[0]
    assert again.id != done.id and "after_dismissal" not in again.reasons


def test_new_risk_after_a_dismissal_says_so(session, projects):
    p1 = projects["P1"]
    apply(session, score(p1, 0.7, "orange"))
    first = open_of(session, p1)[0]
    svc.dismiss_warning(session=session, warning=first, reason="已核实工资已发放", actor=None)
    apply(session, score(p1, 0.72, "orange"))
    assert open_of(session, p1)[0].reasons["after_dismissal"] == first.id


# ------------------------------------------------------------------------------------------ transitions


def test_transitions_and_their_refusals(session, projects, make_user):
    mediator = make_user("mediator")
    apply(session, *(score(projects[c], 0.7, "orange") for c in ("P1", "P2", "P3")))
    w1, w2, w3 = (open_of(session, projects[c])[0] for c in ("P1", "P2", "P3"))
    svc.acknowledge_warning(session=session, warning=w1, actor=mediator)
    assert w1.status == "acknowledged" and w1.history[-1]["by"] == mediator.id
    with pytest.raises(WarningError, match="不能确认：该预警已确认"):
        svc.acknowledge_warning(session=session, warning=w1, actor=mediator)
    for bad in ("", "  ", "不对"):
        with pytest.raises(WarningError, match="请填写排除理由") as exc:
            svc.dismiss_warning(session=session, warning=w1, reason=bad, actor=mediator)
        assert exc.value.field == "reason"
    svc.dismiss_warning(session=session, warning=w1, reason=" 重复上报，已核实 ", actor=mediator)
    assert (w1.status, w1.dismiss_reason) == ("dismissed", "重复上报，已核实") and w1.closed_at
    for action in (svc.acknowledge_warning, svc.open_case_from_warning):
        with pytest.raises(WarningError, match="该预警已排除"):
            action(session=session, warning=w1, actor=mediator)
    with pytest.raises(WarningError, match="请填写解除说明"):
        svc.resolve_warning(session=session, warning=w2, note="", actor=mediator)
    svc.resolve_warning(session=session, warning=w2, note="工资已足额发放", actor=mediator)
    assert w2.status == "resolved" and w2.history[-1]["note"] == "工资已足额发放"
    svc.open_case_from_warning(session=session, warning=w3, actor=mediator)
    with pytest.raises(WarningError, match="不能立案：该预警已立案"):
        svc.open_case_from_warning(session=session, warning=w3, actor=mediator)
    assert actions(session)[-4:] == ["warning.acknowledge", "warning.dismiss", "warning.resolve",
                                    "warning.open_case"]


def test_open_case_at_the_township_org_with_increasing_numbers(session, projects, make_user):
    mediator = make_user("mediator")
    p1, p3 = projects["P1"], projects["P3"]
    apply(session, score(p1, 0.9, "red", workers_owed=23, amount_owed_fen=41_400_00), score(p3, 0.5, "yellow"))
    first = svc.open_case_from_warning(session=session, warning=open_of(session, p1)[0], actor=mediator)
    org = session.get(MediationOrg, first.mediation_org_id)
    assert org.name == "梅溪镇劳动争议调解委员会"
    year, no = CASE_NO.fullmatch(first.case_no).groups()
    assert (first.status, first.project_id, first.assignee_id) == ("intake", p1.id, mediator.id)
    assert (first.workers_count, first.amount_claimed_fen, first.is_collective) == (23, 41_400_00, True)
    assert first.title == "P1 安置房工程（AJ-P1）"
    event = session.exec(select(CaseEvent).where(CaseEvent.case_id == first.id)).one()
    assert event.kind == "opened_from_warning" and event.data["warning_id"] == first.warning_id
    session.add(MediationCase(case_no=f"AJ调〔{year}〕0099号", title="手工登记"))
    session.commit()
    second = svc.open_case_from_warning(session=session, warning=open_of(session, p3)[0], actor=None)
    assert second.case_no == f"AJ调〔{year}〕0100号" and no == "0001"
    assert session.get(MediationOrg, second.mediation_org_id).name == "递铺街道劳动争议调解委员会"
    assert second.workers_count is None and not second.is_collective and second.assignee_id is None


# ------------------------------------------------------------------------------------------ the queue


def test_queue_order_filters_and_top_k(session, projects):
    p = projects
    apply(session, score(p["P1"], 0.55, "orange"), score(p["P2"], 0.9, "yellow"), score(p["P3"], 0.7, "orange"),
          score(p["P4"], 0.95, "red"))
    names = lambda rows: [pr.code for _w, pr in rows]  # noqa: E731
    assert names(svc.list_queue(session=session)) == ["AJ-P4", "AJ-P3", "AJ-P1", "AJ-P2"]
    assert names(svc.list_queue(session=session, township="梅溪镇")) == ["AJ-P1", "AJ-P2"]
    assert names(svc.list_queue(session=session, level="orange")) == ["AJ-P3", "AJ-P1"]
    svc.open_case_from_warning(session=session, warning=open_of(session, p["P4"])[0], actor=None)
    svc.dismiss_warning(session=session, warning=open_of(session, p["P1"])[0], reason="误报，已核实", actor=None)
    assert names(svc.list_queue(session=session)) == ["AJ-P4", "AJ-P3", "AJ-P2"]
    assert names(svc.list_queue(session=session, status="dismissed")) == ["AJ-P1"]
    assert len(svc.list_queue(session=session, status="all")) == 4
    assert names(svc.top_k(session=session, capacity=1)) == ["AJ-P3"]  # the case-opened red is not in it
    assert names(svc.top_k(session=session, capacity=5)) == ["AJ-P3", "AJ-P2"]


# ------------------------------------------------------------------------------------------ pages


@pytest.fixture
def warned(session, projects, make_user):
    for role in ("mediator", "leader", "admin", "wage_checker", "informant"):
        make_user(role)
    # The scorer's shapes (earlywarn.scoring): legal_basis a list, factor text naming its push.
    apply(session, score(projects["P1"], 0.9, "red", rules=[{"id": "R-ARREARS-2M", "title": "连续两个月欠薪",
          "legal_basis": ["《保障农民工工资支付条例》第十一条", "《劳动法》第五十条"]}],
          factors=[{"group": "工资", "text": "工资使风险上升 31 个百分点", "contribution": 0.31},
                   {"group": "信息员报告", "contribution": 0.12}]), score(projects["P3"], 0.4, "yellow"))
    return open_of(session, projects["P1"])[0], open_of(session, projects["P3"])[0]


def as_role(client, role: str):
    client.cookies.clear()
    assert login(client, f"u_{role}").status_code == 303
    return csrf_of(client, "/report")


def test_pages_by_role(client, session, projects, warned):
    w1, _w3 = warned
    paths = ("/warnings", f"/warnings/{w1.id}", "/api/warnings", f"/api/warnings/{w1.id}")
    for role in ("wage_checker", "informant"):
        token = as_role(client, role)
        assert [client.get(path).status_code for path in paths] == [403] * 4
        assert client.post(f"/warnings/{w1.id}/acknowledge", data={"csrf_token": token}).status_code == 403
    token = as_role(client, "leader")
    assert [client.get(path).status_code for path in paths] == [200] * 4
    page = client.get("/warnings").text
    assert "本周前 10 个" in page and "/sites/AJ-P1" in page and "90%" in page and "确认</button>" not in page
    for action in ("acknowledge", "case", "dismiss", "resolve"):
        r = client.post(f"/warnings/{w1.id}/{action}", data={"csrf_token": token, "reason": "理由充分", "note": "好"})
        assert r.status_code == 403, action
    assert open_of(session, projects["P1"])[0].status == "new"


def test_mediator_acts_from_the_pages(client, session, warned):
    w1, w3 = warned
    token = as_role(client, "mediator")
    page = client.get("/warnings", params={"township": "梅溪镇"}).text
    assert "P1 安置房工程" in page and "P3 安置房工程" not in page and "确认</button>" in page
    detail = client.get(f"/warnings/{w1.id}").text
    assert "《保障农民工工资支付条例》第十一条；《劳动法》第五十条" in detail
    assert "工资使风险上升 31 个百分点" in detail and "风险 +12 个百分点" in detail
    assert client.post(f"/warnings/{w1.id}/acknowledge", data={}).status_code == 403  # no CSRF token
    r = client.post(f"/warnings/{w1.id}/acknowledge", data={"csrf_token": token, "next": "/warnings?level=red"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/warnings?level=red"
    r = client.post(f"/warnings/{w3.id}/dismiss", data={"csrf_token": token, "reason": "无", "next": "//evil"})
    assert r.status_code == 400 and "请填写排除理由（至少 4 个字）" in r.text
    r = client.post(f"/warnings/{w3.id}/dismiss", follow_redirects=False,
                    data={"csrf_token": token, "reason": "已核实：工资已发", "next": "//x"})
    assert r.headers["location"] == f"/warnings/{w3.id}"
    r = client.post(f"/warnings/{w1.id}/case", data={"csrf_token": token})
    assert r.status_code == 200 and CASE_NO.search(r.text)
    again = client.post(f"/warnings/{w1.id}/case", data={"csrf_token": token})
    assert again.status_code == 409 and "不能立案：该预警已立案" in again.text
    data = client.get("/api/warnings", params={"status": "all"}).json()
    assert [(x["project"]["code"], x["status"]) for x in data["warnings"]] == [("AJ-P1", "case_opened"),
                                                                               ("AJ-P3", "dismissed")]
    one = client.get(f"/api/warnings/{w1.id}").json()
    assert CASE_NO.fullmatch(one["cases"][0]["case_no"]) and one["reasons"]["rules"][0]["id"] == "R-ARREARS-2M"
    assert client.get("/api/warnings/99999").status_code == 404
    assert actions(session)[-3:] == ["warning.acknowledge", "warning.dismiss", "warning.open_case"]
