"""``earlywarn cases …``: the case clocks' work on demand (the web app does the same every morning).

``earlywarn cases remind [--as-of DATE]`` sends the day's deadline reminders, runs the retaliation watch and
prints a Chinese summary with the overdue list. It prints case numbers, never claimants' names: the retaliation
flags' details stay on the case page, for the case's mediator and leaders.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from earlywarn.config import get_settings, local_today

cases_app = typer.Typer(help="调解案件 / mediation cases", no_args_is_help=True)
err = Console(stderr=True)
out = Console()


def _day(value: str | None) -> date:
    if not value:
        return local_today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        err.print(f"[red]日期格式应为 2026-03-01：{value}[/red]")
        raise typer.Exit(2) from None


@cases_app.command("remind")
def remind(as_of: Annotated[str | None, typer.Option("--as-of", help="提醒日，默认今天 / the day to remind for")]
           = None) -> None:
    """发送当天的期限提醒、运行打击报复监测，并列出逾期期限 / send reminders, run the retaliation watch, list
    overdue deadlines."""
    from sqlmodel import select

    from earlywarn.case_clock import KIND_ZH, overdue, send_daily_reminders
    from earlywarn.retaliation import watch_cases
    from earlywarn.services_common import open_session
    from earlywarn.tables import MediationCase, RetaliationFlag, UserAccount

    day = _day(as_of)
    settings = get_settings()
    with open_session(settings) as session:
        sent = send_daily_reminders(session=session, today=day)
        watch = watch_cases(session=session, today=day, pay_day=settings.pay_day)
        late = overdue(session=session, today=day)
        names = dict(session.exec(select(UserAccount.id, UserAccount.display_name)).all())
        flagged = Counter(session.exec(select(RetaliationFlag.case_id).where(RetaliationFlag.raised_on == day,
                                                                             RetaliationFlag.handled_at.is_(None))))
        case_nos = {c.id: c.case_no for _d, c in late}
        if flagged:
            case_nos |= dict(session.exec(select(MediationCase.id, MediationCase.case_no)
                                          .where(MediationCase.id.in_(list(flagged)))).all())
    out.print(f"提醒日 {day.isoformat()}：新发期限提醒 {sent} 条；监测在办案件 {watch.cases} 件，"
              f"新增打击报复预警 {watch.raised} 条；逾期期限 {len(late)} 项")
    for case_id, n in sorted(flagged.items(), key=lambda kv: case_nos.get(kv[0], "")):
        out.print(f"  {case_nos.get(case_id, case_id)}：{n} 名申请人疑似遭受打击报复，"
                  "详情见案件页（仅承办调解员和领导可见）")
    if not late:
        out.print("没有逾期的期限。")
        return
    table = Table(title="逾期期限", show_lines=False)
    for column in ("案号", "期限", "到期日", "逾期天数", "承办调解员"):
        table.add_column(column, justify="right" if column == "逾期天数" else "left")
    for d, c in late:
        table.add_row(c.case_no, KIND_ZH.get(d.kind, d.kind), d.due_on.isoformat(), str((day - d.due_on).days),
                      names.get(c.assignee_id) or "未指派")
    out.print(table)
