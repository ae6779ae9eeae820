"""Informant reports: the phone form, anonymity, receipts, follow-up, photos, rate limits, the inbox, the API."""

import io
import logging
import re

import pytest
from PIL import Image
from sqlalchemy import text
from sqlmodel import select

from earlywarn.audit import verify_chain
from earlywarn.photos import PhotoError, clean_photo
from earlywarn.ratelimit import FILE_REPORT, Limit, RateLimiter
from earlywarn.reports import normalize_receipt
from earlywarn.tables import AuditLog, Informant, Report, ReportMessage, ReportPhoto
from tests.conftest import csrf_of, login

TEXT = "包工头跑了，二十几个人三个月工资没拿到，说要去堵政府大门"


def file_form(client, **fields):
    token = csrf_of(client, "/report")
    data = {"csrf_token": token, "text": TEXT, "township": "递铺街道", **fields}
    return client.post("/report", data=data)


def receipt_of(html: str) -> str:
    m = re.search(r'class="receipt"[^>]*>([A-Z2-7-]+)<', html)
    assert m, html[:2000]
    return m.group(1)


def test_form_is_chinese_mobile_and_has_quick_exit(client):
    page = client.get("/report")
    assert page.status_code == 200
    assert "发生了什么" in page.text and "快速离开" in page.text and "data-quick-exit" in page.text
    assert 'name="viewport"' in page.text and "/static/quickexit.js" in page.text
    assert "<select name=\"township\">" in page.text and "递铺街道" in page.text
    js = client.get("/static/quickexit.js")
    assert js.status_code == 200 and "location.replace" in js.text


def test_anonymous_report_gets_a_receipt_and_is_understood(client, session):
    r = file_form(client, workers_involved="23", amount_claimed="￥86,000")
    assert r.status_code == 200
    receipt = receipt_of(r.text)
    assert len(normalize_receipt(receipt)) == 20  # 96 bits in base32
    report = session.exec(select(Report)).one()
    assert report.informant_id is None and report.source == "web"
    assert report.receipt_hash and receipt.replace("-", "") not in report.receipt_hash
    assert (report.category, report.escalation, report.collective) == ("wage_arrears", True, True)
    assert report.amount_claimed_fen == 8_600_000 and report.workers_involved == 23
    assert report.analysis["reasons"] and report.analysis["model"].startswith("report-text-")
    assert report.received_at.minute == 0 and report.received_at.second == 0  # kept to the hour only


def test_anonymous_report_leaves_no_identifying_trace(client, session, caplog):
    caplog.set_level(logging.DEBUG)
    marker_ip, marker_ua = "203.0.113.77", "Mozilla/5.0 (Linux; Android 14; VeryUniquePhone-XYZ)"
    token = csrf_of(client, "/report")
    r = client.post("/report", data={"csrf_token": token, "text": TEXT},
                    headers={"User-Agent": marker_ua, "X-Forwarded-For": marker_ip, "X-Real-IP": marker_ip})
    assert r.status_code == 200
    dump = []
    for table in ("report", "audit_log", "report_message", "user_session", "informant"):
        dump += [repr(row) for row in session.execute(text(f"SELECT * FROM {table}"))]
    everything = "\n".join(dump)
    for trace in (marker_ip, "VeryUniquePhone", "testclient", "127.0.0.1"):
        assert trace not in everything
        assert trace not in caplog.text
    entry = session.exec(select(AuditLog).where(AuditLog.action == "report.filed")).one()
    assert entry.actor_id is None and entry.detail["anonymous"] is True


def test_bad_input_is_named_per_field_and_nothing_is_stored(client, session):
    r = file_form(client, text="欠", township="火星镇", workers_involved="很多", amount_claimed="abc",
                  since="2099-01-01")
    assert r.status_code == 400
    for fragment in ("至少 4 个字", "请选择本县的乡镇或街道", "应为整数", "不能晚于今天"):
        assert fragment in r.text
    assert session.exec(select(Report)).all() == []


