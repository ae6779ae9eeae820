"""After an import and every morning: scores, reminders and the watch run as separate steps, and one failing
step is named while the others still run."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from earlywarn.after_import import refresh_after_import, refresh_daily
from earlywarn.db import make_engine
from earlywarn.tables import RiskWarning
from tests.test_balances import import_county
from tests.test_wagecheck import COUNTY, P2

AS_OF = date(2025, 4, 1)
REPORT = [["R-9", "2025-03-30 10:00", "", "孝丰镇", P2, "", "工人说明天要去堵政府大门讨薪，十几个人", "15", ""]]


def _factory(settings):
    engine = make_engine(settings, immediate=False)
    return engine, (lambda: Session(engine, expire_on_commit=False))


def test_after_an_import_scores_and_watches(session, settings, tmp_path):
    import_county(session, settings, tmp_path / "county", reports=REPORT, **COUNTY)
    session.commit()
    engine, factory = _factory(settings)
    try:
        done = refresh_after_import(session_factory=factory, settings=settings, today=AS_OF)
    finally:
        engine.dispose()
    assert done.failed == [] and done.created == 1 and done.scored >= 1 and done.reminders == 0
    session.rollback()
    assert [w.level for w in session.exec(select(RiskWarning))] == ["red"]


def test_a_failing_step_is_named_and_the_others_still_run(session, settings, tmp_path):
    import_county(session, settings, tmp_path / "county", reports=REPORT, **COUNTY)
    session.commit()
    broken = settings.model_copy(update={"risk_model": "no-such-model"})  # scoring cannot load its model
    engine, factory = _factory(broken)
    try:
        done = refresh_daily(session_factory=factory, settings=broken, today=AS_OF)
    finally:
        engine.dispose()
    assert done.failed == ["风险评分"] and done.scored == 0 and done.flags == 0 and done.reminders == 0
    session.rollback()
    assert session.exec(select(RiskWarning)).all() == []
