"""Pure parsers for the field types of /work/shared/formats.md.

Every parser takes the raw cell value as a reader yields it — ``str`` from CSV; ``str``, ``int``,
``float``, ``bool``, ``date``, ``datetime``, ``time`` or ``timedelta`` from Excel — and either returns
the canonical Python value or raises :class:`~earlywarn.identity.InvalidValue` with a short Chinese
reason. Blank input raises ``InvalidValue("不能为空")``; callers decide required-ness with
:func:`is_blank` first.

Money is never a float: :func:`parse_money_fen` returns integer fen (分), computed with ``Decimal``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from earlywarn.identity import InvalidValue

__all__ = [
    "InvalidValue",
    "SHANGHAI",
    "is_blank",
    "parse_date",
    "parse_datetime",
    "parse_period",
    "parse_money_fen",
    "parse_bool",
    "parse_hours_centi",
    "parse_int",
    "parse_text",
    "format_fen",
    "fen_to_yuan_str",
    "excel_serial_to_date",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

MIN_YEAR, MAX_YEAR = 1900, 2100
# Excel 1900 date system: serial n is 1899-12-30 + n days (correct from 1900-03-01 on, past Excel's
# fictitious 1900-02-29). Only serials of 1950-01-01 … 2100-12-31 are taken as dates.
EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL_MIN = (date(1950, 1, 1) - EXCEL_EPOCH).days  # 18264
_SERIAL_MAX = (date(2100, 12, 31) - EXCEL_EPOCH).days  # 73415
MAX_FEN = 10**15  # 10 万亿元: far above any real amount, far below int64

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _shown(v: object, limit: int = 40) -> str:
    """The value as quoted back to the user in a message (shortened)."""
    s = repr(v) if isinstance(v, float) else str(v)
    s = s.strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _norm(s: str) -> str:
    """NFKC (full-width digits, letters, ／－：，（） → ASCII; U+3000 → space), drop invisibles, strip."""
    return unicodedata.normalize("NFKC", s).translate(_INVISIBLE).strip()


def is_blank(v: object) -> bool:
    """True for None, an empty or whitespace-only string (full-width space included), or NaN."""
    if v is None:
        return True
    if isinstance(v, str):
        return not v.translate(_INVISIBLE).strip()
    if isinstance(v, float):
        return math.isnan(v)
    return False


def _require(v: object) -> None:
    if is_blank(v):
        raise InvalidValue("不能为空")


# --------------------------------------------------------------------------- dates

_DATE_PART = (
    r"(?:(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"|(?P<cy>\d{4})\s*年\s*(?P<cm>\d{1,2})\s*月\s*(?P<cd>\d{1,2})\s*[日号]?"
    r"|(?P<ky>\d{4})(?P<km>\d{2})(?P<kd>\d{2}))"
)
_TIME_PART = (
    r"(?:(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<F>\d{1,6}))?)?"
    r"|(?P<cH>\d{1,2})\s*[时点]\s*(?:(?P<cM>\d{1,2})\s*分\s*(?:(?P<cS>\d{1,2})\s*秒)?)?)"
)
_TZ_PART = r"(?P<tz>Z|[+-]\d{2}:?\d{2})"
_DATE_RE = re.compile(rf"^{_DATE_PART}$")
# Between date and time: whitespace, or T (ISO), or nothing after 日/号 (2025年3月5日8点).
_DATETIME_RE = re.compile(rf"^{_DATE_PART}(?:(?:\s*T\s*|\s+|(?<=[日号])){_TIME_PART}\s*{_TZ_PART}?)?$")


def _date_from_match(m: re.Match[str]) -> date | None:
    for y, mo, d in (("y", "m", "d"), ("cy", "cm", "cd"), ("ky", "km", "kd")):
        if m.group(y):
            try:
                return date(int(m.group(y)), int(m.group(mo)), int(m.group(d)))
            except ValueError:
                return None
    return None  # pragma: no cover - the regex always fills one alternative


def excel_serial_to_date(n: float) -> date:
    """Excel 1900-system serial → date (fractional part ignored); InvalidValue outside 1950–2100."""
    if not math.isfinite(n) or not (_SERIAL_MIN <= n < _SERIAL_MAX + 1):
        raise InvalidValue(f"日期格式无法识别：“{_shown(n)}”，应为 2025-03-05")
    return EXCEL_EPOCH + timedelta(days=int(n))


def _check_year(d: date, v: object) -> date:
    if not (MIN_YEAR <= d.year <= MAX_YEAR):
        raise InvalidValue(f"日期超出合理范围：“{_shown(v)}”")
    return d


def _date_from_number(v: int | float) -> date:
    """A numeric cell: YYYYMMDD typed as a number, or an Excel serial (unformatted date cell)."""
    if isinstance(v, float) and not math.isfinite(v):
        raise InvalidValue(f"日期格式无法识别：“{_shown(v)}”，应为 2025-03-05")
    if float(v).is_integer() and 10_000_000 <= v <= 99_999_999:
        s = str(int(v))
        try:
            return _check_year(date(int(s[:4]), int(s[4:6]), int(s[6:])), v)
        except ValueError:
            raise InvalidValue(f"日期无效：“{_shown(v)}”") from None
    return excel_serial_to_date(v)


def parse_date(v: object) -> date:
    """``2025-03-05``, ``2025/03/05``, ``2025/3/5``, ``2025-3-5``, ``2025.3.5``, ``2025年3月5日``,
    ``20250305``, a date/datetime cell, or an Excel serial number (int/float). A time after the date is
    accepted and dropped. Day-first/month-first forms (``03/05/2025``) are ambiguous and rejected."""
    _require(v)
    if isinstance(v, datetime):
        return _check_year(v.date(), v)
    if isinstance(v, date):
        return _check_year(v, v)
    if isinstance(v, bool):
        raise InvalidValue(f"日期格式无法识别：“{_shown(v)}”，应为 2025-03-05")
    if isinstance(v, int | float):
        return _date_from_number(v)
    if not isinstance(v, str):
        raise InvalidValue(f"日期格式无法识别：“{_shown(v)}”，应为 2025-03-05")
    s = _norm(v)
    m = _DATETIME_RE.match(s)
    if not m:
        if re.fullmatch(r"\d{5}(\.\d+)?", s):
            raise InvalidValue(
                f"日期格式无法识别：“{_shown(v)}”，应为 2025-03-05"
                "（这像是 Excel 的日期序号，请把该列设置为日期格式后重新导出）"
            )
        raise InvalidValue(f"日期格式无法识别：“{_shown(v)}”，应为 2025-03-05")
    d = _date_from_match(m)
    if d is None:
        raise InvalidValue(f"日期无效：“{_shown(v)}”")
    _time_from_match(m, v)  # a time given with the date must at least be a real time
    return _check_year(d, v)


def parse_datetime(v: object, tz: tzinfo = SHANGHAI) -> datetime:
    """A date form (see :func:`parse_date`) plus an optional time ``HH:MM``, ``HH:MM:SS`` (after a space
    or ``T``, optionally with ``Z``/``+08:00``), or ``8时30分``. Returns an aware datetime: naive input is
    local time in ``tz`` (Asia/Shanghai by default); aware input keeps its own offset. A date alone is
    midnight."""
    _require(v)
    if isinstance(v, datetime):
        dt = v
        _check_year(dt.date(), v)
        return dt if dt.tzinfo is not None and dt.utcoffset() is not None else dt.replace(tzinfo=tz)
    if isinstance(v, date):
        return datetime.combine(_check_year(v, v), time(0), tzinfo=tz)
    if isinstance(v, bool):
        raise InvalidValue(f"时间格式无法识别：“{_shown(v)}”，应为 2025-03-05 08:30")
    if isinstance(v, int | float):
        d = _date_from_number(v)
        frac = float(v) - math.floor(float(v)) if not (10_000_000 <= v <= 99_999_999) else 0.0
        seconds = round(frac * 86400)
        return datetime.combine(d, time(0), tzinfo=tz) + timedelta(seconds=seconds)
    if not isinstance(v, str):
        raise InvalidValue(f"时间格式无法识别：“{_shown(v)}”，应为 2025-03-05 08:30")
    s = _norm(v)
    m = _DATETIME_RE.match(s)
    if not m:
        raise InvalidValue(f"时间格式无法识别：“{_shown(v)}”，应为 2025-03-05 08:30")
    d = _date_from_match(m)
    if d is None:
        raise InvalidValue(f"日期无效：“{_shown(v)}”")
    _check_year(d, v)
    return datetime.combine(d, _time_from_match(m, v), tzinfo=_tz_from_match(m, v, tz))


def _time_from_match(m: re.Match[str], v: object) -> time:
    hh = m.group("H") or m.group("cH") or "0"
    mm = m.group("M") or m.group("cM") or "0"
    ss = m.group("S") or m.group("cS") or "0"
    micro = int((m.group("F") or "0").ljust(6, "0"))
    try:
        return time(int(hh), int(mm), int(ss), micro)
    except ValueError:
        raise InvalidValue(f"时间无效：“{_shown(v)}”") from None


def _tz_from_match(m: re.Match[str], v: object, tz: tzinfo) -> tzinfo:
    zone: tzinfo = tz
    if m.group("tz"):
        z = m.group("tz")
        if z == "Z":
            zone = UTC
        else:
            sign = -1 if z[0] == "-" else 1
            digits = z[1:].replace(":", "")
            hours, minutes = int(digits[:2]), int(digits[2:])
            if hours > 14 or minutes > 59:
                raise InvalidValue(f"时区无效：“{_shown(v)}”")
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    return zone


_PERIOD_RES = (
    re.compile(r"^(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})$"),
    re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月份?$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})$"),
)


def _period(y: int, m: int, v: object) -> str:
    if not (1 <= m <= 12):
        raise InvalidValue(f"月份无效：“{_shown(v)}”")
    if not (MIN_YEAR <= y <= MAX_YEAR):
        raise InvalidValue(f"月份超出合理范围：“{_shown(v)}”")
    return f"{y:04d}-{m:02d}"


def parse_period(v: object) -> str:
    """Wage month → ``'YYYY-MM'``: ``2025-03``, ``2025/03``, ``2025/3``, ``2025.3``, ``2025年3月``,
    ``2025年3月份``, ``202503`` (6 digits, month 01–12), or any date form / date cell (Excel turns a typed
    ``2025-03`` into the date 2025-03-01), whose year and month are taken."""
    _require(v)
    if isinstance(v, date):  # date or datetime
        return _period(v.year, v.month, v)
    if isinstance(v, bool):
        raise InvalidValue(f"月份格式无法识别：“{_shown(v)}”，应为 2025-03")
    if isinstance(v, int | float):
        if float(v).is_integer() and 100_000 <= v <= 999_999:
            n = int(v)
            return _period(n // 100, n % 100, v)
        try:
            d = _date_from_number(v)
        except InvalidValue:
            raise InvalidValue(f"月份格式无法识别：“{_shown(v)}”，应为 2025-03") from None
        return _period(d.year, d.month, v)
    if not isinstance(v, str):
        raise InvalidValue(f"月份格式无法识别：“{_shown(v)}”，应为 2025-03")
    s = _norm(v)
    for rx in _PERIOD_RES:
        m = rx.match(s)
        if m:
            return _period(int(m.group("y")), int(m.group("m")), v)
    m2 = _DATETIME_RE.match(s)
    if m2:
        d = _date_from_match(m2)
        if d is not None:
            return _period(d.year, d.month, v)
    raise InvalidValue(f"月份格式无法识别：“{_shown(v)}”，应为 2025-03")


# --------------------------------------------------------------------------- money

_MONEY_NUM_RE = re.compile(r"^(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?$")
_CURRENCY_PREFIXES = ("人民币", "RMB", "CNY", "¥")  # ￥ (U+FFE5) becomes ¥ under NFKC
_CURRENCY_SUFFIXES = (("万元", 10000), ("万", 10000), ("元", 1))
_MINUS = ("-", "\u2212")  # ASCII and the Unicode minus sign (full-width － becomes - under NFKC)
_CENT = Decimal("0.01")
_FLOAT_TOLERANCE = Decimal("0.000001")


def _money_bad(v: object) -> InvalidValue:
    return InvalidValue(f"金额格式无法识别：“{_shown(v)}”，应为 1234.50")


def _fen_from_decimal(d: Decimal, v: object, allow_negative: bool) -> int:
    if not d.is_finite():
        raise _money_bad(v)
    if d != d.quantize(_CENT, rounding=ROUND_HALF_EVEN):
        raise InvalidValue(f"金额最多两位小数：“{_shown(v)}”")
    fen = int(d * 100)
    if fen < 0 and not allow_negative:
        raise InvalidValue(f"金额不能为负数：“{_shown(v)}”")
    if abs(fen) >= MAX_FEN:
        raise InvalidValue(f"金额过大：“{_shown(v)}”")
    return fen


def parse_money_fen(v: object, *, allow_negative: bool = False) -> int:
    """Yuan → integer fen. ``1234.5``, ``1,234.50``, ``¥1234.50``, ``￥1,234.50``, ``1234元``,
    ``RMB 1234``, ``1.5万`` (×10000), full-width digits. At most two decimals (trailing zeros ignored);
    thousands separators must group by three (``1,5`` is rejected, not read as 15). A float cell is read
    through ``repr`` → ``Decimal`` and accepted only within 1e-6 of a two-decimal value."""
    _require(v)
    if isinstance(v, bool):
        raise _money_bad(v)
    if isinstance(v, int):
        return _fen_from_decimal(Decimal(v), v, allow_negative)
    if isinstance(v, Decimal):
        return _fen_from_decimal(v, v, allow_negative)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _money_bad(v)
        d = Decimal(repr(v))
        q = d.quantize(_CENT, rounding=ROUND_HALF_EVEN)
        if abs(d - q) > _FLOAT_TOLERANCE:
            raise InvalidValue(f"金额最多两位小数：“{_shown(v)}”")
        return _fen_from_decimal(q, v, allow_negative)
    if not isinstance(v, str):
        raise _money_bad(v)

    s = _norm(v)
    negative = False
    if s.startswith(_MINUS):
        negative, s = True, s[1:].strip()
    upper = s.upper()
    for prefix in _CURRENCY_PREFIXES:
        if upper.startswith(prefix):
            s = s[len(prefix) :].strip()
            break
    if not negative and s.startswith(_MINUS):
        negative, s = True, s[1:].strip()
    multiplier = 1
    for suffix, mult in _CURRENCY_SUFFIXES:
        if s.endswith(suffix):
            s, multiplier = s[: -len(suffix)].strip(), mult
            break
    m = _MONEY_NUM_RE.match(s)
    if not m:
        raise _money_bad(v)
    try:
        d = Decimal(m.group("int").replace(",", "") + "." + (m.group("frac") or "0"))
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        raise _money_bad(v) from None
    d *= multiplier
    if negative:
        d = -d
    return _fen_from_decimal(d, v, allow_negative)


def fen_to_yuan_str(fen: int) -> str:
    """Plain yuan with two decimals for CSV output: 123450 → ``'1234.50'``, -1200 → ``'-12.00'``."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{yuan}.{cents:02d}"


