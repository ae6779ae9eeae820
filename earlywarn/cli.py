"""The ``earlywarn`` command line (Typer). Every command reads the database from EARLYWARN_DATABASE_URL."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from earlywarn import risk_cli
from earlywarn.case_cli import cases_app
from earlywarn.cli_common import err, out
from earlywarn.cli_common import progress_bar as _progress
from earlywarn.cli_common import today as _today
from earlywarn.config import get_settings

app = typer.Typer(help="劳动关系预警调处系统 earlywarn — labour-relations early warning and mediation.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
users_app = typer.Typer(help="用户 / users", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(cases_app, name="cases")

ROLE_ZH = {"informant": "信息员", "informant_manager": "信息员管理员", "mediator": "调解员",
           "wage_checker": "住建工资核查员", "leader": "县总领导", "admin": "系统管理员"}

Host = Annotated[str, typer.Option(help="监听地址 / address to listen on")]
Port = Annotated[int, typer.Option(help="端口 / port")]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """把数据库升级到最新结构 / upgrade the database schema to the latest migration."""
    from earlywarn.migrate import current_revision, upgrade_database

    settings = get_settings()
    upgrade_database(settings)
    err.print(f"数据库已是最新结构（版本 {current_revision(settings)}）")


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="informant | informant_manager | mediator | wage_checker | leader | admin")],
    display_name: Annotated[str | None, typer.Option("--name", help="显示姓名 / display name")] = None,
    password: Annotated[str | None, typer.Option(help="不填则随机生成并显示一次 / random when omitted")] = None,
) -> None:
    """新增用户 / add a user."""
    from earlywarn import auth
    from earlywarn.services_common import open_session

    settings = get_settings()
    pw = password or secrets.token_urlsafe(12)
    with open_session(settings) as session:
        try:
            user = auth.create_user(session=session, username=username, password=pw, role=role,
                                    display_name=display_name)
        except auth.UserError as exc:
            err.print(f"[red]无法创建用户：{exc}[/red]")
            raise typer.Exit(2) from None
    out.print(f"已创建用户 {user.username}（{role}）")
    if not password:
        out.print(f"初始密码（只显示这一次）：{pw}")


@users_app.command("passwd")
def users_passwd(username: str,
                 password: Annotated[str | None, typer.Option(help="不填则随机生成 / random when omitted")] = None
                 ) -> None:
    """重设用户密码并注销其所有会话 / reset a password and end the user's sessions."""
    from sqlmodel import select

    from earlywarn import auth
    from earlywarn.services_common import open_session
    from earlywarn.tables import UserAccount

    pw = password or secrets.token_urlsafe(12)
    with open_session(get_settings()) as session:
        user = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
        if user is None:
            err.print(f"[red]没有用户 {username}[/red]")
            raise typer.Exit(2)
        try:
            auth.set_password(session=session, user=user, password=pw)
        except auth.UserError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    out.print(f"已重设 {username} 的密码" + ("" if password else f"：{pw}（只显示这一次）"))


