"""The importer's chunk path (earlywarn.import_columns): a clean chunk's rows and in-file state, every kind of
doubtful row refusing its chunk without touching the shared state, and — through the importer on SQLite and
PostgreSQL — the chunk path giving exactly what the row-by-row path gives on messy files.
"""

from __future__ import annotations

import random
import shutil
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session

from earlywarn import arrow_csv, importer, readers
from earlywarn.db import make_engine
from earlywarn.file_kinds import KINDS
from earlywarn.import_checks import InFileChecks
from earlywarn.import_columns import AttendanceColumns, PayrollColumns, attendance_key
from earlywarn.import_rows import Lookups, RosterInfo, RowRejected, validate_attendance, validate_payroll
from earlywarn.tables import ImportBatch
from tests.conftest import RUN_ID, _base_settings
from tests.test_importer import P1, P2, PROJECTS, SUBCONTRACTS, TODAY, W1, W2, W3, W4, W5, WORKERS, run, write_kind

BAD_ID = W1[:-1] + "0"  # the check digit of W1 is 1
VALIDATE = {"attendance": validate_attendance, "payroll": validate_payroll}


def columns(kind: str, names: list[str] | None = None):
    lookups = Lookups(townships=frozenset(), today=TODAY, projects={P1: 1, P2: 2},
                      roster={(1, W1): RosterInfo(11, date(2025, 3, 1), None, 35050),
                              (1, W2): RosterInfo(12, date(2025, 3, 1), date(2025, 3, 10), 35000),
                              (1, W3): RosterInfo(13, date(2025, 3, 3), None, 40000),
                              (2, W4): RosterInfo(14, date(2025, 3, 1), None, 30000)})
    index = {name: i for i, name in enumerate(names or KINDS[kind].column_names)}
    checks = InFileChecks(kind)
    return (AttendanceColumns if kind == "attendance" else PayrollColumns)(lookups, index, checks), checks


def state(checks: InFileChecks) -> tuple:
    return set(checks.settle()), dict(checks.due), dict(checks.paid)  # pending keys count as seen


def row_path(kind: str, cols, chunk: list[list[str]], first: int, checks: InFileChecks) -> list[int]:
    """What the importer does with a refused chunk: the rows it rejects (blank rows are skipped)."""
    names, rejected = KINDS[kind].column_names, []
    for n, cells in enumerate(chunk, start=first):
        if all(not c.strip() for c in cells):
            continue
        raw = {name: cells[i] if i < len(cells) else "" for i, name in enumerate(names)}
        try:
            checks.check(n, VALIDATE[kind](n, raw, cols.lookups))
        except RowRejected:
            rejected.append(n)
    return rejected


def test_attendance_clean_chunk_in_key_order_with_iso_days_and_hundredths():
    cols, checks = columns("attendance")
    chunk = [[P2, W4.lower(), "20250305", "8"], [P1, W3, "2025年3月4日", "7:30"], [P1, W1, "2025/3/4", "7.5"],
             [P1, W1, "2025-03-03", "0"], [f" {P1} ", W2, "2025.3.10", "24"]]
    got = cols.check(chunk, 2)
    assert got.rows == [(1, "2025-03-03", 11, 0), (1, "2025-03-04", 11, 750), (1, "2025-03-04", 13, 750),
                        (1, "2025-03-10", 12, 2400), (2, "2025-03-05", 14, 800)]
    assert got.project_ids == {1, 2}
    as_listed = sorted(zip(*(a.tolist() for a in got.arrays), strict=True))
    assert as_listed == sorted((p, w, date.fromisoformat(d).toordinal(), h) for p, d, w, h in got.rows)
    assert checks.seen == set() and len(checks.pending) == 1  # kept as an array until a row needs them
    assert checks.settle() == {attendance_key(p, w, date.fromisoformat(d).toordinal()) for p, d, w, _ in got.rows}
    assert (checks.due, dict(checks.paid)) == ({}, {})


def test_a_key_seen_row_by_row_after_a_clean_chunk_is_not_taken_again():
    # The chunk after it lies wholly above the clean chunk's keys, but a row checked one by one in between
    # (a refused chunk) holds one of its keys: it is a duplicate all the same.
    cols, checks = columns("attendance")
    assert cols.check([att_row("2025-03-03"), att_row("2025-03-04")], 2) is not None
    checks.check(9, validate_attendance(9, dict(zip(KINDS["attendance"].column_names, att_row("2025-03-08"),
                                                     strict=True)), cols.lookups))
    before = state(checks)
    assert cols.check([att_row("2025-03-07"), att_row("2025-03-08")], 10) is None
    assert state(checks) == before
    assert cols.check([att_row("2025-03-07"), att_row("2025-03-09")], 10) is not None


