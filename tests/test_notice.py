"""The rectification notice (整改通知书): content, layout and fonts of the .docx, refusals."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from earlywarn.notice import (
    NoticeData,
    NoticeViolation,
    amount_upper,
    date_zh,
    item_number_zh,
    render_notice_docx,
)

VIOLATIONS = [
    NoticeViolation("未按约定支付农民工工资", "《保障农民工工资支付条例》第十二条", "木工班组2026年10月工资至今未发放"),
    NoticeViolation("未设立农民工工资专用账户", "《保障农民工工资支付条例》第二十六条、第五十五条"),
    NoticeViolation("未设置维权信息告示牌", "《保障农民工工资支付条例》第三十四条", ""),
]
DATA = NoticeData(
    notice_no="安建薪整〔2026〕12号",
    issued_on=date(2026, 12, 1),
    issuer="安吉县住房和城乡建设局",
    project_code="AJ-2026-017",
    project_name="递铺街道安置房二期",
    township="递铺街道",
    general_contractor="浙江安吉建工集团有限公司",
    violations=VIOLATIONS,
    workers_owed=23,
    amount_owed_fen=1_234_560,
    deadline=date(2026, 12, 15),
    contact="王科长 0572-5123456",
    checked_on=date(2026, 11, 28),
)


def open_docx(data: NoticeData) -> docx.document.Document:
    return docx.Document(io.BytesIO(render_notice_docx(data)))


def full_text(document) -> str:
    return "\n".join(p.text for p in document.paragraphs)


def test_notice_content():
    document = open_docx(DATA)
    text = full_text(document)
    paragraphs = [p for p in document.paragraphs if p.text]
    assert paragraphs[0].text == "整改通知书"
    assert paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert paragraphs[1].text == "安建薪整〔2026〕12号"
    assert paragraphs[2].text == "浙江安吉建工集团有限公司："
    for v in VIOLATIONS:
        assert v.title in text and v.legal_basis in text
    assert ("一、未按约定支付农民工工资。木工班组2026年10月工资至今未发放"
            "（依据：《保障农民工工资支付条例》第十二条）") in text
    assert "三、未设置维权信息告示牌（依据：" in text
    assert "《保障农民工工资支付条例》" in paragraphs[3].text and "2026年11月28日" in paragraphs[3].text
    assert "递铺街道安置房二期" in text and "AJ-2026-017" in text
    assert "23名农民工" in text and "￥12,345.60" in text and "壹万贰仟叁佰肆拾伍元陆角整" in text
    assert "先行清偿" in text
    assert "2026年12月15日前" in text and "书面报告安吉县住房和城乡建设局" in text
    assert "王科长 0572-5123456" in text
    assert [p.text for p in paragraphs[-2:]] == ["安吉县住房和城乡建设局", "2026年12月1日"]
    assert all(p.alignment == WD_ALIGN_PARAGRAPH.RIGHT for p in paragraphs[-2:])


def test_notice_page_and_fonts():
    document = open_docx(DATA)
    section = document.sections[0]
    # Word stores twips, so A4 comes back to within a tenth of a millimetre
    assert abs(section.page_width.mm - 210) < 0.1 and abs(section.page_height.mm - 297) < 0.1
    assert document.core_properties.title == "整改通知书"
    normal_fonts = document.styles["Normal"].element.rPr.rFonts
    assert normal_fonts.get(qn("w:eastAsia")) == "宋体"
    runs = [r for p in document.paragraphs for r in p.runs]
    assert runs and all(r._r.rPr.rFonts.get(qn("w:eastAsia")) == "宋体" for r in runs)
    assert document.paragraphs[0].runs[0].bold
    footer_xml = section.footer.paragraphs[0]._p.xml
    assert 'w:instr="PAGE"' in footer_xml


def test_no_arrears_leaves_out_the_arrears_paragraph():
    text = full_text(open_docx(replace(DATA, workers_owed=0, amount_owed_fen=0, contact=None,
                                       checked_on=None)))
    assert "￥" not in text and "先行清偿" not in text and "足额清偿" not in text
    assert "联系人" not in text
    assert "2026年12月1日，安吉县住房和城乡建设局依据" in text  # the check date defaults to the issue date


def test_zero_violations_is_refused():
    with pytest.raises(ValueError, match="没有需要整改的问题"):
        render_notice_docx(replace(DATA, violations=[]))


def test_deadline_before_the_notice_and_negative_amounts_are_refused():
    with pytest.raises(ValueError, match="整改期限"):
        render_notice_docx(replace(DATA, deadline=date(2026, 11, 30)))
    with pytest.raises(ValueError, match="负数"):
        render_notice_docx(replace(DATA, amount_owed_fen=-1))


def test_special_characters_round_trip():
    name = '安吉<建工>&"集团"\'有限公司'
    violation = NoticeViolation("工资<未>&发放", "《条例》第三条 & 第十二条", "班组长称“老板跑路”<待核实>")
    text = full_text(open_docx(replace(DATA, general_contractor=name, project_name="A&B<项目>",
                                       violations=[violation])))
    assert f"{name}：" in text
    assert "“A&B<项目>”" in text
    assert violation.title in text and violation.legal_basis in text and violation.detail in text


def test_characters_xml_cannot_hold_are_dropped_not_fatal():
    text = full_text(open_docx(replace(DATA, general_contractor="安吉\x0b建工\x00集团")))
    assert "安吉建工集团：" in text


@pytest.mark.parametrize(("fen", "upper"), [
    (1_234_560, "壹万贰仟叁佰肆拾伍元陆角整"),
    (10_010_000, "壹拾万零壹佰元整"),
    (100_507, "壹仟零伍元零柒分"),
    (100_000_100, "壹佰万零壹元整"),
    (10_001_000_000, "壹亿零壹万元整"),
    (1_000, "壹拾元整"),
    (55, "伍角伍分"),
    (5, "伍分"),
    (0, "零元整"),
])
def test_amount_in_capitals(fen, upper):
    assert amount_upper(fen) == upper


def test_numbers_and_dates():
    assert [item_number_zh(n) for n in (1, 9, 10, 11, 20, 21, 99)] == ["一", "九", "十", "十一", "二十", "二十一",
                                                                      "九十九"]
    assert date_zh(date(2026, 1, 5)) == "2026年1月5日"
    with pytest.raises(ValueError):
        item_number_zh(100)
