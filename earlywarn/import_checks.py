"""What the rows of one file are checked against (used by :mod:`earlywarn.importer`): the database lookups a
kind's validation needs, and the checks across the rows of one file (duplicates, one amount due a worker-month,
a month's payments against it), kept as the rows stream by."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from sqlmodel import Session, select

from earlywarn.file_kinds import KINDS
from earlywarn.import_columns import attendance_key
from earlywarn.import_rows import (
    OVERPAY_FACTOR,
    OVERPAY_SLACK_FEN,
    AttendanceRecord,
    Lookups,
    PayrollRecord,
    ProjectRecord,
    ReportRecord,
    RosterInfo,
    RowError,
    RowRejected,
    SubcontractRecord,
    WorkerRecord,
)
from earlywarn.tables import Company, Project, RosterEntry, Subcontract, Worker


def column_zh(kind: str, column: str) -> str:
    return KINDS[kind].column(column).zh


def load_lookups(*, session: Session, kind: str, lookups: Lookups) -> None:
    """Fill what this kind's validation needs from the database (committed state plus this transaction)."""
    rows = session.exec(select(Project.id, Project.code, Company.name)
                        .join(Company, Company.id == Project.general_contractor_id)).all()
    lookups.projects = {code: pid for pid, code, _ in rows}
    lookups.project_contractor = {pid: gc for pid, _, gc in rows}
    if kind == "workers":
        teams: dict[int, set[str]] = defaultdict(set)
        for project_id, name in session.exec(select(Subcontract.project_id, Company.name)
                                             .join(Company, Company.id == Subcontract.child_id)):
            teams[project_id].add(name)
        lookups.teams = dict(teams)
    if kind in ("attendance", "payroll"):
        q = (select(RosterEntry.project_id, Worker.id_hash, RosterEntry.worker_id, RosterEntry.entry_date,
                    RosterEntry.exit_date, RosterEntry.daily_wage_fen)
             .join(Worker, Worker.id == RosterEntry.worker_id))
        lookups.roster = {(p, h): RosterInfo(w, e, x, wage) for p, h, w, e, x, wage in session.exec(q)}


class InFileChecks:
    """Duplicate rows and consistency across the rows of one file (streaming, bounded memory)."""

    def __init__(self, kind: str):
        self.kind = kind
        self.seen: dict[Any, int] | set = {} if kind in ("projects", "workers", "subcontracts", "reports") else set()
        self.due: dict[tuple[int, int, str], tuple[int, int]] = {}
        self.paid: dict[tuple[int, int, str], int] = defaultdict(int)
        # Attendance keys of clean chunks (import_columns), as arrays: put into ``seen`` only when a row checked
        # one by one needs them, which in a clean file never happens (a set of a million ints is ~60 MB).
        self.pending: list[np.ndarray] = []
        self.check = getattr(self, f"_check_{kind}")  # bound once: this runs a million times a file

    def settle(self) -> set:
        """``seen`` with the pending keys in it."""
        if self.pending:
            self.seen.update(np.concatenate(self.pending).tolist())
            self.pending.clear()
        return self.seen

    def _dup(self, row_no: int, key: Any, column: str, what: str) -> None:
        if isinstance(self.seen, dict):
            first = self.seen.get(key)
            if first is not None:
                reason = f"与第 {first} 行重复（{what}）"
                raise RowRejected([RowError(row_no, column_zh(self.kind, column), None, reason)])
            self.seen[key] = row_no
        else:
            if key in self.seen:
                reason = f"重复行（{what}已在本文件前面出现）"
                raise RowRejected([RowError(row_no, column_zh(self.kind, column), None, reason)])
            self.seen.add(key)

    def _check_projects(self, row_no: int, r: ProjectRecord) -> None:
        self._dup(row_no, r.code, "project_code", "同一项目编号")

    def _check_subcontracts(self, row_no: int, r: SubcontractRecord) -> None:
        self._dup(row_no, (r.project_id, r.child), "child", "同一项目中同一下级单位")

    def _check_workers(self, row_no: int, r: WorkerRecord) -> None:
        self._dup(row_no, (r.project_id, r.id_number), "id_number", "同一项目中同一身份证号")

    def _check_reports(self, row_no: int, r: ReportRecord) -> None:
        self._dup(row_no, r.uid, "text" if r.uid.startswith("sha:") else "report_id", "同一报告")

    def _check_attendance(self, row_no: int, r: AttendanceRecord) -> None:
        # One int per key keeps a million keys in tens of MB; the common case is two set operations.
        key = attendance_key(r.project_id, r.worker_id, r.work_date.toordinal())
        seen = self.settle() if self.pending else self.seen
        if key in seen:
            raise RowRejected([RowError(row_no, column_zh("attendance", "date"), None,
                                        "重复行（同一项目、同一工人、同一日期已在本文件前面出现）")])
        seen.add(key)

    def _check_payroll(self, row_no: int, r: PayrollRecord) -> None:
        self._dup(row_no, (r.project_id, r.worker_id, r.period, r.pay_date, r.amount_paid_fen), "amount_paid",
                  "同一工人、同一月份、同一发放日期、同一金额")
        month = (r.project_id, r.worker_id, r.period)
        first = self.due.get(month)
        if first is None:
            self.due[month] = (r.amount_due_fen, row_no)
        elif first[0] != r.amount_due_fen:
            raise RowRejected([RowError(row_no, column_zh("payroll", "amount_due"), None,
                                        f"同一工人同一月份的应发金额与第 {first[1]} 行不一致")])
        total = self.paid[month] + r.amount_paid_fen
        if total > r.amount_due_fen * OVERPAY_FACTOR + OVERPAY_SLACK_FEN:
            raise RowRejected([RowError(row_no, column_zh("payroll", "amount_paid"), None,
                                        f"{r.period} 月累计实发金额远高于应发金额，请核对")])
        self.paid[month] = total  # a rejected payment does not count towards the month
