"""The leaders' overdue list summarised on /dashboard: figures from the case clocks' deadlines, the oldest rows."""

from __future__ import annotations

from datetime import date

from earlywarn import overview
from earlywarn.config import local_today
from tests.conftest import login
from tests.test_cases import open_from_warning, site  # noqa: F401  (fixture)


def test_overdue_summary_and_the_dashboard(client, session, site, make_user):  # noqa: F811
    mediator, _leader = make_user("mediator"), make_user("leader")
    case = open_from_warning(session, site, mediator)  # 工人00 left on 20 Sep 2025: limitation due 20 Sep 2026
    empty = overview.overdue_summary(session=session, today=date(2026, 9, 20))
    assert (empty.deadlines, empty.cases, empty.by_kind, empty.oldest) == (0, 0, {}, [])
    late = overview.overdue_summary(session=session, today=date(2026, 9, 30))
    assert (late.deadlines, late.cases, late.by_kind) == (1, 1, {"limitation": 1})
    [(deadline, row_case, days)] = late.oldest
    assert (deadline.due_on, row_case.id, days) == (date(2026, 9, 20), case.id, 10)

    assert login(client, "u_leader").status_code == 303
    page = client.get("/dashboard").text
    today = local_today()
    assert today >= date(2026, 11, 28)  # the live page counts from the machine's today
    days = (today - date(2026, 9, 20)).days
    assert "1 项期限已逾期，涉及 1 件案件" in page and "仲裁时效 1" in page and "查看逾期清单" in page
    assert f'href="/cases/{case.id}"' in page and f'<td class="num">{days}</td>' in page