def test_clean_chunks_are_checked_against_earlier_ones_without_a_set():
    cols, checks = columns("attendance")
    assert cols.check([att_row("2025-03-03", idn=W1), att_row("2025-03-04", idn=W1), att_row("2025-03-05", idn=W4,
                                                                                           code=P2)], 2) is not None
    # The same day as the last one, another worker: below the site's last key, but new.
    assert cols.check([att_row("2025-03-04", idn=W3), att_row("2025-03-06", idn=W1)], 5) is not None
    for repeat in (att_row("2025-03-03", idn=W1, hours="4"), att_row("2025-03-05", idn=W4, code=P2, hours="4")):
        assert cols.check([att_row("2025-03-07", idn=W1), repeat], 7) is None
    assert cols.check([att_row("2025-03-02", idn=W1, hours="4")], 9) is not None  # earlier, but not a repeat
    assert checks.seen == set() and len(checks.pending) == 3  # no set was needed
    assert len(checks.settle()) == 6


def test_ids_too_large_to_pack_take_the_row_path_with_exact_keys():
    lookups = Lookups(townships=frozenset(), today=TODAY, projects={P1: 1},
                      roster={(1, W1): RosterInfo(1 << 24, date(2025, 3, 1), None, 35000),
                              (1, W2): RosterInfo(1, date(2025, 3, 1), None, 35000)})
    cols = AttendanceColumns(lookups, {"project_code": 0, "id_number": 1, "date": 2, "hours": 3},
                             InFileChecks("attendance"))
    assert cols.check([att_row(idn=W2)], 2) is None
    # Packed, worker 2²⁴ on day d would collide with worker 0 on day d + 1; the row path keeps them apart.
    assert attendance_key(1, 1 << 24, 739_000) == (1, 739_000, 1 << 24) != attendance_key(1, 0, 739_001)


def test_a_clean_chunk_as_csv_for_postgresql_copy():
    cols, _ = columns("attendance")
    got = cols.check([[P1, W1, "2025/3/4", "7.5"], [P2, W4, "2025-03-05", "8"], [P1, W1, "2025-03-03", "0"]], 2)
    assert got.copy_csv() == b"1,2025-03-03,11,0\n1,2025-03-04,11,750\n2,2025-03-05,14,800\n"
    assert len(got) == 3 and list(got) == got.rows and got[0] == (1, "2025-03-03", 11, 0)


def att_row(day="2025-03-06", hours="8", code=P1, idn=W1) -> list[str]:
    return [code, idn, day, hours]


ATT_BAD = {
    "unknown project": att_row(code="AJ-X-999"), "not on roster": att_row(idn=W5),
    "on another project's roster": att_row(idn=W4), "bad check digit": att_row(idn=BAD_ID),
    "blank row": ["", " ", "\u3000", ""], "short row": att_row()[:3], "bad date": att_row("2025-02-30"),
    "blank date": att_row(""), "after today": att_row("2025-07-01"), "before entry": att_row("2025-03-02", idn=W3),
    "after exit": att_row("2025-03-11", idn=W2), "hours over 24": att_row(hours="24.5"),
    "negative hours": att_row(hours="-1"), "hours unreadable": att_row(hours="八"),
    "duplicate in the chunk": att_row("2025/3/5", "6"), "seen in an earlier chunk": att_row("2025年3月20日", "4"),
}


