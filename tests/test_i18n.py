"""Chinese first, English complete: every message in code and templates has an English translation."""

import subprocess
import sys

from babel.messages.pofile import read_po

from earlywarn import i18n
from earlywarn.config import ROOT
from tests.conftest import csrf_of


def test_every_message_has_an_english_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_",
                    "-k", "gettext", "-o", str(pot), "--no-location", "."], cwd=ROOT, check=True,
                   capture_output=True)
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with (ROOT / "web/locale/en/LC_MESSAGES/messages.po").open("rb") as fh:
        have = {m.id: m.string for m in read_po(fh, locale="en") if m.id}
    missing = sorted(m for m in wanted if not have.get(m))
    assert not missing, f"untranslated: {missing}"
    assert len(wanted) > 100


def test_money_and_dates_in_chinese_conventions():
    assert i18n.format_money(123450) == "￥1,234.50"
    assert i18n.format_money(-1200) == "-￥12.00"
    assert i18n.format_money(5) == "￥0.05"
    from datetime import UTC, datetime

    token = i18n.set_locale("zh_Hans_CN")
    try:
        # 2026-01-15 01:30 UTC is 09:30 in Shanghai.
        assert i18n.format_datetime_local(datetime(2026, 1, 15, 1, 30, tzinfo=UTC)) == "2026年1月15日 09:30"
    finally:
        i18n.reset_locale(token)


def test_language_switch_to_english_and_back(client):
    page = client.get("/login")
    assert "登录" in page.text and 'lang="zh-CN"' in page.text
    token = csrf_of(client)
    r = client.post("/lang", data={"csrf_token": token, "lang": "en", "next": "/login"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    page = client.get("/login")
    assert "Log in" in page.text and "Username" in page.text and 'lang="en"' in page.text
    token = csrf_of(client)
    client.post("/lang", data={"csrf_token": token, "lang": "zh_Hans_CN", "next": "/login"})
    assert "用户名" in client.get("/login").text
