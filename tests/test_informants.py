"""The informant network: access, registration, identity protection and reveal, track record, coverage, silence."""

import itertools
import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from earlywarn import informants
from earlywarn.config import LOCAL_TZ
from earlywarn.privacy import Vault
from earlywarn.tables import AuditLog, Company, Informant, Project, Report, RiskWarning, UserAccount
from tests.conftest import csrf_of, login

NAME, PHONE = "张秀英", "13912345678"
TODAY = date(2026, 3, 10)
_uids = itertools.count(1)


def _dump(session, table: str) -> str:
    """Every column of every row as text: what someone reading the database would see."""
    dump = repr(session.execute(text(f"SELECT * FROM {table}")).all())
    session.commit()  # ends the read: SQLite holds a write lock from BEGIN IMMEDIATE
    return dump


def _all(session, model) -> list:
    """Fresh from the database (the app wrote through its own session), then the read is ended."""
    rows = list(session.exec(select(model).order_by(model.id).execution_options(populate_existing=True)))
    session.commit()
    return rows


def _at(days_ago: int) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(10), tzinfo=LOCAL_TZ)


def _project(session, code: str, township: str) -> Project:
    company = session.exec(select(Company)).first() or Company(name="测试建设公司")
    session.add(company)
    session.flush()
    project = Project(code=code, name=f"{code} 工程", township=township, general_contractor_id=company.id,
                      start_date=date(2025, 1, 1))
    session.add(project)
    session.commit()
    return project


def _informant(session, settings, township: str, registered_days_ago: int = 100, **kw) -> Informant:
    informant = informants.register_informant(session=session, vault=Vault(settings), township=township, **kw)
    informant.registered_at = _at(registered_days_ago)
    session.commit()
    return informant


def _report(session, informant: Informant | None, days_ago: int, project: Project | None = None,
            township: str | None = None, **kw) -> Report:
    report = Report(uid=f"r{next(_uids)}", received_at=_at(days_ago),
                    informant_id=informant.id if informant else None, text="工地欠薪两个月",
                    project_id=project.id if project else None,
                    township=township or (project.township if project else None), **kw)
    session.add(report)
    session.commit()
    return report


@pytest.fixture
def manager(client, make_user):
    make_user("informant_manager")
    login(client, "u_informant_manager")
    return client


def _create(client, **form):
    data = {"name": NAME, "phone": PHONE, "township": "递铺街道", "csrf_token": csrf_of(client, "/informants/new")}
    data.update(form)
    return client.post("/informants/new", data=data, follow_redirects=False)


# ---------------------------------------------------------------- access