def test_payroll_clean_chunk_money_channels_and_in_file_state():
    cols, checks = columns("payroll")
    chunk = [[P2, W4, "2025年3月", "1,200", "￥1,234.50", "2025/4/15", "银行代发"],
             [P1, W1, "2025-03", "2000", "1000", "2025-04-10", ""],
             [P1, W1, "202503", "2,000.00", "2,100.00", "20250425", "专户代发"],  # ￥3,100 = 1.5 × due + ￥100
             [P1, W3, "2025/03", "1000", "1600", "2025-03-31", " "],  # exactly the one-row limit
             [P1, W2, "2025-03", "0", "100", "2025-03-01", "cash"]]
    got = cols.check(chunk, 10)
    assert got.rows == [(2, 14, "2025-03", 120000, 123450, date(2025, 4, 15), "bank"),
                        (1, 11, "2025-03", 200000, 100000, date(2025, 4, 10), None),
                        (1, 11, "2025-03", 200000, 210000, date(2025, 4, 25), "special_account"),
                        (1, 13, "2025-03", 100000, 160000, date(2025, 3, 31), None),
                        (1, 12, "2025-03", 0, 10000, date(2025, 3, 1), "cash")]
    assert got.project_ids == {1, 2}
    assert checks.seen == {(p, w, period, day, paid) for p, w, period, _, paid, day, _ in got.rows}
    assert checks.due == {(2, 14, "2025-03"): (120000, 10), (1, 11, "2025-03"): (200000, 11),
                          (1, 13, "2025-03"): (100000, 13), (1, 12, "2025-03"): (0, 14)}
    assert dict(checks.paid) == {(2, 14, "2025-03"): 123450, (1, 11, "2025-03"): 310000,
                                 (1, 13, "2025-03"): 160000, (1, 12, "2025-03"): 10000}
    # The row-by-row validation reads the same records.
    lookups, names = cols.lookups, KINDS["payroll"].column_names
    records = [VALIDATE["payroll"](n, dict(zip(names, cells, strict=True)), lookups) for n, cells in enumerate(chunk)]
    assert [(r.project_id, r.worker_id, r.period, r.amount_due_fen, r.amount_paid_fen, r.pay_date, r.channel)
            for r in records] == got.rows


def test_payroll_without_a_channel_column():
    cols, checks = columns("payroll", ["amount_paid", "pay_date", "period", "id_number", "amount_due", "project_code"])
    chunk = [["1,000", "2025-04-10", "2025-03", W1, "2000", P1], ["5", "2025/4/11", "2025-03", W1, "2000", P1]]
    got = cols.check(chunk, 2)
    assert got.rows == [(1, 11, "2025-03", 200000, 100000, date(2025, 4, 10), None),
                        (1, 11, "2025-03", 200000, 500, date(2025, 4, 11), None)]
    assert (checks.due, dict(checks.paid)) == ({(1, 11, "2025-03"): (200000, 2)}, {(1, 11, "2025-03"): 100500})


def pay_row(period="2025-05", due="2000", paid="10", day="2025-06-11", channel="", code=P1, idn=W1) -> list[str]:
    return [code, idn, period, due, paid, day, channel]


PAY_BAD = {
    "unknown project": pay_row(code="AJ-X-999"), "not on roster": pay_row(idn=W5),
    "bad check digit": pay_row(idn=BAD_ID), "blank row": [""] * 7, "short row": pay_row()[:5],
    "short row without a channel": pay_row()[:6], "bad period": pay_row("2025-13"), "bad money": pay_row(paid="十元"),
    "blank amount due": pay_row(due=""), "paid before the month": pay_row(day="2025-04-30"),
    "paid after today": pay_row(day="2025-07-01"), "paid far above due": pay_row(due="1000", paid="1600.01", idn=W3),
    "month total over the limit": pay_row(paid="2100.01"),
    "month total over the limit with an earlier chunk": pay_row("2025-04", paid="2100.01", day="2025-05-20"),
    "due differs in the chunk": pay_row(due="2500"),
    "due differs from an earlier chunk": pay_row("2025-04", due="1200", day="2025-05-20", idn=W3),
    "bad channel": pay_row(channel="支付宝"),
    "duplicate in the chunk": [P1, W1, "2025/05", "2,000.00", "￥1,000", "2025/6/10", "银行代发"],
    "seen in an earlier chunk": [P1, W1, "2025年4月", "2000", "1000.00", "20250510", ""],
}


# A clean first chunk (rows 2–3), then two good rows (4–5) and the doubtful row 6.
EARLIER = {"attendance": [att_row("2025-03-20"), att_row("2025-03-20", idn=W3)],
           "payroll": [pay_row("2025-04", paid="1000", day="2025-05-10", channel="银行代发"),
                       pay_row("2025-04", "1000", "500", "2025-05-10", idn=W3)]}
GOOD = {"attendance": [att_row("2025-03-05"), att_row("2025-03-05", code=P2, idn=W4)],
        "payroll": [pay_row(paid="1000", day="2025-06-10", channel="现金"),
                    pay_row("2025-04", "1200", "1200", "2025-05-15", "班组长代领", P2, W4)]}