@app.command()
def simulate(
    outdir: Path,
    seed: Annotated[int, typer.Option(help="随机种子 / random seed")] = 1,
    scale: Annotated[float, typer.Option(help="规模，1.0 为参照县（约 100 个项目）/ 1.0 = reference county")] = 1.0,
    mechanism: Annotated[str, typer.Option(
        help="纠纷发生机制族 / dispute-onset family: grievance|threshold|trigger")] = "grievance",
    vary_forms: Annotated[bool, typer.Option(
        "--vary-forms", help="按种子随机抽取机制的函数形式常数 / draw the family's constants from the seed")] = False,
    months: Annotated[int, typer.Option(help="模拟月数（自 2024-07-01 起）/ months simulated")] = 18,
    policy: Annotated[str | None, typer.Option(
        help="闭环：按策略每周走访，如 scorer,rules,random（总与 none 对比）/ closed loop: none|rules|random|scorer"
    )] = None,
    capacity: Annotated[int | None, typer.Option(
        help="闭环：每周走访项目数，默认为调解员处理能力设置 / visits per week")] = None,
    resolve_p: Annotated[float, typer.Option(
        help="闭环：一次走访化解欠薪的概率 / chance a visit gets the arrears paid")] = 0.6,
) -> None:
    """生成模拟县数据（六类输入文件 + truth/disputes.csv）；加 --policy 则运行走访闭环、比较策略，结果写入
    OUTDIR/closed_loop.csv / write a synthetic county, or with --policy run the closed loop of weekly mediator
    visits and compare policies (OUTDIR/closed_loop.csv, OUTDIR/truth/disputes-<policy>.csv)."""
    from earlywarn.simulation import MECHANISMS, simulate_county

    if scale <= 0 or scale > 20:
        err.print("[red]--scale 应在 0 到 20 之间[/red]")
        raise typer.Exit(2)
    if mechanism not in MECHANISMS:
        err.print(f"[red]未知的纠纷机制 {mechanism}，应为：{'、'.join(MECHANISMS)}[/red]")
        raise typer.Exit(2)
    if not 1 <= months <= 60:
        err.print("[red]--months 应在 1 到 60 之间[/red]")
        raise typer.Exit(2)
    if policy is not None:
        from earlywarn.closed_loop import ClosedLoopError, parse_policies, run_closed_loop, write_outcomes
        from earlywarn.parsing import format_fen

        settings = get_settings()
        k = settings.mediator_capacity_per_week if capacity is None else capacity
        try:
            policies = parse_policies(policy)
            if k < 0 or not 0.0 <= resolve_p <= 1.0:
                raise ClosedLoopError("--capacity 不能为负，--resolve-p 应在 0 到 1 之间")
        except ClosedLoopError as e:
            err.print(f"[red]{e}[/red]")
            raise typer.Exit(2) from None
        with _progress() as progress:
            tasks: dict[str, int] = {}

            def advance(name: str, done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = progress.add_task(f"闭环 {name}", total=total)
                progress.update(tasks[name], completed=done)

            try:
                outcomes = run_closed_loop(settings=settings, policies=policies, seed=seed, scale=scale,
                                           months=months, mechanism=mechanism, vary_forms=vary_forms, capacity=k,
                                           p_resolve=resolve_p, progress=advance)
            except ClosedLoopError as e:
                err.print(f"[red]{e}[/red]")
                raise typer.Exit(1) from None
        labels = {"none": "none 不走访", "rules": "rules 仅规则", "random": "random 随机走访",
                  "scorer": "scorer 评分模型"}
        table = Table(title=f"走访闭环 seed={seed} scale={scale} 机制={mechanism} {months} 个月，每周走访 {k} 个项目，"
                            f"化解概率 {resolve_p:g}")
        for col in ("策略", "群体性纠纷", "比不走访少", "走访追回欠薪", "走访次数", "化解次数", "用时"):
            table.add_column(col, justify="left" if col == "策略" else "right", no_wrap=True)
        for o in outcomes:
            table.add_row(labels[o.policy], f"{o.disputes:,}", f"{o.prevented:,}", format_fen(o.recovered_fen),
                          f"{o.visits:,}", f"{o.resolved:,}", f"{o.seconds:.0f} 秒")
        err.print(table)
        err.print(f"已写入 {write_outcomes(outdir, outcomes, k)}")
        return
    with _progress() as progress:
        task = progress.add_task("模拟中", total=None)

        def report(stage: str, done: int, total: int) -> None:
            progress.update(task, description=f"模拟中：{stage}", completed=done, total=total)

        summary = simulate_county(outdir, seed=seed, scale=scale, months=months, mechanism=mechanism,
                                  vary_forms=vary_forms, progress=report)
    forms = "，函数形式随种子变化" if vary_forms else ""
    table = Table(title=f"模拟县 seed={seed} scale={scale} 机制={mechanism}{forms}（{summary.start} 至 {summary.end}）")
    table.add_column("文件")
    table.add_column("行数", justify="right")
    for label, n in (("projects 项目", summary.projects), ("subcontracts 分包关系", summary.subcontracts),
                     ("workers 花名册", summary.workers), ("attendance 考勤", summary.attendance_rows),
                     ("payroll 工资发放", summary.payroll_rows), ("reports 信息员报告", summary.reports),
                     ("truth/disputes 群体性纠纷（真值）", summary.disputes)):
        table.add_row(label, f"{n:,}")
    err.print(table)
    err.print(f"已写入 {outdir}")


@app.command("import")
def import_cmd(
    paths: Annotated[list[Path], typer.Argument(help="文件或文件夹（只读文件夹顶层的 CSV/XLSX）/ files or folders")],
    kind: Annotated[str | None, typer.Option(
        help="强制指定文件类型 / force the kind: projects|subcontracts|workers|attendance|payroll|reports")] = None,
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="导入有效行，把有误的行写入 <文件>.rejected.csv / import valid rows only")] = False,
    no_score: Annotated[bool, typer.Option(
        "--no-score", help="导入后不重新评分、不做打击报复监测 / skip scoring and the watch afterwards")] = False,
) -> None:
    """导入住建局与平台的数据文件 / import roster, attendance, payroll, project and report files."""
    from earlywarn.file_kinds import KINDS
    from earlywarn.importer import describe, import_paths
    from earlywarn.services_common import open_session

    if kind is not None and kind not in KINDS:
        err.print(f"[red]未知的文件类型 {kind}，应为：{'、'.join(KINDS)}[/red]")
        raise typer.Exit(2)
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        err.print(f"[red]找不到：{'、'.join(missing)}[/red]")
        raise typer.Exit(2)
    settings = get_settings()
    with _progress() as progress, open_session(settings) as session:
        tasks: dict[str, int] = {}

        def report(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(f"导入 {name}", total=total)
            progress.update(tasks[name], completed=done, total=total)

        results = import_paths(session=session, settings=settings, paths=paths, kind=kind,
                               skip_invalid=skip_invalid, progress=report)
    summary = Table(title="导入结果")
    for col, justify in (("文件", "left"), ("类型", "left"), ("结果", "left"), ("行数", "right"),
                         ("已导入", "right"), ("有误", "right")):
        summary.add_column(col, justify=justify)
    for r in results:
        status = {"succeeded": "[green]成功[/green]", "failed": "[red]失败[/red]",
                  "duplicate": "[yellow]重复，未改动[/yellow]"}[r.status]
        summary.add_row(r.filename, r.kind_label, status, f"{r.rows_total:,}", f"{r.rows_imported:,}",
                        f"{r.rows_rejected:,}")
    err.print(summary)
    for r in results:
        for notice in r.notices:
            err.print(f"[dim]{r.filename}：{notice}[/dim]")
        if r.status == "failed" or r.errors:
            err.print(f"[bold]{r.filename}：{describe(r)}[/bold]")
            if r.errors:
                table = Table(show_lines=False)
                for col in ("行", "列", "值", "原因"):
                    table.add_column(col)
                for e in r.errors:
                    table.add_row(str(e.row), e.column or "", e.value or "", e.reason)
                err.print(table)
                if r.error_count > len(r.errors):
                    err.print(f"（共 {r.error_count} 处错误，以上为前 {len(r.errors)} 处）")
        elif r.status == "duplicate":
            err.print(f"{r.filename}：{r.message}")
    if not no_score and any(r.status == "succeeded" and r.rows_imported for r in results):
        from sqlmodel import Session

        from earlywarn.after_import import refresh_after_import
        from earlywarn.db import make_engine

        engine = make_engine(settings)
        try:
            done = refresh_after_import(session_factory=lambda: Session(engine, expire_on_commit=False),
                                        settings=settings, today=_today())
        finally:
            engine.dispose()
        err.print(f"已按今日重新评分：{done.scored} 个项目，预警新增 {done.created}、更新 {done.updated}、"
                  f"自动解除 {done.resolved}；打击报复监测新增提示 {done.flags} 条")
        if done.failed:
            err.print(f"[yellow]{'、'.join(done.failed)}未完成（数据已导入，明早自动重试）[/yellow]")
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)


