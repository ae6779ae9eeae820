"""The wage-check pages (earlywarn.site_pages): site list, site page, worker page, rectification notice and the
JSON API, per role, on the county of test_wagecheck.py imported through the importer; both backends."""

from __future__ import annotations

import io
import re

import docx
import pytest

from earlywarn.i18n import format_money
from tests.conftest import login
from tests.test_balances import import_county, pay, worker_ids
from tests.test_wagecheck import (
    ALL_IDS,
    COUNTY,
    EXPECTED,
    GC1,
    LABOUR,
    P1,
    P2,
    P3,
    P4,
    P5,
    TEAM_A,
    W1,
    W2,
)

AS_OF = "2025-05-10"
VIEWERS = ("wage_checker", "mediator", "leader")
OUTSIDERS = ("informant", "informant_manager")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CODE_RE = re.compile(r'href="/sites/(AJ-C-\d+)\?as_of=')


def masked(idn: str) -> str:
    return idn[:6] + "********" + idn[-4:]


@pytest.fixture
def county(session, settings, tmp_path):
    import_county(session, settings, tmp_path / "county", **COUNTY)
    ids = worker_ids(session, settings, *ALL_IDS)
    session.commit()  # release the SQLite read lock before the app writes sessions and audit rows
    return ids


@pytest.fixture
def users(make_user, session):
    for role in (*VIEWERS, *OUTSIDERS):
        make_user(role)
    session.commit()


@pytest.fixture
def as_role(client, users, county):
    """Log the one test client in as a role (dropping the previous user's cookies)."""

    def switch(role: str):
        client.cookies.clear()
        r = login(client, f"u_{role}")
        assert r.status_code == 303, r.text
        return client

    return switch


def codes(html: str) -> list[str]:
    return CODE_RE.findall(html)


def assert_no_plain_ids(text: str) -> None:
    for idn in ALL_IDS:
        assert idn not in text


# ------------------------------------------------------------------------------------------ access


def test_viewers_open_every_page(as_role, county):
    for role in VIEWERS:
        c = as_role(role)
        for path in ("/sites", f"/sites/{P1}", f"/workers/{county[W1]}", "/api/sites", f"/api/sites/{P1}",
                     f"/api/workers/{county[W1]}"):
            r = c.get(path, params={"as_of": AS_OF})
            assert r.status_code == 200, (role, path, r.status_code)


def test_informants_are_forbidden(as_role, county):
    for role in OUTSIDERS:
        c = as_role(role)
        for path in ("/sites", f"/sites/{P1}", f"/workers/{county[W1]}", f"/sites/{P1}/notice.docx", "/api/sites",
                     f"/api/sites/{P1}", f"/api/workers/{county[W1]}"):
            r = c.get(path, params={"as_of": AS_OF})
            assert r.status_code == 403, (role, path, r.status_code)
            assert_no_plain_ids(r.text)
            assert "4,000.00" not in r.text and "4000.00" not in r.text