@pytest.mark.parametrize(("kind", "bad"), [(k, r) for k, rows in (("attendance", ATT_BAD), ("payroll", PAY_BAD))
                                           for r in rows.values()], ids=[*ATT_BAD, *PAY_BAD])
def test_doubtful_row_refuses_the_chunk_and_keeps_the_state(kind, bad):
    cols, checks = columns(kind)
    assert len(cols.check(EARLIER[kind], 2).rows) == 2
    before = state(checks)
    assert before[0] and (kind == "attendance" or before[1] and before[2])
    assert cols.check([*GOOD[kind], bad], 4) is None
    assert state(checks) == before
    # Row by row the good rows still pass (nothing of theirs was taken as seen) and the doubtful one fails, but for
    # a blank row (skipped) and a payroll row that only lacks the optional channel cell.
    expected = [] if bad[0] == "" or (kind == "payroll" and len(bad) == 6) else [6]
    assert row_path(kind, cols, [*GOOD[kind], bad], 4, checks) == expected


# ------------------------------------------------------------------------------------------ through the importer


@pytest.fixture
def twin(backend, template_db, tmp_path, pytestconfig):
    """A second fresh database of the same backend (built as conftest builds one): (session, settings)."""
    folder, admin = tmp_path / "twin", None
    folder.mkdir()
    if backend == "sqlite":
        url = f"sqlite:///{shutil.copy(template_db, folder / 'earlywarn.db')}"
    else:
        admin_url = pytestconfig.getoption("--postgres-url")
        name = f"ew_{RUN_ID}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    settings = _base_settings(folder, url)
    engine = make_engine(settings, immediate=False)
    with Session(engine, expire_on_commit=False) as session:
        yield session, settings
    engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def spy_on_chunks(monkeypatch, outcomes: list[bool]) -> None:
    for cls, name in ((AttendanceColumns, "check"), (AttendanceColumns, "check_batch"), (PayrollColumns, "check")):
        def check(self, chunk, first, _original=getattr(cls, name)):
            got = _original(self, chunk, first)
            outcomes.append(got is not None)
            return got
        monkeypatch.setattr(cls, name, check)


def rectangular(rows: list[list[str]], width: int) -> list[list[str]]:
    """Every row as wide as the header (short ones padded with empty cells), so Arrow reads the whole file."""
    return [(r + [""] * width)[:width] for r in rows]


def import_into(session, settings, folder, kind: str, rows: list[list], skip_invalid: bool) -> dict:
    """The base county, then ``rows`` as a ``kind`` file; everything the import left behind."""
    for k, base in (("projects", PROJECTS), ("subcontracts", SUBCONTRACTS), ("workers", WORKERS)):
        assert run(session, settings, write_kind(folder, k, base)).status == "succeeded"
    r = run(session, settings, write_kind(folder, kind, rows), skip_invalid=skip_invalid)
    session.expire_all()
    batch = session.get(ImportBatch, r.batch_id)
    code = dict(session.execute(text("SELECT id, code FROM project")).all())
    person = dict(session.execute(text("SELECT id, id_hash FROM worker")).all())
    named = {"project_id": code, "worker_id": person}
    tables = {t: sorted((tuple((k, named[k][v] if k in named else v) for k, v in sorted(row.items()) if k != "id")
                         for row in session.execute(text(f"SELECT * FROM {t}")).mappings()), key=repr)
              for t in ("attendance", "payroll_payment", "attendance_month")}
    return {"result": (r.status, r.rows_total, r.rows_imported, r.rows_rejected, r.error_count, r.message, r.notices),
            "errors": [e.as_dict() for e in r.errors], "content": batch.content_sha256,
            "batch": (batch.status, batch.rows_total, batch.rows_imported, batch.rows_rejected, batch.errors),
            "rejected": r.rejected_path.read_bytes() if r.rejected_path else None, "tables": tables}


FORMS = (date.isoformat, lambda d: f"{d.year}/{d.month}/{d.day}", lambda d: f"{d.year}年{d.month}月{d.day}日",
         lambda d: d.strftime("%Y%m%d"))
MONEY = ("{:.2f}", "{:,.2f}", "￥{:,.2f}", "{:g}")


def worker_days(rng: random.Random) -> list[tuple[str, str, date, str]]:
    spans = [(P1, W1, date(2025, 3, 1), 90), (P1, W3, date(2025, 3, 3), 80), (P1, W2, date(2025, 3, 1), 10),
             (P2, W4.lower(), date(2025, 3, 1), 100)]
    return [(p, w, start + timedelta(i), rng.choice(["8", "8", "7.5", "7:30", "0", "24", "4.25"]))
            for p, w, start, n in spans for i in range(n)]


