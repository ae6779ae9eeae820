"""Pure validation of resident ID numbers (身份证号) and unified social credit codes (统一社会信用代码).

Rules (see /work/shared/formats.md):

- ID numbers: 18 characters, GB 11643-1999 check character (ISO 7064 MOD 11-2); a lowercase ``x`` is
  the same as ``X``. A number Excel turned into ``3.30523E+17`` is an error, never a guess. The area code
  is **not** checked for acceptance: python-stdnum's ``cn.ric.validate`` rejects a number whose area code
  did not exist in the holder's birth year, but numbers were assigned years after birth with the code in
  force then (Anji's 330523 dates from 1983, most of its construction workers were born earlier). Only
  ``stdnum.cn.ric.calc_check_digit`` is used; :func:`id_area_known` is available for a notice.
- USCCs: 18 characters from the GB 32100-2015 alphabet (no I, O, Z, S, V), check character computed with
  ``stdnum.cn.uscc.calc_check_digit``. ``stdnum.cn.uscc.validate`` is *not* used: it requires the first 8
  characters to be digits, which rejects real codes whose registration authority is a letter
  (``N`` 农业 for rural collective economic organisations, ``Y`` 其他, ``A`` ...).

Every error is an :class:`InvalidValue` whose message is short, concrete Simplified Chinese.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from stdnum.cn import ric as _ric
from stdnum.cn import uscc as _uscc

__all__ = [
    "InvalidValue",
    "normalize_id_number",
    "id_birth_date",
    "id_gender",
    "id_area_code",
    "id_area_known",
    "mask_id_number",
    "normalize_credit_code",
    "mask_phone",
]

_SHANGHAI = ZoneInfo("Asia/Shanghai")


class InvalidValue(ValueError):
    """A value that fails validation. ``message`` (and ``str(e)``) is the Chinese reason for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# Characters to drop anywhere in an identifier: every kind of whitespace (after NFKC the full-width
# space U+3000 and NBSP become a plain space) and the invisible zero-width characters that come along
# when numbers are copied from web pages or WeChat.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_WS_RE = re.compile(r"\s+")
# ="330523..." is the usual trick to make Excel keep a CSV cell as text; a leading ' does the same by hand.
_EXCEL_TEXT_WRAPPER_RE = re.compile(r'^=?"(.*)"$')
_SCI_RE = re.compile(r"^[+-]?\d+(?:\.\d*)?[eE][+-]?\d+$")
_FLOATISH_RE = re.compile(r"^[+-]?\d{15,}\.\d*$")  # 330523198001010000.0
_ASCII_DIGITS_RE = re.compile(r"^[0-9]+$")

_MSG_SCI = "身份证号被 Excel 转成了科学计数法（“{shown}”），已丢失位数，请将该列设置为“文本”格式后重新导出"
_MSG_NUMBER = "身份证号被 Excel 当成了数字（“{shown}”），可能已丢失位数，请将该列设置为“文本”格式后重新导出"


def _today() -> date:
    return datetime.now(_SHANGHAI).date()


def _clean_identifier(raw: str) -> str:
    """NFKC (full-width digits and letters → ASCII), drop all whitespace and invisible characters,
    and unwrap Excel's text-forcing forms (``="…"``, leading apostrophe)."""
    s = unicodedata.normalize("NFKC", raw).translate(_INVISIBLE)
    s = _WS_RE.sub("", s)
    m = _EXCEL_TEXT_WRAPPER_RE.match(s)
    if m:
        s = m.group(1)
    if s.startswith("'"):
        s = s[1:]
    return s


def _number_shown(value: int | float | Decimal) -> str:
    """How a numeric cell looks to the user; repr() of a float ≥ 1e16 is in scientific notation."""
    return repr(value) if isinstance(value, float) else str(value)


# --------------------------------------------------------------------------- resident ID numbers


def normalize_id_number(raw: object, today: date | None = None) -> str:
    """Validate a resident ID number and return its normalised 18-character form (``X`` upper-case).

    ``raw`` is normally a str; a number (what Excel gives for a numeric cell) is rejected with the
    "format the column as text" message. ``today`` (default: today in Asia/Shanghai) bounds the birth date.
    """
    if raw is None:
        raise InvalidValue("身份证号不能为空")
    if isinstance(raw, bool):
        raise InvalidValue("身份证号格式错误")
    if isinstance(raw, float | Decimal | int):
        shown = _number_shown(raw)
        msg = _MSG_SCI if "e" in shown.lower() else _MSG_NUMBER
        raise InvalidValue(msg.format(shown=shown))
    if not isinstance(raw, str):
        raise InvalidValue("身份证号格式错误")

    s = _clean_identifier(raw)
    if not s:
        raise InvalidValue("身份证号不能为空")
    if _SCI_RE.match(s):
        raise InvalidValue(_MSG_SCI.format(shown=raw.strip()))
    if _FLOATISH_RE.match(s):
        raise InvalidValue(_MSG_NUMBER.format(shown=raw.strip()))
    if len(s) != 18:
        if len(s) == 15 and _ASCII_DIGITS_RE.match(s):
            raise InvalidValue("身份证号应为 18 位，这是 15 位的旧号码，请换成 18 位的新号码")
        raise InvalidValue(f"身份证号应为 18 位，实际为 {len(s)} 位")
    body, check = s[:17], s[17].upper()
    if not _ASCII_DIGITS_RE.match(body):
        raise InvalidValue("身份证号前 17 位应为数字")
    if not (check.isascii() and (check.isdigit() or check == "X")):
        raise InvalidValue("身份证号最后一位应为数字或 X")
    number = body + check

    birth = _birth_date_or_raise(number)
    if birth.year < 1900:
        raise InvalidValue(f"身份证号中的出生日期（{birth.isoformat()}）早于 1900 年")
    if birth > (today or _today()):
        raise InvalidValue(f"身份证号中的出生日期（{birth.isoformat()}）晚于今天")
    # calc_check_digit() takes the number *with* its check character and ignores the last character;
    # it parses the first 17 with int(..., 13), so they must be checked to be ASCII digits first (done above).
    if _ric.calc_check_digit(number) != check:
        # Deliberately do not reveal the expected character: "fixing" a typo by changing only the last
        # character would produce a wrong number that passes.
        raise InvalidValue("身份证号校验位错误")
    return number


