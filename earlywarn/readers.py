"""Reading the interchange files of /work/shared/formats.md (CSV or .xlsx) into header-mapped rows.

``read_table(path)`` recognises the file format from its bytes (not its extension) and the encoding of a
CSV (both :mod:`earlywarn.file_format`), the header row and the file kind (from the header, else from the
file name: :mod:`earlywarn.file_kinds`), and maps the columns to canonical English names. Values are
passed on raw (str from CSV; str/float/bool/date/datetime from Excel) for :mod:`earlywarn.parsing` and
:mod:`earlywarn.identity` to validate, except that a numeric cell in an ID-number or credit-code column
is turned into its text form (``3.3052319800101e+17``) so the validation message shows it.

Every problem with the file as a whole raises :class:`FileFormatError` with a Chinese message.
"""


from __future__ import annotations

import codecs
import csv
import math
from collections.abc import Iterator
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa

from earlywarn.arrow_csv import ArrowUnfit, arrow_batches, batch_cells
from earlywarn.file_format import SNIFF_BYTES, FileFormatError, choose_encoding, format_error, sniff_format
from earlywarn.file_kinds import (
    ALL_KEYS,
    IDENTIFIER_COLUMNS,
    INVISIBLE,
    KIND_KEYS,
    KINDS,
    column_letter,
    kind_from_filename,
    kind_from_headers,
    match_header,
)

# --------------------------------------------------------------------------- reading


def _header_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime | date):
        return v.isoformat()
    return str(v)


