"""Evaluation of a backtest against the truth: labels, each figure on hand-built rows, bad files, the command."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import pytest
from sklearn.metrics import average_precision_score
from typer.testing import CliRunner

from earlywarn.cli import app
from earlywarn.evaluation import EvaluationError, Row, attach_components, evaluate, read_backtest, read_truth

D0 = date(2025, 1, 6)


def week(n: int) -> date:
    return D0 + timedelta(weeks=n)


def row(n, code, score, level="none", model=None, model_level="none", check="green", overdue=0):
    return Row(week(n), code, score, level, model if model is not None else score, model_level, check, overdue)


def county():
    """Weeks 0–11, three projects; A has a dispute in week 6 (day 3), B in week 10, C none."""
    truth = {"A": [week(6) + timedelta(days=3)], "B": [week(10) + timedelta(days=1)]}
    rows = []
    for n in range(12):
        # A: warned from week 3 (red by rules floor from week 5), B: the model sees it from week 8, C: noise
        rows.append(row(n, "A", 0.5 if n >= 3 else 0.02, "red" if n >= 5 else ("orange" if n >= 3 else "none"),
                        model=0.45 if n >= 3 else 0.02, model_level="orange" if n >= 3 else "none",
                        check="red" if n >= 2 else "green", overdue=40 + 7 * n))
        rows.append(row(n, "B", 0.2 if n >= 8 else 0.01, "yellow" if n >= 8 else "none", model=0.2 if n >= 8 else 0.01,
                        model_level="yellow" if n >= 8 else "none", check="orange", overdue=10))
        rows.append(row(n, "C", 0.1, "blue", model=0.1, model_level="blue", check="red", overdue=90))
    return rows, truth


def test_labels_leave_out_rows_already_in_a_dispute_and_rows_past_the_truth():
    rows, truth = county()
    ev = evaluate(rows, truth, capacity=1, horizon_days=28, until=week(11))
    # labelled: weeks 0–7 (as_of + 28 days ≤ week 11), less A in week 7 (its dispute was 4 days before)
    assert ev.rows == 8 * 3 - 1
    # positives: A in weeks 3, 4, 5, 6 (dispute within 28 days after), B in weeks 7 (10+1 days ahead ≤ 28)
    assert ev.positives == 4 + 1
    assert ev.base_rate == pytest.approx(5 / 23)


def test_average_precision_matches_sklearn_and_ablations_differ():
    rows, truth = county()
    ev = evaluate(rows, truth, capacity=1, horizon_days=28, until=week(11))
    figures = ev.by_scorer()
    assert set(figures) == {"full", "model", "rules", "naive"}
    kept = [r for r in rows if r.as_of <= week(7) and not (r.code == "A" and r.as_of == week(7))]
    y = [int(any(r.as_of < d <= r.as_of + timedelta(days=28) for d in truth.get(r.code, []))) for r in kept]
    model_ap = average_precision_score(y, [r.model_score for r in kept])
    naive_ap = average_precision_score(y, [r.overdue_days for r in kept])
    assert figures["model"].average_precision == pytest.approx(model_ap)
    assert figures["naive"].average_precision == pytest.approx(naive_ap)
    # the naive baseline ranks C (90 days overdue, never a dispute) first: worse than the model
    assert figures["naive"].average_precision < figures["model"].average_precision


def test_top_k_lead_time_and_warning_counts():
    rows, truth = county()
    ev = evaluate(rows, truth, capacity=1, horizon_days=56, until=week(11))
    f = ev.by_scorer()
    # with a 56-day horizon only weeks 0–3 are labelled, and A is the top-1 of weeks 3 for full
    assert ev.weeks == 4
    # disputes seen with a full horizon: A (week 6 + 3 days) starts before week 0 + 56 days → only B counts
    assert ev.disputes == 1
    # B: full warns from week 8 (yellow), dispute at week 10 + 1 day → 15 days ahead
    assert f["full"].median_lead_days == 15
    assert f["full"].warned_7d == 1.0 and f["full"].warned_14d == 1.0
    # naive warns at ≥ 30 days overdue: B never reaches it
    assert f["naive"].warned_7d == 0.0 and f["naive"].median_lead_days is None
    # rules warn at orange/red: B is orange all along → first warned row in the window is 56 days ahead
    assert f["rules"].median_lead_days == 50  # from week 3, the first inside the 56 days before week 10 + 1 day
    # top-1 each week: C (blue) in weeks 0–2, A (orange) in week 3, the only hit
    assert f["full"].precision_top_k == pytest.approx(0.25)
    assert f["full"].warnings == sum(r.level != "none" for r in rows)
    assert f["naive"].warnings == sum(r.overdue_days >= 30 for r in rows)
    assert f["rules"].brier is None and f["naive"].brier is None and f["full"].brier is not None


def test_onsets_are_projects_with_no_arrears_and_no_reports_so_far():
    rows, truth = county()
    # B: no arrears until week 4, then 10 days overdue; a report rule fires on C from week 2 (C had arrears anyway)
    for r in rows:
        if r.code == "B":
            r.overdue_days = 0 if r.as_of < week(4) else 10
    ev = evaluate(rows, truth, capacity=1, horizon_days=28, until=week(11))
    from earlywarn.evaluation import _quiet_rows

    quiet = _quiet_rows(rows)
    assert quiet == {(week(n), "B") for n in range(4)}  # A and C owe from week 0; B until week 3
    # none of B's quiet weeks is followed by its dispute within 28 days: no positive, no AP
    assert ev.by_scorer()["full"].average_precision_onset is None
    ev = evaluate(rows, truth, capacity=1, horizon_days=56, until=week(11))
    # with 56 days, B's week 3 leads to its dispute (week 10 + 1 day): one positive among four quiet rows, all
    # scored alike by the model (0.01), so its AP is the subset's base rate
    assert ev.by_scorer()["model"].average_precision_onset == pytest.approx(0.25)


def test_a_constant_scorer_gets_the_base_rate_not_luck():
    rows, truth = county()
    for r in rows:
        r.model_score = 0.3
    ev = evaluate(rows, truth, capacity=1, horizon_days=28, until=week(11))
    assert ev.by_scorer()["model"].average_precision == pytest.approx(ev.base_rate)


def test_without_the_side_file_only_the_full_scorer():
    rows, truth = county()
    plain = [Row(r.as_of, r.code, r.score, r.level) for r in rows]
    ev = evaluate(plain, truth, capacity=2, horizon_days=28, until=week(11))
    assert [f.scorer for f in ev.figures] == ["full"] and not ev.ablations


def _write(path, header, rows):
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_bad_files_are_named_with_row_and_reason(tmp_path):
    bt = _write(tmp_path / "bt.csv", ["as_of", "project_code", "score", "level", "reasons"],
                [["2025-01-06", "A", "0.5", "red", ""], ["2025-01-13", "A", "high", "red", ""]])
    with pytest.raises(EvaluationError, match="bt.csv 第 3 行：score“high”不是数字"):
        read_backtest(bt)
    _write(bt, ["as_of", "project_code", "score", "level", "reasons"], [["2025/01/06", "A", "0.5", "red", ""]])
    with pytest.raises(EvaluationError, match="第 2 行：日期“2025/01/06”不是 YYYY-MM-DD 格式"):
        read_backtest(bt)
    _write(bt, ["as_of", "project_code", "score", "level", "reasons"], [["2025-01-06", "A", "0.5", "green", ""]])
    with pytest.raises(EvaluationError, match="level“green”"):
        read_backtest(bt)
    _write(bt, ["as_of", "project_code", "level"], [["2025-01-06", "A", "red"]])
    with pytest.raises(EvaluationError, match="缺少列：score"):
        read_backtest(bt)
    with pytest.raises(EvaluationError, match="无法读取"):
        read_truth(tmp_path / "missing.csv")
    _write(bt, ["as_of", "project_code", "score", "level", "reasons"], [["2025-01-06", "A", "0.5", "red", ""]])
    side = _write(tmp_path / "bt.components.csv", ["as_of", "project_code", "model_score", "model_level",
                                                   "check_level", "overdue_days"], [["2025-01-06", "B", "0.1", "none",
                                                                                     "green", "0"]])
    with pytest.raises(EvaluationError, match="缺少 2025-01-06 A"):
        attach_components(read_backtest(bt), side)


def test_evaluate_command_table_json_and_errors(tmp_path, monkeypatch, settings):
    rows, truth = county()
    bt = _write(tmp_path / "bt.csv", ["as_of", "project_code", "score", "level", "reasons"],
                [[r.as_of.isoformat(), r.code, f"{r.score:.4f}", r.level, ""] for r in rows])
    _write(tmp_path / "bt.components.csv", ["as_of", "project_code", "model_score", "model_level", "check_level",
                                            "overdue_days"],
           [[r.as_of.isoformat(), r.code, r.model_score, r.model_level, r.check_level, r.overdue_days] for r in rows])
    t = _write(tmp_path / "disputes.csv", ["project_code", "date", "workers", "amount_owed"],
               [[c, d.isoformat(), "20", "100000.00"] for c, ds in truth.items() for d in ds])
    monkeypatch.setenv("EARLYWARN_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    r = runner.invoke(app, ["evaluate", str(bt), "--truth", str(t), "--capacity", "1", "--horizon", "28",
                            "--until", week(11).isoformat(), "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["rows"] == 23 and data["positives"] == 5 and data["capacity"] == 1
    assert set(data["scorers"]) == {"full", "model", "rules", "naive"}
    assert data["scorers"]["rules"]["brier"] is None
    table = runner.invoke(app, ["evaluate", str(bt), "--truth", str(t), "--capacity", "1", "--horizon", "28",
                                "--until", week(11).isoformat()], env={"COLUMNS": "200"})
    assert table.exit_code == 0
    assert "完整评分（规则+模型）" in table.stdout and "朴素基线" in table.stdout and "平均精度 AP" in table.stdout
    bad = runner.invoke(app, ["evaluate", str(bt), "--truth", str(tmp_path / "nope.csv")])
    assert bad.exit_code == 2 and "无法读取" in bad.output
    assert runner.invoke(app, ["evaluate", str(bt), "--truth", str(t), "--format", "xml"]).exit_code == 2