def messy_attendance(rng: random.Random) -> tuple[list[list[str]], int]:
    """Clean rows in odd order with every kind of error sprinkled in: (rows, how many are rejected)."""
    days = worker_days(rng)
    days[40:200] = sorted(days[40:200], key=lambda _: rng.random())
    rows = [[p, w, rng.choice(FORMS)(d), h] for p, w, d, h in days]
    bad = [["AJ-X-999", W1, "2025-03-10", "8"], [P1, W5, "2025-03-10", "8"], [P1, W4, "2025-03-10", "8"],
           [P1, BAD_ID, "2025-03-10", "8"], [P1, W1, "2025-03-06"], [P1, W1, "2025-02-30", "8"],
           [P1, W1, "2025-07-01", "8"], [P1, W3, "2025-03-01", "8"], [P1, W2, "2025-03-11", "8"],
           [P1, W1, "2025-03-12", "25"], [P1, W1, "2025-03-13", "八"], [P1, W1, "", "8"], [P2, "", "2025-04-01", "8"]]
    dups = [[*days[i][:2], FORMS[n % 4](days[i][2]), "6"] for n, i in enumerate(rng.sample(range(len(days)), 10))]
    for n, i in sorted(enumerate(rng.sample(range(len(days)), 5)), key=lambda t: -t[1]):
        rows.insert(i + 1 + n % 3, [*days[i][:2], FORMS[n % 4](days[i][2]), "6"])  # the same key, close after
    for row in bad + dups[:5] + [[], ["", "", "", ""], [" ", "\u3000", "", ""]]:
        rows.insert(rng.randrange(len(rows) + 1), row)
    # Repeats of rows well before them; an invalid row whose key comes back valid: the later one stands.
    rows += [*dups[5:], [P1, W1, "2025-06-21", "25"], [P1, W1, "2025-06-21", "8", "多余"]]
    return rows, len(bad) + len(dups) + 5 + 1


