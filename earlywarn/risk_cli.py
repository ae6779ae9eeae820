"""The risk scorer's commands: ``score``, ``backtest``, ``evaluate`` and ``train`` (registered on the main app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from earlywarn.cli_common import err, out, parse_day, progress_bar, today
from earlywarn.config import get_settings


def register(app: typer.Typer) -> None:
    for command in (score, backtest, evaluate, train):
        app.command()(command)


def score(as_of: Annotated[str | None, typer.Option("--as-of", help="评分日期，默认今天 / scoring date")] = None
          ) -> None:
    """为各项目评分并更新预警（每个项目至多一条未结预警）/ score projects and update warnings."""
    from earlywarn.rules import load_rules
    from earlywarn.scoring import load_risk_model, score_projects
    from earlywarn.services_common import open_session
    from earlywarn.warnings import apply_scores

    settings = get_settings()
    day = parse_day(as_of, "--as-of") if as_of else today()
    ruleset = load_rules(settings.rules_dir)
    model = load_risk_model(settings.model_dir, settings.risk_model)
    if model is None:
        err.print("[yellow]没有风险模型（models/risk-*），只按规则评分[/yellow]")
    with open_session(settings) as session:
        scores = score_projects(session=session, settings=settings, ruleset=ruleset, model=model, as_of=day)
        result = apply_scores(session=session, scores=scores, as_of=day)
    levels = {lv: sum(1 for s in scores if s.level == lv) for lv in ("red", "orange", "yellow", "blue")}
    out.print(f"评分日 {day.isoformat()}：{len(scores)} 个项目；红 {levels['red']}、橙 {levels['orange']}、"
              f"黄 {levels['yellow']}、蓝 {levels['blue']}；预警新增 {result.created}、更新 {result.updated}、"
              f"自动解除 {result.resolved}")


def backtest(
    data_dir: Annotated[Path, typer.Argument(help="六类输入文件所在文件夹 / folder with the input files")],
    date_from: Annotated[str, typer.Option("--from", help="起始评分日 / first as-of date")],
    date_to: Annotated[str, typer.Option("--to", help="最后评分日 / last as-of date")],
    out_file: Annotated[Path, typer.Option("--out", help="输出 CSV（formats.md 的 backtest output）")],
    every: Annotated[str, typer.Option(help="间隔，如 7d / step, e.g. 7d")] = "7d",
    workers: Annotated[int, typer.Option(help="并行进程数，默认 CPU 核数（至多 4）/ processes")] = 0,
) -> None:
    """回测：把文件导入临时数据库，按日期逐期评分 / import into a scratch database and score every step.

    另写 <OUT>.components.csv（模型概率、规则级别、最长欠薪天数），供 evaluate 做消融对比。"""
    from earlywarn.backtest import BacktestError, run_backtest, scoring_dates

    start, end = parse_day(date_from, "--from"), parse_day(date_to, "--to")
    if not every.endswith("d") or not every[:-1].isdigit() or int(every[:-1]) < 1:
        err.print("[red]--every 应为天数，如 7d[/red]")
        raise typer.Exit(2)
    if end < start or not data_dir.is_dir():
        err.print("[red]--to 不能早于 --from，DATA_DIR 须为文件夹[/red]")
        raise typer.Exit(2)
    days = scoring_dates(start, end, int(every[:-1]))
    with progress_bar() as progress:
        task = progress.add_task("回测评分", total=len(days))
        try:
            result = run_backtest(settings=get_settings(), data_dir=data_dir, days=days, out=out_file, console=err,
                                  advance=lambda: progress.advance(task), workers=workers or _cpus())
        except BacktestError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    err.print(f"已写入 {out_file}（{result.dates} 个评分日，{result.rows:,} 行）及 {result.components.name}")


def train(
    from_db: Annotated[bool, typer.Option(
        "--from-db", help="从本库的办结案件与排除的预警学习 / learn from outcomes")] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", help="模型输出文件夹 / output folder")] = None,
    seeds: Annotated[str, typer.Option(help="模拟训练：种子:机制，逗号分隔 / seed:mechanism,…")] = (
        "101:grievance,102:threshold,103:grievance,105:threshold"),
    test: Annotated[str, typer.Option(help="模拟训练：留出的种子:机制（训练中没有的机制族）")] = "104:trigger",
    scale: Annotated[float, typer.Option(help="模拟训练的规模 / scale of the simulated counties")] = 0.6,
) -> None:
    """训练风险模型：默认用模拟县（留出一个机制族检验）；--from-db 用本县的实际结果训练新版本并与原模型对比 /
    train the risk model on simulated counties, or on this county's outcomes."""
    from datetime import datetime

    from earlywarn.config import LOCAL_TZ

    settings = get_settings()
    stamp = datetime.now(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    if not from_db:
        from earlywarn.train_risk import SeedSpec
        from earlywarn.train_risk import train as train_simulated

        try:
            specs, held_out = [SeedSpec.parse(x) for x in seeds.split(",") if x.strip()], SeedSpec.parse(test)
        except ValueError:
            err.print("[red]--seeds / --test 应为 种子:机制，如 101:grievance[/red]")
            raise typer.Exit(2) from None
        folder = out_dir or settings.model_dir / f"risk-{stamp}"
        try:
            card = train_simulated(seeds=specs, test=held_out, scale=scale, out=folder,
                                   capacity=settings.mediator_capacity_per_week)
        except (ValueError, FileExistsError) as exc:
            err.print(f"[red]无法训练：{exc}[/red]")
            raise typer.Exit(2) from None
        out.print(f"已保存 {folder}；留出机制族 {card['data']['held_out_family']} 的平均精度 "
                  f"{card['metrics_held_out_family']['average_precision']}（基准率 "
                  f"{card['metrics_held_out_family']['base_rate']}）")
        return
    from earlywarn.scoring import load_risk_model
    from earlywarn.services_common import open_session
    from earlywarn.train_outcomes import OutcomeTrainingError, train_from_outcomes

    folder = out_dir or settings.model_dir / f"outcomes-risk-{stamp}"
    if folder.exists():
        err.print(f"[red]{folder} 已存在[/red]")
        raise typer.Exit(2)
    with open_session(settings) as session:
        try:
            card = train_from_outcomes(session=session, settings=settings, baseline=load_risk_model(settings.model_dir),
                                       out=folder, today=today())
        except OutcomeTrainingError as exc:
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    comparison = card["comparison_on_outcome_labels"]
    table = Table(title=f"结果标签 {comparison['labels']} 条（立案 {comparison['positives']}，"
                        f"基准率 {comparison['base_rate'] * 100:.1f}%）上的对比")
    for col in ("模型", "平均精度 AP", "Brier"):
        table.add_column(col)
    for name, figures in comparison.items():
        if isinstance(figures, dict):
            label = "新模型（交叉验证）" if name == "this_model_out_of_fold" else f"现用模型 {name.split('_', 2)[-1]}"
            table.add_row(label, f"{figures['average_precision']:.3f}", f"{figures['brier']:.4f}")
    out.print(table)
    out.print(f"已保存 {folder}（未启用；确认对比结果后设置 EARLYWARN_RISK_MODEL={folder.name} 启用）")


def evaluate(
    backtest_file: Annotated[Path, typer.Argument(help="backtest 输出的 CSV / the backtest output")],
    truth: Annotated[Path, typer.Option("--truth", help="真值 disputes.csv / the truth file")],
    capacity: Annotated[int | None, typer.Option(help="每周可走访项目数，默认取设置 / visits a week")] = None,
    horizon: Annotated[int, typer.Option(help="预警期（天）/ horizon in days")] = 56,
    until: Annotated[str | None, typer.Option("--until", help="真值覆盖到的最后一天，默认最后评分日")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """评估回测：平均精度、每周前 K 精度、提前预警比例、中位提前天数、Brier、预警数；含消融与朴素基线 / evaluate a
    backtest against the truth, with ablations and a naive baseline."""
    import json

    from earlywarn.backtest import components_path
    from earlywarn.evaluation import EvaluationError, as_dict, attach_components, read_backtest, read_truth
    from earlywarn.evaluation import evaluate as run_evaluation

    if fmt not in ("table", "json") or horizon < 1 or (capacity is not None and capacity < 1):
        err.print("[red]--format 应为 table 或 json；--horizon、--capacity 应为正整数[/red]")
        raise typer.Exit(2)
    last = parse_day(until, "--until") if until else None
    try:
        rows = read_backtest(backtest_file)
        side = components_path(backtest_file)
        if side.exists():
            attach_components(rows, side)
        else:
            err.print(f"[yellow]没有 {side.name}：只评估完整评分，不做消融对比[/yellow]")
        result = run_evaluation(rows, read_truth(truth), capacity=capacity or get_settings().mediator_capacity_per_week,
                                horizon_days=horizon, until=last)
    except EvaluationError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if fmt == "json":
        out.print_json(json.dumps(as_dict(result), ensure_ascii=False))
        return
    _print_evaluation(result)


def _cpus() -> int:
    import os

    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def _print_evaluation(ev) -> None:
    from earlywarn.evaluation import SCORER_ZH

    def pct(v):
        return "—" if v is None else f"{v * 100:.1f}%"

    def num(v, digits=3):
        return "—" if v is None else f"{v:.{digits}f}"

    table = Table(title=f"回测评估：{ev.rows:,} 个项目-评分日，正例 {ev.positives}"
                        f"（基准率 {ev.base_rate * 100:.2f}%），纠纷 {ev.disputes} 起，"
                        f"{ev.weeks} 个评分日，预警期 {ev.horizon_days} 天", min_width=100)
    for col in ("评分方式", "平均精度 AP", "首次纠纷 AP", "无前兆 AP", f"每周前 {ev.capacity} 精度", "提前≥7天预警",
                "提前≥14天预警", "中位提前天数", "Brier", "预警数"):
        table.add_column(col, justify="left" if col == "评分方式" else "right")
    for f in ev.figures:
        table.add_row(SCORER_ZH[f.scorer], num(f.average_precision), num(f.average_precision_first),
                      num(f.average_precision_onset), pct(f.precision_top_k), pct(f.warned_7d), pct(f.warned_14d),
                      num(f.median_lead_days, 0), num(f.brier, 4), f"{f.warnings:,}")
    out.print(table)
    out.print("首次纠纷：此前未发生纠纷的项目；无前兆：截至评分日从未欠薪、也无信息员报告规则命中的项目；"
              "仅规则、朴素基线不是概率，不计 Brier。")
