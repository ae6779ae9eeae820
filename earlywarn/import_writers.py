"""The writers of each kind used by :mod:`earlywarn.importer` (its lookups and in-file checks are in
:mod:`earlywarn.import_checks`).

Writers run inside the importer's transaction and never commit. Small kinds (projects, chains, rosters,
reports) are kept whole until the end, because some checks need the whole file (the subcontract tree);
attendance and payroll stream in chunks through :mod:`earlywarn.bulk`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import networkx as nx
import numpy as np
from sqlalchemy import text
from sqlmodel import Session, func, select, update

from earlywarn.balances import PAY_COLUMNS, refresh_month_summary, refresh_payroll_summary
from earlywarn.bulk import NewRowsStream, bulk_insert_new, bulk_upsert
from earlywarn.identity import mask_id_number, mask_phone
from earlywarn.import_checks import column_zh
from earlywarn.import_columns import AttendanceChunk, PayrollChunk
from earlywarn.import_rows import (
    AttendanceRecord,
    Lookups,
    PayrollRecord,
    ProjectRecord,
    ReportRecord,
    RowError,
    SubcontractRecord,
    WorkerRecord,
)
from earlywarn.informants import register_senders
from earlywarn.month_sums import WrittenDays, sum_worker_months
from earlywarn.privacy import Vault
from earlywarn.tables import (
    Attendance,
    AttendanceMonth,
    Company,
    PayrollPayment,
    Project,
    Report,
    Subcontract,
    Worker,
)

SITE_RECORDS_LOCK = 734101  # PostgreSQL advisory lock: imports of rosters, attendance and payroll (734100: audit)


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

    def rows_done(self) -> None:
        """Called after the last write, before the importer's next statement: anything still being sent is
        finished."""

    def abandon(self, exc: BaseException) -> None:
        """Called when the import fails midway: whatever is being sent is cut off, so the connection can roll
        back."""

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
                    errors.append(RowError(row_no, column_zh(self.kind, column), code,
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
                    bad.append((row_no, raw, [RowError(row_no, column_zh(self.kind, "child"), r.child,
                                                       "施工总承包单位不能作为下级单位")]))
                elif r.parent not in reachable:
                    bad.append((row_no, raw, [RowError(row_no, column_zh(self.kind, "parent"), r.parent,
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


def _latest(session: Session, day) -> dict[int, date]:
    """Each project's latest ``day`` (a date column of a table with ``project_id``), for projects with any: one
    index probe a project."""
    latest = select(func.max(day)).where(day.class_.project_id == Project.id).scalar_subquery()
    return {pid: d for pid, d in session.execute(select(Project.id, latest)) if d is not None}


class _SummaryKeeper(Writer):
    """Attendance, payroll and rosters (the daily wage) feed the worker-month summary of their projects.

    Their imports take turns (a transaction-scoped lock on PostgreSQL, taken before anything is read; SQLite
    has one writer at a time already): what a writer reads first — each site's last day and last pay date,
    which worker-months exist — decides whether rows are new and which sums it makes in memory, and another
    import committing in between would make that wrong (a summary row replaced by half a month's sums)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.projects: set[int] = set()
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SITE_RECORDS_LOCK})

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
        # without the conflict check (a NewRowsStream). One index probe a project.
        self.last_day = {pid: d.toordinal() for pid, d in _latest(self.session, Attendance.work_date).items()}
        self.stream = NewRowsStream(self.session, "attendance", self.COLUMNS, self.KEY, ("hours_centi",))

    def rows_done(self) -> None:
        self.stream.close()

    def abandon(self, exc: BaseException) -> None:
        self.stream.abort(exc)

    def finish(self) -> None:
        """The summary of the worker-months this file touched. Those with days before the import are re-summed
        in SQL (their projects are); new ones are summed from the rows written, in memory."""
        sums = sum_worker_months(self.days)
        if sums is None:
            super().finish()
            return
        m = AttendanceMonth
        known = {(p, w, period): days for p, w, period, days in self.session.execute(
            select(m.project_id, m.worker_id, m.period, m.days).where(m.project_id.in_(sorted(self.projects))))}
        resummed = {p for p, w, period in zip(sums.project, sums.worker, sums.period, strict=True)
                    if known.get((p, w, period), 0) > 0}
        refresh_month_summary(session=self.session, project_ids=resummed)
        wage = {(p, info.worker_id): info.daily_wage_fen for (p, _), info in self.lookups.roster.items()}
        zeros = (0,) * len(PAY_COLUMNS)
        rows = [(p, w, period, wage[(p, w)] * hours, n, *zeros, first, last, last)
                for p, w, period, hours, n, first, last in zip(sums.project, sums.worker, sums.period,
                                                               sums.hours_centi, sums.days, sums.first_day,
                                                               sums.last_day, strict=True) if p not in resummed]
        columns = ("project_id", "worker_id", "period", "earned_x800", "days", *PAY_COLUMNS, "first_day", "last_day",
                   "last_data_day")
        key = ("project_id", "period", "worker_id")
        # A worker-month with a row for its payments alone gains its attendance side; the others are new rows.
        update = {**{c: f"excluded.{c}" for c in ("earned_x800", "days", "first_day", "last_day")},
                  "last_data_day": "CASE WHEN attendance_month.last_pay_date > excluded.last_day "
                                   "THEN attendance_month.last_pay_date ELSE excluded.last_day END"}
        paid_only = [r for r in rows if r[:3] in known]
        bulk_insert_new(self.session, "attendance_month", columns, [r for r in rows if r[:3] not in known], key,
                        update)
        bulk_upsert(self.session, "attendance_month", columns, paid_only, key, update)

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
            return self.stream.send(chunk, chunk.copy_csv)
        return self._upsert(chunk.rows)

    COLUMNS = ("project_id", "work_date", "worker_id", "hours_centi")
    KEY = ("project_id", "work_date", "worker_id")

    def _upsert(self, rows: list[tuple]) -> int:
        self.stream.close()  # the connection is the stream's while it is open
        return bulk_upsert(self.session, "attendance", self.COLUMNS, rows, self.KEY, ("hours_centi",))


