"""Per-kind lookups, in-file cross-row checks and writers used by :mod:`earlywarn.importer`.

Writers run inside the importer's transaction and never commit. Small kinds (projects, chains, rosters,
reports) are kept whole until the end, because some checks need the whole file (the subcontract tree);
attendance and payroll stream in chunks through :func:`earlywarn.bulk.bulk_upsert`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import networkx as nx
import numpy as np
from sqlmodel import Session, func, select

from earlywarn.balances import PAY_COLUMNS, refresh_month_summary, refresh_payroll_summary
from earlywarn.bulk import bulk_insert_new, bulk_upsert
from earlywarn.file_kinds import KINDS
from earlywarn.identity import mask_id_number, mask_phone
from earlywarn.import_columns import AttendanceChunk, PayrollChunk, attendance_key
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
from earlywarn.informants import register_informant
from earlywarn.month_sums import WrittenDays, sum_worker_months
from earlywarn.privacy import Vault
from earlywarn.tables import (
    Attendance,
    AttendanceMonth,
    Company,
    Informant,
    Project,
    Report,
    RosterEntry,
    Subcontract,
    Worker,
)


def _zh(kind: str, column: str) -> str:
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
                raise RowRejected([RowError(row_no, _zh(self.kind, column), None, f"与第 {first} 行重复（{what}）")])
            self.seen[key] = row_no
        else:
            if key in self.seen:
                reason = f"重复行（{what}已在本文件前面出现）"
                raise RowRejected([RowError(row_no, _zh(self.kind, column), None, reason)])
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
            raise RowRejected([RowError(row_no, _zh("attendance", "date"), None,
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
            raise RowRejected([RowError(row_no, _zh("payroll", "amount_due"), None,
                                        f"同一工人同一月份的应发金额与第 {first[1]} 行不一致")])
        total = self.paid[month] + r.amount_paid_fen
        if total > r.amount_due_fen * OVERPAY_FACTOR + OVERPAY_SLACK_FEN:
            raise RowRejected([RowError(row_no, _zh("payroll", "amount_paid"), None,
                                        f"{r.period} 月累计实发金额远高于应发金额，请核对")])
        self.paid[month] = total  # a rejected payment does not count towards the month


class Writer:
    streaming = False

    def __init__(self, *, session: Session, vault: Vault, lookups: Lookups, settings=None):
        self.settings = settings
        self.session = session
        self.vault = vault
        self.lookups = lookups

    def final_check(self, buffer: list[tuple[int, dict, Any]]) -> list[tuple[int, dict, list[RowError]]]:
        return []

    def write(self, records: list) -> int:
        raise NotImplementedError

    def link_batch(self, batch_id: int) -> None:
        """Called once the import's history row exists, inside the same transaction."""

    def finish(self) -> None:
        """Called after the last write, inside the import's transaction: derived data is brought up to date."""

    def _companies(self) -> dict[str, Company]:
        return {c.name: c for c in self.session.exec(select(Company))}

    def _company(self, cache: dict[str, Company], name: str, credit_code: str | None, kind: str) -> Company:
        company = cache.get(name)
        if company is None:
            company = Company(name=name, credit_code=credit_code, kind=kind)
            self.session.add(company)
            cache[name] = company
        elif credit_code and not company.credit_code:
            company.credit_code = credit_code
            self.session.add(company)
        return company

    def _credit_conflicts(self, buffer, pairs) -> list[tuple[int, dict, list[RowError]]]:
        """A credit code already held by a differently named unit is an error, not a silent merge."""
        holders = {c.credit_code: c.name for c in self.session.exec(select(Company)) if c.credit_code}
        bad = []
        for row_no, raw, record in buffer:
            errors = []
            for name_attr, code_attr, column in pairs:
                code, name = getattr(record, code_attr), getattr(record, name_attr)
                if code and holders.setdefault(code, name) != name:
                    errors.append(RowError(row_no, _zh(self.kind, column), code,
                                           f"该统一社会信用代码已属于“{holders[code]}”"))
            if errors:
                bad.append((row_no, raw, errors))
        return bad


