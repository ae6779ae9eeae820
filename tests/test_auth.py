"""Login, logout, sessions, role-based access and CSRF, through the HTTP interface a browser uses."""

import pytest

from earlywarn import auth
from earlywarn.enums import Role
from earlywarn.tables import AuditLog, UserSession
from tests.conftest import PASSWORD, csrf_of, login


def test_login_page_is_chinese_and_has_csrf(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert "登录" in r.text and "用户名" in r.text and "密码" in r.text
    assert 'name="csrf_token"' in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert r.headers["cache-control"] == "no-store"


def test_anonymous_visitor_is_sent_to_login(client):
    r = client.get("/dashboard", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/dashboard"
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize("role", list(Role))
def test_each_role_lands_on_its_home_page(client, make_user, role):
    make_user(role)
    r = login(client, f"u_{role}")
    assert r.status_code == 303
    home = auth.HOME_BY_ROLE[role]
    assert r.headers["location"] == home
    page = client.get(home)
    assert page.status_code == 200, page.text[:500]
    assert "退出" in page.text
    assert client.get("/api/me").json()["role"] == role


def test_wrong_password_and_unknown_user_look_the_same(client, make_user, session):
    make_user("leader")
    a = login(client, "u_leader", "wrong-password-123")
    b = login(client, "nobody-here", "wrong-password-123")
    assert a.status_code == b.status_code == 400
    assert "用户名或密码错误" in a.text and "用户名或密码错误" in b.text
    actions = [e.action for e in session.exec(__import__("sqlmodel").select(AuditLog))]
    assert actions.count("auth.login_failed") == 2


def test_logout_revokes_the_server_side_session(client, make_user, session):
    make_user("leader")
    login(client, "u_leader")
    assert client.get("/dashboard").status_code == 200
    sid = client.cookies.get("__Host-sid")
    token = csrf_of(client, "/dashboard")
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    # Replaying the old cookie must not work: the session is revoked on the server.
    client.cookies.set("__Host-sid", sid, domain="testserver")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    rows = session.exec(__import__("sqlmodel").select(UserSession)).all()
    assert len(rows) == 1 and rows[0].revoked_at is not None
    assert rows[0].token_hash != sid  # only the digest is stored


def test_login_issues_a_new_session_each_time(client, make_user):
    make_user("leader")
    login(client, "u_leader")
    first = client.cookies.get("__Host-sid")
    client.cookies.clear()
    login(client, "u_leader")
    assert client.cookies.get("__Host-sid") not in (None, first)


DENIED = [
    (Role.informant, "/dashboard"), (Role.informant, "/sites"), (Role.informant, "/reports"),
    (Role.informant, "/admin/users"), (Role.informant, "/informants"),
    (Role.wage_checker, "/reports"), (Role.wage_checker, "/admin/users"), (Role.wage_checker, "/informants"),
    (Role.wage_checker, "/my/reports"),
    (Role.mediator, "/admin/users"), (Role.mediator, "/informants"), (Role.mediator, "/dashboard"),
    (Role.leader, "/admin/users"), (Role.leader, "/informants"),
    (Role.informant_manager, "/reports"), (Role.informant_manager, "/sites"),
]


@pytest.mark.parametrize(("role", "path"), DENIED)
def test_each_role_is_denied_what_it_may_not_do(client, make_user, session, role, path):
    make_user(role)
    login(client, f"u_{role}")
    r = client.get(path)
    assert r.status_code == 403
    assert "无权访问" in r.text
    denied = [e for e in session.exec(__import__("sqlmodel").select(AuditLog)) if e.action == "auth.forbidden"]
    assert denied and denied[-1].detail["path"] == path


def test_non_admin_cannot_create_users(client, make_user, session):
    make_user("leader")
    login(client, "u_leader")
    token = csrf_of(client, "/dashboard")
    r = client.post("/admin/users", data={"csrf_token": token, "username": "evil", "password": "x" * 12,
                                          "role": "admin"})
    assert r.status_code == 403
    assert session.exec(__import__("sqlmodel").select(auth.UserAccount).where(
        auth.UserAccount.username == "evil")).first() is None


def test_form_without_csrf_token_is_rejected(client, make_user):
    make_user("leader")
    r = client.post("/login", data={"username": "u_leader", "password": PASSWORD})
    assert r.status_code == 403
    assert "页面已过期" in r.text
    login(client, "u_leader")
    r = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/dashboard").status_code == 200  # still logged in


def test_cross_site_post_is_rejected_even_with_a_token(client, make_user):
    make_user("leader")
    token = csrf_of(client)
    r = client.post("/login", data={"username": "u_leader", "password": PASSWORD, "csrf_token": token},
                    headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    r = client.post("/login", data={"username": "u_leader", "password": PASSWORD, "csrf_token": token},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


def test_open_redirect_after_login_is_refused(client, make_user):
    make_user("mediator")
    token = csrf_of(client)
    r = client.post("/login", data={"username": "u_mediator", "password": PASSWORD, "csrf_token": token,
                                    "next": "//evil.example/x"}, follow_redirects=False)
    assert r.headers["location"] == "/warnings"


def test_disabled_user_loses_sessions(client, make_user, session):
    user = make_user("mediator")
    login(client, "u_mediator")
    assert client.get("/reports").status_code == 200
    auth.set_active(session=session, user=user, active=False)
    assert client.get("/reports", follow_redirects=False).status_code == 303


def test_admin_creates_a_user_through_the_page(client, make_user, session):
    make_user("admin")
    login(client, "u_admin")
    token = csrf_of(client, "/admin/users")
    bad = client.post("/admin/users", data={"csrf_token": token, "username": "wang", "password": "short",
                                            "role": "mediator"})
    assert bad.status_code == 400 and "密码至少 10 位" in bad.text
    ok = client.post("/admin/users", data={"csrf_token": token, "username": "wang", "password": "long-enough-pw",
                                           "role": "mediator", "display_name": "王芳"}, follow_redirects=False)
    assert ok.status_code == 303
    client.cookies.clear()
    assert login(client, "wang", "long-enough-pw").headers["location"] == "/warnings"
