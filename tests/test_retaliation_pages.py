"""The retaliation watch through the real app: an upload of later attendance raises the flags in the background
job (after the import), the case page and the case API show them only to the case's mediator and leaders, and
the mediator records the follow-up."""

from __future__ import annotations

import csv
import io
import time
from datetime import date

import pytest
from sqlmodel import select

from earlywarn.tables import RetaliationFlag
from tests.conftest import csrf_of, login
from tests.test_balances import days, pay, worker_row
from tests.test_import_pages import _wait
from tests.test_importer import en
from tests.test_retaliation import IDS, NAMES, TEAM, P, watched  # noqa: F401  (fixture)


def _csv(kind: str, rows: list[list]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([en(kind), *rows])
    return buf.getvalue().encode("utf-8")


def _flags(session, case_id, timeout: float = 30.0) -> list[RetaliationFlag]:
    """The watch runs after the job reports finished (after scoring): wait for its rows."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.commit()
        session.expire_all()
        rows = session.exec(select(RetaliationFlag).where(RetaliationFlag.case_id == case_id)).all()
        if rows:
            return list(rows)
        time.sleep(0.1)
    raise AssertionError("the retaliation watch did not run after the import")


def as_user(client, username):
    client.cookies.clear()
    assert login(client, username).status_code == 303


@pytest.fixture
def flagged(client, session, make_user, watched):  # noqa: F811
    case, mediator, _folder, _paths = watched
    make_user("wage_checker")
    as_user(client, "u_wage_checker")
    files = [("files", ("考勤-11月.csv", _csv("attendance", days(P, IDS["B"], date(2025, 10, 27), 19)
                                           + days(P, IDS["D"], date(2025, 10, 27), 5)), "text/csv")),
             ("files", ("工资发放.csv", _csv("payroll", [pay(P, IDS["C"], "2025-09", "9000", "9000", "2025-10-28"),
                                                      pay(P, IDS["C"], "2025-10", "7200", "7200", "2025-10-28")]),
                        "text/csv")),
             ("files", ("花名册-离场.csv", _csv("workers", [worker_row(P, IDS["D"], NAMES["D"], TEAM, "300",
                                                                    "2025-09-01", "2025-10-31")]), "text/csv"))]
    r = client.post("/imports", data={"csrf_token": csrf_of(client, "/imports")}, files=files, follow_redirects=False)
    assert r.status_code == 303
    data = _wait(client, r.headers["location"].rsplit("/", 1)[-1])
    assert [f["status"] for f in data["files"]] == ["succeeded"] * 3
    return case, _flags(session, case.id)


def test_an_upload_raises_protected_flags_seen_only_by_the_cases_mediator_and_leaders(client, session, make_user,
                                                                                      flagged):
    case, flags = flagged
    assert sorted(f.kind for f in flags) == ["left_unpaid", "stopped"]
    make_user("mediator", "u_mediator2")
    make_user("leader")
    make_user("admin")
    as_user(client, "u_mediator")
    page = client.get(f"/cases/{case.id}").text
    assert "打击报复预警（受保护信息）" in page and "申请人A" in page and "最后出勤 2025年10月24日" in page
    assert "立案后离场，工资未结清" in page and "核实办结" in page
    listing = client.get("/cases").text
    assert "疑似遭受打击报复" in listing and "申请人A" not in listing
    api = client.get(f"/api/cases/{case.id}").json()["retaliation"]
    assert {(f["name"], f["kind"]) for f in api} == {("申请人A", "stopped"), ("申请人D", "left_unpaid")}

    for other in ("u_mediator2", "u_admin"):
        as_user(client, other)
        page = client.get(f"/cases/{case.id}").text
        assert "打击报复" not in page and "最后出勤" not in page
        assert client.get(f"/api/cases/{case.id}").json()["retaliation"] is None
    as_user(client, "u_leader")
    page = client.get(f"/cases/{case.id}").text
    assert "打击报复预警（受保护信息）" in page and "待核实" in page and "核实办结" not in page


def test_the_mediator_records_the_follow_up(client, session, flagged):
    case, flags = flagged
    as_user(client, "u_mediator")
    stopped = next(f for f in flags if f.kind == "stopped")
    path = f"/cases/{case.id}/retaliation/{stopped.id}/handled"
    r = client.post(path, data={"csrf_token": csrf_of(client, f"/cases/{case.id}"), "note": " "},
                    follow_redirects=False)
    assert r.status_code == 400 and "请写明核实和处理情况" in r.text
    r = client.post(path, data={"csrf_token": csrf_of(client, f"/cases/{case.id}"), "note": "已电话核实，系回乡秋收"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case.id}#retaliation"
    assert "已电话核实，系回乡秋收" in client.get(f"/cases/{case.id}").text