def format_fen(fen: int) -> str:
    """For people: 123450 → ``'￥1,234.50'``; -1200 → ``'-￥12.00'``."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}￥{yuan:,}.{cents:02d}"


# --------------------------------------------------------------------------- yes/no, numbers, text

_TRUE = frozenset({"yes", "y", "1", "true", "t", "是", "有", "√", "✓", "✔"})
_FALSE = frozenset({"no", "n", "0", "false", "f", "否", "无", "没有", "×", "✗", "✘"})


def parse_bool(v: object) -> bool:
    """``yes/no``, ``是/否``, ``y/n``, ``1/0``, ``true/false``, ``有/无`` (case-insensitive), √/×, a bool,
    or the numbers 1/0."""
    _require(v)
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float | Decimal):
        if v == 1:
            return True
        if v == 0:
            return False
        raise InvalidValue(f"应为“是”或“否”：“{_shown(v)}”")
    if isinstance(v, str):
        s = _norm(v).lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise InvalidValue(f"应为“是”或“否”：“{_shown(v)}”")


_HOURS_RANGE_MSG = "工时应在 0–24 之间"
_HOURS_NUM_RE = re.compile(r"^(?P<neg>-)?(?P<num>\d+(?:\.\d+)?|\.\d+)$")
_HOURS_HM_RE = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?$")


def parse_hours_centi(v: object) -> int:
    """Hours worked in a day as hundredths of an hour: 8 → 800, 7.5 → 750, ``7.5小时``/``7.5h``,
    ``7:30`` (H:MM), an Excel time or duration cell. More precise values are rounded half-up to the
    hundredth (0.01 h = 36 s). Must lie within 0–24 inclusive."""
    _require(v)
    hours: Decimal
    if isinstance(v, bool):
        raise InvalidValue(f"工时应为数字：“{_shown(v)}”")
    if isinstance(v, int):
        hours = Decimal(v)
    elif isinstance(v, Decimal):
        hours = v
    elif isinstance(v, float):
        if not math.isfinite(v):
            raise InvalidValue(f"工时应为数字：“{_shown(v)}”")
        hours = Decimal(repr(v))
    elif isinstance(v, timedelta):
        hours = Decimal(round(v.total_seconds())) / 3600
    elif isinstance(v, time):
        hours = Decimal(v.hour) + Decimal(v.minute) / 60 + Decimal(v.second) / 3600
    elif isinstance(v, str):
        s = _norm(v)
        for suffix in ("个小时", "小时", "hours", "hour", "hrs", "hr", "h"):
            if s.lower().endswith(suffix):
                s = s[: -len(suffix)].strip()
                break
        m = _HOURS_NUM_RE.match(s)
        hm = _HOURS_HM_RE.match(s)
        if m:
            hours = Decimal(m.group("num"))
            if m.group("neg"):
                hours = -hours
        elif hm:
            if int(hm.group("m")) > 59 or int(hm.group("s") or 0) > 59:
                raise InvalidValue(f"工时格式无法识别：“{_shown(v)}”，应为 8 或 7.5")
            hours = (
                Decimal(int(hm.group("h")))
                + Decimal(int(hm.group("m"))) / 60
                + Decimal(int(hm.group("s") or 0)) / 3600
            )
        else:
            raise InvalidValue(f"工时格式无法识别：“{_shown(v)}”，应为 8 或 7.5")
    else:
        raise InvalidValue(f"工时格式无法识别：“{_shown(v)}”，应为 8 或 7.5")
    if not hours.is_finite() or hours < 0 or hours > 24:
        raise InvalidValue(_HOURS_RANGE_MSG)
    return int((hours * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


_INT_RE = re.compile(r"^(?P<sign>[+-])?(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?:\.0+)?$")


def parse_int(
    v: object, *, min: int | None = None, max: int | None = None, suffixes: tuple[str, ...] = ()
) -> int:
    """An integer: int, an integral float (Excel gives 8.0 for 8), or a string (``1,200`` and a trailing
    ``.0`` accepted). ``suffixes`` lists units to strip, e.g. ``("人", "名")``. Bounds are inclusive."""
    _require(v)
    if isinstance(v, bool):
        raise InvalidValue(f"应为整数：“{_shown(v)}”")
    n: int
    if isinstance(v, int):
        n = v
    elif isinstance(v, float | Decimal):
        if not (v == v and abs(v) != float("inf")) or v != int(v):
            raise InvalidValue(f"应为整数：“{_shown(v)}”")
        n = int(v)
    elif isinstance(v, str):
        s = _norm(v)
        for suffix in suffixes:
            if suffix and s.endswith(suffix):
                s = s[: -len(suffix)].strip()
                break
        m = _INT_RE.match(s)
        if not m:
            raise InvalidValue(f"应为整数：“{_shown(v)}”")
        n = int(m.group("num").replace(",", ""))
        if m.group("sign") == "-":
            n = -n
    else:
        raise InvalidValue(f"应为整数：“{_shown(v)}”")
    if min is not None and n < min:
        raise InvalidValue(f"不能小于 {min}：“{_shown(v)}”")
    if max is not None and n > max:
        raise InvalidValue(f"不能大于 {max}：“{_shown(v)}”")
    return n


def parse_text(v: object, *, max_len: int) -> str:
    """Stripped text (leading/trailing whitespace, full-width space included; CRLF → LF). A numeric cell
    that is a whole number becomes its digits (Excel gives ``2025001.0`` for a code typed as a number).
    Control characters other than tab and newline are rejected (PostgreSQL cannot store NUL)."""
    _require(v)
    if isinstance(v, bool):
        s = "TRUE" if v else "FALSE"
    elif isinstance(v, float):
        if not math.isfinite(v):
            raise InvalidValue(f"内容无效：“{_shown(v)}”")
        s = str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    elif isinstance(v, datetime):
        s = v.isoformat(sep=" ")
    elif isinstance(v, date):
        s = v.isoformat()
    else:
        s = str(v)
    s = s.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE).strip()
    if not s:
        raise InvalidValue("不能为空")
    if _CONTROL_RE.search(s):
        raise InvalidValue("含有不可见的控制字符，请删除后重试")
    if len(s) > max_len:
        raise InvalidValue(f"内容过长（最多 {max_len} 个字，实际 {len(s)} 个字）")
    return s
