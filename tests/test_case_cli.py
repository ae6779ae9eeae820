"""``earlywarn cases remind`` through Typer's runner on both backends: reminders, the retaliation watch and the
overdue list on demand, a Chinese summary without claimants' names, a bad date refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from earlywarn import case_clock
from earlywarn.cli import app
from earlywarn.tables import Reminder, RetaliationFlag
from tests.test_retaliation import NAMES, _later_data, watched  # noqa: F401  (fixture)


@pytest.fixture
def remind(session, settings, monkeypatch):
    from earlywarn.config import get_settings

    env = {"EARLYWARN_DATABASE_URL": settings.database_url, "EARLYWARN_DATA_DIR": str(settings.data_dir),
           "EARLYWARN_SECRET_KEY": settings.secret_key, "COLUMNS": "200"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    runner = CliRunner()

    def invoke(*args: str):
        session.commit()  # let the command's own connection write
        get_settings.cache_clear()
        try:
            return runner.invoke(app, ["cases", "remind", *args], env=env)
        finally:
            get_settings.cache_clear()
            session.expire_all()

    return invoke


def test_remind_on_demand_prints_a_chinese_summary(session, settings, watched, remind):  # noqa: F811
    case, mediator, folder, paths = watched
    _later_data(session, settings, folder, paths)
    r = remind("--as-of", "2025-10-31")
    assert r.exit_code == 0, r.output
    assert ("提醒日 2025-10-31：新发期限提醒 0 条；监测在办案件 1 件，新增打击报复预警 2 条；逾期期限 0 项"
            in r.stdout)
    assert f"{case.case_no}：2 名申请人疑似遭受打击报复" in r.stdout and "没有逾期的期限。" in r.stdout
    assert not any(name in r.stdout for name in NAMES.values())
    assert len(session.exec(select(RetaliationFlag)).all()) == 2
    again = remind("--as-of", "2025-10-31")
    assert "新增打击报复预警 0 条" in again.stdout

    [notice] = case_clock.open_deadlines(session=session, case=case)  # the intake decision, 5 working days
    late = notice.due_on + timedelta(days=3)
    r = remind("--as-of", late.isoformat())
    assert r.exit_code == 0, r.output
    assert f"提醒日 {late.isoformat()}：新发期限提醒 1 条" in r.stdout and "逾期期限 1 项" in r.stdout
    row = next(line for line in r.stdout.splitlines() if case.case_no in line and "受理审查" in line)
    assert notice.due_on.isoformat() in row and " 3 " in row and mediator.display_name in row
    reminders = session.exec(select(Reminder).where(Reminder.on_date == late)).all()
    assert [x.key for x in reminders] == [f"deadline:{notice.id}"]


def test_a_bad_date_is_refused(settings, remind):
    r = remind("--as-of", "2025-13-01")
    assert r.exit_code == 2 and "日期格式应为 2026-03-01" in r.stderr


def test_help():
    r = CliRunner().invoke(app, ["cases", "remind", "--help"], env={"COLUMNS": "200"})
    assert r.exit_code == 0 and "--as-of" in r.stdout and "retaliation watch" in r.stdout
