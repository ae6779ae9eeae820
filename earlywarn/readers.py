"""Reading the interchange files of /work/shared/formats.md (CSV or .xlsx) into header-mapped rows.

``read_table(path)`` recognises the file format from its bytes (not its extension), the encoding of a
CSV (UTF-8 with or without BOM, else GB18030 — a superset of GBK/GB2312), the header row, the file kind
(from the header, else from the file name) and maps the columns to canonical English names. Values are
passed on raw (str from CSV; str/float/bool/date/datetime from Excel) for :mod:`earlywarn.parsing` and
:mod:`earlywarn.identity` to validate, except that a numeric cell in an ID-number or credit-code column
is turned into its text form (``3.3052319800101e+17``) so the validation message shows it.

Every problem with the file as a whole raises :class:`FileFormatError` with a Chinese message.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from earlywarn.identity import InvalidValue

__all__ = [
    "Column",
    "FileKind",
    "KINDS",
    "FileFormatError",
    "TableReader",
    "read_table",
    "kind_of",
    "detect_encoding",
    "open_csv_text",
    "sniff_format",
    "column_letter",
]


class FileFormatError(InvalidValue):
    """The file as a whole cannot be read (not CSV/XLSX, undecodable, ambiguous header, ...)."""


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    required: bool
    aliases: tuple[str, ...] = ()  # other Chinese names seen in the field, matched like ``zh``


@dataclass(frozen=True)
class FileKind:
    name: str
    label_zh: str
    columns: tuple[Column, ...]
    filename_hints: tuple[str, ...] = field(default=(), repr=False)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _kind(name: str, label: str, hints: tuple[str, ...], *cols: Column) -> FileKind:
    return FileKind(name, label, tuple(cols), hints)


C = Column
_ID_ALIASES = ("身份证号码", "公民身份号码")

KINDS: dict[str, FileKind] = {
    k.name: k
    for k in (
        _kind(
            "projects",
            "项目",
            ("project", "项目"),
            C("project_code", "项目编号", True),
            C("project_name", "项目名称", True),
            C("township", "所属乡镇", True, ("乡镇", "乡镇/街道", "所属乡镇/街道")),
            C("general_contractor", "施工总承包单位", True),
            C("contractor_credit_code", "总包统一社会信用代码", False),
            C("owner", "建设单位", False),
            C("start_date", "开工日期", True),
            C("planned_end_date", "计划竣工日期", False),
            C("contract_value", "合同金额", False),
            C("has_wage_account", "工资专用账户", False),
            C("wage_deposit", "工资保证金", False),
            C("has_notice_board", "维权告示牌", False),
        ),
        _kind(
            "subcontracts",
            "分包关系",
            ("subcontract", "分包"),
            C("project_code", "项目编号", True),
            C("parent", "上级单位", True),
            C("parent_credit_code", "上级统一社会信用代码", False),
            C("child", "下级单位", True),
            C("child_credit_code", "下级统一社会信用代码", False),
            C("kind", "分包类型", False),
        ),
        _kind(
            "workers",
            "实名制花名册",
            ("worker", "roster", "花名册", "实名"),
            C("project_code", "项目编号", True),
            C("id_number", "身份证号", True, _ID_ALIASES),
            C("name", "姓名", True),
            C("team", "班组", True),
            C("trade", "工种", False),
            C("daily_wage", "日工资", True),
            C("entry_date", "进场日期", True),
            C("exit_date", "退场日期", False),
            C("phone", "手机号", False, ("手机号码",)),
        ),
        _kind(
            "attendance",
            "考勤记录",
            ("attendance", "考勤"),
            C("project_code", "项目编号", True),
            C("id_number", "身份证号", True, _ID_ALIASES),
            C("date", "日期", True),
            C("hours", "工时", True),
        ),
        _kind(
            "payroll",
            "工资发放记录",
            ("payroll", "wage", "salary", "工资", "发放"),
            C("project_code", "项目编号", True),
            C("id_number", "身份证号", True, _ID_ALIASES),
            C("period", "工资所属月份", True),
            C("amount_due", "应发金额", True),
            C("amount_paid", "实发金额", True),
            C("pay_date", "发放日期", True),
            C("channel", "发放方式", False),
        ),
        _kind(
            "reports",
            "信息员报告",
            ("report", "报告", "信息员"),
            C("report_id", "报告编号", False),
            C("received_at", "报告时间", True),
            C("informant_id", "信息员编号", False),
            C("township", "乡镇", False, ("所属乡镇", "乡镇/街道", "所属乡镇/街道")),
            C("project_code", "项目编号", False),
            C("employer", "涉及单位", False),
            C("text", "内容", True),
            C("workers_involved", "涉及人数", False),
            C("amount_claimed", "涉及金额", False),
        ),
    )
}
del C

# Order in which file names are tried: the more specific words first ("项目考勤.csv" is attendance,
# "工资发放记录" is payroll although 项目 or 工资 might appear in other names).
_FILENAME_ORDER = ("attendance", "payroll", "subcontracts", "workers", "reports", "projects")

# Columns whose numeric Excel cells are turned into text so the "format as text" message can show them.
IDENTIFIER_COLUMNS = frozenset(
    {"id_number", "contractor_credit_code", "parent_credit_code", "child_credit_code"}
)

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_TRAILING_PAREN_RE = re.compile(r"^(.+?)\((?:[^()]*)\)$")


def _key(s: str) -> str:
    """Matching key of a header: NFKC (full-width → ASCII), no whitespace/invisibles, no ``*`` required
    markers, case-folded, ``_`` and ``-`` dropped (``Project Code`` = ``project_code``)."""
    s = unicodedata.normalize("NFKC", s).translate(_INVISIBLE)
    s = re.sub(r"\s+", "", s).strip("*")
    return re.sub(r"[_\-]", "", s.casefold())


def _column_keys(kind: FileKind) -> dict[str, str]:
    keys: dict[str, str] = {}
    for c in kind.columns:
        for label in (c.name, c.zh, *c.aliases):
            keys[_key(label)] = c.name
    return keys


_KIND_KEYS: dict[str, dict[str, str]] = {name: _column_keys(k) for name, k in KINDS.items()}
_ALL_KEYS: dict[str, str] = {}
for _keys in _KIND_KEYS.values():
    _ALL_KEYS.update(_keys)


def _match_header(raw: str, keys: dict[str, str]) -> str | None:
    """Canonical name for a raw header, also when it carries a trailing note: ``日工资(元)``,
    ``身份证号（必填）``."""
    k = _key(raw)
    if not k:
        return None
    if k in keys:
        return keys[k]
    m = _TRAILING_PAREN_RE.match(unicodedata.normalize("NFKC", raw.translate(_INVISIBLE)).strip())
    if m:
        return keys.get(_key(m.group(1)))
    return None


def _distinctive() -> dict[str, set[str]]:
    """Per kind, the canonical columns that occur in no other kind."""
    out: dict[str, set[str]] = {}
    for name, k in KINDS.items():
        others = {c for n, o in KINDS.items() if n != name for c in o.column_names}
        out[name] = set(k.column_names) - others
    return out


_DISTINCTIVE = _distinctive()


def _kind_from_headers(headers: Sequence[str]) -> tuple[str | None, bool]:
    """(kind, complete). ``complete`` is True when every required column of the kind is present."""
    best: tuple[int, float, str] | None = None
    matched_by_kind: dict[str, set[str]] = {}
    for name, kind in KINDS.items():
        keys = _KIND_KEYS[name]
        matched = {m for h in headers if (m := _match_header(str(h), keys))}
        matched_by_kind[name] = matched
        if set(kind.required) <= matched:
            score = (len(matched), len(matched) / len(kind.columns), name)
            if best is None or score[:2] > best[:2]:
                best = score
    if best is not None:
        return best[2], True
    # No kind is complete: the kind with the most columns of its own (distinctive) wins, if unique.
    scores = sorted(((len(matched_by_kind[n] & _DISTINCTIVE[n]), n) for n in KINDS), reverse=True)
    if scores[0][0] > 0 and (len(scores) == 1 or scores[0][0] > scores[1][0]):
        return scores[0][1], False
    return None, False


def _kind_from_filename(filename: str | None) -> str | None:
    if not filename:
        return None
    stem = unicodedata.normalize("NFKC", Path(str(filename)).name).casefold()
    for name in _FILENAME_ORDER:
        if any(h in stem for h in KINDS[name].filename_hints):
            return name
    return None


def kind_of(headers: Sequence[str], filename: str | None = None) -> str | None:
    """The file kind: from the header when one kind's required columns are all there, else from the file
    name (``attendance*.csv``, ``考勤*.xlsx`` ...), else the kind with the most of its own columns in the
    header (so its missing columns can be named), else None."""
    kind, complete = _kind_from_headers(headers)
    if complete:
        return kind
    return _kind_from_filename(filename) or kind


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as Excel shows it."""
    s = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