def test_receipt_status_and_two_way_messages(client, make_user, session):
    receipt = receipt_of(file_form(client).text)
    token = csrf_of(client, "/report/status")
    page = client.post("/report/status", data={"csrf_token": token, "receipt": receipt.lower().replace("-", " ")})
    assert page.status_code == 200 and "已接收" in page.text
    client.post("/report/status/reply", data={"csrf_token": token, "receipt": receipt, "body": "项目在递铺镇北边"})
    report = session.exec(select(Report)).one()
    make_user("mediator")
    login(client, "u_mediator")
    mtoken = csrf_of(client, f"/reports/{report.id}")
    assert "项目在递铺镇北边" in client.get(f"/reports/{report.id}").text
    r = client.post(f"/reports/{report.id}/messages", data={"csrf_token": mtoken, "body": "请问具体是哪个班组？"},
                    follow_redirects=False)
    assert r.status_code == 303
    client.cookies.clear()
    token = csrf_of(client, "/report/status")
    page = client.post("/report/status", data={"csrf_token": token, "receipt": receipt})
    assert "请问具体是哪个班组？" in page.text and "项目在递铺镇北边" in page.text
    senders = [m.sender for m in session.exec(select(ReportMessage).order_by(ReportMessage.id))]
    assert senders == ["reporter", "mediator"]
    assert verify_chain(session=session) == (True, None)


def test_wrong_receipt_is_refused_and_lookups_are_rate_limited(client):
    file_form(client)
    token = csrf_of(client, "/report/status")
    statuses = [client.post("/report/status", data={"csrf_token": token, "receipt": f"AAAA-BBBB-CCCC-DDDD-{i:04d}"})
                .status_code for i in range(12)]
    assert statuses[:10] == [404] * 10
    assert statuses[10:] == [429, 429]


def test_filing_is_rate_limited(client, session):
    codes = [file_form(client).status_code for _ in range(FILE_REPORT.count + 2)]
    assert codes[:FILE_REPORT.count] == [200] * FILE_REPORT.count
    assert codes[-1] == 429 and "操作太频繁" in file_form(client).text
    assert len(session.exec(select(Report)).all()) == FILE_REPORT.count


def test_rate_limiter_keys_are_not_addresses():
    limiter = RateLimiter()
    key = limiter.client_key("198.51.100.23")
    assert "198.51.100.23" not in key and key == limiter.client_key("198.51.100.23")
    assert key != limiter.client_key("198.51.100.24")
    small = Limit("t", 2, 60)
    assert [limiter.hit(small, key) for _ in range(3)] == [True, True, False]


def test_rate_limiter_on_redis():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_timeout=1).ping()
    except Exception:
        pytest.skip("Redis not reachable")
    import uuid

    limiter = RateLimiter("redis://127.0.0.1:6379/15")
    small = Limit(f"t-{uuid.uuid4().hex}", 2, 60)
    other = RateLimiter("redis://127.0.0.1:6379/15")  # a second worker shares the count
    assert [limiter.hit(small, "k"), other.hit(small, "k"), limiter.hit(small, "k")] == [True, True, False]


def _jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 38.0, 0.0), 3: "E", 4: (119.0, 40.0, 0.0)}  # GPS IFD
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def test_photo_metadata_is_stripped():
    raw = _jpeg_with_gps()
    assert b"PhoneMaker" in raw
    clean = clean_photo(raw, "a.jpg")
    assert b"PhoneMaker" not in clean.data and b"Exif" not in clean.data
    assert not Image.open(io.BytesIO(clean.data)).getexif()
    assert (clean.width, clean.height) == (64, 48)


@pytest.mark.parametrize(("data", "fragment"), [(b"", "空文件"), (b"%PDF-1.4 not an image", "无法作为照片打开"),
                                                 (b"GIF89a" + b"\0" * 50, "无法作为照片打开")])
def test_bad_photos_are_refused(data, fragment):
    with pytest.raises(PhotoError, match=fragment):
        clean_photo(data, "x")


