"""Resident ID numbers and USCCs: real values, bad input tested as hard as good."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from earlywarn.identity import (
    InvalidValue,
    id_area_code,
    id_area_known,
    id_birth_date,
    id_gender,
    mask_id_number,
    mask_phone,
    normalize_credit_code,
    normalize_id_number,
)

TODAY = date(2025, 6, 1)


def make_id(first17: str) -> str:
    """A valid ID from 17 digits; calc_check_digit wants the number *including* a check position."""
    assert len(first17) == 17
    return first17 + ric.calc_check_digit(first17 + "?")


ANJI_1980_M = make_id("33052319800101001")  # 330523198001010011, male (17th digit 1)
ANJI_X = make_id("33052319800101002")  # check character X, female (17th digit 2)
assert ANJI_1980_M == "330523198001010011"
assert ANJI_X == "33052319800101002X"


def norm(v, **kw):
    return normalize_id_number(v, today=kw.pop("today", TODAY), **kw)


def reason(fn, *args, **kw) -> str:
    with pytest.raises(InvalidValue) as ei:
        fn(*args, **kw)
    e = ei.value
    assert str(e) == e.message and e.message  # str(e) is the Chinese message
    assert isinstance(e, ValueError)
    return e.message


# ----------------------------------------------------------------------------- ID numbers: accepted


def test_valid_anji_id():
    assert norm(ANJI_1980_M) == "330523198001010011"
    assert id_birth_date(ANJI_1980_M) == date(1980, 1, 1)
    assert id_gender(ANJI_1980_M) == "M"
    assert id_area_code(ANJI_1980_M) == "330523"


def test_lowercase_x_is_upper_cased():
    assert norm(ANJI_X.lower()) == ANJI_X
    assert norm(ANJI_X) == ANJI_X
    assert id_gender(ANJI_X) == "F"


def test_spaces_full_width_space_and_full_width_digits_are_normalised():
    assert norm("  330523 19800101 0011 ") == ANJI_1980_M
    assert norm("\u3000330523198001010011\u3000") == ANJI_1980_M
    assert norm("３３０５２３１９８００１０１００１１") == ANJI_1980_M
    assert norm("33052319800101002ｘ") == ANJI_X
    assert norm("330523198001010011\u200b") == ANJI_1980_M
    # CSV tricks to keep Excel from mangling the number
    assert norm('="330523198001010011"') == ANJI_1980_M
    assert norm("'330523198001010011") == ANJI_1980_M


def test_area_code_unknown_or_younger_than_holder_is_accepted():
    # 330523 (安吉县) exists since 1983; a worker born 1975 got the code in force when the number was issued.
    born_1975 = make_id("33052319750615123")
    assert norm(born_1975) == born_1975
    with pytest.raises(ValidationError):  # what python-stdnum's validate() would wrongly do
        ric.validate(born_1975)
    # an area code that does not exist at all: still accepted (a notice at most)
    unknown = make_id("99999919800101001")
    assert norm(unknown) == unknown
    assert id_area_known(ANJI_1980_M) is True
    assert id_area_known(unknown) is False


def test_born_on_1900_and_today_are_accepted():
    b1900 = make_id("33052319000101001")
    assert norm(b1900) == b1900
    today_id = make_id("33052320250601001")
    assert norm(today_id, today=date(2025, 6, 1)) == today_id


# ----------------------------------------------------------------------------- ID numbers: rejected


def test_bad_check_digit():
    bad = ANJI_1980_M[:17] + "2"
    assert reason(norm, bad) == "身份证号校验位错误"
    assert reason(norm, ANJI_1980_M[:17] + "X") == "身份证号校验位错误"


@pytest.mark.parametrize(
    "raw",
    ["3.30523E+17", "3.30523e+17", "3.30523E17", "3.3052319800101e+17", " 3.30523E+17 "],
)
def test_excel_scientific_notation_rejected_with_text_format_message(raw):
    msg = reason(norm, raw)
    assert "科学计数法" in msg and "“文本”格式" in msg and raw.strip() in msg


def test_float_looking_string_rejected_with_text_format_message():
    msg = reason(norm, "330523198001010000.0")
    assert "“文本”格式" in msg and "330523198001010000.0" in msg


def test_numeric_cell_rejected_with_text_format_message():
    msg = reason(norm, 3.30523198001010011e17)  # what calamine/openpyxl give for a number cell
    assert "科学计数法" in msg and "“文本”格式" in msg and "3.3052319800101e+17" in msg
    msg = reason(norm, 330523198001010011)
    assert "“文本”格式" in msg


def test_impossible_birth_date():
    # 1980-02-30; give it a correct check character so only the date is wrong
    assert reason(norm, make_id("33052319800230001")) == "身份证号中的出生日期无效（19800230）"
    assert "出生日期无效" in reason(norm, make_id("33052319801301001"))
    assert "出生日期无效" in reason(norm, make_id("33052319800100001"))


def test_future_birth_date():
    future = make_id("33052320250602001")
    assert reason(norm, future, today=date(2025, 6, 1)) == "身份证号中的出生日期（2025-06-02）晚于今天"
    # with the real clock as default, a birth in 2999 is in the future
    assert "晚于今天" in reason(normalize_id_number, make_id("33052329990101001"))


def test_birth_before_1900():
    assert "早于 1900 年" in reason(norm, make_id("33052318991231001"))


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("33052319800101001", "身份证号应为 18 位，实际为 17 位"),
        ("3305231980010100111", "身份证号应为 18 位，实际为 19 位"),
        ("330523800101001", "身份证号应为 18 位，这是 15 位的旧号码，请换成 18 位的新号码"),
        ("33052319800101A011", "身份证号前 17 位应为数字"),
        ("33052319800101_011", "身份证号前 17 位应为数字"),  # int('1_0', 13) would accept it
        ("3305231980010100A1", "身份证号前 17 位应为数字"),  # 'A' is a base-13 digit for stdnum
        ("33052319800101001Y", "身份证号最后一位应为数字或 X"),
        ("", "身份证号不能为空"),
        ("   ", "身份证号不能为空"),
        (None, "身份证号不能为空"),
    ],
)
def test_malformed(raw, expected):
    assert reason(norm, raw) == expected


def test_garbage_types():
    assert reason(norm, True)
    assert reason(norm, ["330523198001010011"])


def test_helpers_reject_garbage():
    for fn in (id_birth_date, id_gender, id_area_code):
        reason(fn, "123")
    assert reason(id_birth_date, "330523198002300011") == "身份证号中的出生日期无效（19800230）"


# ----------------------------------------------------------------------------- masking


def test_mask_id_number_exact():
    assert mask_id_number("330523198001010011") == "330523********0011"
    assert mask_id_number("33052319800101002x") == "330523********002X"
    assert len(mask_id_number(ANJI_1980_M)) == 18


@pytest.mark.parametrize(
    "raw",
    ["", "12345", "330523800101001", "3.30523E+17", "hello world 123456", "33052319800101001", "张三"],
)
def test_mask_id_number_never_reveals_garbage(raw):
    masked = mask_id_number(raw)
    assert masked == "*" * len(raw)


def test_mask_id_number_odd_types():
    assert mask_id_number(None) == ""
    assert set(mask_id_number(3.30523e17)) == {"*"}


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("138 1234 5678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("0572-5123456") == "057****3456"
    assert mask_phone("5123 4567") == "****4567"
    assert mask_phone("12345") == "*****"
    assert mask_phone("电话未知") == "****"
    assert mask_phone(None) == ""


# ----------------------------------------------------------------------------- USCC


def make_uscc(first17: str) -> str:
    return first17 + uscc.calc_check_digit(first17)


VALID_USCC = make_uscc("91330523MA28C0A10")  # 91330523MA28C0A103
RURAL_COLLECTIVE = make_uscc("N2330523123456780")  # registration authority N (农业)


def test_uscc_valid():
    assert VALID_USCC == "91330523MA28C0A103"
    assert normalize_credit_code(VALID_USCC) == VALID_USCC
    assert normalize_credit_code("91110000600037341L") == "91110000600037341L"  # python-stdnum doctest


def test_uscc_lowercase_spaces_and_full_width():
    assert normalize_credit_code(" 91330523ma28c0a103 ") == VALID_USCC
    assert normalize_credit_code("9133 0523 MA28 C0A1 03") == VALID_USCC
    assert normalize_credit_code("９１３３０５２３ＭＡ２８Ｃ０Ａ１０３") == VALID_USCC


def test_uscc_letter_registration_authority_accepted():
    # python-stdnum's uscc.validate() requires 8 leading digits and rejects this real-world shape.
    with pytest.raises(ValidationError):
        uscc.validate(RURAL_COLLECTIVE)
    assert normalize_credit_code(RURAL_COLLECTIVE) == RURAL_COLLECTIVE


def test_uscc_bad_check():
    bad = VALID_USCC[:17] + ("4" if VALID_USCC[17] != "4" else "5")
    assert reason(normalize_credit_code, bad) == "统一社会信用代码校验位错误"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_uscc_forbidden_letters(letter):
    code = VALID_USCC[:10] + letter + VALID_USCC[11:]
    assert reason(normalize_credit_code, code) == (
        f"统一社会信用代码含有不允许的字母“{letter}”（不使用 I、O、Z、S、V）"
    )


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("91330523MA28C0A10", "统一社会信用代码应为 18 位，实际为 17 位"),
        ("", "统一社会信用代码不能为空"),
        (None, "统一社会信用代码不能为空"),
        ("913305#3MA28C0A103", "统一社会信用代码含有不允许的字符“#”"),
        ("9133A523MA28C0A103", "统一社会信用代码第 3–8 位（登记管理机关行政区划码）应为数字"),
    ],
)
def test_uscc_malformed(raw, expected):
    assert reason(normalize_credit_code, raw) == expected


def test_uscc_numeric_cell():
    assert "“文本”格式" in reason(normalize_credit_code, 1.2330523e17)