@pytest.mark.parametrize("role", ["mediator", "wage_checker", "leader", "informant"])
def test_other_roles_are_denied_every_informant_page(client, make_user, session, settings, role):
    target = _informant(session, settings, "递铺街道", name=NAME, phone=PHONE)
    anonymous = client.get("/informants", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    login(client, make_user(role).username)
    denied_page = client.get("/informants", headers={"accept": "text/html"}).text  # the HTML error page
    token = re.search(r'name="csrf_token" value="([^"]+)"', denied_page).group(1)  # from its language form
    base = f"/informants/{target.id}"
    for path in ("/informants", "/informants?days=10", "/informants/new", base, f"{base}/reveal"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert NAME not in r.text and PHONE not in r.text
    posts = {"/informants/new": {"name": "李四", "township": "递铺街道"}, f"{base}/reveal": {"reason": "需要核实情况"},
             f"{base}/active": {"active": "0"}}
    for path, data in posts.items():
        r = client.post(path, data={"csrf_token": token, **data})
        assert r.status_code == 403 and "角色无权访问" in r.text, path  # the role check, not the CSRF check
        assert NAME not in r.text and PHONE not in r.text
    actions = [e.action for e in _all(session, AuditLog)]
    assert "informant.reveal" not in actions and actions.count("informant.register") == 1
    assert session.get(Informant, target.id).is_active


def test_reveal_service_refuses_other_roles(session, settings, make_user):
    target = _informant(session, settings, "递铺街道", name=NAME, phone=PHONE)
    mediator = make_user("mediator")
    with pytest.raises(PermissionError):
        informants.reveal_identity(session=session, settings=settings, informant=target, actor=mediator,
                                   reason="想知道是谁")


# ---------------------------------------------------------------- registration


@pytest.mark.parametrize(("form", "message"), [
    ({"phone": "1391234567"}, "手机号应为 11 位数字"), ({"phone": "23912345678"}, "手机号应为 11 位数字"),
    ({"township": "火星镇"}, "请从列表中选择本县的乡镇/街道"), ({"township": ""}, "请选择乡镇/街道"),
    ({"name": "  "}, "请填写信息员姓名"), ({"name": "张" * 33}, "姓名不能超过 32 个字"),
    ({"create_login": "1", "username": "x"}, "用户名须为 3–64 位"), ({"org_unit_id": "999"}, "所选组织不存在"),
])
def test_create_rejects_bad_input_in_chinese(manager, session, form, message):
    r = _create(manager, **form)
    assert r.status_code == 400
    assert message in r.text and "请更正下列错误后再提交" in r.text
    assert 'name="csrf_token"' in r.text  # the form is shown again, ready to resubmit
    assert _all(session, Informant) == []


def test_create_stores_no_plain_identity_and_decrypts(manager, session, settings):
    r = _create(manager, phone="139 1234 5678", create_login="1")
    assert r.status_code == 200 and "初始密码只显示这一次" in r.text and "xxy0001" in r.text
    password = r.text.split("初始密码：<b>")[1].split("</b>")[0]
    [informant] = _all(session, Informant)
    [user] = [u for u in _all(session, UserAccount) if u.id == informant.user_id]
    assert (informant.pseudonym_no, informant.township, user.role) == (1, "递铺街道", "informant")
    assert user.display_name == "信息员 #1"
    for table in ("informant", "user_account", "audit_log"):
        dump = _dump(session, table)
        assert NAME not in dump and PHONE not in dump, table
    vault = Vault(settings)
    assert (vault.decrypt(informant.name_cipher), vault.decrypt(informant.phone_cipher)) == (NAME, PHONE)
    manager.cookies.clear()
    assert login(manager, "xxy0001", password).headers["location"] == "/my/reports"


def test_create_without_login_goes_to_the_record(manager, session):
    r = _create(manager, phone="")
    assert r.status_code == 303
    [informant] = _all(session, Informant)
    assert r.headers["location"] == f"/informants/{informant.id}"
    assert informant.phone_cipher is None and informant.user_id is None
    page = manager.get(r.headers["location"])
    assert "信息员 #1" in page.text and NAME not in page.text


def test_taken_username_keeps_nothing(manager, session, make_user):
    make_user("mediator", username="taken")
    r = _create(manager, create_login="1", username="taken")
    assert r.status_code == 400 and "已存在" in r.text
    assert _all(session, Informant) == []


# ---------------------------------------------------------------- reveal


def test_reveal_needs_a_reason_and_is_audited_once(manager, session, settings):
    target = _informant(session, settings, "递铺街道", name=NAME, phone=PHONE)
    page = manager.get(f"/informants/{target.id}/reveal")
    assert page.status_code == 200 and "查看理由" in page.text and NAME not in page.text
    token = csrf_of(manager, f"/informants/{target.id}/reveal")
    for reason in ("", "  看看 "):
        r = manager.post(f"/informants/{target.id}/reveal", data={"csrf_token": token, "reason": reason})
        assert r.status_code == 400 and "请写明查看身份的理由" in r.text and NAME not in r.text
    assert not [e for e in _all(session, AuditLog) if e.action == "informant.reveal"]

    reason = f"报告涉及群体性事件，需当面核实 {NAME} 反映的情况"
    r = manager.post(f"/informants/{target.id}/reveal", data={"csrf_token": token, "reason": reason})
    assert r.status_code == 200 and NAME in r.text and PHONE in r.text
    assert "本次查看已记入审计日志" in r.text
    assert r.headers["cache-control"] == "no-store"
    [entry] = [e for e in _all(session, AuditLog) if e.action == "informant.reveal"]
    assert entry.object_id == str(target.id) and entry.actor_role == "informant_manager"
    assert entry.detail["reason"] == "报告涉及群体性事件，需当面核实 [已隐去] 反映的情况"
    dump = _dump(session, "audit_log")
    assert NAME not in dump and PHONE not in dump
    assert manager.get("/informants/999/reveal").status_code == 404


# ---------------------------------------------------------------- track record, coverage, silence


def test_list_shows_pseudonyms_counts_and_share(manager, session, settings):
    a = _informant(session, settings, "递铺街道", name=NAME, phone=PHONE)
    b = _informant(session, settings, "昌硕街道", name="王强")
    c = _informant(session, settings, "昌硕街道")
    for verdict in ("corroborated", "corroborated", "not_corroborated", "no_data"):
        _report(session, a, 3, township="递铺街道", corroboration=verdict)
    _report(session, b, 8, township="昌硕街道")
    informants.set_informant_active(session=session, informant=c, active=False, actor=None)
    rows = {r.informant.pseudonym_no: r for r in informants.list_informants(session=session)}
    session.commit()
    assert (rows[1].reports, rows[1].corroborated, rows[1].verdicts) == (4, 2, 3)
    assert rows[1].corroborated_share == pytest.approx(2 / 3)
    assert rows[1].last_report_at == _at(3)
    assert (rows[2].reports, rows[2].corroborated_share) == (1, None)
    assert (rows[3].reports, rows[3].last_report_at, rows[3].corroborated_share) == (0, None, None)

    page = manager.get("/informants").text
    assert all(f"信息员 #{n}" in page for n in (1, 2, 3))
    assert NAME not in page and PHONE not in page and "王强" not in page
    assert "67%" in page and "(2/3)" in page
    only_active = manager.get("/informants?active=1&township=昌硕街道").text.split("覆盖情况")[0]
    assert "信息员 #2" in only_active and "信息员 #3" not in only_active and "信息员 #1" not in only_active
    record = manager.get(f"/informants/{a.id}").text
    assert record.count('href="/reports/') == 4 and "67%" in record and NAME not in record


def test_coverage_counts_recent_reports_by_registered_informants(session, settings):
    p1, p2, p3 = (_project(session, f"AJ-{n}", "递铺街道") for n in (1, 2, 3))
    _project(session, "AJ-4", "昌硕街道")
    a, b = _informant(session, settings, "递铺街道"), _informant(session, settings, "递铺街道")
    gone = _informant(session, settings, "递铺街道")
    informants.set_informant_active(session=session, informant=gone, active=False, actor=None)
    _report(session, a, 10, p1)
    _report(session, a, 20, p1)
    _report(session, b, 200, p2)  # older than the 180-day window
    _report(session, None, 5, p3)  # anonymous: covers nothing in the network's favour
    rows = {r.township: r for r in informants.coverage(session=session, settings=settings, today=TODAY)}
    session.commit()
    d = rows["递铺街道"]
    assert (d.informants, d.projects, d.covered_projects) == (2, 3, 1)
    assert d.share == pytest.approx(1 / 3)
    assert (rows["昌硕街道"].informants, rows["昌硕街道"].projects, rows["昌硕街道"].share) == (0, 1, 0)
    assert rows["灵峰街道"].share is None and len(rows) == 15


def test_gone_quiet_lists_silent_informants_where_there_is_risk(session, settings):
    _report(session, None, 10, township="递铺街道", escalation=True)  # risk: escalation in the last 30 days
    silent = _informant(session, settings, "递铺街道")
    _report(session, silent, 40, township="递铺街道")
    recent = _informant(session, settings, "递铺街道")
    _report(session, recent, 5, township="递铺街道")
    never = _informant(session, settings, "递铺街道", registered_days_ago=100)
    _informant(session, settings, "递铺街道", registered_days_ago=10)  # new: not silent long enough yet
    inactive = _informant(session, settings, "递铺街道")
    informants.set_informant_active(session=session, informant=inactive, active=False, actor=None)
    calm = _informant(session, settings, "昌硕街道")  # a quiet township: silence there is not a gap
    _report(session, calm, 60, township="昌硕街道")
    for code, township, status in (("AJ-W", "灵峰街道", "case_opened"), ("AJ-D", "孝源街道", "dismissed")):
        session.add(RiskWarning(project_id=_project(session, code, township).id, level="orange", status=status))
    session.commit()
    warned = _informant(session, settings, "灵峰街道", registered_days_ago=50)
    _informant(session, settings, "孝源街道", registered_days_ago=50)
    _report(session, None, 35, township="孝丰镇", collective=True)  # too old to count as open risk
    _informant(session, settings, "孝丰镇", registered_days_ago=50)

    rows = informants.gone_quiet(session=session, settings=settings, days=30, today=TODAY)
    session.commit()
    assert [(r.informant.id, r.silent_days) for r in rows] == [(never.id, 100), (warned.id, 50), (silent.id, 40)]
    by_id = {r.informant.id: r for r in rows}
    assert by_id[silent.id].risks == ["escalation"] and by_id[silent.id].last_report_at == _at(40)
    assert by_id[warned.id].risks == ["open_warning"] and by_id[never.id].last_report_at is None
    longer = informants.gone_quiet(session=session, settings=settings, days=45, today=TODAY)
    session.commit()
    assert [r.informant.id for r in longer] == [never.id, warned.id]


def test_gone_quiet_on_the_page_takes_n_from_the_query(manager, session, settings):
    shift = (informants.local_today() - TODAY).days  # the page counts from the real today
    _report(session, None, 2 - shift, township="递铺街道", collective=True)
    silent = _informant(session, settings, "递铺街道", registered_days_ago=200)
    _report(session, silent, 40 - shift, township="递铺街道")
    quiet = manager.get("/informants").text.split('id="quiet"')[1]
    assert f"信息员 #{silent.pseudonym_no}" in quiet and ">40<" in quiet
    assert "信息员 #" not in manager.get("/informants?days=60").text.split('id="quiet"')[1]
    assert f"信息员 #{silent.pseudonym_no}" in manager.get("/informants?days=abc").text.split('id="quiet"')[1]


def test_deactivating_an_informant_disables_the_login(manager, session, settings, make_user):
    created = informants.create_informant(session=session, settings=settings, name=NAME, phone=PHONE,
                                          township="递铺街道", org_unit_id=None, actor=make_user("admin"),
                                          create_login=True, username="volunteer1")
    path = f"/informants/{created.informant.id}"
    token = csrf_of(manager, path)
    r = manager.post(f"{path}/active", data={"csrf_token": token, "active": "0"}, follow_redirects=False)
    assert r.status_code == 303 and "已停用" in manager.get(path).text
    [informant], user = _all(session, Informant), _all(session, UserAccount)[-1]
    assert user.username == "volunteer1" and not informant.is_active and not user.is_active
    actions = [e.action for e in _all(session, AuditLog)]
    assert "informant.disable" in actions and "user.disable" in actions
    manager.post(f"{path}/active", data={"csrf_token": token, "active": "1"})
    [informant], user = _all(session, Informant), _all(session, UserAccount)[-1]
    assert informant.is_active and not user.is_active  # re-enabling a login is the administrator's call
    dump = _dump(session, "audit_log")
    assert NAME not in dump and PHONE not in dump


def test_senders_of_a_bulk_import_are_registered_together(session, settings):
    vault = Vault(settings)
    known = informants.register_informant(session=session, vault=vault, township="孝丰镇", ref_code="INF-1",
                                          commit=False)
    got = informants.register_senders(session=session, vault=vault,
                                      senders={"INF-2": "递铺街道", "INF-1": "梅溪镇", "INF-3": None})
    session.commit()
    assert got["INF-1"] is known and known.township == "孝丰镇"  # already registered: unchanged
    assert (got["INF-2"].pseudonym_no, got["INF-3"].pseudonym_no) == (known.pseudonym_no + 1, known.pseudonym_no + 2)
    assert (got["INF-2"].township, got["INF-3"].township) == ("递铺街道", None)
    assert got["INF-2"].ref_hash == vault.blind_index("INF-2", "informant")  # the code itself is never stored
    audits = session.exec(select(AuditLog).where(AuditLog.action == "informant.register")
                          .order_by(AuditLog.id)).all()
    assert [a.object_id for a in audits] == [str(i.id) for i in (known, got["INF-2"], got["INF-3"])]
    assert informants.register_senders(session=session, vault=vault, senders={}) == {}