class ProjectWriter(Writer):
    kind = "projects"

    def final_check(self, buffer):
        return self._credit_conflicts(buffer, [("general_contractor", "contractor_credit_code",
                                                "contractor_credit_code")])

    def write(self, records: list[ProjectRecord]) -> int:
        companies = self._companies()
        existing = {p.code: p for p in self.session.exec(select(Project))}
        for r in records:
            self._company(companies, r.general_contractor, r.contractor_credit_code, "company")
        self.session.flush()  # once, for the new contractors' ids
        for r in records:
            gc = companies[r.general_contractor]
            project = existing.get(r.code) or Project(code=r.code, name=r.name, township=r.township,
                                                       general_contractor_id=gc.id, start_date=r.start_date)
            project.name, project.township, project.general_contractor_id = r.name, r.township, gc.id
            project.owner, project.start_date, project.planned_end_date = r.owner, r.start_date, r.planned_end_date
            project.contract_value_fen, project.wage_deposit_fen = r.contract_value_fen, r.wage_deposit_fen
            project.has_wage_account, project.has_notice_board = r.has_wage_account, r.has_notice_board
            self.session.add(project)
        self.session.flush()
        return len(records)


class SubcontractWriter(Writer):
    kind = "subcontracts"

    def final_check(self, buffer):
        bad = self._credit_conflicts(buffer, [("parent", "parent_credit_code", "parent_credit_code"),
                                              ("child", "child_credit_code", "child_credit_code")])
        skip = {row_no for row_no, _, _ in bad}
        # The links of a project must form one tree under its general contractor.
        existing: dict[int, dict[str, str]] = defaultdict(dict)
        parent_of = Company.__table__.alias("p")
        child_of = Company.__table__.alias("c")
        q = (select(Subcontract.project_id, parent_of.c.name, child_of.c.name)
             .join(parent_of, parent_of.c.id == Subcontract.parent_id)
             .join(child_of, child_of.c.id == Subcontract.child_id))
        for project_id, parent, child in self.session.exec(q):
            existing[project_id][child] = parent
        by_project: dict[int, list] = defaultdict(list)
        for item in buffer:
            if item[0] not in skip:
                by_project[item[2].project_id].append(item)
        for project_id, items in by_project.items():
            links = dict(existing.get(project_id, {}))
            for _, _, r in items:
                links[r.child] = r.parent
            graph = nx.DiGraph((p, c) for c, p in links.items())
            root = self.lookups.project_contractor[project_id]
            reachable = nx.descendants(graph, root) | {root} if root in graph else {root}
            for row_no, raw, r in items:
                if r.child == root:
                    bad.append((row_no, raw, [RowError(row_no, _zh(self.kind, "child"), r.child,
                                                       "施工总承包单位不能作为下级单位")]))
                elif r.parent not in reachable:
                    bad.append((row_no, raw, [RowError(row_no, _zh(self.kind, "parent"), r.parent,
                                                       f"上级单位不在该项目以总包“{root}”为起点的分包链中")]))
        return bad

    def write(self, records: list[SubcontractRecord]) -> int:
        # Units first, flushed once for their ids, then the links, flushed once: a flush per row cost 0.3 s
        # for a county's thousand links.
        companies = self._companies()
        for r in records:
            self._company(companies, r.parent, r.parent_credit_code, "company")
            child_kind = "team" if r.kind == "team" or (not r.child_credit_code and r.child.endswith("班组")) \
                else "company"
            self._company(companies, r.child, r.child_credit_code, child_kind)
        self.session.flush()
        links = {(s.project_id, s.child_id): s for s in self.session.exec(select(Subcontract))}
        for r in records:
            parent, child = companies[r.parent], companies[r.child]
            link = links.get((r.project_id, child.id)) or Subcontract(project_id=r.project_id, parent_id=parent.id,
                                                                       child_id=child.id)
            link.parent_id, link.kind = parent.id, r.kind
            links[(r.project_id, child.id)] = link
            self.session.add(link)
        self.session.flush()
        return len(records)


