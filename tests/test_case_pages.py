"""The case pages through the real app: one click from the triage queue, the list with due dates, the case
page, transitions (legal, illegal, conflicting), the agreement to its .docx, leaders' overdue page, the JSON API."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from docx import Document
from sqlmodel import select

from earlywarn import warnings as wsvc
from earlywarn.config import local_today
from earlywarn.tables import CaseParty, Emergency, MediationCase, Reminder, RiskWarning
from earlywarn.warnings import ProjectScore
from tests.conftest import csrf_of, login
from tests.test_cases import site  # noqa: F401  (fixture)


@pytest.fixture
def warned(session, site, make_user):  # noqa: F811
    for role in ("mediator", "leader", "admin"):
        make_user(role)
    wsvc.apply_scores(session=session, scores=[ProjectScore(site.id, 0.9, "red", {"summary": "9 月工资未发"})],
                      as_of=local_today())
    return session.exec(select(RiskWarning).where(RiskWarning.project_id == site.id)).one()


def as_role(client, role):
    client.cookies.clear()
    assert login(client, f"u_{role}").status_code == 303


def post(client, path, data, page=None):
    return client.post(path, data={"csrf_token": csrf_of(client, page or path.rsplit("/", 1)[0]), **data},
                       follow_redirects=False)


def version_of(session, case_id) -> int:
    session.commit()  # a fresh snapshot: the app wrote in its own transaction
    session.expire_all()
    return session.get(MediationCase, case_id).version


def _case_from_the_queue(client, session, warned) -> MediationCase:
    """A mediator opens a case from the warning with one click; the case as the app stored it."""
    as_role(client, "mediator")
    r = client.post(f"/warnings/{warned.id}/case", data={"csrf_token": csrf_of(client, "/warnings")},
                    follow_redirects=False)
    assert r.status_code == 303
    session.commit()  # a fresh snapshot: the app wrote in its own transaction
    session.expire_all()
    return session.exec(select(MediationCase).where(MediationCase.warning_id == warned.id)).one()


def test_one_click_from_the_queue_to_a_worked_case(client, session, warned):
    case = _case_from_the_queue(client, session, warned)
    assert f'href="/cases/{case.id}"' in client.get(f"/warnings/{warned.id}").text
    listing = client.get("/cases").text
    # The nearest deadline first: the limitation of the worker who left on 20 September 2025 (past: overdue).
    assert case.case_no in listing and "仲裁时效" in listing and "逾期" in listing and "集体争议" in listing
    page = client.get(f"/cases/{case.id}").text
    assert "梅溪镇劳动争议调解委员会" in page and "工人00" in page and "￥3,000.00" in page
    assert "330523" in page and not any(idn in page for idn in __import__("tests.test_cases").test_cases.IDS)

    # Illegal: straight to mediation → 409 with the Chinese reason; nothing changed.
    r = post(client, f"/cases/{case.id}/status", {"action": "start_mediation", "version": case.version},
             f"/cases/{case.id}")
    assert r.status_code == 409 and "不能开始调解：案件当前状态为“待受理”" in r.text
    r = post(client, f"/cases/{case.id}/status", {"action": "accept", "version": case.version}, f"/cases/{case.id}")
    assert r.status_code == 303
    # A second mediator's form still carries the old version: conflict, not an overwrite.
    r = post(client, f"/cases/{case.id}/status", {"action": "withdraw", "reason": "撤回", "version": case.version},
             f"/cases/{case.id}")
    assert r.status_code == 409 and "该案件已被他人修改" in r.text
    session.commit()  # a fresh snapshot: the app wrote in its own transaction
    session.expire_all()
    assert session.get(MediationCase, case.id).status == "accepted"
    assert "调解期限" in client.get(f"/cases/{case.id}").text

    workers = session.exec(select(CaseParty).where(CaseParty.case_id == case.id, CaseParty.role == "worker")
                           .order_by(CaseParty.id)).all()
    for w in workers[:3]:
        assert post(client, f"/cases/{case.id}/parties/{w.id}/representative", {"on": "1"},
                    f"/cases/{case.id}").status_code == 303
    r = post(client, f"/cases/{case.id}/status", {"action": "start_mediation",
                                                  "version": version_of(session, case.id)}, f"/cases/{case.id}")
    assert r.status_code == 303
    r = post(client, f"/cases/{case.id}/timeline", {"kind": "session", "on": local_today().isoformat(),
                                                    "body": "第一次调解会", "place": "", "attendees": ""},
             f"/cases/{case.id}")
    assert r.status_code == 400 and "调解会须记录地点和参加人员" in r.text
    r = post(client, f"/cases/{case.id}/timeline", {"kind": "session", "on": local_today().isoformat(),
                                                    "body": "第一次调解会，总包认可欠薪", "place": "梅溪镇调委会",
                                                    "attendees": "工人00、总包项目经理"}, f"/cases/{case.id}")
    assert r.status_code == 303 and "第一次调解会，总包认可欠薪" in client.get(f"/cases/{case.id}").text

    due = (local_today() + timedelta(days=7)).isoformat()
    r = post(client, f"/cases/{case.id}/agreement/finalise", {"version": version_of(session, case.id)},
             f"/cases/{case.id}")
    assert r.status_code == 400 and "调解协议不完整，不能定稿" in r.text
    agreed = {f"agreed_{w.id}": "3,000.00" for w in workers}
    r = post(client, f"/cases/{case.id}/agreement", {
        "facts": "2025 年 9 月十二名职工工资未发放，总包单位认可。", "terms": "总包单位先行清偿",
        "performance_method": "专用账户代发", "version": version_of(session, case.id), **agreed,
        "signatures": ["employer_signed_at", "workers_signed_at", "mediator_signed_at", "sealed_at"]},
        f"/cases/{case.id}")
    assert r.status_code == 303
    r = post(client, f"/cases/{case.id}/instalments", {"due_on": "2020-01-01", "amount": "36000"}, f"/cases/{case.id}")
    assert r.status_code == 400 and "履行期限不能早于今天" in r.text
    r = post(client, f"/cases/{case.id}/instalments", {"due_on": due, "amount": "abc"}, f"/cases/{case.id}")
    assert r.status_code == 400 and "金额格式应为" in r.text
    assert post(client, f"/cases/{case.id}/instalments", {"due_on": due, "amount": "36,000.00"},
                f"/cases/{case.id}").status_code == 303
    r = post(client, f"/cases/{case.id}/agreement/finalise", {"version": version_of(session, case.id)},
             f"/cases/{case.id}")
    assert r.status_code == 303
    session.commit()  # a fresh snapshot: the app wrote in its own transaction
    session.expire_all()
    assert session.get(MediationCase, case.id).status == "agreement"
    doc = client.get(f"/cases/{case.id}/agreement.docx")
    assert doc.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(doc.content)).paragraphs)
    assert "调解协议书" in text and case.case_no in text and "￥36,000.00" in text and "叁万陆仟元整" in text
    assert "工人00" in text and "第十六条" in text

    page = client.get(f"/cases/{case.id}").text
    assert "下载调解协议书（Word）" in page and "登记已支付" in page and "申请司法确认/仲裁审查确认" in page
    r = post(client, f"/cases/{case.id}/status", {"action": "start_performance",
                                                  "version": version_of(session, case.id)}, f"/cases/{case.id}")
    assert r.status_code == 303 and "履行中" in client.get(f"/cases/{case.id}").text
    client.cookies.set("lang", "en")
    english = client.get(f"/cases/{case.id}").text
    assert "Mediation agreement" in english and "Performing" in english
    client.cookies.delete("lang")
    as_role(client, "leader")
    seen = client.get(f"/cases/{case.id}").text
    assert case.case_no in seen and "登记已支付" not in seen  # leaders read; mediators act
    as_role(client, "mediator")

    api = client.get(f"/api/cases/{case.id}").json()
    assert api["status"] == "performing" and len(api["parties"]) == 15
    assert [t["to"] for t in api["transitions"]] == ["intake", "accepted", "in_mediation", "agreement", "performing"]
    assert {d["kind"] for d in api["deadlines"] if d["state"] not in ("done", "cancelled")} >= {"confirmation",
                                                                                                 "instalment"}


def test_roles_leader_overdue_page_and_walk_in_form(client, session, warned, make_user):
    as_role(client, "leader")
    assert client.get("/cases").status_code == 200
    page = client.get("/cases/overdue")
    assert page.status_code == 200 and "移送答复按期情况" in page.text and "人社局劳动保障监察" in page.text
    assert client.get("/api/cases/overdue").json()["stats"]["by_status"]["intake"] == 0
    r = client.post("/cases", data={"csrf_token": csrf_of(client, "/cases"), "source": "walk_in"},
                    follow_redirects=False)
    assert r.status_code == 403
    as_role(client, "mediator")
    r = post(client, "/cases", {"source": "walk_in", "title": "来访欠薪", "summary": "x", "township": "梅溪镇"},
             "/cases/new")
    assert r.status_code == 400 and "请写明争议事项和请求" in r.text and "来访欠薪" in r.text
    r = post(client, "/cases", {"source": "hotline", "title": "热线反映欠薪", "summary": "三名油漆工 12 月工资未发",
                                "township": "孝丰镇", "received_on": "2026-13-01"}, "/cases/new")
    assert r.status_code == 400 and "日期格式应为" in r.text
    r = post(client, "/cases", {"source": "hotline", "title": "热线反映欠薪", "summary": "三名油漆工 12 月工资未发",
                                "township": "孝丰镇"}, "/cases/new")
    assert r.status_code == 303
    case_id = int(re.search(r"/cases/(\d+)", r.headers["location"]).group(1))
    assert "孝丰镇劳动争议调解委员会" in client.get(f"/cases/{case_id}").text
    client.cookies.clear()
    assert client.get("/api/cases").status_code == 401


def test_emergency_from_a_big_case_notifies_leaders(client, session, warned, make_user):
    case = _case_from_the_queue(client, session, warned)
    assert session.exec(select(Emergency)).all() == []  # 12 workers: collective, not an emergency
    r = post(client, f"/cases/{case.id}/emergency", {"people": "12", "reason": "工人聚集"}, f"/cases/{case.id}")
    assert r.status_code == 400 and "启动条件" in r.text
    r = post(client, f"/cases/{case.id}/emergency", {"people": "35", "reason": "35 名工人在项目部聚集"},
             f"/cases/{case.id}")
    assert r.status_code == 303
    session.commit()
    em = session.exec(select(Emergency)).one()
    assert (em.trigger, em.people, em.case_id) == ("people", 35, case.id)
    leader_reminders = session.exec(select(Reminder).where(Reminder.key == f"emergency:{em.id}")).all()
    assert len(leader_reminders) == 1 and "35 名工人在项目部聚集" in leader_reminders[0].message
    as_role(client, "leader")
    assert "35 名工人在项目部聚集" in client.get("/cases").text  # on the leader's list, at once
    page = client.get(f"/emergencies/{em.id}")
    assert page.status_code == 200 and "应急预案清单" in page.text
    r = post(client, f"/emergencies/{em.id}/close", {"note": "平息"}, f"/emergencies/{em.id}")
    assert r.status_code == 400 and "清单尚未完成" in r.text
    r = post(client, f"/emergencies/{em.id}/tick", {"item": "on_site", "note": "30 分钟到场"}, f"/emergencies/{em.id}")
    assert r.status_code == 303 and "30 分钟到场" in client.get(f"/emergencies/{em.id}").text