def _is_blank_cell(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return not v.translate(INVISIBLE).strip()
    return isinstance(v, float) and math.isnan(v)


def _identifier_text(v: Any) -> Any:
    """A numeric cell in an identifier column → the text the validation message will show."""
    if isinstance(v, bool):
        return str(v).upper()
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    return v


_HEADER_SCAN_ROWS = 10


ARROW = True  # large UTF-8 CSV files through Arrow (tests turn it off to exercise the csv module's chunks)


class Chunk:
    """Consecutive data rows from :meth:`TableReader.chunks`: an Arrow batch of string columns, or the csv
    module's rows; ``cells`` gives the rows as lists either way (made from a batch when first asked for).
    ``first`` is the row number of the first row."""

    __slots__ = ("first", "batch", "_cells")

    def __init__(self, first: int, *, batch: pa.RecordBatch | None = None, cells: list[list[Any]] | None = None):
        self.first, self.batch, self._cells = first, batch, cells

    @property
    def cells(self) -> list[list[Any]]:
        if self._cells is None:
            self._cells = batch_cells(self.batch)
        return self._cells

    def __len__(self) -> int:
        return self.batch.num_rows if self.batch is not None else len(self._cells)


class TableReader:
    """One input file, opened and its header analysed; :meth:`rows` streams the records.

    Attributes: ``path``, ``format`` (``'csv'``/``'xlsx'``), ``encoding`` (CSV only), ``delimiter``
    (CSV only), ``sheet_name`` (xlsx only), ``headers`` (raw header cells as text), ``header_row``
    (its spreadsheet row number, normally 1), ``kind`` (str or None), ``kind_source``
    (``'forced'``/``'header'``/``'filename'``/None), ``column_map`` (header index → canonical name),
    ``unknown_columns`` (raw headers that are ignored), ``missing_required`` (canonical names; empty when
    ``kind`` is None), ``total_rows_estimate`` (data rows, may count blank rows; None if unknown) and
    ``notices`` (Chinese notes for the user: ignored columns, skipped title rows, extra cells ...).
    """

    def __init__(self, path: str | Path, kind: str | None = None):
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(KINDS)}")
        self.path = Path(path)
        self.format = sniff_format(self.path)
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self.sheet_name: str | None = None
        self.notices: list[str] = []
        self._sheet: Any = None
        self._extra_cell_rows: set[int] = set()

        if self.format == "xlsx":
            first_rows, end_row = self._open_xlsx()
        else:
            first_rows, end_row = self._open_csv()

        header_row, headers = self._find_header(first_rows, kind)
        self.header_row: int = header_row
        self.headers: list[str] = headers
        self.total_rows_estimate: int | None = max(0, end_row - header_row) if end_row else None

        if kind is not None:
            self.kind: str | None = kind
            self.kind_source: str | None = "forced"
        else:
            k, complete = kind_from_headers(headers)
            if complete:
                self.kind, self.kind_source = k, "header"
            elif fk := kind_from_filename(self.path.name):
                self.kind, self.kind_source = fk, "filename"
            else:
                self.kind, self.kind_source = k, ("header" if k else None)

        self._map_columns()

    # -- opening -------------------------------------------------------------------------------

    def _open_xlsx(self) -> tuple[list[tuple[int, list[Any]]], int]:
        from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

        try:
            wb = CalamineWorkbook.from_path(str(self.path))
            try:
                meta = wb.sheets_metadata
                index = next(
                    (
                        i
                        for i, m in enumerate(meta)
                        if m.visible == SheetVisibleEnum.Visible and m.typ == SheetTypeEnum.WorkSheet
                    ),
                    0,
                )
                if not meta:
                    raise format_error("Excel 文件中没有工作表")
                self._sheet = wb.get_sheet_by_index(index)  # the sheet data outlives the workbook
                self.sheet_name = meta[index].name
                if len(meta) > 1:
                    self.notices.append(f"工作簿有 {len(meta)} 个工作表，只读取了“{self.sheet_name}”")
            finally:
                wb.close()
        except FileFormatError:
            raise
        except CalamineError as e:
            if type(e).__name__ == "PasswordError":
                raise format_error("Excel 文件设置了密码，请取消密码后重新上传") from None
            raise format_error("Excel 文件已损坏或格式不受支持，无法读取，请在 Excel 中另存为 .xlsx") from None
        end = self._sheet.end
        end_row = end[0] + 1 if end else 0  # calamine's iter_rows() starts at spreadsheet row 1
        first: list[tuple[int, list[Any]]] = []
        for n, cells in enumerate(self._sheet.iter_rows(), start=1):
            if any(not _is_blank_cell(c) for c in cells):
                first.append((n, list(cells)))
                if len(first) >= _HEADER_SCAN_ROWS:
                    break
        return first, end_row

    def _open_csv(self) -> tuple[list[tuple[int, list[Any]]], int]:
        self.encoding, newlines = choose_encoding(self.path)
        with open(self.path, encoding=self.encoding, newline="") as f:
            sample = f.read(SNIFF_BYTES)
        first_line = sample.split("\n", 1)[0]
        self.delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
        first: list[tuple[int, list[Any]]] = []
        for n, cells in self._csv_records():
            if any(not _is_blank_cell(c) for c in cells):
                first.append((n, cells))
                if len(first) >= _HEADER_SCAN_ROWS:
                    break
        ends_with_newline = sample.endswith("\n") if len(sample) < SNIFF_BYTES else True
        return first, newlines + (0 if ends_with_newline else 1)

    def _csv_records(self) -> Iterator[tuple[int, list[str]]]:
        """Records numbered as the spreadsheet rows a user sees (a quoted multi-line cell is one row)."""
        assert self.encoding and self.delimiter
        n = 0
        try:
            with open(self.path, encoding=self.encoding, errors="strict", newline="") as f:
                reader = csv.reader(f, delimiter=self.delimiter)
                for n, cells in enumerate(reader, start=1):  # noqa: B007 - n is used in except
                    yield n, cells
        except UnicodeDecodeError:
            line = _undecodable_line(self.path, self.encoding)
            raise format_error(f"文件在第 {line} 行附近有无法解码的字节（文件可能在读取过程中被修改）") from None
        except csv.Error as e:
            raise format_error(f"CSV 格式错误（第 {n + 1} 行附近）：{_csv_error_zh(e)}") from None

    # -- header ----------------------------------------------------------------------------------

    def _find_header(
        self, first_rows: list[tuple[int, list[Any]]], kind: str | None
    ) -> tuple[int, list[str]]:
        """The first non-empty row that names at least two known columns (title rows above it are
        skipped with a notice), else the first non-empty row."""
        if not first_rows:
            raise format_error("文件没有内容（找不到表头行）")
        keys = KIND_KEYS[kind] if kind else ALL_KEYS
        chosen = first_rows[0]
        for n, cells in first_rows:
            if sum(1 for c in cells if match_header(_header_text(c), keys)) >= 2:
                chosen = (n, cells)
                break
        n, cells = chosen
        if n != first_rows[0][0]:
            skipped = sum(1 for m, _ in first_rows if m < n)
            self.notices.append(f"表头在第 {n} 行，已跳过上方 {skipped} 行标题")
        return n, [_header_text(c) for c in cells]

    def _map_columns(self) -> None:
        keys = KIND_KEYS[self.kind] if self.kind else ALL_KEYS
        self.column_map: dict[int, str] = {}
        self.unknown_columns: list[str] = []
        seen: dict[str, int] = {}
        for i, h in enumerate(self.headers):
            if not h.translate(INVISIBLE).strip():
                continue
            name = match_header(h, keys)
            if name is None:
                self.unknown_columns.append(h.strip())
                continue
            if name in seen:
                if not self.kind:
                    continue  # unrecognised file: the importer reports that; keep the first column
                j = seen[name]
                raise format_error(
                    f"列“{self.headers[j].strip()}”（{column_letter(j)} 列）和“{h.strip()}”"
                    f"（{column_letter(i)} 列）是同一列，请删除其中一列"
                )
            seen[name] = i
            self.column_map[i] = name
        if self.unknown_columns:
            self.notices.append("以下列不认识，已忽略：" + "、".join(f"“{c}”" for c in self.unknown_columns))
        if self.kind:
            present = set(self.column_map.values())
            self.missing_required: list[str] = [n for n in KINDS[self.kind].required if n not in present]
        else:
            self.missing_required = []

    @property
    def missing_required_zh(self) -> list[str]:
        """The missing required columns by their Chinese names."""
        if not self.kind:
            return []
        k = KINDS[self.kind]
        return [k.column(n).zh for n in self.missing_required]

    # -- rows ------------------------------------------------------------------------------------

    def _raw_rows(self) -> Iterator[tuple[int, list[Any]]]:
        if self.format == "xlsx":
            yield from enumerate(self._sheet.iter_rows(), start=1)
        else:
            yield from self._csv_records()

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(row_number, {canonical_name: raw_value})`` for each non-empty data row. The row number
        is the spreadsheet row a user sees (header = 1, first data row = 2 in the usual layout). Every
        column of the kind is a key: a column absent from the file gives None, an empty cell ``''``."""
        for n, cells in self.records():
            row = self.as_dict(n, cells)
            if row is not None:
                yield n, row

    def records(self) -> Iterator[tuple[int, list[Any]]]:
        """The data rows as raw cell lists (row number, cells), blank rows included; see :meth:`as_dict`.
        The importer builds a dict (:meth:`as_dict`) only for a row it checks one by one."""
        for n, cells in self._raw_rows():
            if n > self.header_row:
                yield n, cells

    def chunks(self, size: int) -> Iterator[Chunk]:
        """The data rows in chunks, blank rows included, numbered as in :meth:`records`. A UTF-8 CSV file is
        read by Arrow (:mod:`earlywarn.arrow_csv`) in batches of columns, as far as Arrow reads it as the csv
        module would; the rest, and every other file, by :meth:`record_chunks` in chunks of ``size`` rows."""
        done = 0
        if ARROW and self.format == "csv" and self.encoding == "utf-8-sig" and self._header_lines_are_records():
            try:
                for batch in arrow_batches(self.path, header_row=self.header_row, width=len(self.headers),
                                           delimiter=self.delimiter):
                    if batch.num_rows:
                        yield Chunk(self.header_row + 1 + done, batch=batch)
                        done += batch.num_rows
                return
            except ArrowUnfit:
                pass  # from here on the csv module reads it
        for first, cells in self.record_chunks(size, skip=done):
            yield Chunk(first, cells=cells)

    def _header_lines_are_records(self) -> bool:
        """Whether the records up to the header are one line each: Arrow skips lines, not records, so a title
        cell with a line break in it would shift every row."""
        with open(self.path, encoding=self.encoding, newline="") as f:
            above = islice(csv.reader(f, delimiter=self.delimiter), self.header_row)
            return not any("\n" in cell or "\r" in cell for cells in above for cell in cells)

    def record_chunks(self, size: int, skip: int = 0) -> Iterator[tuple[int, list[list[Any]]]]:
        """The data rows in chunks of ``size`` (after the first ``skip``): (row number of the chunk's first row,
        the rows' raw cells), blank rows included; rows are numbered consecutively as in :meth:`records`. For a
        CSV file one generator step a chunk instead of three a row: the generators cost more than the parsing."""
        if self.format != "csv":
            rows = islice(self.records(), skip, None)
            while chunk := list(islice(rows, size)):
                yield chunk[0][0], [cells for _, cells in chunk]
            return
        assert self.encoding and self.delimiter
        first = self.header_row + 1 + skip
        try:
            with open(self.path, encoding=self.encoding, errors="strict", newline="") as f:
                reader = csv.reader(f, delimiter=self.delimiter)
                for _ in islice(reader, self.header_row + skip):
                    pass
                while chunk := list(islice(reader, size)):
                    yield first, chunk
                    first += len(chunk)
        except (UnicodeDecodeError, csv.Error):
            for _ in self._csv_records():  # reads again row by row, to name the row where it fails
                pass
            raise format_error(f"文件在第 {first} 行之后无法读取（文件可能在读取过程中被修改）") from None

    @property
    def index_of(self) -> dict[str, int]:
        """Canonical column name → cell index."""
        return {name: i for i, name in self.column_map.items()}

    def as_dict(self, n: int, cells: list[Any]) -> dict[str, Any] | None:
        """``{canonical_name: raw_value}`` for a record, or None for a blank row."""
        if all(_is_blank_cell(c) for c in cells):
            return None
        self.note_extra_cells(n, cells)
        row: dict[str, Any] = dict.fromkeys(KINDS[self.kind].column_names if self.kind else [])
        for i, name in self.column_map.items():
            v = cells[i] if i < len(cells) else ""
            if name in IDENTIFIER_COLUMNS and not isinstance(v, str):
                v = _identifier_text(v)
            row[name] = v
        return row

    def note_extra_cells(self, n: int, cells: list[Any]) -> None:
        """A notice (among the first 20) for a row with filled cells past the header's last column, which are
        ignored. :meth:`as_dict` calls it; the importer's chunk path, which reads the cells directly, too."""
        width = len(self.headers)
        if len(cells) > width and any(not _is_blank_cell(c) for c in cells[width:]):
            self._note_extra_cells(n, len(cells) - width)

    def _note_extra_cells(self, n: int, extra: int) -> None:
        if n in self._extra_cell_rows:
            return  # rows() iterated a second time
        self._extra_cell_rows.add(n)
        if len(self._extra_cell_rows) <= 20:
            self.notices.append(
                f"第 {n} 行比表头多出 {extra} 个单元格（可能是内容里有未加引号的逗号），多出的内容被忽略"
            )
        elif len(self._extra_cell_rows) == 21:
            self.notices.append("还有更多行比表头多出单元格，不再逐一列出")

    # -- lifetime --------------------------------------------------------------------------------

    def close(self) -> None:
        self._sheet = None

    def __enter__(self) -> TableReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<TableReader {self.path.name} format={self.format} kind={self.kind}>"


def _undecodable_line(path: Path, encoding: str) -> int:
    """The first line (1-based) that does not decode. The text reader decodes blocks of 8 KB, so where it
    fails says nothing of the row; this reads the bytes again, a line at a time (only after a failure)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    n = 1
    with open(path, "rb") as f:
        for n, line in enumerate(f, start=1):  # noqa: B007 - the last line if none fails now
            try:
                decoder.decode(line)
            except UnicodeDecodeError:
                return n
    return n


def _csv_error_zh(e: csv.Error) -> str:
    msg = str(e)
    if "field larger than field limit" in msg:
        return "单元格内容过长"
    if "NUL" in msg:
        return "含有空字符（NUL），文件可能已损坏"
    if "unexpected end of data" in msg or "EOF" in msg:
        return "引号不配对，文件在单元格中间结束"
    return "无法解析"


def read_table(path: str | Path, kind: str | None = None) -> TableReader:
    """Open a CSV or .xlsx interchange file. ``kind`` forces the file kind (e.g. ``'workers'``).
    Raises FileFormatError for a file that cannot be read as a table."""
    return TableReader(path, kind=kind)
