"""Importing the interchange files (earlywarn.importer): a tiny county end to end, every format variant of
formats.md, every error kind, all-or-nothing, idempotency, --skip-invalid through the CLI, .xlsx cells,
the import history — and one folder import of the simulated county.

Every DB-backed test runs on SQLite and PostgreSQL (see conftest.py).
"""

from __future__ import annotations

import csv
import gc
import hashlib
import shutil
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import create_engine, event, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, select
from stdnum.cn import ric, uscc
from typer.testing import CliRunner

from earlywarn import arrow_csv, import_writers, importer, readers
from earlywarn.audit import verify_chain
from earlywarn.bulk import NewRowsStream
from earlywarn.cli import app
from earlywarn.db import make_engine
from earlywarn.file_kinds import KINDS
from earlywarn.import_rows import KIND_ORDER
from earlywarn.importer import MAX_ERRORS_KEPT, FileResult, import_file, import_paths
from earlywarn.privacy import Vault
from earlywarn.tables import (
    Attendance,
    AttendanceMonth,
    AuditLog,
    Company,
    ImportBatch,
    Informant,
    PayrollPayment,
    Project,
    Report,
    RosterEntry,
    Subcontract,
    Worker,
    metadata,
)

TODAY = date(2025, 6, 30)
BOM = b"\xef\xbb\xbf"

# ------------------------------------------------------------------------------------------ identifiers


def make_id(body17: str) -> str:
    """A valid resident ID number (calc_check_digit wants 18 characters and ignores the last)."""
    return body17 + ric.calc_check_digit(body17 + "X")


def id_ending_in_x(prefix15: str) -> str:
    for n in range(100):
        body = f"{prefix15}{n:02d}"
        if ric.calc_check_digit(body + "X") == "X":
            return body + "X"
    raise AssertionError("no X check digit found")  # pragma: no cover


