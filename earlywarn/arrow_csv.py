"""Large UTF-8 CSV files read by Apache Arrow's CSV reader, as batches of string columns.

Python's csv module spends about 0.3 µs a row turning a million-row attendance file into lists; Arrow parses
it in C++ on every core and hands over columns, which the importer checks without a Python object per cell
(:meth:`earlywarn.import_columns.AttendanceColumns.check_batch`). Arrow is used only where it reads exactly
what the csv module reads: cells as text (never converted, never null), blank lines kept as rows, every row as
wide as the header, no line break inside a cell (where a block of Arrow's ends inside a quoted CR LF it reads
CR alone), no cell past the csv module's field size limit. Anything else — another column count, a cell with a
line break or too long, a row Arrow cannot parse, bytes that do not decode — raises
:class:`ArrowUnfit`, possibly after some batches, and the caller reads the rest with the csv module
(:meth:`earlywarn.readers.TableReader.chunks`). Rows are numbered alike: both count records.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

BLOCK_BYTES = 1 << 20  # about 30,000 attendance rows a batch


class ArrowUnfit(Exception):
    """Arrow does not read this file (from here on) as the csv module would."""


def arrow_batches(path: Path, *, header_row: int, width: int, delimiter: str) -> Iterator[pa.RecordBatch]:
    """The data rows after ``header_row`` records, in batches of ``width`` string columns f0, f1, …"""
    names = [f"f{i}" for i in range(width)]
    try:
        reader = pcsv.open_csv(
            path,
            read_options=pcsv.ReadOptions(skip_rows=header_row, column_names=names, block_size=BLOCK_BYTES,
                                          encoding="utf8"),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
        for batch in reader:
            if batch.num_columns != width:
                raise ArrowUnfit(f"{batch.num_columns} columns")
            # Inside quotes Arrow reads CR LF as CR alone (the csv module keeps both): a batch with a line
            # break in a cell goes to the csv module. Such cells are rare in these files and invalid in most.
            if any(map(_has_line_break, batch.columns)):
                raise ArrowUnfit("a line break in a cell")
            # The csv module refuses a cell past its field size limit (the importer says so); Arrow has none.
            if any(_longest(column) >= csv.field_size_limit() for column in batch.columns):
                raise ArrowUnfit("a cell too long for the csv module")
            yield batch
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError) as exc:
        raise ArrowUnfit(str(exc)) from None


def _longest(column: pa.StringArray) -> int:
    """The longest cell in bytes (never fewer than its characters, so the comparison errs towards the csv module)."""
    ends = np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset:column.offset + len(column) + 1]
    return int(np.diff(ends).max()) if len(column) else 0


def _has_line_break(column: pa.StringArray) -> bool:
    """Whether any cell holds CR or LF: a byte search over the column's characters (a regular expression per
    cell took 0.13 s for a county's attendance, this 2 ms)."""
    _, offsets, data = column.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32)
    chars = data.to_pybytes()[int(ends[column.offset]):int(ends[column.offset + len(column)])] if data else b""
    return b"\n" in chars or b"\r" in chars


def batch_cells(batch: pa.RecordBatch) -> list[list[str]]:
    """The batch as the csv module's rows (lists of str), for the row-by-row path."""
    return list(map(list, zip(*(column.to_pylist() for column in batch.columns), strict=True)))


def batch_lines(batch: pa.RecordBatch, canonical: list[int]) -> bytes:
    """Each row's cells in ``canonical`` order (an index past the row's width gives "") joined by U+001F, each
    row followed by U+001E, UTF-8 encoded: the bytes the importer's content hash reads, built in C++."""
    if not batch.num_rows:
        return b""
    empty = pa.array([""] * batch.num_rows, pa.string())
    columns = [batch.column(i) if i < batch.num_columns else empty for i in canonical]
    lines = pc.binary_join_element_wise(*columns, "\x1f") if len(columns) > 1 else columns[0]
    whole = pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines)
    return pc.binary_join(whole, "\x1e")[0].as_buffer().to_pybytes() + b"\x1e"
