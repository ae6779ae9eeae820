"""Value parsers: every variant formats.md names, and garbage for each."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from earlywarn.parsing import (
    InvalidValue,
    fen_to_yuan_str,
    format_fen,
    is_blank,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_hours_centi,
    parse_int,
    parse_money_fen,
    parse_period,
    parse_text,
)

SH = ZoneInfo("Asia/Shanghai")


def reason(fn, *args, **kw) -> str:
    with pytest.raises(InvalidValue) as ei:
        fn(*args, **kw)
    assert str(ei.value) == ei.value.message
    return ei.value.message


# ----------------------------------------------------------------------------- blank


@pytest.mark.parametrize("v", [None, "", "   ", "\u3000", "\t\n", "\u200b", float("nan")])
def test_is_blank_true(v):
    assert is_blank(v)


@pytest.mark.parametrize("v", ["0", 0, 0.0, False, "否", date(2025, 1, 1)])
def test_is_blank_false(v):
    assert not is_blank(v)


@pytest.mark.parametrize(
    "fn",
    [parse_date, parse_datetime, parse_period, parse_money_fen, parse_bool, parse_hours_centi, parse_int],
)
def test_blank_is_an_error_for_every_parser(fn):
    assert reason(fn, "  ") == "不能为空"
    assert reason(fn, None) == "不能为空"


# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "raw",
    [
        "2025-03-05",
        "2025/03/05",
        "2025/3/5",
        "2025-3-5",
        "2025.3.5",
        "2025年3月5日",
        "2025年03月05日",
        "2025 年 3 月 5 日",
        "2025年3月5号",
        "20250305",
        " 2025-03-05 ",
        "２０２５－０３－０５",
        "２０２５／３／５",
        "2025-03-05 00:00:00",  # database / pandas exports
        "2025/3/5 8:30",
        date(2025, 3, 5),
        datetime(2025, 3, 5, 8, 30),
        45721,  # Excel serial: 1899-12-30 + 45721 days
        45721.0,
        45721.75,  # serial with a time of day
        20250305,  # YYYYMMDD typed as a number
        20250305.0,
    ],
)
def test_parse_date_variants(raw):
    assert parse_date(raw) == date(2025, 3, 5)


def test_excel_serial_edges():
    assert parse_date(18264) == date(1950, 1, 1)
    assert parse_date(73415) == date(2100, 12, 31)
    assert "无法识别" in reason(parse_date, 18263)
    assert "无法识别" in reason(parse_date, 73416)
    assert "无法识别" in reason(parse_date, 5)
    assert "无法识别" in reason(parse_date, float("inf"))


@pytest.mark.parametrize(
    "raw",
    [
        "03/05/2025",  # month-first or day-first: ambiguous
        "5/3/2025",
        "25/3/5",  # two-digit year
        "2025-03",  # a month, not a date
        "2025/03-05",  # mixed separators
        "2025年3月",
        "March 5, 2025",
        "昨天",
        "abc",
        "202535",
        "2025--03-05",
    ],
)
def test_parse_date_garbage(raw):
    msg = reason(parse_date, raw)
    assert "无法识别" in msg and "2025-03-05" in msg


@pytest.mark.parametrize("raw", ["2025-02-30", "2025/13/01", "2025年2月29日", "20250230", 20251301])
def test_parse_date_impossible(raw):
    assert "日期无效" in reason(parse_date, raw)


def test_parse_date_with_impossible_time():
    assert "时间无效" in reason(parse_date, "2025-03-05 25:00")


def test_parse_date_out_of_range_and_types():
    assert "超出合理范围" in reason(parse_date, "1899-12-31")
    assert "超出合理范围" in reason(parse_date, "2101-01-01")
    assert "无法识别" in reason(parse_date, True)
    assert "无法识别" in reason(parse_date, time(8, 0))


def test_parse_date_serial_string_gets_a_hint():
    msg = reason(parse_date, "45721")
    assert "Excel 的日期序号" in msg


def test_parse_date_message_quotes_the_value():
    assert reason(parse_date, "下周一") == "日期格式无法识别：“下周一”，应为 2025-03-05"


# ----------------------------------------------------------------------------- datetimes


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2025-03-05 08:30", datetime(2025, 3, 5, 8, 30, tzinfo=SH)),
        ("2025-03-05 8:30", datetime(2025, 3, 5, 8, 30, tzinfo=SH)),
        ("2025-03-05T08:30:15", datetime(2025, 3, 5, 8, 30, 15, tzinfo=SH)),
        ("2025/3/5 08:30:15", datetime(2025, 3, 5, 8, 30, 15, tzinfo=SH)),
        ("2025年3月5日 08:30", datetime(2025, 3, 5, 8, 30, tzinfo=SH)),
        ("2025年3月5日 8时30分", datetime(2025, 3, 5, 8, 30, tzinfo=SH)),
        ("2025年3月5日8点", datetime(2025, 3, 5, 8, 0, tzinfo=SH)),
        ("２０２５－０３－０５　０８：３０", datetime(2025, 3, 5, 8, 30, tzinfo=SH)),
        ("2025-03-05", datetime(2025, 3, 5, 0, 0, tzinfo=SH)),
        ("2025-03-05 08:30:15.250", datetime(2025, 3, 5, 8, 30, 15, 250000, tzinfo=SH)),
        (datetime(2025, 3, 5, 8, 30), datetime(2025, 3, 5, 8, 30, tzinfo=SH)),
        (date(2025, 3, 5), datetime(2025, 3, 5, tzinfo=SH)),
        (45721.5, datetime(2025, 3, 5, 12, 0, tzinfo=SH)),
    ],
)
def test_parse_datetime_naive_is_shanghai(raw, expected):
    got = parse_datetime(raw)
    assert got == expected
    assert got.tzinfo is not None and got.utcoffset() == timedelta(hours=8)


def test_parse_datetime_aware_input_keeps_its_offset():
    got = parse_datetime("2025-03-05T00:30:00Z")
    assert got == datetime(2025, 3, 5, 8, 30, tzinfo=SH)  # same instant
    assert got.utcoffset() == timedelta(0)
    got = parse_datetime("2025-03-05T08:30+08:00")
    assert got == datetime(2025, 3, 5, 8, 30, tzinfo=SH)
    aware = datetime(2025, 3, 5, 1, 0, tzinfo=UTC)
    assert parse_datetime(aware) is aware


def test_parse_datetime_other_tz():
    got = parse_datetime("2025-03-05 08:30", tz=UTC)
    assert got.utcoffset() == timedelta(0) and got.hour == 8


@pytest.mark.parametrize(
    "raw", ["2025-03-05 24:00", "2025-03-05 08:61", "2025-03-05 08:30:60", "2025-03-05T08:30+15:00"]
)
def test_parse_datetime_bad_time(raw):
    assert "无效" in reason(parse_datetime, raw)


@pytest.mark.parametrize("raw", ["08:30", "2025-03-05 8", "2025-03-05 早上", "03/05/2025 08:30", True])
def test_parse_datetime_garbage(raw):
    assert "无法识别" in reason(parse_datetime, raw)


# ----------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    "raw",
    [
        "2025-03",
        "2025/03",
        "2025/3",
        "2025-3",
        "2025.03",
        "2025年3月",
        "2025年03月",
        "2025年3月份",
        "202503",
        "２０２５年３月",
        "2025-03-01",  # Excel turned the typed month into a date
        "2025/3/31",
        date(2025, 3, 1),
        datetime(2025, 3, 1),
        202503,
        202503.0,
        45717,  # unformatted date cell 2025-03-01
    ],
)
def test_parse_period_variants(raw):
    assert parse_period(raw) == "2025-03"


@pytest.mark.parametrize("raw", ["2025-13", "202513", "202500", "2025年0月"])
def test_parse_period_bad_month(raw):
    assert "月份无效" in reason(parse_period, raw)


@pytest.mark.parametrize(
    "raw", ["03/2025", "25-03", "Mar-25", "2025", "2025-3-", "三月", "20253", 2025, True]
)
def test_parse_period_garbage(raw):
    msg = reason(parse_period, raw)
    assert "无法识别" in msg and "2025-03" in msg


def test_parse_period_out_of_range():
    assert "超出合理范围" in reason(parse_period, "1850-03")


# ----------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    "raw, fen",
    [
        ("1234.5", 123450),
        ("1234.50", 123450),
        ("1,234.50", 123450),
        ("¥1234.50", 123450),
        ("￥1,234.50", 123450),
        ("￥ 1,234.50", 123450),
        ("1234元", 123400),
        ("1234.5 元", 123450),
        ("RMB 1234.50", 123450),
        ("rmb1234.50", 123450),
        ("人民币1234.50元", 123450),
        ("１２３４．５０", 123450),
        ("１，２３４．５", 123450),
        ("1234.500", 123450),  # trailing zeros do not count as decimals
        ("1,234,567.89", 123456789),
        ("0", 0),
        ("0.01", 1),
        (".5", None),  # rejected below
        ("1.5万", 1500000),
        ("3万元", 3000000),
        (1234, 123400),
        (1234.5, 123450),
        (0.1 + 0.2, 30),  # a computed Excel value: within 1e-6 of 0.30
        (Decimal("1234.50"), 123450),
        (270.0, 27000),
    ],
)
def test_parse_money_variants(raw, fen):
    if fen is None:
        assert "无法识别" in reason(parse_money_fen, raw)
    else:
        assert parse_money_fen(raw) == fen
        assert isinstance(parse_money_fen(raw), int)


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "12,34",  # bad grouping
        "1,5",  # European decimal comma must not become 15
        "1.234,50",
        "1,2345.00",
        "12 34",
        "1234.5.6",
        "$1234",
        "1e5",
        "NaN",
        "Infinity",
        "约5000",
        "5000左右",
        "--5",
        "1234.",
        True,
        float("inf"),
    ],
)
def test_parse_money_garbage(raw):
    assert "无法识别" in reason(parse_money_fen, raw)


def test_parse_money_too_many_decimals():
    assert reason(parse_money_fen, "1234.567") == "金额最多两位小数：“1234.567”"
    assert "两位小数" in reason(parse_money_fen, 1234.567)
    assert "两位小数" in reason(parse_money_fen, Decimal("0.001"))
    assert "两位小数" in reason(parse_money_fen, "0.1234567万")  # 1234.567 yuan
    assert parse_money_fen("0.123456万") == 123456  # 1234.56 yuan


def test_parse_money_negative():
    for raw in ("-12", "-￥12.00", "￥-12.00", "－12", "\u221212", -12, -12.0):
        assert "不能为负数" in reason(parse_money_fen, raw)
        assert parse_money_fen(raw, allow_negative=True) == -1200


def test_parse_money_too_large():
    assert "过大" in reason(parse_money_fen, "99999999999999999")
    assert "过大" in reason(parse_money_fen, 1e20)


def test_format_fen():
    assert format_fen(123450) == "￥1,234.50"
    assert format_fen(5) == "￥0.05"
    assert format_fen(0) == "￥0.00"
    assert format_fen(-1200) == "-￥12.00"
    assert format_fen(123456789012) == "￥1,234,567,890.12"


def test_fen_to_yuan_str():
    assert fen_to_yuan_str(123450) == "1234.50"
    assert fen_to_yuan_str(7) == "0.07"
    assert fen_to_yuan_str(0) == "0.00"
    assert fen_to_yuan_str(-1205) == "-12.05"
    assert fen_to_yuan_str(-5) == "-0.05"


def test_money_round_trips():
    for fen in (0, 1, 99, 100, 123450, 987654321):
        assert parse_money_fen(fen_to_yuan_str(fen)) == fen
        assert parse_money_fen(format_fen(fen)) == fen


# ----------------------------------------------------------------------------- yes/no


@pytest.mark.parametrize(
    "raw", ["yes", "YES", "Yes", "y", "Y", "1", "true", "TRUE", "True", "是", "有", " 是 ", "√", 1, 1.0, True]
)
def test_parse_bool_true(raw):
    assert parse_bool(raw) is True


@pytest.mark.parametrize(
    "raw", ["no", "NO", "n", "N", "0", "false", "FALSE", "否", "无", "没有", "×", 0, 0.0, False]
)
def test_parse_bool_false(raw):
    assert parse_bool(raw) is False


@pytest.mark.parametrize("raw", ["maybe", "是的吧", "2", "yess", "不", "有的", 2, 0.5, date(2025, 1, 1)])
def test_parse_bool_garbage(raw):
    assert "应为“是”或“否”" in reason(parse_bool, raw)


# ----------------------------------------------------------------------------- hours


@pytest.mark.parametrize(
    "raw, centi",
    [
        (8, 800),
        (7.5, 750),
        ("8", 800),
        ("7.5", 750),
        ("7.25", 725),
        ("０", 0),
        ("24", 2400),
        ("8小时", 800),
        ("7.5h", 750),
        ("7:30", 750),
        ("7:20", 733),  # 7.333… rounded to the hundredth
        ("10.005", 1001),  # half-up
        (time(8, 0), 800),
        (timedelta(hours=9, minutes=45), 975),
        (Decimal("8.00"), 800),
        (8.0, 800),
    ],
)
def test_parse_hours(raw, centi):
    assert parse_hours_centi(raw) == centi


@pytest.mark.parametrize("raw", [25, "24.01", -1, "-0.5", 100.0, timedelta(hours=25)])
def test_parse_hours_out_of_range(raw):
    assert reason(parse_hours_centi, raw) == "工时应在 0–24 之间"


@pytest.mark.parametrize("raw", ["八小时", "abc", "7:75", "8-9", True, float("inf"), date(2025, 1, 1)])
def test_parse_hours_garbage(raw):
    assert "工时" in reason(parse_hours_centi, raw)


# ----------------------------------------------------------------------------- int and text


@pytest.mark.parametrize(
    "raw, n",
    [("12", 12), (" 12 ", 12), ("1,200", 1200), ("12.0", 12), (12, 12), (12.0, 12), ("-3", -3), ("１２", 12)],
)
def test_parse_int(raw, n):
    assert parse_int(raw) == n


@pytest.mark.parametrize("raw", ["12.5", 12.5, "abc", "1,20", True, "1e3", float("inf"), float("nan")])
def test_parse_int_garbage(raw):
    assert "应为整数" in reason(parse_int, raw) or reason(parse_int, raw) == "不能为空"


def test_parse_int_bounds_and_suffixes():
    assert parse_int("30人", suffixes=("人", "名")) == 30
    assert "应为整数" in reason(parse_int, "30人")
    assert reason(parse_int, "-1", min=0) == "不能小于 0：“-1”"
    assert reason(parse_int, 10001, max=10000) == "不能大于 10000：“10001”"
    assert parse_int("0", min=0, max=0) == 0


def test_parse_text():
    assert parse_text("  安吉县某某建设有限公司 \u3000", max_len=50) == "安吉县某某建设有限公司"
    assert parse_text("第一行\r\n第二行", max_len=50) == "第一行\n第二行"
    assert parse_text(2025001.0, max_len=20) == "2025001"  # a code typed as a number
    assert parse_text(13812345678.0, max_len=20) == "13812345678"
    assert parse_text(1.5, max_len=20) == "1.5"
    assert parse_text(date(2025, 3, 5), max_len=20) == "2025-03-05"
    assert parse_text("ＡＢＣ", max_len=5) == "ＡＢＣ"  # user text is not NFKC-folded


def test_parse_text_errors():
    assert reason(parse_text, "  ", max_len=10) == "不能为空"
    assert reason(parse_text, None, max_len=10) == "不能为空"
    assert reason(parse_text, "一二三四五六", max_len=5) == "内容过长（最多 5 个字，实际 6 个字）"
    assert "控制字符" in reason(parse_text, "a\x00b", max_len=10)
    assert "控制字符" in reason(parse_text, "a\x1bb", max_len=10)
    assert parse_text("a\tb", max_len=10) == "a\tb"