def make_uscc(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


W1 = make_id("33052319800101001")  # 330523198001010011
W2 = make_id("33052319751215002")
W3 = make_id("33052219850607003")
W4 = id_ending_in_x("412725199003030")  # ends in X; written with a lowercase x in workers.csv
W5 = make_id("34122519881111005")  # not on any roster of the base county
W6 = make_id("51032119920202006")
assert W1 == "330523198001010011"
assert W4.endswith("X")
ALL_IDS = (W1, W2, W3, W4, W5, W6)

GC1, GC2 = "浙江安吉建工集团有限公司", "湖州华宇建设有限公司"
LABOUR = "安吉力源劳务有限公司"
TEAM_A, TEAM_B, TEAM_C = "张三木工班组", "李四钢筋班组", "王五泥瓦班组"
GC1_USCC = make_uscc("91330523MA2B12345")
LABOUR_USCC = make_uscc("91330523MA2C54321")
P1, P2 = "AJ-T-001", "AJ-T-002"
PHONE = "13812345678"
INFORMANT_CODE = "INF-007"

# ------------------------------------------------------------------------------------------ the tiny county

PROJECTS = [
    [P1, "递铺街道中学改扩建工程", "递铺街道", GC1, GC1_USCC, "安吉县教育局", "2025-01-10", "2025-12-31",
     "12,345,678.90", "yes", "￥50,000.00", "是"],
    [P2, "孝丰镇安置小区二期", "孝丰镇", GC2, "", "", "2025-02-01", "", "", "", "", ""],
]
# The team rows come before the link that attaches their parent: the chain is checked on the whole file.
SUBCONTRACTS = [
    [P1, LABOUR, "", TEAM_A, "", "班组"],
    [P1, LABOUR, "", TEAM_B, "", "班组"],
    [P1, GC1, GC1_USCC, LABOUR, LABOUR_USCC, "劳务分包"],
    [P2, GC2, "", TEAM_C, "", "班组"],
]
WORKERS = [
    [P1, W1, "陈一", TEAM_A, "木工", "350.5", "2025-03-01", "", PHONE],
    [P1, W2, "林二", TEAM_A, "木工", "350", "2025-03-01", "2025-03-10", ""],
    [P1, W3, "黄三", TEAM_B, "钢筋工", "400", "2025-03-03", "", ""],
    [P2, W4.lower(), "周四", TEAM_C, "泥瓦工", "300", "2025-03-01", "", ""],
]


def _att(project: str, idn: str, days: range, hours: dict[int, str] | None = None) -> list[list[str]]:
    return [[project, idn, f"2025-03-{d:02d}", (hours or {}).get(d, "8")] for d in days]


ATTENDANCE = (_att(P1, W1, range(3, 9), {4: "7.5"}) + _att(P1, W2, range(3, 9)) + _att(P1, W3, range(3, 7))
              + _att(P2, W4, range(3, 7)))
assert len(ATTENDANCE) == 20
PAYROLL = [
    [P1, W1, "2025-03", "2,500.00", "1,234.50", "2025-04-10", "银行代发"],
    [P1, W1, "2025-03", "2,500.00", "1,265.50", "2025-04-25", "专用账户代发"],  # second instalment
    [P1, W2, "2025-03", "2,100.00", "2,100.00", "2025-04-10", "现金"],
    [P2, W4.lower(), "2025-03", "1,200.00", "1,200.00", "2025-04-15", "班组长代领"],
]
REPORTS = [
    ["R-001", "2025-04-02 09:30", INFORMANT_CODE, "递铺街道", P1, LABOUR, "张三木工班组十几个工人说三月份工资还没发全",
     "12", "￥36,000"],
    ["", "2025-04-03 18:05", "", "孝丰镇", "", GC2, "听说安置小区工地有人讨薪", "", ""],  # anonymous
    ["R-003", "2025/4/5 8:00", INFORMANT_CODE, "孝丰镇", P2, "", "王五泥瓦班组长说月底能结清", "3人", ""],
]
COUNTY = {"projects": PROJECTS, "subcontracts": SUBCONTRACTS, "workers": WORKERS, "attendance": ATTENDANCE,
          "payroll": PAYROLL, "reports": REPORTS}


def en(kind: str) -> list[str]:
    return KINDS[kind].column_names


def zh(kind: str) -> list[str]:
    return [c.zh for c in KINDS[kind].columns]


def write_csv(path: Path, header: list[str], rows: list[list], *, encoding: str = "utf-8",
              crlf: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f, lineterminator="\r\n" if crlf else "\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def write_kind(folder: Path, kind: str, rows: list[list], name: str | None = None, **kw) -> Path:
    return write_csv(folder / (name or f"{kind}.csv"), en(kind), rows, **kw)


def write_county(folder: Path) -> dict[str, Path]:
    return {kind: write_kind(folder, kind, rows) for kind, rows in COUNTY.items()}


def shuffled(kind: str, rows: list[list], order: list[int], *, spaces: bool = True) -> tuple[list[str], list[list]]:
    """Chinese headers in another column order (some with surrounding spaces), rows rearranged to match."""
    names = zh(kind)
    header = [(f" {names[i]} " if spaces and k % 2 else names[i]) for k, i in enumerate(order)]
    return header, [[r[i] for i in order] for r in rows]


# ------------------------------------------------------------------------------------------ helpers


def run(session, settings, path: Path, **kw) -> FileResult:
    kw.setdefault("today", TODAY)
    return import_file(session=session, settings=settings, path=path, **kw)


def count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def fresh(session, model, *where):
    """All rows, re-read from the database (bulk upserts bypass the identity map)."""
    session.expire_all()
    return session.exec(select(model).where(*where)).all()


def by_id_hash(session, settings) -> dict[str, Worker]:
    vault = Vault(settings)
    workers = {w.id_hash: w for w in fresh(session, Worker)}
    return {idn: workers[vault.blind_index(idn)] for idn in ALL_IDS if vault.blind_index(idn) in workers}


def attendance_map(session, settings) -> dict[tuple[str, str, date], int]:
    """(project code, ID number, date) → hours_centi."""
    codes = {p.id: p.code for p in fresh(session, Project)}
    ids = {w.id: idn for idn, w in by_id_hash(session, settings).items()}
    return {(codes[a.project_id], ids[a.worker_id], a.work_date): a.hours_centi for a in fresh(session, Attendance)}


def assert_errors(result: FileResult, expected: list[tuple[int, str | None, str]]) -> None:
    """Exactly these errors: (row, Chinese column, fragment of the reason), in any order."""
    got = sorted(((e.row, e.column or "", e.reason) for e in result.errors), key=lambda t: (t[0], t[1]))
    want = sorted(((r, c or "", f) for r, c, f in expected), key=lambda t: (t[0], t[1]))
    assert [(r, c) for r, c, _ in got] == [(r, c) for r, c, _ in want], got
    for (_, _, reason), (row, col, fragment) in zip(got, want, strict=True):
        assert fragment in reason, (row, col, reason)
    assert result.error_count == len(expected)


def dump_database(session) -> str:
    """Every value of every table, as text."""
    session.expire_all()
    parts = []
    for table in metadata.sorted_tables:
        for row in session.execute(sa_select(table)).all():
            parts.append(repr(tuple(row)))
    return "\n".join(parts)


@pytest.fixture
def county(tmp_path) -> dict[str, Path]:
    return write_county(tmp_path / "county")


@pytest.fixture
def base(session, settings, county) -> dict[str, Path]:
    """Projects, the chains and the rosters of the tiny county imported (attendance etc. not yet)."""
    for kind in ("projects", "subcontracts", "workers"):
        r = run(session, settings, county[kind])
        assert (r.status, r.rows_imported, r.error_count) == ("succeeded", len(COUNTY[kind]), 0), r.errors
    return county


# ------------------------------------------------------------------------------------------ 1. the tiny county


def test_tiny_county_folder_imports_in_dependency_order_with_exact_counts(session, settings, county):
    folder = county["projects"].parent
    # Not read: a sub-folder, an earlier run's rejected rows, a file that is neither CSV nor XLSX.
    write_csv(folder / "truth" / "disputes.csv", ["project_code", "date", "workers", "amount_owed"],
              [[P1, "2025-04-01", "12", "36000.00"]])
    write_kind(folder, "attendance", [[P1, W1, "2025-03-09", "25"]], name="attendance.csv.rejected.csv")
    (folder / "说明.txt").write_text("不是数据文件", encoding="utf-8")
    results = import_paths(session=session, settings=settings, paths=[folder])
    # Alphabetically attendance.csv comes first; the folder is imported in dependency order.
    assert [(r.filename, r.kind, r.status) for r in results] == [
        (f"{k}.csv", k, "succeeded") for k in KIND_ORDER]
    assert [(r.rows_total, r.rows_imported, r.rows_rejected, r.error_count) for r in results] == [
        (len(COUNTY[k]), len(COUNTY[k]), 0, 0) for k in KIND_ORDER]
    assert all(r.rejected_path is None for r in results)
    assert (count(session, Project), count(session, Company), count(session, Subcontract),
            count(session, Worker), count(session, RosterEntry), count(session, Attendance),
            count(session, PayrollPayment), count(session, Report), count(session, Informant),
            count(session, ImportBatch)) == (2, 6, 4, 4, 4, 20, 4, 3, 1, 6)


def test_tiny_county_values_money_hours_and_chain(session, settings, county):
    import_paths(session=session, settings=settings, paths=[county["projects"].parent])
    p1, p2 = (session.exec(select(Project).where(Project.code == c)).one() for c in (P1, P2))
    companies = {c.name: c for c in fresh(session, Company)}
    assert (p1.name, p1.township, p1.general_contractor_id, p1.owner) == (
        "递铺街道中学改扩建工程", "递铺街道", companies[GC1].id, "安吉县教育局")
    assert (p1.start_date, p1.planned_end_date) == (date(2025, 1, 10), date(2025, 12, 31))
    assert (p1.contract_value_fen, p1.wage_deposit_fen) == (1_234_567_890, 5_000_000)
    assert (p1.has_wage_account, p1.has_notice_board) == (True, True)
    assert (p2.township, p2.owner, p2.planned_end_date, p2.contract_value_fen, p2.has_wage_account) == (
        "孝丰镇", None, None, None, None)
    assert companies[GC1].credit_code == GC1_USCC and companies[LABOUR].credit_code == LABOUR_USCC
    assert companies[GC2].credit_code is None
    assert {n: companies[n].kind for n in (TEAM_A, TEAM_B, TEAM_C, LABOUR)} == {
        TEAM_A: "team", TEAM_B: "team", TEAM_C: "team", LABOUR: "company"}
    name = {c.id: c.name for c in companies.values()}
    links = {(s.project_id, name[s.parent_id], name[s.child_id], s.kind) for s in fresh(session, Subcontract)}
    assert links == {(p1.id, GC1, LABOUR, "labour"), (p1.id, LABOUR, TEAM_A, "team"),
                     (p1.id, LABOUR, TEAM_B, "team"), (p2.id, GC2, TEAM_C, "team")}

    workers = by_id_hash(session, settings)
    roster = {(r.project_id, r.worker_id): r for r in fresh(session, RosterEntry)}
    w1 = workers[W1]
    r1 = roster[(p1.id, w1.id)]
    assert (w1.name, w1.birth_date, w1.gender) == ("陈一", date(1980, 1, 1), "M")
    assert (r1.team_id, r1.trade, r1.daily_wage_fen, r1.entry_date, r1.exit_date) == (
        companies[TEAM_A].id, "木工", 35050, date(2025, 3, 1), None)
    assert roster[(p1.id, workers[W2].id)].exit_date == date(2025, 3, 10)
    assert roster[(p2.id, workers[W4].id)].daily_wage_fen == 30000
    assert w1.phone_masked == "138****5678"

    hours = attendance_map(session, settings)
    assert len(hours) == 20
    assert hours[(P1, W1, date(2025, 3, 4))] == 750
    assert hours[(P1, W1, date(2025, 3, 3))] == 800
    assert hours[(P2, W4, date(2025, 3, 6))] == 800  # the roster's lowercase x matched the attendance's X

    pays = sorted((p.worker_id, p.period, p.amount_due_fen, p.amount_paid_fen, p.pay_date, p.channel)
                  for p in fresh(session, PayrollPayment))
    assert pays == sorted([
        (w1.id, "2025-03", 250000, 123450, date(2025, 4, 10), "bank"),
        (w1.id, "2025-03", 250000, 126550, date(2025, 4, 25), "special_account"),
        (workers[W2].id, "2025-03", 210000, 210000, date(2025, 4, 10), "cash"),
        (workers[W4].id, "2025-03", 120000, 120000, date(2025, 4, 15), "team_leader"),
    ])


def test_tiny_county_identities_are_never_stored_in_plain_text(session, settings, county):
    import_paths(session=session, settings=settings, paths=[county["projects"].parent])
    vault = Vault(settings)
    workers = by_id_hash(session, settings)
    assert set(workers) == {W1, W2, W3, W4}
    for idn, w in workers.items():
        assert w.id_hash != idn and idn not in w.id_hash and len(w.id_hash) == 64
        assert vault.decrypt(w.id_cipher) == idn  # W4: normalised to an upper-case X
        assert idn not in w.id_cipher
        assert w.id_masked == idn[:6] + "*" * 8 + idn[-4:]
    assert workers[W1].id_masked == "330523********0011"
    assert workers[W4].id_masked.endswith("X")
    assert vault.decrypt(workers[W1].phone_cipher) == PHONE
    everything = dump_database(session)
    for secret in (*ALL_IDS, W4.lower(), PHONE, INFORMANT_CODE):
        assert secret not in everything


def test_tiny_county_reports_and_informants(session, settings, county):
    import_paths(session=session, settings=settings, paths=[county["projects"].parent])
    vault = Vault(settings)
    projects = {p.code: p.id for p in fresh(session, Project)}
    (informant,) = fresh(session, Informant)  # two reports with the same code: one informant
    assert informant.pseudonym_no == 1
    assert informant.ref_hash == vault.blind_index(INFORMANT_CODE, "informant") != INFORMANT_CODE
    assert (informant.name_cipher, informant.phone_cipher, informant.user_id) == (None, None, None)
    reports = {r.uid: r for r in fresh(session, Report)}
    assert len(reports) == 3
    r1, r3 = reports["ext:R-001"], reports["ext:R-003"]
    (anon,) = [r for uid, r in reports.items() if uid.startswith("sha:")]
    assert (r1.project_id, r1.project_code_text, r1.informant_id, r1.township, r1.employer_text) == (
        projects[P1], P1, informant.id, "递铺街道", LABOUR)
    assert r1.received_at == datetime(2025, 4, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    assert (r1.workers_involved, r1.amount_claimed_fen, r1.collective, r1.source) == (12, 3_600_000, True,
                                                                                      "import")
    assert (r3.project_id, r3.informant_id, r3.workers_involved, r3.collective) == (projects[P2], informant.id, 3,
                                                                                   False)
    assert r3.received_at == datetime(2025, 4, 5, 0, 0, tzinfo=UTC)
    assert (anon.informant_id, anon.project_code_text, anon.township, anon.employer_text) == (
        None, None, "孝丰镇", GC2)
    # Imported reports are understood like web ones: the named contractor's one site in that township is linked.
    assert (anon.project_id, anon.link_method) == (projects[P2], "name")
    assert all(r.category and r.analysis.get("model") for r in reports.values())
    (batch,) = fresh(session, ImportBatch, ImportBatch.kind == "reports")
    assert {r.import_batch_id for r in reports.values()} == {batch.id}


def test_imported_reports_are_written_once_with_everything_understood(session, settings, county):
    # Classified, linked and corroborated before the first write: one INSERT, then one UPDATE for the whole
    # file's import batch — not an INSERT and then an UPDATE per report for each step.
    for kind in ("projects", "subcontracts", "workers", "attendance", "payroll"):
        assert run(session, settings, county[kind]).status == "succeeded"
    written: list[str] = []  # statements writing reports

    def seen(conn, cursor, statement, *args):
        if statement.startswith(("INSERT INTO report ", "UPDATE report ")):
            written.append(statement.split()[0])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        r = run(session, settings, county["reports"])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert (r.status, r.rows_imported) == ("succeeded", 3)
    # Inserted (the ORM groups rows by the fields they have: one to three statements), then one UPDATE that
    # names the batch. Before, each step's flush updated them again.
    assert 1 <= written.count("INSERT") <= 3 and written[-1] == "UPDATE" and written.count("UPDATE") == 1, written
    reports = fresh(session, Report)
    assert all(x.category and x.analysis.get("model") and x.import_batch_id == r.batch_id for x in reports)
    assert sorted(x.link_method or "" for x in reports) == ["code", "code", "name"]


# ------------------------------------------------------------------------------------------ 2. format variants


def test_bom_gbk_gb18030_and_shuffled_chinese_headers(session, settings, tmp_path):
    folder = tmp_path / "variants"
    header, rows = shuffled("projects", PROJECTS, [3, 0, 11, 2, 6, 1, 4, 5, 7, 8, 9, 10])
    projects = write_csv(folder / "projects.csv", header, rows, encoding="utf-8-sig")
    assert projects.read_bytes().startswith(BOM)
    header, rows = shuffled("subcontracts", SUBCONTRACTS, [5, 3, 1, 0, 4, 2])
    subs = write_csv(folder / "subcontracts.csv", header, rows, encoding="gbk")
    workers_rows = [*WORKERS, [P1, W5, "𠮷野", TEAM_B, "杂工", "280", "2025-03-02", "", ""]]  # 𠮷 is not in GBK
    header, rows = shuffled("workers", workers_rows, [8, 2, 1, 7, 0, 3, 6, 5, 4])
    workers = write_csv(folder / "workers.csv", [*header, "备注"], [[*r, "无"] for r in rows], encoding="gb18030")
    with pytest.raises(UnicodeEncodeError):
        "𠮷".encode("gbk")

    results = [run(session, settings, p) for p in (projects, subs, workers)]
    assert [(r.kind, r.status, r.rows_imported) for r in results] == [
        ("projects", "succeeded", 2), ("subcontracts", "succeeded", 4), ("workers", "succeeded", 5)]
    assert results[2].notices == ["以下列不认识，已忽略：“备注”"]
    assert {p.name for p in fresh(session, Project)} == {"递铺街道中学改扩建工程", "孝丰镇安置小区二期"}
    assert {c.name for c in fresh(session, Company)} == {GC1, GC2, LABOUR, TEAM_A, TEAM_B, TEAM_C}
    workers_by_id = by_id_hash(session, settings)
    assert {idn: w.name for idn, w in workers_by_id.items()} == {
        W1: "陈一", W2: "林二", W3: "黄三", W4: "周四", W5: "𠮷野"}
    assert fresh(session, Project, Project.code == P1)[0].contract_value_fen == 1_234_567_890


def test_date_shapes_and_hours(session, settings, base, tmp_path):
    rows = [[P1, W1, "2025-03-03", "8"], [P1, W1, "2025/03/04", "7.5"], [P1, W1, "2025/3/5", "7:30"],
            [P1, W1, "2025年3月6日", "8.0"], [P1, W1, "2025-3-7", "0"], [P1, W1, "2025年03月08日", "24"]]
    r = run(session, settings, write_kind(tmp_path, "attendance", rows))
    assert (r.status, r.rows_imported) == ("succeeded", 6)
    assert attendance_map(session, settings) == {
        (P1, W1, date(2025, 3, 3)): 800, (P1, W1, date(2025, 3, 4)): 750, (P1, W1, date(2025, 3, 5)): 750,
        (P1, W1, date(2025, 3, 6)): 800, (P1, W1, date(2025, 3, 7)): 0, (P1, W1, date(2025, 3, 8)): 2400}


def test_month_shapes_and_money_shapes(session, settings, base, tmp_path):
    rows = [[P1, W1, "2025-03", "2000", "1234.5", "2025-04-10", ""],
            [P1, W2, "2025/03", "2000", "1,234.50", "2025-04-10", ""],
            [P1, W3, "2025年3月", "2000", "\u00a51234.50", "2025-04-10", ""],  # ¥ (yen sign)
            [P2, W4, "2025年3月", "2000", "\uffe51,234.50", "2025-04-10", ""]]  # ￥ (full-width)
    r = run(session, settings, write_kind(tmp_path, "payroll", rows))
    assert (r.status, r.rows_imported) == ("succeeded", 4), r.errors
    pays = fresh(session, PayrollPayment)
    assert [(p.period, p.amount_due_fen, p.amount_paid_fen, p.channel) for p in pays] == [
        ("2025-03", 200000, 123450, None)] * 4


def test_yes_no_variants_in_projects(session, settings, tmp_path):
    variants = [("yes", "no"), ("是", "否"), ("Y", "n"), ("1", "0"), ("TRUE", "false"), ("有", "无"), ("", "")]
    rows = [[f"YN-{i}", f"工程{i}", "递铺街道", GC1, "", "", "2025-01-01", "", "", a, "", b]
            for i, (a, b) in enumerate(variants)]
    r = run(session, settings, write_kind(tmp_path, "projects", rows))
    assert (r.status, r.rows_imported) == ("succeeded", 7)
    got = {p.code: (p.has_wage_account, p.has_notice_board) for p in fresh(session, Project)}
    assert got == {**{f"YN-{i}": (True, False) for i in range(6)}, "YN-6": (None, None)}


def test_lowercase_x_in_id_numbers(session, settings, base, tmp_path):
    assert W4.lower() in base["workers"].read_text()  # the roster wrote it with a lowercase x
    w4 = by_id_hash(session, settings)[W4]
    assert Vault(settings).decrypt(w4.id_cipher) == W4
    rows = [[P2, W4.lower(), "2025-03-03", "8"], [P2, W4, "2025-03-04", "8"]]
    r = run(session, settings, write_kind(tmp_path, "attendance", rows))
    assert (r.status, r.rows_imported) == ("succeeded", 2)
    assert count(session, Worker) == 4
    assert set(attendance_map(session, settings)) == {(P2, W4, date(2025, 3, 3)), (P2, W4, date(2025, 3, 4))}


# ------------------------------------------------------------------------------------------ 3. error kinds


def test_missing_required_columns_are_named(session, settings, tmp_path):
    header = [h for h in en("projects") if h != "township"]
    rows = [[c for h, c in zip(en("projects"), PROJECTS[0], strict=True) if h != "township"]]
    r = run(session, settings, write_csv(tmp_path / "projects.csv", header, rows))
    assert (r.filename, r.kind, r.status, r.rows_imported) == ("projects.csv", "projects", "failed", 0)
    assert r.message == "缺少必填列：“所属乡镇”"
    keep = [i for i, h in enumerate(zh("workers")) if h not in ("身份证号", "日工资")]
    r = run(session, settings, write_csv(tmp_path / "花名册.csv", [zh("workers")[i] for i in keep],
                                          [[WORKERS[0][i] for i in keep]]))
    assert (r.kind, r.status) == ("workers", "failed")
    assert r.message == "缺少必填列：“身份证号”、“日工资”"
    assert count(session, Project) == 0 and count(session, Worker) == 0


def test_project_row_errors(session, settings, tmp_path):
    bad_uscc = GC1_USCC[:-1] + ("0" if GC1_USCC[-1] != "0" else "1")
    rows = [PROJECTS[0],
            ["AJ-T-003", "某工程", "安吉镇", GC2, "", "", "2025-01-01", "", "", "", "", ""],
            [P1, "重复的项目", "递铺街道", GC1, "", "", "2025-01-01", "", "", "", "", ""],
            ["AJ-T-004", "某工程", "梅溪镇", GC2, bad_uscc, "", "2025/13/01", "", "1,2", "也许", "", ""]]
    r = run(session, settings, write_kind(tmp_path, "projects", rows))
    assert (r.filename, r.status, r.rows_total, r.rows_imported, r.rows_rejected) == (
        "projects.csv", "failed", 4, 0, 3)
    assert_errors(r, [(3, "所属乡镇", "未知乡镇/街道：安吉镇"), (4, "项目编号", "与第 2 行重复"),
                      (5, "总包统一社会信用代码", "校验位错误"), (5, "开工日期", "日期无效"),
                      (5, "合同金额", "金额格式无法识别"), (5, "工资专用账户", "应为“是”或“否”")])
    assert count(session, Project) == 0 and count(session, Company) == 0


def test_worker_row_errors(session, settings, tmp_path):
    for kind in ("projects", "subcontracts"):
        assert run(session, settings, write_kind(tmp_path, kind, COUNTY[kind])).status == "succeeded"
    bad_check = W1[:-1] + ("2" if W1[-1] != "2" else "3")
    rows = [[P1, W5, "甲", TEAM_A, "", "300", "2025-03-01", "", ""],
            [P1, bad_check, "乙", TEAM_A, "", "300", "2025-03-01", "", ""],
            [P1, "3.30523E+17", "丙", TEAM_A, "", "300", "2025-03-01", "", ""],
            [P1, W2, "丁", "赵六油漆班组", "", "300", "2025-03-01", "", ""],
            ["AJ-X-999", W3, "戊", TEAM_A, "", "300", "2025-03-01", "", ""],
            [P1, W5, "甲", TEAM_B, "", "300", "2025-03-01", "", ""],
            [P1, W6, "己", TEAM_A, "", "300", "2025-03-05", "2025-03-04", ""],
            [P1, W4, "庚", TEAM_A, "", "0", "2025-07-01", "", "12345"]]
    r = run(session, settings, write_kind(tmp_path, "workers", rows))
    assert (r.status, r.rows_total, r.rows_imported, r.rows_rejected) == ("failed", 8, 0, 7)
    assert_errors(r, [(3, "身份证号", "身份证号校验位错误"),
                      (4, "身份证号", "请将该列设置为“文本”格式"),
                      (5, "班组", "班组“赵六油漆班组”不在该项目的分包关系中"),
                      (6, "项目编号", "项目编号 AJ-X-999 不存在"),
                      (7, "身份证号", "与第 2 行重复"),
                      (8, "退场日期", "退场日期早于进场日期"),
                      (9, "日工资", "日工资应大于 0"), (9, "进场日期", "进场日期晚于今天"),
                      (9, "手机号", "手机号格式不正确")])
    errors = {(e.row, e.column): e for e in r.errors}
    assert "科学计数法" in errors[(4, "身份证号")].reason
    assert errors[(3, "身份证号")].value == bad_check[:6] + "********" + bad_check[-4:]  # masked
    assert bad_check not in repr(r.errors)
    assert count(session, Worker) == 0 and count(session, RosterEntry) == 0


def test_attendance_row_errors(session, settings, base, tmp_path):
    rows = [[P1, W1, "2025-03-10", "8"],
            [P1, W5, "2025-03-10", "8"],  # on no roster
            [P1, W4, "2025-03-10", "8"],  # on P2's roster, not P1's
            [P1, W3, "2025-03-01", "8"],  # entry 2025-03-03
            [P1, W2, "2025-03-11", "8"],  # exit 2025-03-10
            [P1, W1, "2025-03-11", "25"],
            [P1, W1, "2025-03-12", "-1"],
            [P1, W1, "2025-03-10", "6"],  # same worker and day as row 2
            ["AJ-X-999", W1, "2025-03-10", "8"],
            [P1, W1, "2025-02-30", "八"],
            [P1, W1, "2025-07-01", "8"]]  # after "today"
    r = run(session, settings, write_kind(tmp_path, "attendance", rows))
    assert (r.status, r.rows_total, r.rows_imported, r.rows_rejected) == ("failed", 11, 0, 10)
    roster_msg = "该工人不在此项目的实名制花名册中"
    assert_errors(r, [(3, "身份证号", roster_msg), (4, "身份证号", roster_msg),
                      (5, "日期", "考勤日期早于进场日期（2025-03-03）"),
                      (6, "日期", "考勤日期晚于退场日期（2025-03-10）"),
                      (7, "工时", "工时应在 0–24 之间"), (8, "工时", "工时应在 0–24 之间"),
                      (9, "日期", "重复行"), (10, "项目编号", "项目编号 AJ-X-999 不存在"),
                      (11, "日期", "日期无效"), (11, "工时", "工时格式无法识别"),
                      (12, "日期", "考勤日期晚于今天")])
    assert count(session, Attendance) == 0


def test_payroll_row_errors(session, settings, base, tmp_path):
    rows = [[P1, W1, "2025-04", "2000", "1000", "2025-05-10", ""],
            [P1, W1, "2025-04", "2000", "900", "2025-03-31", ""],  # paid before April began
            [P1, W3, "2025-04", "1000", "5000", "2025-05-10", ""],  # far above what is due
            [P1, W2, "2025-04", "1000", "1000", "2025-05-10", ""],
            [P1, W2, "2025-04", "1000", "700", "2025-05-20", ""],  # instalments add up far above
            [P1, W1, "2025-04", "2500", "500", "2025-05-15", ""],  # due differs from row 2
            [P1, W1, "2025-04", "2000", "1000", "2025-05-10", ""],  # repeats row 2
            [P1, W5, "2025-04", "1000", "1000", "2025-05-10", "支付宝"]]
    r = run(session, settings, write_kind(tmp_path, "payroll", rows))
    assert (r.status, r.rows_total, r.rows_imported, r.rows_rejected) == ("failed", 8, 0, 6)
    assert_errors(r, [(3, "发放日期", "发放日期早于工资所属月份（2025-04）开始"),
                      (4, "实发金额", "实发金额远高于应发金额"),
                      (6, "实发金额", "2025-04 月累计实发金额远高于应发金额"),
                      (7, "应发金额", "应发金额与第 2 行不一致"),
                      (8, "实发金额", "重复行"),
                      (9, "身份证号", "不在此项目的实名制花名册中"), (9, "发放方式", "发放方式应为")])
    assert count(session, PayrollPayment) == 0


def test_subcontract_errors_parent_outside_the_chain(session, settings, tmp_path):
    run(session, settings, write_kind(tmp_path, "projects", PROJECTS))
    rows = [[P1, GC1, "", LABOUR, "", "劳务分包"],
            [P1, LABOUR, "", TEAM_A, "", "班组"],
            [P1, "某某不存在公司", "", TEAM_B, "", "班组"],
            [P1, TEAM_A, "", GC1, "", ""],
            [P1, GC1, "", TEAM_A, "", "班组"],  # TEAM_A is already a child in row 3
            [P2, GC2, "", TEAM_C, "", "外包"]]
    r = run(session, settings, write_kind(tmp_path, "subcontracts", rows))
    assert (r.status, r.rows_imported) == ("failed", 0)
    assert_errors(r, [(4, "上级单位", f"上级单位不在该项目以总包“{GC1}”为起点的分包链中"),
                      (5, "下级单位", "施工总承包单位不能作为下级单位"),
                      (6, "下级单位", "与第 3 行重复"),
                      (7, "分包类型", "分包类型应为")])
    assert count(session, Subcontract) == 0


def test_chain_check_is_not_confused_by_an_earlier_invalid_row(session, settings, tmp_path):
    """A chain error must be real: the link that attaches LABOUR to the GC comes after an invalid row.

    BUG: importer._run stops buffering valid rows after the first invalid one (unless --skip-invalid), so
    SubcontractWriter.final_check sees only the rows before it and reports row 2 as outside the chain."""
    run(session, settings, write_kind(tmp_path, "projects", PROJECTS))
    rows = [[P1, LABOUR, "", TEAM_A, "", "班组"],
            ["AJ-X-999", GC2, "", TEAM_C, "", "班组"],
            [P1, GC1, "", LABOUR, "", "劳务分包"]]
    r = run(session, settings, write_kind(tmp_path, "subcontracts", rows))
    assert r.status == "failed"
    assert_errors(r, [(3, "项目编号", "项目编号 AJ-X-999 不存在")])


def test_files_that_are_not_tables(session, settings, tmp_path):
    png = tmp_path / "考勤.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    empty = tmp_path / "workers.csv"
    empty.write_bytes(b"")
    unknown = write_csv(tmp_path / "数据.csv", ["序号", "备注"], [["1", "无"]])
    r_png, r_empty, r_unknown = (run(session, settings, p) for p in (png, empty, unknown))
    assert (r_unknown.status, r_unknown.kind) == ("failed", None)
    assert r_unknown.message.startswith("无法识别文件类型")
    assert (r_png.status, r_png.kind, r_png.rows_total) == ("failed", None, 0)
    assert "不是 CSV 或 Excel" in r_png.message and "PNG" in r_png.message
    assert (r_empty.status, r_empty.message) == ("failed", "文件为空")
    batches = fresh(session, ImportBatch)
    assert [(b.filename, b.status, b.file_sha256) for b in batches] == [
        ("考勤.csv", "failed", hashlib.sha256(png.read_bytes()).hexdigest()),
        ("workers.csv", "failed", hashlib.sha256(b"").hexdigest()),
        ("数据.csv", "failed", hashlib.sha256(unknown.read_bytes()).hexdigest())]
    assert batches[0].summary["message"] == r_png.message


def test_more_than_1000_errors_keeps_1000_and_the_true_total(session, settings, tmp_path):
    rows = [["AJ-X-999", W1, "2025-03-03", "8"]] * 1205
    r = run(session, settings, write_kind(tmp_path, "attendance", rows))
    assert (r.status, r.rows_total, r.rows_rejected, r.error_count) == ("failed", 1205, 1205, 1205)
    assert len(r.errors) == MAX_ERRORS_KEPT == 1000
    assert [e.row for e in r.errors] == list(range(2, 1002))
    assert r.message == "有 1205 处错误，未导入任何数据"
    (batch,) = fresh(session, ImportBatch)
    assert (batch.error_count, len(batch.errors), batch.errors[0]) == (1205, 1000, {
        "row": 2, "column": "项目编号", "value": "AJ-X-999", "reason": "项目编号 AJ-X-999 不存在，请先导入该项目"})


# ------------------------------------------------------------------------------------------ 4. all or nothing


def test_one_bad_row_at_the_end_imports_nothing(session, settings, base, tmp_path):
    before = count(session, Attendance), count(session, Worker), count(session, RosterEntry)
    rows = [*ATTENDANCE, [P1, W1, "2025-03-20", "25"]]
    r = run(session, settings, write_kind(tmp_path, "attendance", rows))
    assert (r.status, r.rows_total, r.rows_imported, r.rows_rejected) == ("failed", 21, 0, 1)
    assert_errors(r, [(22, "工时", "工时应在 0–24 之间")])
    assert (count(session, Attendance), count(session, Worker), count(session, RosterEntry)) == before == (0, 4, 4)


def test_one_bad_row_leaves_a_small_kind_unwritten(session, settings, tmp_path):
    rows = [*PROJECTS, ["AJ-T-003", "某工程", "不存在乡", GC2, "", "", "2025-01-01", "", "", "", "", ""]]
    r = run(session, settings, write_kind(tmp_path, "projects", rows))
    assert (r.status, r.rows_imported) == ("failed", 0)
    assert count(session, Project) == 0 and count(session, Company) == 0


def _committed_attendance(settings) -> int:
    """Attendance rows visible to another connection (what is committed)."""
    eng = create_engine(settings.database_url)
    try:
        with eng.connect() as conn:
            return conn.execute(sa_select(func.count()).select_from(Attendance.__table__)).scalar_one()
    finally:
        eng.dispose()


@pytest.mark.parametrize("way", ["arrow", "column-wise", "row by row"])
def test_exception_midway_leaves_nothing(session, settings, base, tmp_path, monkeypatch, way):
    monkeypatch.setattr(importer, "CHUNK", 5)
    monkeypatch.setattr(importer, "COLUMN_CHUNK", 5)
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", 250)  # Arrow batches of five rows of these
    if way != "arrow":
        monkeypatch.setattr(readers, "ARROW", False)
    if way == "row by row":
        monkeypatch.setattr(importer, "COLUMN_PATHS", {})
    calls: list[tuple[int, int | None]] = []

    def record(session, table, rows, stream=None) -> None:
        if table == "attendance":
            # Rows sent into a COPY still open are not countable yet (nor is the connection free to count them).
            calls.append((len(rows), None if stream is not None and stream.is_open else count(session, Attendance)))
            if len(calls) == 2:
                raise RuntimeError("disk full")

    def flaky(write):
        def attendance_write(session, table, columns, rows, *args, **kw):
            record(session, table, rows)
            return write(session, table, columns, rows, *args, **kw)
        return attendance_write

    send = NewRowsStream.send

    def flaky_send(stream, rows, csv_rows):
        record(stream.session, stream.table, rows, stream)
        return send(stream, rows, csv_rows)

    # Every way a writer sends rows: upserts, inserts of rows past the sites' last days, and the stream of them.
    originals = {name: getattr(import_writers, name) for name in ("bulk_upsert", "bulk_insert_new")}
    for name, write in originals.items():
        monkeypatch.setattr(import_writers, name, flaky(write))
    monkeypatch.setattr(NewRowsStream, "send", flaky_send)
    path = write_kind(tmp_path, "attendance", ATTENDANCE)
    with pytest.raises(RuntimeError, match="disk full"):
        run(session, settings, path)
    # The first chunk was sent inside the file's transaction, then the second one failed: on PostgreSQL into
    # the COPY still open (the failure cut it off), on SQLite written at once.
    postgres = session.get_bind().dialect.name == "postgresql"
    first_seen = None if postgres and way != "row by row" else calls[0][0]
    if way == "arrow":  # batches are cut by bytes
        assert len(calls) == 2 and calls[0][0] >= 5 and [seen for _, seen in calls] == [0, first_seen], calls
    elif way == "column-wise":
        assert calls == [(5, 0), (5, first_seen)]
    else:
        assert calls == [(5, 0), (5, 5)]
    assert _committed_attendance(settings) == 0
    session.rollback()  # what the CLI's and the job runner's session does on the way out
    assert count(session, Attendance) == 0
    assert count(session, ImportBatch) == 3  # only the three base files: the crashed one left no trace

    monkeypatch.setattr(NewRowsStream, "send", send)
    for name, write in originals.items():
        monkeypatch.setattr(import_writers, name, write)
    r = run(session, settings, path)  # same session, 4 chunks of 5
    assert (r.status, r.rows_imported) == ("succeeded", 20)
    assert _committed_attendance(settings) == 20


# ------------------------------------------------------------------------------------------ 5. idempotency


def test_same_file_twice_is_a_duplicate(session, settings, base):
    first = run(session, settings, base["attendance"])
    counts = count(session, Attendance), count(session, Worker)
    second = run(session, settings, base["attendance"])
    assert (first.status, first.rows_imported) == ("succeeded", 20)
    assert (second.status, second.rows_imported) == ("duplicate", 0)
    assert second.message == f"该文件已于批次 #{first.batch_id} 导入过，内容相同，未作任何改动"
    assert (count(session, Attendance), count(session, Worker)) == counts == (20, 4)
    batches = fresh(session, ImportBatch, ImportBatch.kind == "attendance")
    assert [(b.status, b.file_sha256, b.content_sha256) for b in batches] == [
        ("succeeded", importer.file_sha256(base["attendance"]), first_content := batches[0].content_sha256),
        ("duplicate", importer.file_sha256(base["attendance"]), first_content)]


def test_resaved_file_is_a_duplicate_by_content(session, settings, base, tmp_path):
    first = run(session, settings, base["attendance"])
    order = [2, 3, 1, 0]
    header, rows = shuffled("attendance", ATTENDANCE, order, spaces=False)
    resaved = write_csv(tmp_path / "考勤（另存）.csv", header, rows, encoding="gbk", crlf=True)
    assert resaved.read_bytes() != base["attendance"].read_bytes() and b"\r\n" in resaved.read_bytes()
    r = run(session, settings, resaved)
    assert (r.status, r.rows_total, r.rows_imported) == ("duplicate", 20, 0)
    assert r.message == f"文件内容与批次 #{first.batch_id} 相同（可能是重新保存的同一文件），未作任何改动"
    assert count(session, Attendance) == 20


def test_overlapping_attendance_files_later_value_wins(session, settings, base, tmp_path):
    days = [[P1, W1, f"2025-03-{d:02d}", "8"] for d in range(1, 16)]
    a = write_kind(tmp_path, "attendance", days[:10], name="attendance_a.csv")
    later = [list(r) for r in days[5:]]
    later[2][3] = "6"  # 2025-03-08, in both files
    b = write_kind(tmp_path, "attendance", later, name="attendance_b.csv")
    ra, rb = run(session, settings, a), run(session, settings, b)
    assert [(r.status, r.rows_imported) for r in (ra, rb)] == [("succeeded", 10), ("succeeded", 10)]
    hours = attendance_map(session, settings)
    assert len(hours) == count(session, Attendance) == 15
    assert hours == {(P1, W1, date(2025, 3, d)): (600 if d == 8 else 800) for d in range(1, 16)}


def test_reimported_roster_and_reports_upsert_by_natural_key(session, settings, base, tmp_path):
    run(session, settings, base["reports"])
    workers = [list(r) for r in WORKERS]
    workers[0][7] = "2025-05-31"  # W1 leaves
    workers[0][5] = "360"
    reports = [list(r) for r in REPORTS]
    reports[0][6] = "补充：已发一半"
    r1 = run(session, settings, write_kind(tmp_path, "workers", workers))
    r2 = run(session, settings, write_kind(tmp_path, "reports", reports))
    assert (r1.status, r2.status) == ("succeeded", "succeeded")
    assert (count(session, Worker), count(session, RosterEntry), count(session, Report),
            count(session, Informant)) == (4, 4, 3, 1)
    w1 = by_id_hash(session, settings)[W1]
    (entry,) = fresh(session, RosterEntry, RosterEntry.worker_id == w1.id)
    assert (entry.exit_date, entry.daily_wage_fen) == (date(2025, 5, 31), 36000)
    assert fresh(session, Report, Report.uid == "ext:R-001")[0].text == "补充：已发一半"


def test_failed_file_is_not_remembered_as_imported(session, settings, county):
    for kind in ("projects", "subcontracts"):
        run(session, settings, county[kind])
    early = run(session, settings, county["attendance"])  # before the rosters
    assert (early.status, early.error_count) == ("failed", 20)
    run(session, settings, county["workers"])
    again = run(session, settings, county["attendance"])
    assert (again.status, again.rows_imported) == ("succeeded", 20)
    assert count(session, Attendance) == 20


def test_partially_imported_file_is_completed_when_reimported(session, settings, base, tmp_path):
    """BUG: after --skip-invalid left rows out, importing the same file again once the cause is fixed is
    reported as 'duplicate' (importer.import_file: _duplicate_of matches the earlier *partial* batch, by file
    hash and again by content hash) and the left-out rows are never imported."""
    path = write_kind(tmp_path, "attendance", [[P1, W1, "2025-03-03", "8"], [P1, W5, "2025-03-03", "8"]])
    first = run(session, settings, path, skip_invalid=True)
    assert (first.status, first.rows_imported, first.rows_rejected) == ("succeeded", 1, 1)
    extra = write_kind(tmp_path, "workers", [[P1, W5, "新来的", TEAM_A, "", "300", "2025-03-01", "", ""]],
                       name="workers_extra.csv")
    assert run(session, settings, extra).status == "succeeded"
    again = run(session, settings, path)
    assert (again.status, again.rows_imported, again.error_count) == ("succeeded", 2, 0), again.message
    assert set(attendance_map(session, settings)) == {(P1, W1, date(2025, 3, 3)), (P1, W5, date(2025, 3, 3))}


# ------------------------------------------------------------------------------------------ 6. --skip-invalid


@pytest.fixture
def cli(session, settings, monkeypatch):
    from earlywarn.config import get_settings

    env = {"EARLYWARN_DATABASE_URL": settings.database_url, "EARLYWARN_DATA_DIR": str(settings.data_dir),
           "EARLYWARN_SECRET_KEY": settings.secret_key}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    runner = CliRunner()

    def invoke(*args: str):
        session.rollback()  # SQLite: release our transaction so the CLI can write
        get_settings.cache_clear()
        result = runner.invoke(app, ["import", *args], env=env)
        session.expire_all()
        return result

    yield invoke
    get_settings.cache_clear()


BAD_ATTENDANCE_ROWS = {4: "身份证号：该工人不在此项目的实名制花名册中", 7: "工时：工时应在 0–24 之间",
                       9: "日期：考勤日期晚于退场日期（2025-03-10）", 12: "日期：重复行"}


def _mixed_attendance(tmp_path: Path) -> Path:
    rows = [[P1, W1, "2025-03-03", "8"], [P1, W1, "2025-03-04", "8"],
            [P1, W5, "2025-03-04", "8"],  # row 4
            [P1, W2, "2025-03-04", "8"], [P1, W3, "2025-03-04", "8"],
            [P1, W3, "2025-03-05", "25"],  # row 7
            [P1, W2, "2025-03-05", "8"],
            [P1, W2, "2025-03-12", "8"],  # row 9
            [P2, W4, "2025-03-04", "8"], [P2, W4, "2025-03-05", "7.5"],
            [P1, W1, "2025-03-03", "8"],  # row 12
            [P1, W1, "2025-03-05", "4"]]
    return write_kind(tmp_path, "attendance", rows)


def test_cli_skip_invalid_writes_exactly_the_bad_rows(cli, session, settings, base, tmp_path):
    path = _mixed_attendance(tmp_path)
    result = cli(str(path), "--skip-invalid")
    assert result.exit_code == 0, result.output
    rejected = path.with_name("attendance.csv.rejected.csv")
    raw = rejected.read_bytes()
    assert raw.startswith(BOM)
    table = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert table[0] == ["行号", "项目编号", "身份证号", "日期", "工时", "错误原因"]
    reasons = {int(r[0]): r[5] for r in table[1:]}
    assert set(reasons) == set(BAD_ATTENDANCE_ROWS)
    assert all(reasons[n].startswith(fragment) for n, fragment in BAD_ATTENDANCE_ROWS.items()), reasons
    assert len(table) == 1 + len(BAD_ATTENDANCE_ROWS)
    assert [r for r in table if r[0] == "7"] == [["7", P1, W3, "2025-03-05", "25", "工时：工时应在 0–24 之间"]]
    assert count(session, Attendance) == 8
    (batch,) = fresh(session, ImportBatch, ImportBatch.kind == "attendance")
    assert (batch.status, batch.rows_total, batch.rows_imported, batch.rows_rejected, batch.error_count) == (
        "succeeded", 12, 8, 4, 4)
    assert batch.summary["rejected_file"] == "attendance.csv.rejected.csv"
    assert "attendance.csv.rejected.csv" in result.output


def test_cli_without_skip_invalid_fails_and_imports_nothing(cli, session, settings, base, tmp_path):
    path = _mixed_attendance(tmp_path)
    result = cli(str(path))
    assert result.exit_code == 1
    assert "有 4 处错误，未导入任何数据" in result.output
    assert count(session, Attendance) == 0
    assert not path.with_name("attendance.csv.rejected.csv").exists()
    (batch,) = fresh(session, ImportBatch, ImportBatch.kind == "attendance")
    assert (batch.status, batch.rows_imported, batch.error_count) == ("failed", 0, 4)


def test_skip_invalid_keeps_rows_that_depend_only_on_valid_rows(session, settings, base, tmp_path):
    """A subcontract whose parent row was rejected is rejected too; the rest of the chain is kept."""
    rows = [[P2, GC2, "", "华宇二分包有限公司", "", "专业分包"],
            [P2, "华宇二分包有限公司", "", "钱七班组", "", "班组"],
            [P2, GC2, GC1_USCC, "冒用代码公司", "", "专业分包"],  # GC1's credit code under GC2's name
            [P2, "冒用代码公司", "", "孙八班组", "", "班组"]]
    r = run(session, settings, write_kind(tmp_path, "subcontracts", rows), skip_invalid=True)
    assert (r.status, r.rows_imported, r.rows_rejected) == ("succeeded", 2, 2)
    assert sorted(e.row for e in r.errors) == [4, 5]
    assert {c.name for c in fresh(session, Company)} >= {"华宇二分包有限公司", "钱七班组"}
    assert "冒用代码公司" not in {c.name for c in fresh(session, Company)}


def test_skip_invalid_payroll_rejected_instalment_does_not_count(session, settings, base, tmp_path):
    """BUG: InFileChecks._check_payroll adds a row's amount to the month's running total *before* rejecting it
    for going over the limit, so under --skip-invalid a later, valid instalment is rejected as well."""
    rows = [[P1, W1, "2025-04", "1000", "1000", "2025-05-10", ""],
            [P1, W1, "2025-04", "1000", "1000", "2025-05-11", ""],  # total 2000 > 1.5 × 1000 + 100: rejected
            [P1, W1, "2025-04", "1000", "100", "2025-05-20", ""]]  # kept rows total 1100: fine
    r = run(session, settings, write_kind(tmp_path, "payroll", rows), skip_invalid=True)
    assert sorted(e.row for e in r.errors) == [3]
    assert (r.rows_imported, r.rows_rejected) == (2, 1)
    assert sorted(p.amount_paid_fen for p in fresh(session, PayrollPayment)) == [10000, 100000]


# ------------------------------------------------------------------------------------------ 7. .xlsx


def _xlsx(path: Path, rows: list[list], title: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_xlsx_date_cells_and_id_numbers_as_text_and_as_numbers(session, settings, tmp_path):
    for kind in ("projects", "subcontracts"):
        assert run(session, settings, write_kind(tmp_path, kind, COUNTY[kind])).status == "succeeded"
    path = _xlsx(tmp_path / "花名册.xlsx", [
        zh("workers"),
        [P1, W5, "文本号", TEAM_A, "木工", 380, date(2025, 3, 2), None, None],
        [P1, float(W6), "数字号", TEAM_A, "木工", 380.5, date(2025, 3, 2), None, None],  # row 4 in Excel
        [P1, W1, "日期时间", TEAM_B, "钢筋工", "350", datetime(2025, 3, 1, 0, 0), date(2025, 3, 31), None],
    ], title="安吉县建设项目实名制花名册（2025年3月）")
    r = run(session, settings, path)
    assert (r.kind, r.status, r.rows_total) == ("workers", "failed", 3)
    assert r.notices == ["表头在第 2 行，已跳过上方 1 行标题"]
    assert_errors(r, [(4, "身份证号", "请将该列设置为“文本”格式")])
    assert r.errors[0].value != W6 and W6 not in r.errors[0].reason
    assert count(session, Worker) == 0

    r = run(session, settings, path, skip_invalid=True)
    assert (r.status, r.rows_imported, r.rows_rejected) == ("succeeded", 2, 1)
    assert r.rejected_path == tmp_path / "花名册.xlsx.rejected.csv"
    assert [row[0] for row in csv.reader(r.rejected_path.read_text("utf-8-sig").splitlines())] == ["行号", "4"]
    workers = by_id_hash(session, settings)
    assert set(workers) == {W1, W5}
    roster = {e.worker_id: e for e in fresh(session, RosterEntry)}
    assert (roster[workers[W5].id].entry_date, roster[workers[W5].id].daily_wage_fen) == (date(2025, 3, 2), 38000)
    assert (roster[workers[W1].id].entry_date, roster[workers[W1].id].exit_date) == (
        date(2025, 3, 1), date(2025, 3, 31))

    att = _xlsx(tmp_path / "考勤.xlsx", [zh("attendance"), [P1, W5, date(2025, 3, 3), 7.5],
                                         [P1, W1, datetime(2025, 3, 4, 0, 0), 8], [P1, W1, "2025/3/5", "8"]])
    pay = _xlsx(tmp_path / "工资.xlsx", [zh("payroll"),
                                        [P1, W5, date(2025, 3, 1), 2000, 1234.5, date(2025, 4, 10), "银行代发"]])
    ra, rp = run(session, settings, att), run(session, settings, pay)
    assert [(x.kind, x.status, x.rows_imported) for x in (ra, rp)] == [
        ("attendance", "succeeded", 3), ("payroll", "succeeded", 1)]
    assert attendance_map(session, settings) == {(P1, W5, date(2025, 3, 3)): 750, (P1, W1, date(2025, 3, 4)): 800,
                                                 (P1, W1, date(2025, 3, 5)): 800}
    (payment,) = fresh(session, PayrollPayment)
    assert (payment.period, payment.amount_due_fen, payment.amount_paid_fen, payment.pay_date) == (
        "2025-03", 200000, 123450, date(2025, 4, 10))


# ------------------------------------------------------------------------------------------ 8. history


def test_import_history_and_audit_log(session, settings, county, make_user, tmp_path):
    user = make_user("wage_checker")
    ok = run(session, settings, county["projects"], user=user, job_id="job-1")
    dup = run(session, settings, county["projects"], user=user)
    bad = run(session, settings, county["workers"], user=user)  # no chains yet: every team is unknown
    assert (ok.status, dup.status, bad.status) == ("succeeded", "duplicate", "failed")
    batches = {b.id: b for b in fresh(session, ImportBatch)}
    assert list(batches) == [ok.batch_id, dup.batch_id, bad.batch_id]
    b_ok, b_dup, b_bad = batches.values()
    sha = hashlib.sha256(county["projects"].read_bytes()).hexdigest()
    assert (b_ok.filename, b_ok.kind, b_ok.status, b_ok.file_sha256, b_ok.job_id, b_ok.uploaded_by) == (
        "projects.csv", "projects", "succeeded", sha, "job-1", user.id)
    assert (b_ok.rows_total, b_ok.rows_processed, b_ok.rows_imported, b_ok.rows_rejected, b_ok.error_count) == (
        2, 2, 2, 0, 0)
    assert b_ok.content_sha256 and len(b_ok.content_sha256) == 64 and b_ok.finished_at is not None
    assert (b_dup.status, b_dup.file_sha256, b_dup.rows_imported) == ("duplicate", sha, 0)
    assert (b_bad.kind, b_bad.status, b_bad.rows_total, b_bad.rows_imported, b_bad.error_count) == (
        "workers", "failed", 4, 0, 4)
    assert b_bad.file_sha256 == hashlib.sha256(county["workers"].read_bytes()).hexdigest()
    assert b_bad.errors[0] == {"row": 2, "column": "班组", "value": TEAM_A,
                               "reason": f"班组“{TEAM_A}”不在该项目的分包关系中，请先导入分包关系"}
    assert b_bad.summary["message"] == "有 4 处错误，未导入任何数据"

    entries = fresh(session, AuditLog, AuditLog.object_type == "import_batch")
    assert [(e.action, e.object_id, e.actor_id, e.actor_role) for e in entries] == [
        ("import.succeeded", str(ok.batch_id), user.id, "wage_checker"),
        ("import.duplicate", str(dup.batch_id), user.id, "wage_checker"),
        ("import.failed", str(bad.batch_id), user.id, "wage_checker")]
    assert entries[0].detail == {"file": "projects.csv", "kind": "projects", "sha256": sha, "rows": 2,
                                 "imported": 2, "rejected": 0, "errors": 0}
    assert entries[2].detail["errors"] == 4
    assert verify_chain(session=session) == (True, None)
    for secret in (W1, W2, W3, W4, W4.lower()):
        assert secret not in dump_database(session)


def test_queued_batch_gets_the_real_file_hash(session, settings, base):
    """BUG: importer._finish_batch fills file_sha256 only when it creates the batch; a batch queued by an upload
    (import_jobs.start_import_job stores file_sha256='0'*64) keeps the placeholder, so the history of every
    web upload shows 000…0 and the same bytes uploaded again are never recognised by file hash."""
    batch = ImportBatch(filename="attendance.csv", file_sha256="0" * 64, job_id="job-9", status="running")
    session.add(batch)
    session.commit()
    r = run(session, settings, base["attendance"], batch_id=batch.id, job_id="job-9")
    assert (r.status, r.batch_id) == ("succeeded", batch.id)
    (stored,) = fresh(session, ImportBatch, ImportBatch.id == batch.id)
    assert stored.status == "succeeded"
    assert stored.file_sha256 == hashlib.sha256(base["attendance"].read_bytes()).hexdigest()


# ------------------------------------------------------------------------------------------ simulated county


@dataclass
class Simulated:
    folder: Path
    summary: object


@pytest.fixture(scope="session")
def simulated(tmp_path_factory) -> Simulated:
    from earlywarn.simulation import simulate_county

    folder = tmp_path_factory.mktemp("simulated") / "county"
    return Simulated(folder, simulate_county(folder, seed=1, scale=0.02))


def _attendance_after_exit(folder: Path) -> set[int]:
    """Row numbers of attendance.csv dated after the worker's exit date in workers.csv."""
    with open(folder / "workers.csv", encoding="utf-8") as f:
        exits = {(r["project_code"], r["id_number"]): date.fromisoformat(r["exit_date"])
                 for r in csv.DictReader(f) if r["exit_date"]}
    with open(folder / "attendance.csv", encoding="utf-8") as f:
        return {n for n, r in enumerate(csv.DictReader(f), start=2)
                if (k := (r["project_code"], r["id_number"])) in exits and date.fromisoformat(r["date"]) > exits[k]}


def test_simulated_county_folder_import(session, settings, simulated, tmp_path):
    folder = shutil.copytree(simulated.folder, tmp_path / "county")
    s = simulated.summary
    # An earlier version of the simulator wrote a few attendance rows dated after the worker's exit date.
    assert _attendance_after_exit(folder) == set()
    results = import_paths(session=session, settings=settings, paths=[folder])
    # truth/disputes.csv is not at the top level and is never read
    assert [(r.filename, r.kind, r.status) for r in results] == [(f"{k}.csv", k, "succeeded") for k in KIND_ORDER]
    expected = {"projects": s.projects, "subcontracts": s.subcontracts, "workers": s.workers,
                "attendance": s.attendance_rows, "payroll": s.payroll_rows, "reports": s.reports}
    assert {r.kind: (r.rows_total, r.rows_imported, r.error_count) for r in results} == {
        k: (n, n, 0) for k, n in expected.items()}, [r.errors[:3] for r in results]
    assert (count(session, Project), count(session, Subcontract), count(session, RosterEntry),
            count(session, Attendance), count(session, PayrollPayment), count(session, Report)) == (
        s.projects, s.subcontracts, s.workers, s.attendance_rows, s.payroll_rows, s.reports)
    again = import_paths(session=session, settings=settings, paths=[folder])
    assert [r.status for r in again] == ["duplicate"] * 6
    assert count(session, Attendance) == s.attendance_rows


def test_the_collector_is_paused_while_rows_stream_and_back_after(session, settings, base, tmp_path, monkeypatch):
    assert gc.isenabled()
    states: list[bool] = []
    original = importer._run

    def spy(**kw):
        states.append(gc.isenabled())
        return original(**kw)

    monkeypatch.setattr(importer, "_run", spy)
    assert run(session, settings, write_kind(tmp_path, "attendance", ATTENDANCE)).status == "succeeded"
    assert states == [False] and gc.isenabled()

    def broken(**kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "_run", broken)
    with pytest.raises(RuntimeError):
        run(session, settings, write_kind(tmp_path / "again", "attendance", ATTENDANCE[:3]))
    assert gc.isenabled()  # given back on the way out
    with importer._collector_paused():  # imports in two threads share one pause
        with importer._collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()  # a process that runs without the collector keeps it off
    try:
        with importer._collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_attendance_imports_of_one_site_take_turns_on_postgresql(session, settings, base, tmp_path, monkeypatch):
    # Two uploads of the same worker's April, in two processes at once: the second waits for the first, then
    # sees its days, so the worker-month summary holds all thirty (not the fifteen of whichever came last).
    if settings.is_sqlite:
        pytest.skip("SQLite has one writer at a time")
    days = [[P1, W1, f"2025-04-{d:02d}", "8"] for d in range(1, 31)]
    first, later = write_kind(tmp_path / "b", "attendance", days[15:]), write_kind(tmp_path / "a", "attendance",
                                                                                 days[:15])
    in_finish, order = threading.Event(), []
    summary = import_writers.refresh_month_summary

    def slow(*, session, project_ids):
        if threading.current_thread().name == "first":
            in_finish.set()
            time.sleep(1.0)  # the other import starts meanwhile
        return summary(session=session, project_ids=project_ids)

    monkeypatch.setattr(import_writers, "refresh_month_summary", slow)

    def upload(path: Path) -> None:
        engine = make_engine(settings, immediate=False)
        with Session(engine, expire_on_commit=False) as s:
            assert run(s, settings, path).status == "succeeded"
        order.append(path.parent.name)
        engine.dispose()

    thread = threading.Thread(target=upload, args=(first,), name="first")
    thread.start()
    assert in_finish.wait(30)
    upload(later)
    thread.join()
    assert order == ["b", "a"]
    session.expire_all()
    month = session.exec(select(AttendanceMonth)).one()
    assert (month.period, month.days, month.first_day, month.last_day) == ("2025-04", 30, date(2025, 4, 1),
                                                                            date(2025, 4, 30))


def test_a_file_that_breaks_midway_reports_nothing_imported(session, settings, base, tmp_path, monkeypatch):
    # Arrow batches of the first rows are written, then the csv module refuses an over-long cell: the file's
    # transaction is rolled back and its history says no row was imported.
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", 200)
    rows = [[*row, "备注"] for row in ATTENDANCE]
    rows[15][-1] = "x" * (csv.field_size_limit() + 1)
    path = tmp_path / "attendance.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([[*KINDS["attendance"].column_names, "备注"], *rows])
    r = run(session, settings, path)
    assert (r.status, r.rows_imported) == ("failed", 0) and "单元格内容过长" in r.message
    assert count(session, Attendance) == 0
    assert session.get(ImportBatch, r.batch_id).rows_imported == 0