def payments(rng: random.Random) -> list[tuple]:
    """Three to seven instalments a worker-month for nine months, none above what is due: (project,
    worker, month, due, paid, pay date, channel)."""
    out = []
    for p, w, due in ((P1, W1, 2500), (P1, W2, 2100), (P1, W3, 3000), (P2, W4, 1800)):
        for m in range(8, 17):
            start = date(2024 + m // 12, m % 12 + 1, 1)
            for day in sorted(rng.sample(range(1, 29), rng.randint(3, 7))):
                out.append((p, w, start, due, rng.randint(1, due * 20) / 100,
                            start.replace(day=day) + timedelta(days=31 * (day % 2)),
                            rng.choice(["银行代发", "专户代发", "", "现金", "班组长代领", "bank", " "])))
    return out


def payroll_rows(pays: list[tuple], pick) -> list[list[str]]:
    periods = ("{:%Y-%m}", "{0.year}/{0.month}", "{0.year}年{0.month}月")
    return [[p, w, pick(periods).format(start), pick(MONEY).format(due), pick(MONEY).format(amount), pick(FORMS)(day),
             channel] for p, w, start, due, amount, day, channel in pays]


def messy_payroll(rng: random.Random) -> tuple[list[list[str]], int]:
    pays = payments(rng)
    rng.shuffle(pays)
    rows = payroll_rows(pays, rng.choice)
    first = rows[0]
    p, w, start, due, _, _, _ = pays[0]
    paid = sum(x[4] for x in pays if x[:3] == (p, w, start))
    bad = [pay_row(**{"period": "2025-03", "due": "2500", "day": "2025-04-11", **kw}) for kw in (
        {"code": "AJ-X-999"}, {"idn": W5}, {"idn": BAD_ID}, {"period": "2025-13"}, {"paid": "十元"},
        {"day": "2025-02-28"}, {"day": "2025-07-01"}, {"paid": "3850.01"}, {"channel": "支付宝"})]
    bad.append(bad[-1][:5])  # a short row
    for row in bad + [[], [""] * 7]:
        rows.insert(rng.randrange(len(rows) + 1), row)
    period = f"{start:%Y-%m}"
    rows += [[p, w, period, str(due + 1), "1", "2025-06-01", ""],  # another amount due for the month
             [*first[:6], "现金"],  # a repeated payment (another channel)
             [p, w, period, str(due), f"{due * 1.5 + 100 - paid + 0.01:.2f}", "2025-06-02", ""]]  # the month over
    return rows, len(bad) + 3


MESSY = {"attendance": messy_attendance, "payroll": messy_payroll}


@pytest.mark.parametrize("skip_invalid", [False, True], ids=["all-or-nothing", "skip-invalid"])
@pytest.mark.parametrize("kind", ["attendance", "payroll"])
@pytest.mark.parametrize("reading", ["arrow", "csv"])
def test_chunk_path_equals_row_path_on_a_messy_file(session, settings, twin, tmp_path, monkeypatch, kind,
                                                    skip_invalid, reading):
    rows, n_bad = MESSY[kind](random.Random(20250630))
    if reading == "arrow":  # batches of a few hundred bytes, none ragged: Arrow reads the whole file
        rows = rectangular(rows, len(KINDS[kind].column_names))
    outcomes: list[bool] = []
    with monkeypatch.context() as m:
        m.setattr(importer, "COLUMN_CHUNK", 7)
        m.setattr(arrow_csv, "BLOCK_BYTES", 300)
        m.setattr(readers, "ARROW", reading == "arrow")
        spy_on_chunks(m, outcomes)
        chunked = import_into(session, settings, tmp_path / "chunks", kind, rows, skip_invalid)
    with monkeypatch.context() as m:
        m.setattr(importer, "COLUMN_PATHS", {})
        by_row = import_into(*twin, tmp_path / "rows", kind, rows, skip_invalid)
    assert outcomes.count(True) >= 5 and outcomes.count(False) >= 5  # both ways through the file were taken
    for part in chunked:
        assert chunked[part] == by_row[part], part
    n = sum(1 for r in rows if any(c.strip() for c in r))
    status, total, imported, rejected, errors, _, _ = chunked["result"]
    assert (total, rejected) == (n, n_bad) and errors >= n_bad
    table = chunked["tables"]["attendance" if kind == "attendance" else "payroll_payment"]
    if skip_invalid:
        assert (status, imported, len(table)) == ("succeeded", n - n_bad, n - n_bad)
        assert chunked["rejected"].decode("utf-8-sig").count("\n") == 1 + n_bad
        assert len(chunked["tables"]["attendance_month"]) == {"attendance": 12, "payroll": 36}[kind]
    else:
        assert (status, imported, table, chunked["rejected"]) == ("failed", 0, [], None)


@pytest.mark.parametrize("kind", ["attendance", "payroll"])
def test_clean_file_resaved_with_other_forms_gives_the_same_rows(session, settings, twin, tmp_path, monkeypatch,
                                                                 kind):
    rng = random.Random(7)
    if kind == "attendance":
        days = worker_days(rng)
        iso = [[p, w, d.isoformat(), h] for p, w, d, h in days]
        resaved = [[p, w, FORMS[i % 4](d), h] for i, (p, w, d, h) in enumerate(days)]
    else:
        pays, turn = payments(rng), iter(range(10**6))
        iso = payroll_rows(pays, lambda forms: forms[0])
        resaved = payroll_rows(pays, lambda forms: forms[next(turn) % len(forms)])
    assert iso != resaved
    outcomes: list[bool] = []
    with monkeypatch.context() as m:
        m.setattr(importer, "COLUMN_CHUNK", 16)
        spy_on_chunks(m, outcomes)
        a = import_into(session, settings, tmp_path / "iso", kind, iso, False)
        b = import_into(*twin, tmp_path / "resaved", kind, resaved, False)
    assert outcomes and all(outcomes)
    assert a["result"] == b["result"] == ("succeeded", len(iso), len(iso), 0, 0, "", [])
    assert a["tables"] == b["tables"]
    assert len(a["tables"]["attendance" if kind == "attendance" else "payroll_payment"]) == len(iso)


@pytest.mark.parametrize("path", ["chunks", "rows"])
def test_a_row_with_more_cells_than_the_header_is_noticed(session, settings, tmp_path, monkeypatch, path):
    if path == "rows":
        monkeypatch.setattr(importer, "COLUMN_PATHS", {})
    got = import_into(session, settings, tmp_path, "payroll", [pay_row(day="2025-06-11"), [*pay_row(paid="5"), "多余"]],
                      False)
    assert got["result"][:3] == ("succeeded", 2, 2)  # the extra cell is ignored …
    assert any("第 3 行比表头多出 1 个单元格" in n for n in got["result"][-1])  # … and the user is told so