class PayrollWriter(_SummaryKeeper):
    streaming = True

    def __init__(self, **kw):
        super().__init__(**kw)
        # Each project's last pay date so far: a chunk of later payments only is inserted without the conflict
        # check (bulk_insert_new), as attendance after a site's last day is.
        self.last_pay = _latest(self.session, PayrollPayment.pay_date)

    def finish(self) -> None:
        refresh_payroll_summary(session=self.session, project_ids=self.projects)

    def write(self, records: list[PayrollRecord]) -> int:
        self.projects.update(r.project_id for r in records)
        return self._upsert([(r.project_id, r.worker_id, r.period, r.amount_due_fen, r.amount_paid_fen, r.pay_date,
                              r.channel) for r in records])

    def write_chunk(self, chunk: PayrollChunk) -> int:
        """A chunk the chunk-wise check passed whole."""
        self.projects |= chunk.project_ids
        never = date.min
        if all(r[5] > self.last_pay.get(r[0], never) for r in chunk.rows):
            return bulk_insert_new(self.session, "payroll_payment", self.COLUMNS, chunk.rows, self.KEY, self.UPDATE)
        return self._upsert(chunk.rows)

    COLUMNS = ("project_id", "worker_id", "period", "amount_due_fen", "amount_paid_fen", "pay_date", "channel")
    KEY = ("project_id", "worker_id", "period", "pay_date", "amount_paid_fen")
    UPDATE = ("amount_due_fen", "channel")

    def _upsert(self, rows: list[tuple]) -> int:
        return bulk_upsert(self.session, "payroll_payment", self.COLUMNS, rows, self.KEY, self.UPDATE)


class ReportWriter(Writer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.touched: list[Report] = []

    def finish(self) -> None:
        """Imported reports are understood like those filed on the web: classified, linked, corroborated."""
        from earlywarn.understanding import understand_reports

        understand_reports(session=self.session, settings=self.settings, reports=self.touched)

    def link_batch(self, batch_id: int) -> None:
        # One statement for the file's reports (through the ORM, an UPDATE each); the objects are not read again.
        ids = [r.id for r in self.touched]
        for start in range(0, len(ids), 5000):
            self.session.execute(update(Report).where(Report.id.in_(ids[start:start + 5000]))
                                 .values(import_batch_id=batch_id).execution_options(synchronize_session=False))

    def write(self, records: list[ReportRecord]) -> int:
        existing = {r.uid: r for r in self.session.exec(select(Report).where(Report.uid.in_([x.uid for x in records])))}
        senders: dict[str, str | None] = {}
        for r in records:  # a sender's first report names the township it is registered under
            if r.informant_code:
                senders.setdefault(r.informant_code, r.township)
        informants = register_senders(session=self.session, vault=self.vault, senders=senders)
        for r in records:
            informant = informants.get(r.informant_code) if r.informant_code else None
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
        # Not flushed here: understanding them (finish) sets the rest of their fields, and they are written once.
        return len(records)


WRITERS: dict[str, type[Writer]] = {
    "projects": ProjectWriter, "subcontracts": SubcontractWriter, "workers": WorkerWriter,
    "attendance": AttendanceWriter, "payroll": PayrollWriter, "reports": ReportWriter,
}
