"""A file's format and text encoding, from its bytes (never its extension): CSV or .xlsx, and for a CSV
UTF-8 (with or without BOM) or GB18030 (a superset of GBK/GB2312). Every problem with the file as a whole
raises :class:`FileFormatError` with a Chinese message.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

from earlywarn.identity import InvalidValue


class FileFormatError(InvalidValue):
    """The file as a whole cannot be read (not CSV/XLSX, undecodable, ambiguous header, ...)."""


# --------------------------------------------------------------------------- format and encoding

SNIFF_BYTES = 64 * 1024
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


def format_error(msg: str) -> FileFormatError:
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
        raise format_error(f"文件无法打开：{e.strerror or e}") from None
    if not head:
        raise format_error("文件为空")
    if head.startswith(_ZIP_MAGICS):
        _check_xlsx_zip(p)
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        if ext in (".xlsx", ".xlsm"):
            # An encrypted .xlsx is an OLE container too.
            raise format_error("文件是旧版 .xls 格式或设置了打开密码，请取消密码并在 Excel 中另存为 .xlsx")
        if ext in (".doc", ".ppt", ".wps", ".et"):
            raise format_error(f"{_MSG_NOT_TABLE}（看起来是 Office 文档）")
        raise format_error(_MSG_XLS)
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise format_error(f"{_MSG_NOT_TABLE}（看起来是{what}）")
    if head.startswith(_UTF16_BOMS):
        raise format_error("文件是 UTF-16 编码（Excel 的“Unicode 文本”），" + _SAVE_AS)
    if b"\x00" in head:
        raise format_error(_MSG_NOT_TABLE)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype", b"<html", b"<?xml", b"<table", b"<meta", b"mime-version")):
        raise format_error(
            f"{_MSG_NOT_TABLE}（内容是网页/XML，常见于系统导出的“假 .xls”），请在 Excel 中打开后另存为 .xlsx"
        )
    if ext in (".xlsx", ".xlsm", ".xls"):
        raise format_error(
            f"文件扩展名是 {ext}，但内容不是 Excel 文件（可能是改了扩展名的文本/CSV 文件），"
            "请在 Excel 中打开后另存为 .xlsx"
        )
    return "csv"


def _check_xlsx_zip(p: Path) -> None:
    try:
        with zipfile.ZipFile(p) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise format_error("压缩文件已损坏，不是有效的 Excel（.xlsx）文件") from None
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        if "word/document.xml" in names:
            raise format_error(f"{_MSG_NOT_TABLE}（看起来是 Word 文档）")
        if "content.xml" in names:
            raise format_error("WPS/OpenOffice 表格（.ods）不支持，请另存为 .xlsx")
        raise format_error(f"{_MSG_NOT_TABLE}（是一个普通的 zip 压缩包）")
    if "xl/workbook.bin" in names:
        raise format_error("Excel 二进制工作簿（.xlsb）不支持，请另存为 .xlsx")
    if len(infos) > MAX_XLSX_ENTRIES or sum(i.file_size for i in infos) > MAX_XLSX_UNCOMPRESSED:
        raise format_error("Excel 文件解压后过大，无法读取，请拆分后重新上传")


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


def choose_encoding(p: Path) -> tuple[str, int]:
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
    raise format_error(
        f"文件编码无法识别：第 {line} 行附近有无法解码的字节（既不是 UTF-8 也不是 GBK/GB18030），" + _SAVE_AS
    )


def open_csv_text(path: str | Path) -> io.TextIOWrapper:
    """Open a CSV file as text with its detected encoding (``newline=''`` as the csv module wants).
    The whole file is verified first (see :func:`choose_encoding`); raises FileFormatError."""
    p = Path(path)
    enc, _ = choose_encoding(p)
    return open(p, encoding=enc, errors="strict", newline="")