def test_anonymous_is_sent_to_login(client, county):
    r = client.get("/sites", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert client.get("/api/sites").status_code == 401


# ------------------------------------------------------------------------------------------ site list


def test_site_list_filters_and_sorts(as_role):
    c = as_role("mediator")
    page = c.get("/sites", params={"as_of": AS_OF})
    # Default: by level, worst first (ties by amount).
    assert codes(page.text) == [P1, P5, P3, P2]
    assert P4 not in page.text
    assert format_money(400000 + 60175) in page.text  # the total owed
    by_amount = c.get("/sites", params={"as_of": AS_OF, "sort": "amount", "desc": 1})
    assert codes(by_amount.text) == [P1, P5, P2, P3]
    ascending = c.get("/sites", params={"as_of": AS_OF, "sort": "amount", "desc": 0})
    assert codes(ascending.text) == [P2, P3, P5, P1]
    town = c.get("/sites", params={"as_of": AS_OF, "township": "孝丰镇", "sort": "code", "desc": 0})
    assert codes(town.text) == [P2, P5]
    yellow = c.get("/sites", params={"as_of": AS_OF, "level": "yellow", "sort": "code", "desc": 0})
    assert codes(yellow.text) == [P3, P5]
    both = c.get("/sites", params={"as_of": AS_OF, "level": "yellow", "township": "天子湖镇"})
    assert codes(both.text) == [P3]
    none = c.get("/sites", params={"as_of": AS_OF, "level": "red"})
    assert codes(none.text) == []
    # Another date, another answer (the cache is per date).
    early = c.get("/sites", params={"as_of": "2025-04-25", "sort": "amount", "desc": 1})
    assert sorted(codes(early.text)) == [P1, P2, P3, P5]
    assert format_money(0) in early.text and format_money(400000) not in early.text


def test_site_list_shows_each_sites_figures(as_role):
    html = as_role("leader").get("/sites", params={"as_of": AS_OF, "sort": "code", "desc": 0}).text
    rows = re.findall(r"<tr><td><a href=\"/sites/(AJ-C-\d+)\?as_of=[^\"]*\">.*?</tr>", html, re.S)
    assert rows == [P1, P2, P3, P5]
    for code, (_, workers, amount, oldest, _) in EXPECTED.items():
        row = re.search(rf'<tr><td><a href="/sites/{code}\?as_of=.*?</tr>', html, re.S).group(0)
        fen = int(amount.replace(".", ""))
        assert f'<td class="num">{format_money(fen)}</td>' in row
        assert f'<td class="num">{workers}</td>' in row and f'<td class="num">{oldest}</td>' in row


def test_site_list_cache_sees_a_new_import(as_role, session, settings, tmp_path):
    c = as_role("wage_checker")
    before = {p["project_code"]: p for p in c.get("/api/sites", params={"as_of": AS_OF}).json()["projects"]}
    assert before[P1]["amount_owed"] == "4000.00"
    import_county(session, settings, tmp_path / "more", payroll=[pay(P1, W2, "2025-03", "2000", "2000", "2025-05-01")])
    session.commit()
    after = {p["project_code"]: p for p in c.get("/api/sites", params={"as_of": AS_OF}).json()["projects"]}
    assert (after[P1]["amount_owed"], after[P1]["workers_owed"]) == ("2000.00", 1)


# ------------------------------------------------------------------------------------------ site page


def test_site_page(as_role, county):
    html = as_role("mediator").get(f"/sites/{P1}", params={"as_of": AS_OF}).text
    assert "递铺街道中学改扩建工程" in html and GC1 in html
    # Rule hits with their legal basis.
    assert "有出勤无工资" in html
    assert "《保障农民工工资支付条例》第十二条至第十四条、第三十一条" in html
    assert "《保障农民工工资支付条例》第十五条、第三十一条" in html
    # The workers owed, masked.
    assert masked(W1) in html and masked(W2) in html and "********" in html
    assert_no_plain_ids(html)
    assert f"/workers/{county[W1]}?as_of={AS_OF}" in html
    assert format_money(400000) in html and format_money(200000) in html
    # The chain and the monthly chart are inline SVG.
    assert html.count("<svg") >= 2
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert any(LABOUR in s and TEAM_A in s and GC1 in s for s in svgs)  # the chain
    assert any(format_money(500000) in s and format_money(100000) in s for s in svgs)  # earned vs paid, March
    # The notice link is offered to the checker only.
    assert "notice.docx" not in html
    assert "notice.docx" in as_role("wage_checker").get(f"/sites/{P1}", params={"as_of": AS_OF}).text


def test_site_page_of_a_monitor_hit_and_a_green_site(as_role):
    c = as_role("leader")
    p3 = c.get(f"/sites/{P3}", params={"as_of": AS_OF}).text
    assert "未设维权信息告示牌" in p3 and "《保障农民工工资支付条例》第三十四条、第五十六条" in p3
    assert "试运行" in p3  # wages.below_minimum_month runs in monitor mode
    p2 = c.get(f"/sites/{P2}", params={"as_of": AS_OF})
    assert p2.status_code == 200 and "没有逾期欠薪的工人" in p2.text


def test_worker_page_lists_months_across_projects(as_role, county):
    html = as_role("wage_checker").get(f"/workers/{county[W1]}", params={"as_of": AS_OF}).text
    assert masked(W1) in html
    assert_no_plain_ids(html)
    assert P1 in html and P5 in html and "递铺街道中学改扩建工程" in html and "孝丰镇卫生院" in html
    for fen in (300000, 100000, 200000, 100200, 40025, 60175):
        assert format_money(fen) in html, fen
    assert "逾期 15 天" in html
    early = as_role("wage_checker").get(f"/workers/{county[W1]}", params={"as_of": "2025-04-20"}).text
    assert "未到发薪日" in early and "status-failed" not in early  # 04-20: March's pay day (04-25) not yet passed


# ------------------------------------------------------------------------------------------ notice


def test_notice_for_the_wage_checker(as_role):
    r = as_role("wage_checker").get(f"/sites/{P1}/notice.docx", params={"as_of": AS_OF})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == DOCX
    assert "attachment" in r.headers["content-disposition"] and P1 in r.headers["content-disposition"]
    document = docx.Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "整改通知书" in text and GC1 in text and "递铺街道中学改扩建工程" in text
    assert "有出勤无工资" in text and "《保障农民工工资支付条例》" in text
    assert "现拖欠2名农民工工资共计￥4,000.00" in text
    assert_no_plain_ids(text)


def test_notice_refusals(as_role):
    for role in ("mediator", "leader"):
        assert as_role(role).get(f"/sites/{P1}/notice.docx", params={"as_of": AS_OF}).status_code == 403
    c = as_role("wage_checker")
    assert c.get(f"/sites/{P2}/notice.docx", params={"as_of": AS_OF}).status_code == 409  # nothing to rectify
    assert c.get("/sites/NOPE/notice.docx", params={"as_of": AS_OF}).status_code == 404
    assert c.get(f"/sites/{P1}/notice.docx", params={"as_of": "2025-02-30"}).status_code == 400


# ------------------------------------------------------------------------------------------ JSON API


def test_api_matches_the_pages(as_role, county):
    c = as_role("mediator")
    data = c.get("/api/sites", params={"as_of": AS_OF}).json()
    assert data["as_of"] == AS_OF
    listing = {p["project_code"]: p for p in data["projects"]}
    assert set(listing) == set(EXPECTED)
    page = c.get("/sites", params={"as_of": AS_OF, "sort": "code", "desc": 0}).text
    for code, (level, workers, amount, oldest, rules) in EXPECTED.items():
        p = listing[code]
        assert (p["level"], str(p["workers_owed"]), p["amount_owed"], str(p["oldest_overdue_days"])) == (
            level, workers, amount, oldest)
        assert {r["id"] for r in p["rules"] if r["fired"] and r["mode"] == "live"} == rules
        assert format_money(int(amount.replace(".", ""))) in page

    site = c.get(f"/api/sites/{P1}", params={"as_of": AS_OF}).json()
    assert {k: site[k] for k in ("project_code", "level", "workers_owed", "amount_owed", "oldest_overdue_days")} == {
        "project_code": P1, "level": "orange", "workers_owed": 2, "amount_owed": "4000.00", "oldest_overdue_days": 15}
    assert site == {**listing[P1], "chain": site["chain"], "months": site["months"]}
    assert site["months"] == [{"period": "2025-03", "earned": "5000.00", "paid": "1000.00"}]
    assert site["chain"]["depth"] >= 2
    [liable] = site["chain"]["liable"]
    assert (liable["team"], liable["owed"], liable["workers"], liable["general_contractor"]) == (
        TEAM_A, "4000.00", 2, GC1)
    assert {w["id_masked"] for w in site["workers"]} == {masked(W1), masked(W2)}
    [rule] = [r for r in site["rules"] if r["id"] == "wages.attendance_without_pay"]
    assert rule["legal_basis"][0] == "《保障农民工工资支付条例》第十二条至第十四条、第三十一条"
    html = c.get(f"/sites/{P1}", params={"as_of": AS_OF}).text
    for w in site["workers"]:
        assert w["id_masked"] in html and format_money(int(w["owed"].replace(".", ""))) in html

    worker = c.get(f"/api/workers/{county[W1]}", params={"as_of": AS_OF}).json()
    assert (worker["id"], worker["name"], worker["id_masked"], worker["as_of"]) == (
        county[W1], "陈一", masked(W1), AS_OF)
    assert {p["project_code"]: p["months"] for p in worker["projects"]} == {
        P1: [{"period": "2025-03", "earned": "3000.00", "paid": "1000.00", "owed": "2000.00", "overdue_days": 15}],
        P5: [{"period": "2025-03", "earned": "1002.00", "paid": "400.25", "owed": "601.75", "overdue_days": 15}]}
    for text in (str(data), str(site), str(worker)):
        assert_no_plain_ids(text)


def test_not_found_and_bad_dates(as_role, county):
    c = as_role("wage_checker")
    for path in ("/sites/NOPE", "/api/sites/NOPE", f"/sites/{P4}", f"/api/sites/{P4}", "/workers/999999",
                 "/api/workers/999999"):
        assert c.get(path, params={"as_of": AS_OF}).status_code == 404, path
    for path in ("/sites", f"/sites/{P1}", f"/workers/{county[W1]}", "/api/sites", f"/api/sites/{P1}",
                 f"/api/workers/{county[W1]}"):
        for bad in ("2025-13-01", "yesterday"):
            r = c.get(path, params={"as_of": bad})
            assert r.status_code == 400, (path, bad)


def test_site_list_cache_sees_the_data_of_an_upload_job(as_role, session, settings, tmp_path):
    """BUG: sites.CheckCache keys on max(ImportBatch.id), but a web upload creates its ImportBatch rows
    ("queued", import_jobs.start_import_job) *before* the job imports the data under those same ids
    (jobs.py → import_file(batch_id=…)). A site list opened while the job runs caches the old figures, and
    the finished import does not change the key: the list stays stale until some later import or report."""
    from earlywarn.importer import import_file
    from earlywarn.tables import ImportBatch
    from tests.test_importer import en, write_csv

    c = as_role("wage_checker")
    batch = ImportBatch(filename="payroll.csv", file_sha256="0" * 64, job_id="f" * 32, status="queued")
    session.add(batch)
    session.commit()
    # The list is opened while the upload is queued …
    during = {p["project_code"]: p for p in c.get("/api/sites", params={"as_of": AS_OF}).json()["projects"]}
    assert during[P1]["amount_owed"] == "4000.00"
    # … then the job imports the file into the batch created at upload time, as the job runner does.
    path = write_csv(tmp_path / "payroll.csv", en("payroll"), [pay(P1, W2, "2025-03", "2000", "2000", "2025-05-01")])
    result = import_file(session=session, settings=settings, path=path, batch_id=batch.id, job_id="f" * 32)
    assert (result.status, result.batch_id) == ("succeeded", batch.id)
    session.commit()
    after = {p["project_code"]: p for p in c.get("/api/sites", params={"as_of": AS_OF}).json()["projects"]}
    assert (after[P1]["amount_owed"], after[P1]["workers_owed"]) == ("2000.00", 1)


def test_companies_owing_most(as_role):
    c = as_role("mediator")
    data = c.get("/api/companies", params={"as_of": AS_OF}).json()
    assert data["as_of"] == AS_OF
    ranked = [(x["company"], x["owed"], x["workers"]) for x in data["companies"]]
    # The labour subcontractor and the general contractor both stand above the owing team of P1.
    assert ranked == [(LABOUR, "4000.00", 2), (GC1, "4000.00", 2), ("湖州华宇建设有限公司", "601.75", 1)]
    gc1 = data["companies"][1]
    assert [(p["project_code"], p["role"], p["owed"]) for p in gc1["projects"]] == [
        (P1, "general_contractor", "4000.00")]
    html = c.get("/companies", params={"as_of": AS_OF}).text
    assert GC1 in html and format_money(400000) in html and format_money(60175) in html
    assert as_role("informant").get("/api/companies").status_code == 403
    assert as_role("informant_manager").get("/companies").status_code == 403


def test_rules_page_counts_monitor_hits(as_role):
    html = as_role("leader").get("/admin/rules", params={"as_of": AS_OF}).text
    assert "当月应得低于最低工资折算额" in html  # wages.below_minimum_month, monitor mode
    assert as_role("mediator").get("/admin/rules").status_code == 403


def test_risk_scored_on_demand_on_the_page_and_in_json(as_role, session, settings):
    """The site page and GET /api/sites/{code}/risk score the project now, with the shipped model, even when it
    is not among the projects the county run scores (no attendance in the last 30 days, as P1 on this date)."""
    from datetime import date

    from sqlmodel import select

    from earlywarn.project_arrears import projects_to_score
    from earlywarn.rules import load_rules
    from earlywarn.scoring import load_risk_model, score_projects
    from earlywarn.tables import Project

    day = date.fromisoformat(AS_OF)
    pid = session.exec(select(Project.id).where(Project.code == P1)).one()
    assert pid not in projects_to_score(session=session, as_of=day)
    model = load_risk_model(settings.model_dir, settings.risk_model)
    [p1] = score_projects(session=session, settings=settings, ruleset=load_rules(settings.rules_dir), model=model,
                          as_of=day, project_ids=[pid])
    session.commit()
    client = as_role("mediator")
    data = client.get(f"/api/sites/{P1}/risk", params={"as_of": AS_OF}).json()
    assert data["project_code"] == P1 and data["as_of"] == AS_OF and data["model"] == model.version
    assert data["probability"] == p1.score and data["level"] == (p1.level or "none")
    assert 0 <= data["probability"] <= 1 and data["summary"] == p1.reasons["summary"]
    assert "名工人" in data["summary"]  # P1 owes workers on this date
    html = client.get(f"/sites/{P1}", params={"as_of": AS_OF}).text
    assert "风险评分" in html and f"{p1.score * 100:.0f}%" in html
    assert client.get("/api/sites/NOPE/risk").status_code == 404
    assert client.get(f"/api/sites/{P1}/risk", params={"as_of": "2025-13-01"}).status_code == 400
    assert as_role("informant").get(f"/api/sites/{P1}/risk").status_code == 403