# --------------------------------------------------------------------------- format and encoding

_SNIFF = 64 * 1024
_CHUNK = 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 1024**3  # zip-bomb guard: 1 GiB of XML is ~10 million cells
MAX_XLSX_ENTRIES = 10_000

_MSG_NOT_TABLE = "不是 CSV 或 Excel（.xlsx）文件"
_MSG_XLS = "旧版 .xls 格式不支持，请在 Excel 中另存为 .xlsx"
_SAVE_AS = "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或 .xlsx 后重新上传"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"GIF87a", "GIF 图片"),
    (b"GIF89a", "GIF 图片"),
    (b"%PDF", "PDF 文件"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包"),
    (b"\x1f\x8b", "gzip 压缩包"),
    (b"{\\rtf", "RTF 文档"),
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = codecs.BOM_UTF8
_GB18030_BOM = b"\x84\x31\x95\x33"


def _fmt_error(msg: str) -> FileFormatError:
    return FileFormatError(msg)


def sniff_format(path: str | Path) -> str:
    """``'csv'`` or ``'xlsx'`` from the file's bytes (the extension only refines messages). Raises
    FileFormatError for an empty file, an old .xls, an image/PDF/archive, a zip that is no workbook, an
    HTML/XML "fake .xls", or a file whose extension says Excel but whose content is text."""
    p = Path(path)
    ext = p.suffix.lower()
    try:
        with open(p, "rb") as f:
            head = f.read(8192)
    except OSError as e:
        raise _fmt_error(f"文件无法打开：{e.strerror or e}") from None
    if not head:
        raise _fmt_error("文件为空")
    if head.startswith(_ZIP_MAGICS):
        _check_xlsx_zip(p)
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        if ext in (".xlsx", ".xlsm"):
            # An encrypted .xlsx is an OLE container too.
            raise _fmt_error("文件是旧版 .xls 格式或设置了打开密码，请取消密码并在 Excel 中另存为 .xlsx")
        if ext in (".doc", ".ppt", ".wps", ".et"):
            raise _fmt_error(f"{_MSG_NOT_TABLE}（看起来是 Office 文档）")
        raise _fmt_error(_MSG_XLS)
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise _fmt_error(f"{_MSG_NOT_TABLE}（看起来是{what}）")
    if head.startswith(_UTF16_BOMS):
        raise _fmt_error("文件是 UTF-16 编码（Excel 的“Unicode 文本”），" + _SAVE_AS)
    if b"\x00" in head:
        raise _fmt_error(_MSG_NOT_TABLE)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype", b"<html", b"<?xml", b"<table", b"<meta", b"mime-version")):
        raise _fmt_error(
            f"{_MSG_NOT_TABLE}（内容是网页/XML，常见于系统导出的“假 .xls”），请在 Excel 中打开后另存为 .xlsx"
        )
    if ext in (".xlsx", ".xlsm", ".xls"):
        raise _fmt_error(
            f"文件扩展名是 {ext}，但内容不是 Excel 文件（可能是改了扩展名的文本/CSV 文件），"
            "请在 Excel 中打开后另存为 .xlsx"
        )
    return "csv"


def _check_xlsx_zip(p: Path) -> None:
    try:
        with zipfile.ZipFile(p) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _fmt_error("压缩文件已损坏，不是有效的 Excel（.xlsx）文件") from None
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        if "word/document.xml" in names:
            raise _fmt_error(f"{_MSG_NOT_TABLE}（看起来是 Word 文档）")
        if "content.xml" in names:
            raise _fmt_error("WPS/OpenOffice 表格（.ods）不支持，请另存为 .xlsx")
        raise _fmt_error(f"{_MSG_NOT_TABLE}（是一个普通的 zip 压缩包）")
    if "xl/workbook.bin" in names:
        raise _fmt_error("Excel 二进制工作簿（.xlsb）不支持，请另存为 .xlsx")
    if len(infos) > MAX_XLSX_ENTRIES or sum(i.file_size for i in infos) > MAX_XLSX_UNCOMPRESSED:
        raise _fmt_error("Excel 文件解压后过大，无法读取，请拆分后重新上传")


def detect_encoding(first_bytes: bytes) -> str | None:
    """Best guess from the first bytes of a text file: ``'utf-8-sig'`` (UTF-8 with or without BOM; the
    BOM is stripped when reading) when they decode strictly as UTF-8 — a multi-byte character cut at the
    end of the sample is fine — else ``'gb18030'`` (covers GBK/GB2312) when they decode as that, else
    None. Only a guess for the sample: :func:`open_csv_text` verifies the whole file."""
    if first_bytes.startswith(_UTF8_BOM):
        return "utf-8-sig"
    if first_bytes.startswith(_GB18030_BOM):
        return "gb18030"
    for enc in ("utf-8-sig", "gb18030"):
        try:
            codecs.getincrementaldecoder(enc)("strict").decode(first_bytes, final=False)
            return enc
        except UnicodeDecodeError:
            continue
    return None


def _validate_encoding(p: Path, enc: str) -> tuple[int, int | None]:
    """Decode the whole file in 1 MiB chunks. Returns (newline count, None) on success, or
    (approximate byte offset, line number) of the first undecodable byte."""
    dec = codecs.getincrementaldecoder(enc)("strict")
    newlines = 0
    offset = 0
    with open(p, "rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            try:
                dec.decode(chunk, final=not chunk)
            except UnicodeDecodeError as e:
                pos = max(0, min(e.start, len(chunk)))
                return offset + pos, newlines + chunk[:pos].count(b"\n") + 1
            if not chunk:
                return newlines, None
            newlines += chunk.count(b"\n")
            offset += len(chunk)


def _choose_encoding(p: Path) -> tuple[str, int]:
    """(encoding, newline count) for the whole file.

    Why a full validation pass: a file whose first 64 KB are plain ASCII (codes, numbers) can have its
    first GBK-encoded Chinese name deep inside, and a UTF-8 guess from a sample would then crash, or —
    with errors='replace' — silently garble 中文. So each candidate encoding is checked over the whole
    file by an incremental strict decoder, streaming in 1 MiB chunks (constant memory). Only an encoding
    that decodes every byte is used, so reading the rows afterwards cannot hit a decode error (it is
    still caught and reported, in case the file changes in between). UTF-8 is tried first: GBK text
    that is also valid UTF-8 is vanishingly rare, while GB18030 decodes many UTF-8 byte sequences into
    nonsense. The cost is one extra sequential read of the file.
    """
    with open(p, "rb") as f:
        head = f.read(4)
    if head.startswith(_UTF8_BOM):
        candidates = ["utf-8-sig"]
    elif head.startswith(_GB18030_BOM):
        candidates = ["gb18030"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    failures: list[tuple[int, int]] = []
    for enc in candidates:
        n, line = _validate_encoding(p, enc)
        if line is None:
            return enc, n
        failures.append((n, line))
    _offset, line = max(failures)  # the encoding that got furthest is the likely one
    raise _fmt_error(
        f"文件编码无法识别：第 {line} 行附近有无法解码的字节（既不是 UTF-8 也不是 GBK/GB18030），" + _SAVE_AS
    )


def open_csv_text(path: str | Path) -> io.TextIOWrapper:
    """Open a CSV file as text with its detected encoding (``newline=''`` as the csv module wants).
    The whole file is verified first (see :func:`_choose_encoding`); raises FileFormatError."""
    p = Path(path)
    enc, _ = _choose_encoding(p)
    return open(p, encoding=enc, errors="strict", newline="")


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
        return not v.translate(_INVISIBLE).strip()
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
            k, complete = _kind_from_headers(headers)
            if complete:
                self.kind, self.kind_source = k, "header"
            elif fk := _kind_from_filename(self.path.name):
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
                    raise _fmt_error("Excel 文件中没有工作表")
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
                raise _fmt_error("Excel 文件设置了密码，请取消密码后重新上传") from None
            raise _fmt_error("Excel 文件已损坏或格式不受支持，无法读取，请在 Excel 中另存为 .xlsx") from None
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
        self.encoding, newlines = _choose_encoding(self.path)
        with open(self.path, encoding=self.encoding, newline="") as f:
            sample = f.read(_SNIFF)
        first_line = sample.split("\n", 1)[0]
        self.delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
        first: list[tuple[int, list[Any]]] = []
        for n, cells in self._csv_records():
            if any(not _is_blank_cell(c) for c in cells):
                first.append((n, cells))
                if len(first) >= _HEADER_SCAN_ROWS:
                    break
        ends_with_newline = sample.endswith("\n") if len(sample) < _SNIFF else True
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
            raise _fmt_error(
                f"文件在第 {n + 1} 行附近有无法解码的字节（文件可能在读取过程中被修改）"
            ) from None
        except csv.Error as e:
            raise _fmt_error(f"CSV 格式错误（第 {n + 1} 行附近）：{_csv_error_zh(e)}") from None

    # -- header ----------------------------------------------------------------------------------

    def _find_header(
        self, first_rows: list[tuple[int, list[Any]]], kind: str | None
    ) -> tuple[int, list[str]]:
        """The first non-empty row that names at least two known columns (title rows above it are
        skipped with a notice), else the first non-empty row."""
        if not first_rows:
            raise _fmt_error("文件没有内容（找不到表头行）")
        keys = _KIND_KEYS[kind] if kind else _ALL_KEYS
        chosen = first_rows[0]
        for n, cells in first_rows:
            if sum(1 for c in cells if _match_header(_header_text(c), keys)) >= 2:
                chosen = (n, cells)
                break
        n, cells = chosen
        if n != first_rows[0][0]:
            skipped = sum(1 for m, _ in first_rows if m < n)
            self.notices.append(f"表头在第 {n} 行，已跳过上方 {skipped} 行标题")
        return n, [_header_text(c) for c in cells]

    def _map_columns(self) -> None:
        keys = _KIND_KEYS[self.kind] if self.kind else _ALL_KEYS
        self.column_map: dict[int, str] = {}
        self.unknown_columns: list[str] = []
        seen: dict[str, int] = {}
        for i, h in enumerate(self.headers):
            if not h.translate(_INVISIBLE).strip():
                continue
            name = _match_header(h, keys)
            if name is None:
                self.unknown_columns.append(h.strip())
                continue
            if name in seen:
                if not self.kind:
                    continue  # unrecognised file: the importer reports that; keep the first column
                j = seen[name]
                raise _fmt_error(
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
        The importer's fast path reads these directly and builds a dict only for a row it must examine."""
        for n, cells in self._raw_rows():
            if n > self.header_row:
                yield n, cells

    @property
    def index_of(self) -> dict[str, int]:
        """Canonical column name → cell index."""
        return {name: i for i, name in self.column_map.items()}

    def as_dict(self, n: int, cells: list[Any]) -> dict[str, Any] | None:
        """``{canonical_name: raw_value}`` for a record, or None for a blank row."""
        if all(_is_blank_cell(c) for c in cells):
            return None
        width = len(self.headers)
        if len(cells) > width and any(not _is_blank_cell(c) for c in cells[width:]):
            self._note_extra_cells(n, len(cells) - width)
        row: dict[str, Any] = dict.fromkeys(KINDS[self.kind].column_names if self.kind else [])
        for i, name in self.column_map.items():
            v = cells[i] if i < len(cells) else ""
            if name in IDENTIFIER_COLUMNS and not isinstance(v, str):
                v = _identifier_text(v)
            row[name] = v
        return row

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