@app.command()
def check(
    as_of: Annotated[str | None, typer.Option("--as-of", help="核查日期 YYYY-MM-DD，默认今天 / as-of date")] = None,
    project: Annotated[str | None, typer.Option(help="只核查一个项目（项目编号）/ one project")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    out_file: Annotated[Path | None, typer.Option("--out", help="写入文件而非标准输出 / write to a file")] = None,
) -> None:
    """工资核查：各项目合规等级、规则命中、欠薪人数与金额 / the wage check."""
    import csv
    import io
    import json

    from earlywarn.parsing import parse_date
    from earlywarn.rules import load_rules
    from earlywarn.services_common import open_session
    from earlywarn.wagecheck import CSV_COLUMNS, as_json, csv_rows, run_check

    if fmt not in ("table", "csv", "json"):
        err.print("[red]--format 应为 table、csv 或 json[/red]")
        raise typer.Exit(2)
    if out_file and fmt == "table":
        err.print("[red]--out 用于 --format csv 或 json；表格直接显示在屏幕上[/red]")
        raise typer.Exit(2)
    settings = get_settings()
    try:
        day = parse_date(as_of) if as_of else _today()
    except ValueError as exc:
        err.print(f"[red]--as-of：{exc}[/red]")
        raise typer.Exit(2) from None
    ruleset = load_rules(settings.rules_dir)
    with open_session(settings) as session:
        err.print(f"工资核查，核查日 {day.isoformat()} …")
        results = run_check(session=session, ruleset=ruleset, as_of=day, min_wage_tier=settings.min_wage_tier,
                            pay_day=settings.pay_day, project_code=project,
                            report_window_days=settings.report_window_days)
    if project and not results:
        err.print(f"[yellow]项目 {project} 不存在，或在 {day.isoformat()} 之前没有考勤与工资记录[/yellow]")
    if fmt == "table":
        _print_check_table(results, day, detail=project is not None)
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows(results))
        text = buf.getvalue()
    else:
        text = json.dumps(as_json(results, day), ensure_ascii=False, indent=2) + "\n"
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"已写入 {out_file}（{len(results)} 个项目）")
    else:
        sys.stdout.write(text)


