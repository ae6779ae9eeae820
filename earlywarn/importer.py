"""Importing the bureau's and the platform's files (service): validate everything, write all or nothing.

One file is one transaction. Rows are validated as they stream and written in chunks inside that
transaction; at the first invalid row writing stops (validation goes on, so every error is listed) and the
transaction is rolled back at the end — unless ``skip_invalid``, where the valid rows are kept and the
rejected ones are written to ``<file>.rejected.csv`` with their reasons. A killed process leaves nothing:
the transaction was never committed. Re-importing a file (same bytes, or the same rows re-saved) changes
nothing and says so; overlapping files upsert by natural keys.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from earlywarn.arrow_csv import batch_lines
from earlywarn.artifacts import file_sha256
from earlywarn.audit import record_audit
from earlywarn.config import Settings, local_today
from earlywarn.db import utcnow
from earlywarn.file_format import FileFormatError, sniff_format
from earlywarn.file_kinds import KINDS
from earlywarn.identity import InvalidValue
from earlywarn.import_checks import InFileChecks, load_lookups
from earlywarn.import_columns import COLUMN_PATHS
from earlywarn.import_rows import KIND_ORDER, VALIDATORS, Lookups, RowError, RowRejected
from earlywarn.import_writers import WRITERS, Writer
from earlywarn.orgs import township_names
from earlywarn.privacy import Vault
from earlywarn.readers import TableReader
from earlywarn.tables import ImportBatch, UserAccount

MAX_ERRORS_KEPT = 1000
CHUNK = 20_000
COLUMN_CHUNK = 4096  # rows checked column-wise at once; a chunk with a bad row goes row by row
Progress = Callable[[str, int, int | None], None]


@dataclass
class FileResult:
    path: Path
    kind: str | None
    status: str  # succeeded | failed | duplicate
    rows_total: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    message: str = ""
    rejected_path: Path | None = None
    batch_id: int | None = None

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind].label_zh if self.kind in KINDS else "未识别"




def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given; for a folder only the CSV/XLSX files at its top level (never truth/)."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(c for c in p.iterdir() if c.is_file() and c.suffix.lower() in (".csv", ".xlsx")
                                and not c.name.endswith(".rejected.csv") and not c.name.startswith("~$")))
        else:
            files.append(p)
    return files


def _order_key(path: Path, kind: str | None) -> tuple[int, str]:
    return (KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER), path.name)


def peek_kind(path: Path, forced: str | None = None) -> str | None:
    try:
        reader = TableReader(path, kind=forced)
    except (InvalidValue, OSError):
        return forced
    try:
        return reader.kind
    finally:
        reader.close()


def import_paths(*, session: Session, settings: Settings, paths: Iterable[Path], kind: str | None = None,
                 skip_invalid: bool = False, user: UserAccount | None = None, progress: Progress | None = None,
                 console=None, job_id: str | None = None) -> list[FileResult]:
    """Import files in dependency order (projects before subcontracts before rosters …)."""
    files = expand_paths(paths)
    ordered = sorted(((f, peek_kind(f, kind)) for f in files), key=lambda fk: _order_key(*fk))
    results = []
    for path, _kind in ordered:
        result = import_file(session=session, settings=settings, path=path, kind=kind, skip_invalid=skip_invalid,
                             user=user, progress=progress, job_id=job_id)
        if console is not None:
            console.print(f"{path.name}：{describe(result)}")
        results.append(result)
    return results


def describe(result: FileResult) -> str:
    if result.status == "duplicate":
        return result.message
    if result.status == "failed":
        return result.message or f"有 {result.error_count} 处错误，未导入任何数据"
    text = f"已导入 {result.rows_imported} 行（{result.kind_label}）"
    if result.rows_rejected:
        text += f"，跳过 {result.rows_rejected} 行有误数据（见 {result.rejected_path.name}）"
    return text


def _duplicate_of(session: Session, *, file_hash: str | None = None, content_hash: str | None = None,
                  kind: str | None = None) -> ImportBatch | None:
    # Only a complete earlier import makes this one redundant: after --skip-invalid, re-running the file
    # (say, once the missing roster is in) must still bring in the rows left out before.
    q = select(ImportBatch).where(ImportBatch.status == "succeeded", ImportBatch.rows_rejected == 0)
    if file_hash:
        q = q.where(ImportBatch.file_sha256 == file_hash)
    if content_hash:
        q = q.where(ImportBatch.content_sha256 == content_hash, ImportBatch.kind == kind)
    with session.no_autoflush:  # rows a writer holds back until its finish() stay unwritten (reports)
        return session.exec(q.order_by(ImportBatch.id)).first()


def _finish_batch(session: Session, settings: Settings, result: FileResult, *, file_hash: str,
                  content_hash: str | None, user: UserAccount | None, job_id: str | None,
                  batch_id: int | None, link: Callable[[int], None] | None = None) -> None:
    """Record the outcome (history + audit); commits. Runs inside the data transaction on success."""
    batch = session.get(ImportBatch, batch_id) if batch_id else None
    if batch is None:
        batch = ImportBatch(filename=result.filename[:255], file_sha256=file_hash, job_id=job_id,
                            uploaded_by=user.id if user else None)
    batch.kind = result.kind
    batch.file_sha256 = file_hash
    batch.content_sha256 = content_hash
    batch.status = result.status
    batch.finished_at = utcnow()
    batch.rows_total = result.rows_total
    batch.rows_processed = result.rows_total
    batch.rows_imported = result.rows_imported
    batch.rows_rejected = result.rows_rejected
    batch.error_count = result.error_count
    batch.errors = [e.as_dict() for e in result.errors]
    batch.summary = {"notices": result.notices[:50], "message": result.message,
                     "rejected_file": result.rejected_path.name if result.rejected_path else None}
    session.add(batch)
    session.flush()
    result.batch_id = batch.id
    if link is not None:
        link(batch.id)
    record_audit(session=session, action=f"import.{result.status}", actor=user, object_type="import_batch",
                 object_id=batch.id, detail={"file": result.filename, "kind": result.kind, "sha256": file_hash,
                                             "rows": result.rows_total, "imported": result.rows_imported,
                                             "rejected": result.rows_rejected, "errors": result.error_count})
    session.commit()


def import_file(*, session: Session, settings: Settings, path: Path, kind: str | None = None,
                skip_invalid: bool = False, user: UserAccount | None = None, progress: Progress | None = None,
                job_id: str | None = None, batch_id: int | None = None, today: date | None = None) -> FileResult:
    path = Path(path)
    result = FileResult(path=path, kind=kind, status="failed")
    try:
        file_hash = file_sha256(path)
    except OSError as exc:
        result.message = f"无法读取文件：{exc.strerror or exc}"
        _finish_batch(session, settings, result, file_hash="0" * 64, content_hash=None, user=user,
                      job_id=job_id, batch_id=batch_id)
        return result

    def fail(message: str) -> FileResult:
        session.rollback()
        result.status = "failed"
        result.rows_imported = 0  # whatever was written before the failure was rolled back
        result.message = message
        _finish_batch(session, settings, result, file_hash=file_hash, content_hash=None, user=user,
                      job_id=job_id, batch_id=batch_id)
        return result

    try:
        sniff_format(path)
        reader = TableReader(path, kind=kind)
    except FileFormatError as exc:
        return fail(str(exc))
    except InvalidValue as exc:
        return fail(str(exc))
    try:
        result.kind = reader.kind
        result.notices = reader.notices  # the same list: the reader adds to it while the rows are read
        if reader.kind is None:
            return fail("无法识别文件类型：表头与六类文件都不匹配，请检查表头或用 --kind 指定")
        if reader.missing_required:
            cols = "、".join(f"“{c}”" for c in reader.missing_required_zh)
            return fail(f"缺少必填列：{cols}")
        previous = _duplicate_of(session, file_hash=file_hash)
        if previous is not None:
            result.status = "duplicate"
            result.message = f"该文件已于批次 #{previous.id} 导入过，内容相同，未作任何改动"
            _finish_batch(session, settings, result, file_hash=file_hash, content_hash=previous.content_sha256,
                          user=user, job_id=job_id, batch_id=batch_id)
            return result
        with _collector_paused():
            content_hash, writer = _run(session=session, settings=settings, reader=reader, result=result,
                                        skip_invalid=skip_invalid, progress=progress, today=today)
    except FileFormatError as exc:  # e.g. undecodable bytes deep in the file
        return fail(str(exc))
    finally:
        reader.close()

    if result.error_count and not skip_invalid:
        session.rollback()
        result.status = "failed"
        result.rows_imported = 0
        result.message = f"有 {result.error_count} 处错误，未导入任何数据"
        _finish_batch(session, settings, result, file_hash=file_hash, content_hash=content_hash, user=user,
                      job_id=job_id, batch_id=batch_id)
        return result
    previous = _duplicate_of(session, content_hash=content_hash, kind=result.kind)
    if previous is not None and not result.error_count:
        session.rollback()  # the upserts changed nothing; keep the history honest
        result.status = "duplicate"
        result.rows_imported = 0
        result.message = f"文件内容与批次 #{previous.id} 相同（可能是重新保存的同一文件），未作任何改动"
        _finish_batch(session, settings, result, file_hash=file_hash, content_hash=content_hash, user=user,
                      job_id=job_id, batch_id=batch_id)
        return result
    result.status = "succeeded"
    with _collector_paused():
        writer.finish()
    _finish_batch(session, settings, result, file_hash=file_hash, content_hash=content_hash, user=user,
                  job_id=job_id, batch_id=batch_id, link=writer.link_batch)
    return result


class _Rejects:
    """``<file>.rejected.csv``: the rejected rows as they came, plus 行号 and 错误原因 (UTF-8 with BOM for Excel)."""

    def __init__(self, path: Path, kind: str):
        self.path = path.with_name(path.name + ".rejected.csv")
        self.columns = KINDS[kind].columns
        self._fh = None
        self._writer = None

    def add(self, row_no: int, raw: dict[str, Any], errors: list[RowError]) -> None:
        if self._writer is None:
            self._fh = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._fh)
            self._writer.writerow(["行号", *[c.zh for c in self.columns], "错误原因"])
        reasons = "；".join(f"{e.column}：{e.reason}" if e.column else e.reason for e in errors)
        self._writer.writerow([row_no, *["" if raw.get(c.name) is None else raw.get(c.name) for c in self.columns],
                               reasons])

    def close(self) -> Path | None:
        if self._fh is None:
            return None
        self._fh.close()
        return self.path


def _run(*, session: Session, settings: Settings, reader: TableReader, result: FileResult, skip_invalid: bool,
         progress: Progress | None, today: date | None) -> tuple[str, Writer]:
    kind = reader.kind
    vault = Vault(settings)
    lookups = Lookups(townships=frozenset(township_names(settings.reference_file)),
                      today=today or local_today(),
                      id_hasher=_cached(vault.blind_index))
    load_lookups(session=session, kind=kind, lookups=lookups)
    validate = VALIDATORS[kind]
    checks = InFileChecks(kind)
    writer = WRITERS[kind](session=session, vault=vault, lookups=lookups, settings=settings)
    rejects = _Rejects(reader.path, kind) if skip_invalid else None
    content = hashlib.sha256(kind.encode())
    total = reader.total_rows_estimate
    buffer: list = []
    rows_seen = 0

    def reject(row_no: int, raw: dict[str, Any], errors: list[RowError]) -> None:
        result.error_count += len(errors)
        result.rows_rejected += 1
        room = MAX_ERRORS_KEPT - len(result.errors)
        if room > 0:
            result.errors.extend(errors[:room])
        if rejects is not None:
            rejects.add(row_no, raw, errors)

    csv_cells = reader.format == "csv"
    columns = COLUMN_PATHS[kind](lookups, reader.index_of, checks) if kind in COLUMN_PATHS and csv_cells else None
    canonical = _canonical_order(reader)
    width, header_width = len(canonical), len(reader.headers)
    same_order = csv_cells and canonical == list(range(width))

    def line(cells: list[Any]) -> str:
        if same_order and len(cells) == width:
            return "\x1f".join(cells)  # CSV cells already in canonical order: the same string, cheaper
        return "\x1f".join([str(cells[i]) if i < len(cells) else "" for i in canonical])

    def one(row_no: int, cells: list[Any]) -> None:
        nonlocal rows_seen
        raw = reader.as_dict(row_no, cells)
        if raw is None:
            return  # a blank row
        rows_seen += 1
        content.update(line(cells).encode() + b"\x1e")
        try:
            record = validate(row_no, raw, lookups)
            checks.check(row_no, record)
        except RowRejected as exc:
            reject(row_no, raw, exc.errors)
        else:
            # Whole-file kinds keep every valid row, so their final checks (the chain) see the whole file.
            if skip_invalid or not result.error_count or not writer.streaming:
                buffer.append((row_no, raw, record))
        if writer.streaming and len(buffer) >= CHUNK:
            result.rows_imported += writer.write([r for _, _, r in buffer])
            buffer.clear()
        if progress is not None and rows_seen % 5000 == 0:
            progress(result.filename, rows_seen, total)

    def stream() -> None:
        nonlocal rows_seen
        if columns is None:
            for row_no, cells in reader.records():
                one(row_no, cells)
            return
        for chunk in reader.chunks(COLUMN_CHUNK):
            first, batch = chunk.first, chunk.batch
            clean = columns.check_batch(batch, first) if batch is not None and columns.reads_batches \
                else columns.check(chunk.cells, first)
            if clean is None:  # some row needs a closer look: this chunk goes row by row
                for row_no, c in enumerate(chunk.cells, start=first):
                    one(row_no, c)
                continue
            rows_seen += len(chunk)
            if batch is not None:  # as wide as the header: no extra cells
                content.update(batch_lines(batch, canonical))
            else:
                cells = chunk.cells
                longest = max(map(len, cells))
                if longest > header_width:
                    for row_no, c in enumerate(cells, start=first):
                        reader.note_extra_cells(row_no, c)
                join = "\x1f".join if same_order and min(map(len, cells)) == longest == width else line
                content.update(("\x1e".join(map(join, cells)) + "\x1e").encode())
            if skip_invalid or not result.error_count:
                result.rows_imported += writer.write_chunk(clean)
            if progress is not None:
                progress(result.filename, rows_seen, total)

    try:
        stream()
        # Cross-row checks that need the whole file (the subcontract tree, …) run on the kept rows.
        late = writer.final_check(buffer)
        for row_no, raw, errors in late:
            reject(row_no, raw, errors)
        bad_rows = {row_no for row_no, _, _ in late}
        kept = [r for row_no, _, r in buffer if row_no not in bad_rows]
        if skip_invalid or not result.error_count:
            result.rows_imported += writer.write(kept)
        writer.rows_done()
    except BaseException as exc:
        writer.abandon(exc)  # a COPY still open would keep the connection from rolling back
        raise
    result.rows_total = rows_seen
    if rejects is not None:
        result.rejected_path = rejects.close()
        if result.rejected_path is None:  # a clean re-run must not leave an earlier run's rejects behind
            rejects.path.unlink(missing_ok=True)
    if progress is not None:
        progress(result.filename, rows_seen, rows_seen)
    return content.hexdigest(), writer


_gc_lock = threading.Lock()
_gc_pauses = 0  # imports under way that paused the collector
_gc_was_enabled = True  # as the first of them found it


@contextmanager
def _collector_paused():
    """No cyclic garbage collection while a file's rows stream through. The rows make no reference cycles
    (refcounting frees them), but a million short-lived lists and tuples keep triggering full collections,
    and each re-scans every long-lived object of the process — SQLAlchemy's, scikit-learn's: measured, 4.7 s
    of an 8 s county attendance import. Process-wide, so counted: imports in several threads share one pause,
    and the collector comes back when the last one ends (if it was on before the first)."""
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def _canonical_order(reader: TableReader) -> list[int]:
    """Cell indices in the kind's column order (absent columns point past the row, giving ""), so the content
    hash of a file does not change when its columns are reordered or its encoding or layout is re-saved."""
    index_of = reader.index_of
    return [index_of.get(name, 1 << 30) for name in KINDS[reader.kind].column_names]


def _cached(fn: Callable[[str], str]) -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def wrapper(value: str) -> str:
        hit = cache.get(value)
        if hit is None:
            hit = cache[value] = fn(value)
        return hit

    return wrapper