class _SummaryKeeper(Writer):
    """Attendance and rosters (the daily wage) feed the worker-month summary of their projects."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.projects: set[int] = set()

    def finish(self) -> None:
        refresh_month_summary(session=self.session, project_ids=self.projects)


class WorkerWriter(_SummaryKeeper):
    kind = "workers"

    def write(self, records: list[WorkerRecord]) -> int:
        self.projects.update(r.project_id for r in records)
        people: dict[str, WorkerRecord] = {}
        for r in records:
            people[r.id_number] = r  # the last row names the person
        rows = []
        for id_number, r in people.items():
            rows.append((self.vault.blind_index(id_number), self.vault.encrypt(id_number), mask_id_number(id_number),
                         r.name, r.birth_date, r.gender,
                         self.vault.encrypt(r.phone) if r.phone else None, mask_phone(r.phone) if r.phone else None))
        bulk_upsert(self.session, "worker", ("id_hash", "id_cipher", "id_masked", "name", "birth_date", "gender",
                                             "phone_cipher", "phone_masked"), rows, ("id_hash",),
                    ("name", "phone_cipher", "phone_masked"))
        ids = dict(self.session.exec(select(Worker.id_hash, Worker.id)).all())
        teams = dict(self.session.exec(select(Company.name, Company.id)).all())
        roster = [(r.project_id, ids[self.vault.blind_index(r.id_number)], teams[r.team], r.trade, r.daily_wage_fen,
                   r.entry_date, r.exit_date) for r in records]
        bulk_upsert(self.session, "roster_entry", ("project_id", "worker_id", "team_id", "trade", "daily_wage_fen",
                                                   "entry_date", "exit_date"), roster, ("project_id", "worker_id"),
                    ("team_id", "trade", "daily_wage_fen", "entry_date", "exit_date"))
        return len(records)


class AttendanceWriter(_SummaryKeeper):
    streaming = True

    def __init__(self, **kw):
        super().__init__(**kw)
        self.days = WrittenDays()
        # Each project's last day so far: rows after it are new, and a chunk of only such rows is inserted
        # without the conflict check (bulk_insert_new). One index probe a project.
        a = Attendance
        last = select(func.max(a.work_date)).where(a.project_id == Project.id).scalar_subquery()
        self.last_day = {pid: (d if isinstance(d, date) else date.fromisoformat(d)).toordinal()
                         for pid, d in self.session.execute(select(Project.id, last)) if d is not None}

    def finish(self) -> None:
        """The summary of the worker-months this file touched. Those with days before the import are re-summed
        in SQL (their projects are); new ones are summed from the rows written, in memory."""
        sums = sum_worker_months(self.days)
        if sums is None:
            super().finish()
            return
        m = AttendanceMonth
        before = {tuple(row) for row in self.session.execute(
            select(m.project_id, m.worker_id, m.period).where(m.project_id.in_(sorted(self.projects)), m.days > 0))}
        resummed = {p for p, w, period in zip(sums.project, sums.worker, sums.period, strict=True)
                    if (p, w, period) in before}
        refresh_month_summary(session=self.session, project_ids=resummed)
        wage = {(p, info.worker_id): info.daily_wage_fen for (p, _), info in self.lookups.roster.items()}
        zeros = (0,) * len(PAY_COLUMNS)
        rows = [(p, w, period, wage[(p, w)] * hours, n, *zeros, first, last, last)
                for p, w, period, hours, n, first, last in zip(sums.project, sums.worker, sums.period,
                                                               sums.hours_centi, sums.days, sums.first_day,
                                                               sums.last_day, strict=True) if p not in resummed]
        # A worker-month may already have a row for its payments alone: it gains its attendance side.
        bulk_upsert(self.session, "attendance_month",
                    ("project_id", "worker_id", "period", "earned_x800", "days", *PAY_COLUMNS, "first_day", "last_day",
                     "last_data_day"), rows, ("project_id", "period", "worker_id"),
                    {**{c: f"excluded.{c}" for c in ("earned_x800", "days", "first_day", "last_day")},
                     "last_data_day": "CASE WHEN attendance_month.last_pay_date > excluded.last_day "
                                      "THEN attendance_month.last_pay_date ELSE excluded.last_day END"})

    def write(self, records: list[AttendanceRecord]) -> int:
        self.projects.update(r.project_id for r in records)
        n = len(records)
        self.days.add(*(np.fromiter((getattr(r, a) for r in records), dtype=np.int64, count=n)
                        for a in ("project_id", "worker_id", "ordinal", "hours_centi")))
        # Sorted in index order, a chunk lands in a few B-tree pages instead of thousands.
        rows = sorted((r.project_id, r.work_date, r.worker_id, r.hours_centi) for r in records)
        return self._upsert(rows)

    def write_chunk(self, chunk: AttendanceChunk) -> int:
        """A chunk the column-wise check passed whole (rows already tuples in key order)."""
        self.projects |= chunk.project_ids
        self.days.add(*chunk.arrays)
        project, _, day, _ = chunk.arrays
        if all(day[project == pid].min() > self.last_day.get(pid, -1) for pid in chunk.project_ids):
            return bulk_insert_new(self.session, "attendance", self.COLUMNS, chunk.rows, self.KEY, ("hours_centi",))
        return self._upsert(chunk.rows)

    COLUMNS = ("project_id", "work_date", "worker_id", "hours_centi")
    KEY = ("project_id", "work_date", "worker_id")

    def _upsert(self, rows: list[tuple]) -> int:
        return bulk_upsert(self.session, "attendance", self.COLUMNS, rows, self.KEY, ("hours_centi",))


class PayrollWriter(_SummaryKeeper):
    streaming = True

    def finish(self) -> None:
        refresh_payroll_summary(session=self.session, project_ids=self.projects)

    def write(self, records: list[PayrollRecord]) -> int:
        self.projects.update(r.project_id for r in records)
        return self._upsert([(r.project_id, r.worker_id, r.period, r.amount_due_fen, r.amount_paid_fen, r.pay_date,
                              r.channel) for r in records])

    def write_chunk(self, chunk: PayrollChunk) -> int:
        """A chunk the chunk-wise check passed whole."""
        self.projects |= chunk.project_ids
        return self._upsert(chunk.rows)

    def _upsert(self, rows: list[tuple]) -> int:
        return bulk_upsert(self.session, "payroll_payment",
                           ("project_id", "worker_id", "period", "amount_due_fen", "amount_paid_fen", "pay_date",
                            "channel"), rows,
                           ("project_id", "worker_id", "period", "pay_date", "amount_paid_fen"),
                           ("amount_due_fen", "channel"))


class ReportWriter(Writer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.touched: list[Report] = []

    def finish(self) -> None:
        """Imported reports are understood like those filed on the web: classified, linked, corroborated."""
        from earlywarn.understanding import understand_reports

        understand_reports(session=self.session, settings=self.settings, reports=self.touched)

    def link_batch(self, batch_id: int) -> None:
        for report in self.touched:
            report.import_batch_id = batch_id
            self.session.add(report)

    def write(self, records: list[ReportRecord]) -> int:
        existing = {r.uid: r for r in self.session.exec(select(Report).where(Report.uid.in_([x.uid for x in records])))}
        informants: dict[str, Informant] = {}
        for r in records:
            informant = None
            if r.informant_code:
                informant = informants.get(r.informant_code) or register_informant(
                    session=self.session, vault=self.vault, township=r.township, ref_code=r.informant_code,
                    commit=False)
                informants[r.informant_code] = informant
            report = existing.get(r.uid) or Report(uid=r.uid, received_at=r.received_at, text=r.text,
                                                   source="import")
            report.received_at, report.text, report.township = r.received_at, r.text, r.township
            report.informant_id = informant.id if informant else None
            if r.project_code or report.id is None:
                report.project_id, report.project_code_text = r.project_id, r.project_code
                report.link_method = "code" if r.project_id else None
                report.link_confidence = 1.0 if r.project_id else None
            # else: a re-import without a code keeps the link found earlier (automatically or by hand)
            report.employer_text, report.workers_involved = r.employer, r.workers_involved
            report.amount_claimed_fen = r.amount_claimed_fen
            report.collective = bool(r.workers_involved and r.workers_involved >= 10)
            self.session.add(report)
            self.touched.append(report)
        self.session.flush()
        return len(records)


WRITERS: dict[str, type[Writer]] = {
    "projects": ProjectWriter, "subcontracts": SubcontractWriter, "workers": WorkerWriter,
    "attendance": AttendanceWriter, "payroll": PayrollWriter, "reports": ReportWriter,
}