LEVEL_ZH = {"red": "[red]红[/red]", "orange": "[dark_orange]橙[/dark_orange]", "yellow": "[yellow]黄[/yellow]",
            "green": "[green]绿[/green]", "blue": "[blue]蓝[/blue]", "none": "—"}


def _print_check_table(results, day, *, detail: bool) -> None:
    from earlywarn.i18n import format_money

    table = Table(title=f"工资核查（核查日 {day.isoformat()}）")
    for col, justify in (("项目编号", "left"), ("项目名称", "left"), ("乡镇", "left"), ("等级", "center"),
                         ("欠薪人数", "right"), ("欠薪金额", "right"), ("最长逾期天数", "right"), ("命中规则", "left")):
        table.add_column(col, justify=justify)
    for pc in results:
        rules = "、".join(f"{h.rule.title}×{h.fired}" for h in pc.hits if h.fired and h.live)
        table.add_row(pc.code, pc.name, pc.township, LEVEL_ZH.get(pc.level, pc.level), str(pc.workers_owed),
                      format_money(pc.amount_owed_fen), str(pc.oldest_overdue_days), rules or "—")
    out.print(table)
    if not detail:
        return
    for pc in results:
        hits = Table(title=f"{pc.code} 规则命中")
        for col in ("规则", "等级", "命中", "未核查（缺数据）", "法律依据"):
            hits.add_column(col)
        for h in pc.hits:
            mode = "" if h.live else "（试运行）"
            hits.add_row(f"{h.rule.title}{mode}", LEVEL_ZH.get(h.rule.level, h.rule.level), str(h.fired),
                         str(h.not_checked), "；".join(f"《{b.law}》{b.article}" for b in h.rule.legal_basis))
        out.print(hits)
        workers = Table(title=f"{pc.code} 欠薪工人")
        for col in ("姓名", "身份证号", "班组", "欠薪月份", "欠薪金额"):
            workers.add_column(col)
        for w in pc.owed:
            months = "、".join(f"{p}（{format_money(o)}，逾期{d}天）" for p, o, d in w.months)
            workers.add_row(w.name, w.id_masked, w.team, months, format_money(w.owed_fen))
        out.print(workers)


