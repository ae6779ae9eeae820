"""Attendance and payroll checked a chunk at a time: the importer's path for clean chunks of a large CSV file.

A county's attendance file is a million rows of a few hundred projects, dates and hour values and a few
thousand workers. Checked row by row, CPython spends most of the import on call overhead. Here a chunk of
rows becomes four columns — an Arrow batch's, dictionary-encoded in C++, or lists from the csv module; each
distinct value is parsed once (memoised across the file) and the same rules as
:func:`earlywarn.import_rows.validate_attendance` — project exists, worker on its roster, date not after today
and within entry and exit, hours valid, no key seen before in the file — are applied to numpy arrays. Payroll,
tens of thousands of rows, is checked in one lean loop a chunk (:class:`PayrollColumns`).

The path is all or nothing per chunk: a chunk with any row it cannot vouch for returns None and the importer
takes that chunk row by row, through the full validation that names every error. So what is admitted, and
every message, is exactly what the row-by-row path gives. The in-file checks (duplicates, one amount due a
worker-month, the month's payments against it) share their state with the row-by-row path, so a key seen in
either is seen by both. Pure: no session, no database.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from itertools import repeat
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from earlywarn.identity import InvalidValue, normalize_id_number
from earlywarn.import_rows import OVERPAY_FACTOR, OVERPAY_SLACK_FEN, Lookups, channel_code
from earlywarn.parsing import is_blank, parse_date, parse_hours_centi, parse_money_fen, parse_period, parse_text

_BAD = -1
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()  # Arrow's dates count days from 1970-01-01
# The key the in-file duplicate check keeps per attendance row (see import_checks.InFileChecks): one int in the
# table's order (project, day, worker), so the keys of a file in that order only grow. Ids too large to pack
# (a project id from 2¹⁹, a worker id from 2²⁴) get a tuple instead, and the chunk path is not taken.
PROJECT_SHIFT, DAY_SHIFT = 44, 24
MAX_PROJECT_ID, MAX_WORKER_ID = (1 << 19) - 1, (1 << 24) - 1


def attendance_key(project_id: int, worker_id: int, ordinal: int) -> int | tuple[int, int, int]:
    if project_id > MAX_PROJECT_ID or worker_id > MAX_WORKER_ID:
        return (project_id, ordinal, worker_id)
    return (project_id << PROJECT_SHIFT) | (ordinal << DAY_SHIFT) | worker_id


class SharedChecks(Protocol):
    """What the row-by-row in-file checks keep (:class:`earlywarn.import_checks.InFileChecks`)."""

    seen: Any
    due: dict[tuple[int, int, str], tuple[int, int]]
    paid: dict[tuple[int, int, str], int]
    pending: list[np.ndarray]

    def settle(self) -> set: ...


@dataclass
class AttendanceChunk:
    """Clean rows ready for the writer, in key order: ``ordered`` arrays (project, day ordinal, worker, hours);
    ``rows`` as tuples (project, ISO day, worker, hours) for sqlite3, ``copy_csv()`` as CSV for PostgreSQL's
    COPY, each made when first asked for. ``arrays`` (project, worker, day, hours) feed the worker-month sums."""

    ordered: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    project_ids: set[int]
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    iso: dict[int, str]

    @functools.cached_property
    def rows(self) -> list[tuple[int, str, int, int]]:
        project, day, worker, centi = (a.tolist() for a in self.ordered)
        return list(zip(project, map(self.iso.__getitem__, day), worker, centi, strict=True))

    # A sequence of its rows, so a writer can hand the chunk itself over and the tuples are made only if read.
    def __len__(self) -> int:
        return len(self.ordered[0])

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def copy_csv(self) -> bytes:
        """The rows as CSV (written by Arrow in C++: no Python object per row). Days are Arrow dates, which it
        writes as ISO text."""
        project, day, worker, centi = self.ordered
        table = pa.table([project, pa.array(day - _EPOCH_ORDINAL, pa.int32()).cast(pa.date32()), worker, centi],
                         names=["project_id", "work_date", "worker_id", "hours_centi"])
        out = pa.BufferOutputStream()
        pcsv.write_csv(table, out, pcsv.WriteOptions(include_header=False))
        return out.getvalue().to_pybytes()


class AttendanceColumns:
    """Checks chunks of raw attendance cells (CSV text) column-wise; see the module docstring."""

    reads_batches = True  # check_batch takes Arrow batches as they come

    def __init__(self, lookups: Lookups, index_of: dict[str, int], checks: SharedChecks):
        self.lookups = lookups
        self.index = tuple(index_of[c] for c in ("project_code", "id_number", "date", "hours"))
        self.min_width = max(self.index) + 1
        self.checks = checks  # shared with the row-by-row duplicate check: seen, and pending (clean chunks' keys)
        # Each project's largest key among the pending ones (clean chunks' keys, sorted arrays): only a key at or
        # below it can repeat one of them. In a file in order of site then day, or of day then site, that is
        # a few rows where a chunk begins, so the pending keys never need to become a set.
        self.high: dict[int, int] = {}
        self.today = lookups.today.toordinal()
        # The roster as parallel arrays; a (code, ID text) pair maps to its entry's index once, or to _BAD.
        self.who: dict[tuple[str, str], int] = {}
        entries = list(lookups.roster.items())
        self.entry_of = {key: i for i, (key, _) in enumerate(entries)}
        never = date.max.toordinal()
        self.packable = all(p <= MAX_PROJECT_ID and info.worker_id <= MAX_WORKER_ID for (p, _), info in entries)
        self.roster = tuple(np.array(column, dtype=np.int64) for column in (
            [p for (p, _), _ in entries], [info.worker_id for _, info in entries],
            [info.entry.toordinal() for _, info in entries],
            [info.exit.toordinal() if info.exit is not None else never for _, info in entries]))
        self.day: dict[str, int] = {}  # date text → ordinal or _BAD
        self.iso: dict[int, str] = {}  # ordinal → ISO text as the database stores it
        self.hours: dict[str, int] = {}  # hours text → hundredths or _BAD

    # -- distinct values, parsed once -------------------------------------------------------------

    def _entry(self, code: str, id_text: str) -> int:
        lookups = self.lookups
        try:
            project_id = lookups.projects.get(parse_text(code, max_len=64))
            id_number = normalize_id_number(id_text, today=lookups.today)
            return self.entry_of.get((project_id, lookups.id_hasher(id_number)), _BAD)
        except InvalidValue:
            return _BAD

    def _learn_who(self, pairs: set[tuple[str, str]]) -> None:
        for code, id_text in pairs:
            self.who[(code, id_text)] = self._entry(code, id_text)

    def _learn_days(self, texts: set[str]) -> None:
        for text in texts:
            try:
                day = parse_date(text) if not is_blank(text) else None
            except InvalidValue:
                day = None
            self.day[text] = day.toordinal() if day is not None else _BAD
            if day is not None:
                self.iso[day.toordinal()] = day.isoformat()

    def _learn_hours(self, texts: set[str]) -> None:
        for text in texts:
            try:
                self.hours[text] = parse_hours_centi(text) if not is_blank(text) else _BAD
            except InvalidValue:
                self.hours[text] = _BAD

    # -- a chunk ------------------------------------------------------------------------------------

    def check(self, chunk: list[list[str]], first_row: int) -> AttendanceChunk | None:
        """The chunk's rows if every one is clean (and their keys are then taken as seen), else None."""
        n = len(chunk)
        if not n or not self.packable or min(map(len, chunk)) < self.min_width:
            return None
        i_code, i_id, i_day, i_hours = self.index
        # One list per column (zip(*chunk) builds a tuple per column of every row: six times slower).
        pairs = list(zip([r[i_code] for r in chunk], [r[i_id] for r in chunk], strict=True))
        who = _codes(self.who, pairs, self._learn_who)
        day = _codes(self.day, [r[i_day] for r in chunk], self._learn_days)
        centi = _codes(self.hours, [r[i_hours] for r in chunk], self._learn_hours)
        return self._admit(who, day, centi)

    def check_batch(self, batch: pa.RecordBatch, first_row: int) -> AttendanceChunk | None:
        """:meth:`check` for an Arrow batch of string columns: each column dictionary-encoded in C++, so only
        its distinct values meet Python (a few hundred days and hours, a few thousand workers a batch)."""
        if not batch.num_rows or not self.packable or batch.num_columns < self.min_width:
            return None
        i_code, i_id, i_day, i_hours = self.index
        (codes, code_of), (ids, id_of) = _encoded(batch.column(i_code)), _encoded(batch.column(i_id))
        # A worker is a (code, ID text) pair: the pairs present, each looked up once.
        pair = codes.astype(np.int64) * len(id_of) + ids
        present, pair_index = np.unique(pair, return_inverse=True)
        n_ids = len(id_of)
        found = [(code_of[p // n_ids], id_of[p % n_ids]) for p in present.tolist()]
        who = _codes(self.who, found, self._learn_who)[pair_index]
        days, day_of = _encoded(batch.column(i_day))
        hours, hours_of = _encoded(batch.column(i_hours))
        day = _codes(self.day, day_of, self._learn_days)[days]
        centi = _codes(self.hours, hours_of, self._learn_hours)[hours]
        return self._admit(who, day, centi)

    def _repeats(self, key: np.ndarray, project: np.ndarray) -> bool:
        """Whether any of a chunk's keys (sorted, distinct) was seen before in the file: among the keys of rows
        checked one by one (a set, empty in a clean file) or among the pending keys. Updates ``high``."""
        checks = self.checks
        if checks.seen and not checks.seen.isdisjoint(key.tolist()):
            return True
        bounds = np.flatnonzero(np.r_[True, project[1:] != project[:-1], True])  # each project's run of keys
        doubtful = []
        for p, start, end in zip(project[bounds[:-1]].tolist(), bounds[:-1].tolist(), bounds[1:].tolist(),
                                 strict=True):
            high = self.high.get(p)
            if high is not None:
                doubtful.append(key[start:start + int(np.searchsorted(key[start:end], high, side="right"))])
        doubtful_keys = np.concatenate(doubtful) if doubtful else key[:0]
        for block in checks.pending if len(doubtful_keys) else ():
            at = np.minimum(np.searchsorted(block, doubtful_keys), len(block) - 1)
            if (block[at] == doubtful_keys).any():
                return True
        for p, end in zip(project[bounds[1:] - 1].tolist(), key[bounds[1:] - 1].tolist(), strict=True):
            self.high[p] = max(self.high.get(p, -1), end)
        return False

    def _admit(self, who: np.ndarray, day: np.ndarray, centi: np.ndarray) -> AttendanceChunk | None:
        """The rest of the check, on the rows' roster entries, day ordinals and hundredths of hours."""
        if (who < 0).any() or (day < 0).any() or (centi < 0).any():
            return None
        project, worker, entry, exit_ = (a[who] for a in self.roster)
        if ((day > self.today) | (day < entry) | (day > exit_)).any():
            return None
        key = (project << PROJECT_SHIFT) | (day << DAY_SHIFT) | worker
        arrays = (project, worker, day, centi)
        # Key order (the table's), so a chunk lands in a few B-tree pages; files usually come in it already.
        if not (key[1:] > key[:-1]).all():
            order = np.argsort(key, kind="stable")
            key, project, worker, day, centi = key[order], project[order], worker[order], day[order], centi[order]
            if not (key[1:] > key[:-1]).all():
                return None  # a duplicate: the row-by-row path says which row repeats which
        if self._repeats(key, project):
            return None  # the row-by-row path says which row repeats which
        self.checks.pending.append(key)
        return AttendanceChunk((project, day, worker, centi), set(np.unique(project).tolist()), arrays, self.iso)


_UNSEEN = -2


def _encoded(column: pa.Array) -> tuple[np.ndarray, list[str]]:
    """A string column as (index of each row's value, the distinct values)."""
    encoded = column.dictionary_encode()
    return encoded.indices.to_numpy(), encoded.dictionary.to_pylist()


def _codes(memo: dict[Any, int], values: list, learn: Callable[[set], None]) -> np.ndarray:
    """``memo[v]`` for each value as an array; values not yet in the memo are learnt first (once each)."""
    out = np.fromiter(map(memo.get, values, repeat(_UNSEEN)), dtype=np.int64, count=len(values))
    unseen = np.flatnonzero(out == _UNSEEN).tolist()
    if unseen:
        learn({values[i] for i in unseen})
        out[unseen] = [memo[values[i]] for i in unseen]
    return out


def _memo(parser: Callable[[Any], Any]) -> Callable[[dict, str], Any]:
    def parse(memo: dict, text: str) -> Any:
        try:
            value = parser(text) if not is_blank(text) else None
        except InvalidValue:
            value = None
        memo[text] = value
        return value

    return parse


_money, _day, _period = _memo(parse_money_fen), _memo(parse_date), _memo(parse_period)


@dataclass
class PayrollChunk:
    rows: list[tuple[int, int, str, int, int, date, str | None]]  # the writer's column order
    project_ids: set[int]


class PayrollColumns:
    """Payroll is tens of thousands of rows whose validation, row by row, is mostly call overhead. This applies
    :func:`earlywarn.import_rows.validate_payroll` and the payroll in-file checks in one lean loop a chunk,
    staging the in-file state and keeping it only when the whole chunk is clean."""

    reads_batches = False  # an Arrow batch is checked as its rows (Chunk.cells): the loop is over rows anyway

    def __init__(self, lookups: Lookups, index_of: dict[str, int], checks: SharedChecks):
        self.lookups = lookups
        self.checks = checks
        names = ("project_code", "id_number", "period", "amount_due", "amount_paid", "pay_date")
        self.index = tuple(index_of[c] for c in names)
        self.i_channel = index_of.get("channel")
        self.min_width = max(*self.index, self.i_channel or 0) + 1
        self.who: dict[tuple[str, str], tuple[int, int] | None] = {}
        self.money: dict[str, int | None] = {}
        self.days: dict[str, date | None] = {}
        self.periods: dict[str, tuple[str, date] | None] = {}  # text → (YYYY-MM, its first day)
        self.channels: dict[str, str | None] = {"": None}

    def _who(self, code: str, id_text: str) -> tuple[int, int] | None:
        lookups = self.lookups
        try:
            project_id = lookups.projects.get(parse_text(code, max_len=64))
            info = lookups.roster.get((project_id, lookups.id_hasher(normalize_id_number(id_text,
                                                                                          today=lookups.today))))
        except InvalidValue:
            info = None
        found = (project_id, info.worker_id) if info is not None else None
        self.who[(code, id_text)] = found
        return found

    def _period(self, text: str) -> tuple[str, date] | None:
        period = _period({}, text)
        found = self.periods[text] = (period, date(int(period[:4]), int(period[5:7]), 1)) if period else None
        return found

    def _channel(self, text: str) -> str | None | bool:
        try:
            code = channel_code(text) if not is_blank(text) else None
        except InvalidValue:
            code = False  # not a channel: the row-by-row path says so
        self.channels[text] = code
        return code

    def check(self, chunk: list[list[str]], first_row: int) -> PayrollChunk | None:
        if not chunk or min(map(len, chunk)) < self.min_width:
            return None
        i_code, i_id, i_period, i_due, i_paid, i_day = self.index
        i_channel, today = self.i_channel, self.lookups.today
        who, money, days, periods, channels = self.who, self.money, self.days, self.periods, self.channels
        checks = self.checks
        seen, due_of, paid_of = checks.seen, checks.due, checks.paid
        keys: set[tuple] = set()
        dues: dict[tuple[int, int, str], tuple[int, int]] = {}
        paid: dict[tuple[int, int, str], int] = {}
        rows = []
        for row_no, cells in enumerate(chunk, start=first_row):
            pair = (cells[i_code], cells[i_id])
            worker = who[pair] if pair in who else self._who(*pair)
            text = cells[i_period]
            period = periods[text] if text in periods else self._period(text)
            text = cells[i_due]
            due = money[text] if text in money else _money(money, text)
            text = cells[i_paid]
            amount = money[text] if text in money else _money(money, text)
            text = cells[i_day]
            day = days[text] if text in days else _day(days, text)
            channel = None
            if i_channel is not None:
                text = cells[i_channel]
                channel = channels[text] if text in channels else self._channel(text)
            if worker is None or period is None or due is None or amount is None or day is None or channel is False:
                return None
            limit = due * OVERPAY_FACTOR + OVERPAY_SLACK_FEN
            if day < period[1] or day > today or amount > limit:
                return None
            project_id, worker_id = worker
            key = (project_id, worker_id, period[0], day, amount)
            if key in seen or key in keys:
                return None
            keys.add(key)
            month = key[:3]
            first = dues.get(month) or due_of.get(month)
            if first is None:
                dues[month] = (due, row_no)
            elif first[0] != due:
                return None
            total = paid.get(month, paid_of.get(month, 0)) + amount
            if total > limit:
                return None
            paid[month] = total
            rows.append((project_id, worker_id, period[0], due, amount, day, channel))
        seen |= keys
        due_of.update(dues)
        paid_of.update(paid)
        return PayrollChunk(rows, {r[0] for r in rows})


COLUMN_PATHS: dict[str, Callable[[Lookups, dict[str, int], SharedChecks], Any]] = {
    "attendance": AttendanceColumns, "payroll": PayrollColumns,
}
