"""Reading CSV/XLSX interchange files: encodings, headers, kinds, Excel cells, files that are not tables."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from earlywarn import arrow_csv
from earlywarn.file_format import FileFormatError, detect_encoding, open_csv_text, sniff_format
from earlywarn.file_kinds import KINDS, column_letter, kind_of
from earlywarn.identity import InvalidValue, normalize_id_number
from earlywarn.parsing import parse_date, parse_hours_centi, parse_money_fen
from earlywarn.readers import read_table

ID1 = "330523198001010011"
ID2 = "33052319800101002X"
ID3 = "330523197506151237"
assert ric.calc_check_digit(ID3) == ID3[-1]

WORKERS_ZH = ["项目编号", "身份证号", "姓名", "班组", "工种", "日工资", "进场日期", "退场日期", "手机号"]
WORKERS_ROWS = [
    ["AJ-2025-001", ID1, "张三", "李四木工班", "木工", "350", "2025/3/5", "", "13812345678"],
    ["AJ-2025-001", ID2, "王五", "李四木工班", "钢筋工", "￥1,234.50", "2025年3月6日", "2025-04-01", ""],
    ["AJ-2025-001", ID3, "赵·六（彝族）", "递铺街道泥瓦班", "泥瓦工", "400", "2025-03-07", "", ""],
]


def write_csv(path: Path, header, rows, encoding="utf-8", delimiter=","):
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def all_rows(path, **kw):
    with read_table(path, **kw) as t:
        return t, list(t.rows())


# ----------------------------------------------------------------------------- schema


def test_kinds_schema_matches_formats_md():
    assert list(KINDS) == ["projects", "subcontracts", "workers", "attendance", "payroll", "reports"]
    labels = {k: v.label_zh for k, v in KINDS.items()}
    assert labels == {
        "projects": "项目",
        "subcontracts": "分包关系",
        "workers": "实名制花名册",
        "attendance": "考勤记录",
        "payroll": "工资发放记录",
        "reports": "信息员报告",
    }
    att = KINDS["attendance"]
    assert [(c.name, c.zh, c.required) for c in att.columns] == [
        ("project_code", "项目编号", True),
        ("id_number", "身份证号", True),
        ("date", "日期", True),
        ("hours", "工时", True),
    ]
    assert KINDS["workers"].required == [
        "project_code",
        "id_number",
        "name",
        "team",
        "daily_wage",
        "entry_date",
    ]
    assert KINDS["payroll"].column_names == [
        "project_code", "id_number", "period", "amount_due", "amount_paid", "pay_date", "channel",
    ]  # fmt: skip
    assert KINDS["reports"].required == ["received_at", "text"]
    assert KINDS["projects"].required == [
        "project_code", "project_name", "township", "general_contractor", "start_date",
    ]  # fmt: skip
    assert KINDS["subcontracts"].required == ["project_code", "parent", "child"]
    assert [c.zh for c in KINDS["projects"].columns][-3:] == ["工资专用账户", "工资保证金", "维权告示牌"]


def test_column_letter():
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


# ----------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_round_trip_chinese_exactly(tmp_path, encoding):
    p = write_csv(tmp_path / "roster.csv", WORKERS_ZH, WORKERS_ROWS, encoding=encoding)
    t, rows = all_rows(p)
    assert t.format == "csv"
    assert t.headers == WORKERS_ZH  # no BOM left on the first header
    assert t.kind == "workers" and t.kind_source == "header"
    assert t.missing_required == [] and t.unknown_columns == []
    assert [n for n, _ in rows] == [2, 3, 4]
    assert rows[0][1]["name"] == "张三"
    assert rows[1][1]["daily_wage"] == "￥1,234.50"
    assert rows[2][1]["name"] == "赵·六（彝族）"
    assert rows[2][1]["team"] == "递铺街道泥瓦班"
    assert [r["id_number"] for _, r in rows] == [ID1, ID2, ID3]
    assert rows[0][1]["exit_date"] == ""
    assert t.total_rows_estimate == 3


def test_gb18030_only_characters(tmp_path):
    # 𠮷 (U+20BB7) and 䶮 exist in GB18030 but not in GBK
    rows = [["AJ-1", ID1, "吉𠮷䶮", "班组甲", "", "300", "2025-03-05", "", ""]]
    p = write_csv(tmp_path / "w.csv", WORKERS_ZH, rows, encoding="gb18030")
    t, got = all_rows(p)
    assert t.encoding == "gb18030"
    assert got[0][1]["name"] == "吉𠮷䶮"


def test_gbk_deep_in_an_ascii_file(tmp_path):
    """The first 64 KB decode as UTF-8; the first Chinese (GBK) character comes much later."""
    header = ["project_code", "id_number", "date", "hours"]
    rows = [[f"P{i:06d}", ID1, "2025-03-05", "8"] for i in range(4000)]
    rows.append(["项目甲", ID1, "2025-03-05", "8"])
    p = write_csv(tmp_path / "a.csv", header, rows, encoding="gbk")
    assert p.stat().st_size > 100_000
    t, got = all_rows(p)
    assert t.encoding == "gb18030"
    assert got[-1] == (4002, {"project_code": "项目甲", "id_number": ID1, "date": "2025-03-05", "hours": "8"})


def test_undecodable_file_is_a_file_error(tmp_path):
    p = tmp_path / "bad.csv"
    body = "项目编号,身份证号,日期,工时\n".encode() + b"P1,330523198001010011,2025-03-05,8\n" * 5
    p.write_bytes(body + b"\x80\xff\xfe\x81 broken\n")
    with pytest.raises(FileFormatError) as ei:
        read_table(p)
    assert "第 7 行" in ei.value.message and "编码" in ei.value.message


def test_detect_encoding_and_open_csv_text(tmp_path):
    assert detect_encoding("项目编号".encode()) == "utf-8-sig"
    assert detect_encoding(b"\xef\xbb\xbf" + "项目".encode()) == "utf-8-sig"
    assert detect_encoding("项目编号".encode("gbk")) == "gb18030"
    assert detect_encoding("项目编号".encode()[:-1]) == "utf-8-sig"  # a character cut at the sample end
    assert detect_encoding(b"abc") == "utf-8-sig"
    assert detect_encoding(b"\xff\xff\xff\xff") is None
    p = write_csv(tmp_path / "x.csv", ["项目编号"], [["甲"]], encoding="utf-8-sig")
    with open_csv_text(p) as f:
        assert f.read() == "项目编号\r\n甲\r\n"


def test_utf16_is_explained(tmp_path):
    p = tmp_path / "unicode.txt"
    p.write_bytes("项目编号\t身份证号\n".encode("utf-16"))
    with pytest.raises(FileFormatError, match="UTF-16"):
        read_table(p)


# ----------------------------------------------------------------------------- headers and kinds


def test_english_headers_shuffled_with_extra_column(tmp_path):
    header = ["hours", " Date ", "备注", "ID_NUMBER", "project_code"]
    p = write_csv(tmp_path / "data.csv", header, [["7.5", "2025/3/5", "雨天", ID2.lower(), "AJ-1"]])
    t, rows = all_rows(p)
    assert t.kind == "attendance" and t.kind_source == "header"
    assert t.column_map == {0: "hours", 1: "date", 3: "id_number", 4: "project_code"}
    assert t.unknown_columns == ["备注"]
    assert any("备注" in n for n in t.notices)
    assert rows == [
        (2, {"project_code": "AJ-1", "id_number": ID2.lower(), "date": "2025/3/5", "hours": "7.5"})
    ]
    assert normalize_id_number(rows[0][1]["id_number"]) == ID2


def test_header_spacing_full_width_and_markers(tmp_path):
    header = ["\u3000项目编号 ", "*身份证号", "日 期", "工时（小时）", "ｐｒｏｊｅｃｔ＿ｃｏｄｅ＿ｘ"]
    p = write_csv(tmp_path / "f.csv", header, [["AJ-1", ID1, "2025-03-05", "8", "?"]])
    t, rows = all_rows(p)
    assert t.kind == "attendance"
    assert t.column_map == {0: "project_code", 1: "id_number", 2: "date", 3: "hours"}
    assert t.unknown_columns == ["ｐｒｏｊｅｃｔ＿ｃｏｄｅ＿ｘ"]


def test_mixed_english_and_chinese_headers(tmp_path):
    header = ["project_code", "身份证号", "period", "应发金额", "amount_paid", "发放日期", "发放方式"]
    p = write_csv(
        tmp_path / "f.csv", header, [["AJ-1", ID1, "2025-03", "8,000", "8000", "2025/4/25", "现金"]]
    )
    t, rows = all_rows(p)
    assert t.kind == "payroll"
    row = rows[0][1]
    assert parse_money_fen(row["amount_due"]) == 800000
    assert row["channel"] == "现金"


def test_missing_required_columns_are_listed(tmp_path):
    header = ["项目编号", "身份证号", "姓名", "班组", "工种"]  # no daily_wage, no entry_date
    p = write_csv(tmp_path / "花名册.csv", header, [["AJ-1", ID1, "张三", "甲班", "木工"]])
    t, rows = all_rows(p)
    assert t.kind == "workers" and t.kind_source == "filename"
    assert t.missing_required == ["daily_wage", "entry_date"]
    assert t.missing_required_zh == ["日工资", "进场日期"]
    assert rows[0][1]["daily_wage"] is None  # absent column → None, present but empty → ''


def test_missing_required_without_a_name_hint_uses_the_best_header_match(tmp_path):
    p = write_csv(tmp_path / "upload.csv", ["项目编号", "身份证号", "日期"], [["AJ-1", ID1, "2025-03-05"]])
    t = read_table(p)
    assert t.kind == "attendance" and t.missing_required == ["hours"]


@pytest.mark.parametrize(
    "filename, kind",
    [
        ("attendance_2025-03.csv", "attendance"),
        ("ATTENDANCE.CSV", "attendance"),
        ("考勤3月.csv", "attendance"),
        ("项目考勤.csv", "attendance"),
        ("工资发放记录.csv", "payroll"),
        ("payroll.csv", "payroll"),
        ("分包关系.csv", "subcontracts"),
        ("subcontracts.csv", "subcontracts"),
        ("实名制花名册.csv", "workers"),
        ("workers.csv", "workers"),
        ("信息员报告.csv", "reports"),
        ("reports.csv", "reports"),
        ("projects.csv", "projects"),
        ("项目.csv", "projects"),
        ("data.csv", None),
    ],
)
def test_kind_from_file_name(tmp_path, filename, kind):
    assert kind_of(["列1", "列2"], filename) == kind
    p = write_csv(tmp_path / filename, ["列1", "列2"], [["a", "b"]])
    t = read_table(p)
    assert t.kind == kind
    assert t.kind_source == ("filename" if kind else None)


def test_header_beats_file_name():
    assert kind_of(["项目编号", "身份证号", "日期", "工时"], "payroll.csv") == "attendance"


@pytest.mark.parametrize(
    "headers, kind",
    [
        (["项目编号", "项目名称", "所属乡镇", "施工总承包单位", "开工日期"], "projects"),
        (["project_code", "parent", "child"], "subcontracts"),
        (["项目编号", "身份证号", "姓名", "班组", "日工资", "进场日期"], "workers"),
        (["project_code", "id_number", "date", "hours"], "attendance"),
        (["项目编号", "身份证号", "工资所属月份", "应发金额", "实发金额", "发放日期"], "payroll"),
        (["报告时间", "内容"], "reports"),
        (["报告时间", "内容", "乡镇", "项目编号", "涉及金额"], "reports"),
        (["项目编号"], None),
        ([], None),
    ],
)
def test_kind_of_headers(headers, kind):
    assert kind_of(headers, None) == kind


def test_forced_kind(tmp_path):
    p = write_csv(tmp_path / "attendance.csv", WORKERS_ZH, WORKERS_ROWS)
    t = read_table(p, kind="workers")
    assert t.kind == "workers" and t.kind_source == "forced"
    with pytest.raises(ValueError):
        read_table(p, kind="nonsense")


def test_forced_kind_reports_other_kinds_columns_as_unknown(tmp_path):
    p = write_csv(
        tmp_path / "x.csv", ["项目编号", "身份证号", "日期", "工时"], [["AJ-1", ID1, "2025-03-05", "8"]]
    )
    t = read_table(p, kind="payroll")
    assert t.unknown_columns == ["日期", "工时"]
    assert t.missing_required == ["period", "amount_due", "amount_paid", "pay_date"]


def test_duplicate_column_is_a_file_error(tmp_path):
    p = write_csv(tmp_path / "x.csv", ["项目编号", "身份证号", "日期", "工时", "id_number"], [["a"] * 5])
    with pytest.raises(FileFormatError) as ei:
        read_table(p)
    assert "“身份证号”（B 列）" in ei.value.message and "“id_number”（E 列）" in ei.value.message


# ----------------------------------------------------------------------------- rows


def test_empty_rows_skipped_and_row_numbers_as_the_user_sees_them(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(
        "项目编号,身份证号,日期,工时\n"
        "AJ-1,330523198001010011,2025-03-05,8\n"
        ",,,\n"
        "\n"
        "  ,\u3000, ,\n"
        'AJ-1,330523198001010011,2025-03-06,"7.5"\n'
        'AJ-2,"33052319800101002X",2025-03-06,8\n',
        encoding="utf-8",
    )
    _, rows = all_rows(p)
    assert [n for n, _ in rows] == [2, 6, 7]


def test_multiline_cell_counts_as_one_row(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        '报告时间,内容\n2025-03-05 08:30,"工人堵门\n讨要工资"\n2025-03-06 09:00,拉横幅\n', encoding="utf-8"
    )
    t, rows = all_rows(p)
    assert t.kind == "reports"
    assert rows[0] == (2, {**dict.fromkeys(KINDS["reports"].column_names), "received_at": "2025-03-05 08:30",
                           "text": "工人堵门\n讨要工资"})  # fmt: skip
    assert rows[1][0] == 3


def test_short_and_long_rows(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("项目编号,身份证号,日期,工时\nAJ-1,330523198001010011\nAJ-1,X,2025-03-05,8,安吉县,某公司\n")
    t, rows = all_rows(p)
    assert rows[0][1] == {"project_code": "AJ-1", "id_number": ID1, "date": "", "hours": ""}
    assert rows[1][0] == 3 and rows[1][1]["hours"] == "8"
    assert any("第 3 行比表头多出 2 个单元格" in n for n in t.notices)


def test_title_rows_above_the_header_are_skipped(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text(
        "安吉县某项目2025年3月考勤表,,,\n,,,\n项目编号,身份证号,日期,工时\nAJ-1,330523198001010011,2025-03-05,8\n"
    )
    t, rows = all_rows(p)
    assert t.header_row == 3 and t.kind == "attendance"
    assert rows[0][0] == 4
    assert any("表头在第 3 行" in n for n in t.notices)


def test_tab_separated(tmp_path):
    header = ["项目编号", "身份证号", "日期", "工时"]
    p = write_csv(tmp_path / "a.txt", header, [["AJ-1", ID1, "2025-03-05", "8"]], delimiter="\t")
    t, rows = all_rows(p)
    assert t.delimiter == "\t" and rows[0][1]["hours"] == "8"


def test_rows_can_be_iterated_twice(tmp_path):
    p = write_csv(tmp_path / "w.csv", WORKERS_ZH, WORKERS_ROWS)
    t = read_table(p)
    assert list(t.rows()) == list(t.rows())


def _chunked(t, size: int) -> list[tuple[int, list]]:
    return [(first + i, cells) for first, chunk in t.record_chunks(size) for i, cells in enumerate(chunk)]


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_record_chunks_number_rows_as_records_does(tmp_path, size):
    # Title rows, blank rows, a multi-line cell and a short row: the chunks hold the same rows, numbered alike.
    p = tmp_path / "a.csv"
    p.write_text("安吉县某项目考勤表,,,\n项目编号,身份证号,日期,工时\nAJ-1,330523198001010011,2025-03-05,8\n,,,\n\n"
                 'AJ-1,"3305231980\n01010011",2025-03-06,8\nAJ-2,330523198001010011\nAJ-3,X,2025-03-07,9\n',
                 encoding="utf-8")
    t = read_table(p)
    expected = list(t.records())
    assert [n for n, _ in expected] == [3, 4, 5, 6, 7, 8]
    assert _chunked(t, size) == expected
    assert [len(chunk) for _, chunk in t.record_chunks(4)] == [4, 2]


def _from_chunks(t) -> tuple[list[tuple[int, list]], int]:
    chunks = list(t.chunks(3))
    return [(c.first + i, cells) for c in chunks for i, cells in enumerate(c.cells)], sum(
        c.batch is not None for c in chunks)


def test_chunks_read_by_arrow_are_the_csv_modules_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", 120)
    p = tmp_path / "a.csv"
    body = "".join(f'AJ-{i % 3},"330523198001010011",2025-03-{i % 28 + 1:02d}, {i % 9}\n' for i in range(40))
    p.write_text("\ufeff安吉县某项目考勤表,,,\n项目编号,身份证号,日期,工时\n" + body + ",,,\n\n"
                 'AJ-1,"3305231980\n01010011",2025-03-06,"8"\nAJ-2,"a ""quoted"" b",2025-03-07,\n', encoding="utf-8")
    t = read_table(p)
    rows, batches = _from_chunks(t)
    assert batches > 3  # Arrow read it all, in batches
    # A blank line is a row of empty cells from Arrow, an empty row from the csv module: both blank rows.
    assert rows == [(n, cells or ["", "", "", ""]) for n, cells in t.records()]
    assert rows[0][0] == 3 and rows[-1] == (46, ["AJ-2", 'a "quoted" b', "2025-03-07", ""])


_CELL = st.text(st.sampled_from(list('ab 1,"\n\r\t项目－') + ["\u3000"]), max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELL, min_size=4, max_size=4), max_size=25),
       raw=st.lists(st.text(st.sampled_from(list('a,"\n 项')), max_size=12), max_size=3),
       block=st.sampled_from([40, 90, 1 << 20]))
def test_chunks_and_records_agree_on_any_file(tmp_path, monkeypatch, rows, raw, block):
    """Whatever the cells (quotes, commas, line breaks, blanks) and stray unquoted lines: the rows the
    importer reads in chunks (Arrow where it can) are the rows the csv module reads, numbered alike."""
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", block)
    text = io.StringIO()
    csv.writer(text).writerows([["项目编号", "身份证号", "日期", "工时"], *rows])
    body = text.getvalue() + "".join(line + "\n" for line in raw)
    p = tmp_path / "fuzz.csv"
    p.write_bytes(body.encode())
    try:
        t = read_table(p)
    except FileFormatError:
        return  # not a table at all: the importer says so before reading rows
    expected = [(n, cells) for n, cells in t.records()]
    got, _ = _from_chunks(t)
    blank = ["", "", "", ""]
    assert [(n, c if c != blank else []) for n, c in got] == [(n, c if c != blank else []) for n, c in expected]


def test_a_line_break_in_a_cell_is_read_by_the_csv_module(tmp_path, monkeypatch):
    # Where a block of Arrow's ends between the CR and the LF of a quoted line break, Arrow reads "\r" alone.
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", 40)
    for pad in range(40):
        p = tmp_path / f"{pad}.csv"
        p.write_bytes(("项目编号,身份证号,日期,工时\r\n" + "a" * pad + ',"b\r\nc",,1\r\nx,,,\r\n' * 3).encode())
        t = read_table(p)
        assert _from_chunks(t)[0] == list(t.records()), pad


def test_a_cell_too_long_for_the_csv_module_is_refused_either_way(tmp_path):
    # Arrow has no field size limit; the csv module's (131,072 characters) decides, as it does row by row.
    p = tmp_path / "a.csv"
    rows = [f"AJ-1,{ID1},2025-03-{d:02d},8,备注" for d in range(1, 21)]
    rows[9] = rows[9][:-2] + "x" * (csv.field_size_limit() + 10)
    p.write_text("项目编号,身份证号,日期,工时,备注\n" + "\n".join(rows) + "\n", encoding="utf-8")
    t = read_table(p)
    with pytest.raises(FileFormatError) as chunked:
        _from_chunks(t)
    with pytest.raises(FileFormatError) as by_row:
        list(t.records())
    assert chunked.value.message == by_row.value.message and "单元格内容过长" in by_row.value.message


def test_a_title_cell_with_a_line_break_keeps_arrow_away(tmp_path):
    # Arrow skips lines, not records: it would take the header for a data row.
    p = tmp_path / "a.csv"
    p.write_text('"安吉县\n考勤表",,,\n项目编号,身份证号,日期,工时\nAJ-1,330523198001010011,2025-03-05,8\n',
                 encoding="utf-8")
    t = read_table(p)
    assert t.header_row == 2
    assert _from_chunks(t) == ([(3, ["AJ-1", ID1, "2025-03-05", "8"])], 0)


def test_chunks_go_on_with_the_csv_module_where_arrow_stops(tmp_path, monkeypatch):
    monkeypatch.setattr(arrow_csv, "BLOCK_BYTES", 100)
    p = tmp_path / "a.csv"
    rows = [f"AJ-1,{ID1},2025-03-{d:02d},8" for d in range(1, 21)]
    rows[14] += ",extra"  # a row wider than the header: Arrow stops at its batch
    p.write_text("项目编号,身份证号,日期,工时\n" + "\n".join(rows) + "\n", encoding="utf-8")
    t = read_table(p)
    got, batches = _from_chunks(t)
    assert 0 < batches and got == list(t.records()) and len(got) == 20
    gbk = write_csv(tmp_path / "g.csv", ["项目编号", "身份证号", "日期", "工时"], [["项目甲", ID1, "2025-03-05", "8"]],
                    encoding="gbk")
    t = read_table(gbk)
    assert _from_chunks(t) == (list(t.records()), 0)  # GBK: the csv module throughout


def test_record_chunks_of_an_xlsx_file(tmp_path):
    p = make_xlsx(tmp_path / "a.xlsx", [["项目编号", "身份证号", "日期", "工时"], ["AJ-1", ID1, date(2025, 3, 5), 8],
                                         [None, None, None, None], ["AJ-1", ID2, date(2025, 3, 6), 7.5]])
    t = read_table(p)
    assert _chunked(t, 2) == list(t.records()) and [n for n, _ in _chunked(t, 2)] == [2, 3, 4]


def test_record_chunks_name_the_row_a_file_breaks_at(tmp_path):
    # Bytes that stop decoding appear after the file was opened (it was changed while being read).
    p = tmp_path / "a.csv"
    good = "项目编号,身份证号,日期,工时\n" + "AJ-1,330523198001010011,2025-03-05,8\n" * 20
    p.write_text(good, encoding="utf-8")
    t = read_table(p)
    p.write_bytes(good.encode() + b"AJ-1,\xff\xfe,2025-03-05,8\n")
    with pytest.raises(FileFormatError) as chunked:
        list(t.record_chunks(8))
    with pytest.raises(FileFormatError) as by_row:
        list(t.records())
    assert chunked.value.message == by_row.value.message
    assert "第 22 行附近有无法解码的字节" in chunked.value.message


def test_header_only_file_has_no_rows(tmp_path):
    p = write_csv(tmp_path / "w.csv", WORKERS_ZH, [])
    t, rows = all_rows(p)
    assert t.kind == "workers" and rows == []


def test_blank_csv_is_a_file_error(tmp_path):
    p = tmp_path / "blank.csv"
    p.write_text("\n ,\n\n")
    with pytest.raises(FileFormatError, match="没有内容"):
        read_table(p)


# ----------------------------------------------------------------------------- xlsx


def make_xlsx(path: Path, rows, title: str = "花名册") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_xlsx_with_date_cells_and_ids_as_text_and_numbers(tmp_path):
    p = make_xlsx(
        tmp_path / "upload.xlsx",
        [
            [
                "项目编号",
                "身份证号",
                "姓名",
                "班组",
                "工种",
                "日工资",
                "进场日期",
                "退场日期",
                "手机号",
                "备注",
            ],
            ["AJ-1", ID1, "张三", "甲班", "木工", 350, date(2025, 3, 5), None, "13812345678", None],
            [None] * 10,
            [
                "AJ-1",
                int(ID3),
                "李四",
                "甲班",
                "木工",
                350.5,
                datetime(2025, 3, 6, 0, 0),
                None,
                13812345678,
                "x",
            ],
            ["AJ-1", 3.30523198001010011e17, "王五", "甲班", "木工", "400", 45722, None, None, None],
        ],
    )
    t, rows = all_rows(p)
    assert t.format == "xlsx" and t.sheet_name == "花名册"
    assert t.kind == "workers" and t.missing_required == [] and t.unknown_columns == ["备注"]
    assert [n for n, _ in rows] == [2, 4, 5]
    r2, r4, r5 = (r for _, r in rows)
    # text ID passes
    assert normalize_id_number(r2["id_number"]) == ID1
    assert parse_date(r2["entry_date"]) == date(2025, 3, 5)
    assert r2["entry_date"] == date(2025, 3, 5)  # a real date cell, passed through raw
    assert parse_money_fen(r2["daily_wage"]) == 35000
    # numeric IDs: Excel keeps 15 significant digits, calamine gives a float → rejected, value shown
    for r in (r4, r5):
        assert isinstance(r["id_number"], str) and "e+17" in r["id_number"]
        with pytest.raises(InvalidValue) as ei:
            normalize_id_number(r["id_number"])
        assert "“文本”格式" in ei.value.message and r["id_number"] in ei.value.message
    assert parse_date(r4["entry_date"]) == date(2025, 3, 6)
    assert parse_money_fen(r4["daily_wage"]) == 35050
    assert parse_date(r5["entry_date"]) == date(2025, 3, 6)  # unformatted serial 45722
    assert r2["exit_date"] == ""


def test_xlsx_title_rows_offset_columns_and_hours(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B1"] = "2025年3月考勤"
    ws["B3"], ws["C3"], ws["D3"], ws["E3"] = "project_code", "id_number", "date", "hours"
    ws["B4"], ws["C4"], ws["D4"], ws["E4"] = "AJ-1", ID2, date(2025, 3, 5), 7.5
    ws["B6"], ws["C6"], ws["D6"], ws["E6"] = "AJ-1", ID2, date(2025, 3, 6), 8
    wb.save(tmp_path / "sheet.xlsx")
    t, rows = all_rows(tmp_path / "sheet.xlsx")
    assert t.header_row == 3 and t.kind == "attendance"
    assert [n for n, _ in rows] == [4, 6]
    assert [parse_hours_centi(r["hours"]) for _, r in rows] == [750, 800]
    assert t.total_rows_estimate == 3


def test_xlsx_first_visible_sheet_and_notice(tmp_path):
    wb = openpyxl.Workbook()
    hidden = wb.active
    hidden.title = "说明"
    hidden.sheet_state = "hidden"
    ws = wb.create_sheet("考勤")
    ws.append(["项目编号", "身份证号", "日期", "工时"])
    ws.append(["AJ-1", ID1, date(2025, 3, 5), 8])
    wb.save(tmp_path / "book.xlsx")
    t, rows = all_rows(tmp_path / "book.xlsx")
    assert t.sheet_name == "考勤" and len(rows) == 1
    assert any("2 个工作表" in n for n in t.notices)


def test_xlsx_empty_sheet(tmp_path):
    openpyxl.Workbook().save(tmp_path / "empty.xlsx")
    with pytest.raises(FileFormatError, match="没有内容"):
        read_table(tmp_path / "empty.xlsx")


def test_xlsx_content_wins_over_csv_extension(tmp_path):
    p = make_xlsx(
        tmp_path / "misnamed.csv", [["项目编号", "身份证号", "日期", "工时"], ["AJ-1", ID1, "2025-03-05", 8]]
    )
    assert sniff_format(p) == "xlsx"
    assert read_table(p).kind == "attendance"


# ----------------------------------------------------------------------------- not tables


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("empty.csv", b"", "文件为空"),
        ("empty.xlsx", b"", "文件为空"),
        ("photo.png", PNG, "不是 CSV 或 Excel（.xlsx）文件（看起来是PNG 图片）"),
        ("photo.csv", PNG, "PNG 图片"),
        ("scan.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF 文件"),
        (
            "old.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504,
            "旧版 .xls 格式不支持，请在 Excel 中另存为 .xlsx",
        ),
        ("old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "旧版 .xls 格式不支持"),
        ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "密码"),
        (
            "fake.xlsx",
            "项目编号,身份证号\nAJ-1,330523198001010011\n".encode(),
            "扩展名是 .xlsx，但内容不是 Excel 文件",
        ),
        ("fake.xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>", "网页"),
        ("binary.bin", b"abc\x00\x01\x02def", "不是 CSV 或 Excel（.xlsx）文件"),
        ("broken.xlsx", b"PK\x03\x04 this is not really a zip", "已损坏"),
    ],
)
def test_not_a_table(tmp_path, name, content, expected):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(FileFormatError) as ei:
        read_table(p)
    assert expected in ei.value.message
    assert isinstance(ei.value, InvalidValue)


def test_zip_that_is_not_xlsx(tmp_path):
    p = tmp_path / "data.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(FileFormatError, match="普通的 zip 压缩包"):
        read_table(p)
    p2 = tmp_path / "doc.xlsx"
    with zipfile.ZipFile(p2, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(FileFormatError, match="Word"):
        read_table(p2)


def test_zip_with_workbook_entry_but_garbage_inside(tmp_path):
    p = tmp_path / "corrupt.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("[Content_Types].xml", "not xml")
        z.writestr("xl/workbook.xml", "<<<")
    with pytest.raises(FileFormatError, match="无法读取"):
        read_table(p)


def test_missing_file(tmp_path):
    with pytest.raises(FileFormatError, match="无法打开"):
        read_table(tmp_path / "nope.csv")