def test_photos_are_stored_encrypted_and_shown_to_mediators(client, make_user, session, settings):
    token = csrf_of(client, "/report")
    r = client.post("/report", data={"csrf_token": token, "text": TEXT},
                    files=[("photos", ("site.jpg", _jpeg_with_gps(), "image/jpeg"))])
    assert r.status_code == 200
    photo = session.exec(select(ReportPhoto)).one()
    stored = (settings.data_dir / "photos" / f"{photo.stored_name}.enc").read_bytes()
    assert not stored.startswith(b"\xff\xd8") and b"PhoneMaker" not in stored
    make_user("mediator")
    login(client, "u_mediator")
    img = client.get(f"/reports/{photo.report_id}/photos/{photo.id}")
    assert img.status_code == 200 and img.content.startswith(b"\xff\xd8") and b"PhoneMaker" not in img.content
    client.cookies.clear()
    assert client.get(f"/reports/{photo.report_id}/photos/{photo.id}", follow_redirects=False).status_code == 303


def test_named_informant_files_and_follows_up_under_a_pseudonym(client, make_user, session, settings):
    from earlywarn.informants import register_informant
    from earlywarn.privacy import Vault

    user = make_user("informant")
    register_informant(session=session, vault=Vault(settings), township="递铺街道", user=user, name="李小明")
    login(client, "u_informant")
    r = file_form(client)
    assert r.status_code == 200 and "我的报告" in r.text and 'class="receipt"' not in r.text
    report = session.exec(select(Report)).one()
    informant = session.exec(select(Informant)).one()
    assert report.informant_id == informant.id and report.receipt_hash is None
    assert client.get(f"/my/reports/{report.id}").status_code == 200
    make_user("mediator")
    client.cookies.clear()
    login(client, "u_mediator")
    page = client.get(f"/reports/{report.id}").text
    assert f"信息员 #{informant.pseudonym_no}" in page and "李小明" not in page
    inbox = client.get("/reports").text
    assert "李小明" not in inbox and f"信息员 #{informant.pseudonym_no}" in inbox


def test_another_informants_report_is_not_found(client, make_user, session, settings):
    from earlywarn.informants import register_informant
    from earlywarn.privacy import Vault

    a, b = make_user("informant", "inf_a"), make_user("informant", "inf_b")
    register_informant(session=session, vault=Vault(settings), user=a)
    register_informant(session=session, vault=Vault(settings), user=b)
    login(client, "inf_a")
    file_form(client)
    report = session.exec(select(Report)).one()
    client.cookies.clear()
    login(client, "inf_b")
    assert client.get(f"/my/reports/{report.id}").status_code == 404


def test_inbox_filters(client, make_user, session):
    file_form(client)
    token = csrf_of(client, "/report")
    client.post("/report", data={"csrf_token": token, "text": "食堂饭菜太差，天天白菜"})
    make_user("mediator")
    login(client, "u_mediator")
    assert client.get("/reports?flag=escalation").text.count('href="/reports/') == 2  # one row, two links
    assert "食堂饭菜" in client.get("/reports?category=other").text
    assert "食堂饭菜" not in client.get("/reports?category=wage_arrears").text


@pytest.mark.parametrize("role", ["wage_checker", "informant", "informant_manager"])
def test_inbox_is_for_mediators_and_leaders(client, make_user, role):
    make_user(role)
    login(client, f"u_{role}")
    assert client.get("/reports").status_code == 403


def test_api_files_anonymously_and_reads_status(client, session):
    r = client.post("/api/reports", json={"text": "工人说明天要去堵政府大门讨薪", "township": "孝丰镇"})
    assert r.status_code == 201
    body = r.json()
    assert body["escalation"] is True and len(normalize_receipt(body["receipt"])) == 20
    status = client.post("/api/reports/status", json={"receipt": body["receipt"]})
    assert status.status_code == 200 and status.json()["status"] == "received"
    assert client.post("/api/reports/status", json={"receipt": "WRONG-CODE-0000"}).status_code == 404
    bad = client.post("/api/reports", json={"text": "x", "township": "火星镇"})
    assert bad.status_code == 422 and "township" in bad.json()["detail"]


def test_food_complaint_is_other_without_escalation(client, session):
    token = csrf_of(client, "/report")
    client.post("/report", data={"csrf_token": token, "text": "食堂饭菜太差"})
    report = session.exec(select(Report)).one()
    assert (report.category, report.escalation, report.collective) == ("other", False, False)