@app.command()
def classify(
    in_file: Annotated[Path, typer.Argument(help="含“text”或“内容”列的 CSV/XLSX / a file with a text column")],
    out_file: Annotated[Path, typer.Option("--out", help="输出 CSV（UTF-8 带 BOM）/ output CSV")],
) -> None:
    """对报告文字批量分类：类别、激化信号、集体，附置信度 / classify report texts in bulk."""
    from earlywarn.identity import InvalidValue
    from earlywarn.textclass import ModelCardError, classify_csv
    from earlywarn.understanding import load_analyser

    settings = get_settings()
    if not in_file.exists():
        err.print(f"[red]找不到 {in_file}[/red]")
        raise typer.Exit(2)
    try:
        analyser = load_analyser(settings.model_dir, settings.rules_dir)
    except (ModelCardError, RuntimeError) as exc:
        err.print(f"[red]模型无法加载：{exc}[/red]")
        raise typer.Exit(1) from None
    try:
        counts = classify_csv(in_file, out_file, analyser.classifier, analyser.phrases)
    except InvalidValue as exc:
        err.print(f"[red]{in_file.name}：{exc}[/red]")
        raise typer.Exit(2) from None
    done = counts["rows"] - counts["blank"]
    err.print(f"已分类 {done} 行（空白 {counts['blank']} 行）：激化信号 {counts['escalation']}，"
              f"集体 {counts['collective']}；写入 {out_file}（模型 {analyser.model_version}）")


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """启动网页服务 / serve the web app."""
    import uvicorn

    from earlywarn.app import create_app

    # No access log: it would record the address of every anonymous reporter.
    uvicorn.run(create_app(get_settings()), host=host, port=port, proxy_headers=False, access_log=False)


@app.command()
def worker(
    threads: Annotated[int, typer.Option(min=1, max=16, help="同时运行的导入任务数 / concurrent jobs")] = 1,
) -> None:
    """运行导入任务队列的工作进程（EARLYWARN_JOB_QUEUE=redis）；Ctrl-C 或 SIGTERM 在完成手头任务后退出 /
    run queued import jobs until interrupted."""
    from earlywarn.job_queue import QueueSettingsError, serve

    settings = get_settings()
    if settings.job_queue != "redis":
        err.print("[red]任务队列未启用：请设置 EARLYWARN_JOB_QUEUE=redis 和 EARLYWARN_REDIS_URL "
                  "（默认由网页进程自己在后台导入，无需工作进程）[/red]")
        raise typer.Exit(2)
    try:
        err.print(f"导入任务工作进程已启动（{threads} 个线程，队列 {settings.job_namespace}:imports）")
        serve(settings, threads=threads)
    except QueueSettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    err.print("工作进程已退出")


@app.command()
def demo(host: Host = "127.0.0.1", port: Port = 8000,
         no_serve: Annotated[bool, typer.Option("--no-serve", help="只准备数据，不启动服务")] = False) -> None:
    """模拟一个小县、导入、创建各角色演示账号并启动服务；可重复运行 / prepare demo data and serve."""
    from earlywarn.demo import prepare_demo

    settings = get_settings()
    result = prepare_demo(settings=settings, console=err)
    table = Table(title="演示账号（密码只在创建时显示一次）")
    for col in ("角色", "用户名", "密码"):
        table.add_column(col)
    for role, username, password in result.accounts:
        table.add_row(ROLE_ZH.get(role, role), username, password or "（已存在；可用 earlywarn users passwd 重设）")
    out.print(table)
    if not no_serve:
        out.print(f"打开 http://{host}:{port}/ 登录")
        serve(host=host, port=port)


risk_cli.register(app)  # score, backtest, evaluate, train (earlywarn/risk_cli.py)