def _birth_date_or_raise(number: str) -> date:
    digits = number[6:14]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidValue(f"身份证号中的出生日期无效（{digits}）") from None


def id_birth_date(id_number: str) -> date:
    """Birth date encoded in a (normalised) 18-character ID number."""
    if not isinstance(id_number, str) or len(id_number) != 18 or not id_number[6:14].isdigit():
        raise InvalidValue("身份证号格式错误")
    return _birth_date_or_raise(id_number)


def id_gender(id_number: str) -> str:
    """'M' or 'F' from the 17th digit (odd = male)."""
    if not isinstance(id_number, str) or len(id_number) != 18 or not id_number[16].isdigit():
        raise InvalidValue("身份证号格式错误")
    return "M" if int(id_number[16]) % 2 == 1 else "F"


def id_area_code(id_number: str) -> str:
    """The 6-digit administrative area code (地址码) of the ID number."""
    if not isinstance(id_number, str) or len(id_number) != 18:
        raise InvalidValue("身份证号格式错误")
    return id_number[:6]


def id_area_known(id_number: str) -> bool:
    """Whether python-stdnum's area table knows the county code at any time (no birth-year check).

    For a notice only: an unknown code is never a reason to reject a number.
    """
    from stdnum import numdb

    code = id_number[:6] if isinstance(id_number, str) else ""
    if len(code) != 6 or not code.isdigit():
        return False
    results = numdb.get("cn/loc").info(code)
    return any("county" in props for _part, props in results)


_ID_SHAPE_RE = re.compile(r"^[0-9]{17}[0-9X]$")


def mask_id_number(id_number: object) -> str:
    """``330523********0011`` (first 6, 8 stars, last 4). Anything not shaped like an 18-character ID
    number is masked completely (same length, all stars) so that garbage is never revealed either."""
    if id_number is None:
        return ""
    s = str(id_number).strip()
    if _ID_SHAPE_RE.match(s.upper()):
        return s[:6] + "*" * 8 + s[-4:].upper()
    return "*" * len(s)


# --------------------------------------------------------------------------- USCC

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, Z, S, V


def normalize_credit_code(raw: object) -> str:
    """Validate a unified social credit code and return it normalised (18 chars, upper-case)."""
    if raw is None:
        raise InvalidValue("统一社会信用代码不能为空")
    if isinstance(raw, bool):
        raise InvalidValue("统一社会信用代码格式错误")
    if isinstance(raw, float | Decimal | int):
        shown = _number_shown(raw)
        raise InvalidValue(
            f"统一社会信用代码被 Excel 当成了数字（“{shown}”），可能已丢失位数，"
            "请将该列设置为“文本”格式后重新导出"
        )
    if not isinstance(raw, str):
        raise InvalidValue("统一社会信用代码格式错误")
    s = _clean_identifier(raw).replace("-", "").upper()
    if not s:
        raise InvalidValue("统一社会信用代码不能为空")
    if len(s) != 18:
        raise InvalidValue(f"统一社会信用代码应为 18 位，实际为 {len(s)} 位")
    for ch in s:
        if ch not in _USCC_ALPHABET:
            if ch in "IOZSV":
                raise InvalidValue(f"统一社会信用代码含有不允许的字母“{ch}”（不使用 I、O、Z、S、V）")
            raise InvalidValue(f"统一社会信用代码含有不允许的字符“{ch}”")
    if not s[2:8].isdigit():
        raise InvalidValue("统一社会信用代码第 3–8 位（登记管理机关行政区划码）应为数字")
    if _uscc.calc_check_digit(s[:17]) != s[17]:
        raise InvalidValue("统一社会信用代码校验位错误")
    return s


# --------------------------------------------------------------------------- phone


def mask_phone(phone: object) -> str:
    """``138****5678`` for a mobile number; other numbers keep at most their last 4 digits."""
    if phone is None:
        return ""
    raw = str(phone).strip()
    digits = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", raw))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not digits.isdigit():
        return "*" * len(raw)
    if len(digits) == 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) >= 8:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)
