"""A rectification notice (整改通知书) for a site as a Word document, laid out like a Chinese official document.

Pure: data in, .docx bytes out. The layout follows GB/T 9704-2012 where it matters on a single page: A4 with
its margins, the title centred, the document number under it, the addressee flush left, numbered items, the
issuer and date at the bottom right, the page number centred in the footer. Body text is 宋体 三号 so the
document prints the same on machines without the official 仿宋_GB2312 / 小标宋 fonts.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

from earlywarn.parsing import format_fen

EAST_ASIAN_FONT = "宋体"
LATIN_FONT = "Times New Roman"
TITLE_PT = 22  # 二号
BODY_PT = 16  # 三号
LINE_PT = 28  # fixed line pitch of official documents: 22 lines to the A4 page
WAGE_REGULATIONS = "《保障农民工工资支付条例》"

_XML_BAD = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_NUMERALS = "〇一二三四五六七八九"


@dataclass(frozen=True, slots=True)
class NoticeViolation:
    title: str
    legal_basis: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class NoticeData:
    notice_no: str  # 文号, e.g. 安建薪整〔2026〕12号
    issued_on: date
    issuer: str
    project_code: str
    project_name: str
    township: str
    general_contractor: str
    violations: list[NoticeViolation]
    workers_owed: int
    amount_owed_fen: int
    deadline: date
    contact: str | None = None
    checked_on: date | None = None  # the inspection; the issue date when not given


def date_zh(d: date) -> str:
    """2026-12-15 → ``2026年12月15日`` (Arabic numerals, as GB/T 9704-2012 writes dates)."""
    return f"{d.year}年{d.month}月{d.day}日"


def item_number_zh(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一: the numbering of first-level items in official documents."""
    if not 1 <= n <= 99:
        raise ValueError(f"序号超出范围：{n}")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _NUMERALS[ones]
    return ("" if tens == 1 else _NUMERALS[tens]) + "十" + ("" if ones == 0 else _NUMERALS[ones])


def _four_digits_upper(n: int) -> str:
    out, zero, started = "", False, False
    for digit, unit in zip(f"{n:04d}", ("仟", "佰", "拾", ""), strict=True):
        d = int(digit)
        if d == 0:
            zero = zero or started
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + unit
        started = True
    return out


def _yuan_upper(n: int) -> str:
    if n == 0:
        return "零"
    groups = []
    while n:
        n, group = divmod(n, 10000)
        groups.append(group)
    if len(groups) > 4:
        raise ValueError("金额过大")
    out, gap = "", False
    for i in range(len(groups) - 1, -1, -1):
        group = groups[i]
        if group == 0:
            gap = bool(out)
            continue
        # A zero is read wherever a group is skipped or starts below a thousand (壹万零伍佰, 壹亿零壹万).
        if out and (gap or group < 1000):
            out += "零"
        out += _four_digits_upper(group) + ("", "万", "亿", "万亿")[i]
        gap = False
    return out


def amount_upper(fen: int) -> str:
    """The amount in capital numerals for money (大写): 1234560 → ``壹万贰仟叁佰肆拾伍元陆角整``."""
    if fen < 0:
        raise ValueError("金额不能为负数")
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    if yuan and not rest:
        return f"{_yuan_upper(yuan)}元整"
    if not yuan and not rest:
        return "零元整"
    head = f"{_yuan_upper(yuan)}元" if yuan else ""
    if jiao:
        head += f"{_DIGITS[jiao]}角"
    elif yuan:
        head += "零"
    return head + (f"{_DIGITS[cents]}分" if cents else "整")


def _clean(text: str) -> str:
    """Drop characters a .docx (XML 1.0) cannot hold; lxml would refuse the whole document over one of them."""
    return _XML_BAD.sub("", text)


def _set_fonts(rpr_owner, east_asian: str = EAST_ASIAN_FONT) -> None:
    """Latin and East Asian faces on a run or style; Word picks the Chinese face only from ``w:eastAsia``."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asian)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _paragraph(doc, text: str = "", *, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = True,
               size: float = BODY_PT, bold: bool = False) -> Paragraph:
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.alignment = align
    fmt.first_line_indent = Pt(size * 2) if indent else None
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(LINE_PT if size <= BODY_PT else size * 1.6)
    if text:
        _run(p, text, size=size, bold=bold)
    return p


def _run(p: Paragraph, text: str, *, size: float = BODY_PT, bold: bool = False):
    run = p.add_run(_clean(text))
    run.font.size = Pt(size)
    run.bold = True if bold else None
    _set_fonts(run._r)
    return run


def _page_number_footer(section) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, "— ", size=14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    inner = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    inner.append(text)
    field.append(inner)
    p._p.append(field)
    p._p.append(_run(p, " —", size=14)._r)


def _setup(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    normal.font.name = LATIN_FONT
    _set_fonts(normal.element)
    _page_number_footer(section)


def _validate(data: NoticeData) -> None:
    # A notice demanding the correction of nothing must not go out; arrears alone belong in the list as a
    # violation (Art. 3) with their own basis, so the caller decides what the site is told to fix.
    if not data.violations:
        raise ValueError("没有需要整改的问题，不能出具整改通知书")
    if data.deadline < data.issued_on:
        raise ValueError("整改期限不能早于发文日期")
    if data.amount_owed_fen < 0 or data.workers_owed < 0:
        raise ValueError("欠薪人数和金额不能为负数")
    if len(data.violations) > 99:
        raise ValueError("问题条目过多，请合并后再出具")


def render_notice_docx(data: NoticeData) -> bytes:
    """The notice as .docx bytes; ValueError when there is nothing to rectify or the deadline precedes the notice."""
    _validate(data)
    doc = Document()
    _setup(doc)
    props = doc.core_properties
    props.title = "整改通知书"
    props.subject = _clean(f"{data.project_name}（{data.project_code}）")
    props.author = _clean(data.issuer)
    props.language = "zh-CN"

    _paragraph(doc, "整改通知书", align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, size=TITLE_PT, bold=True)
    _paragraph(doc, data.notice_no, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(doc, indent=False)
    _paragraph(doc, f"{data.general_contractor}：", indent=False)

    checked = data.checked_on or data.issued_on
    _paragraph(
        doc,
        f"{date_zh(checked)}，{data.issuer}依据{WAGE_REGULATIONS}对你单位承建的“{data.project_name}”"
        f"（项目编号：{data.project_code}，位于{data.township}）农民工工资支付情况进行了检查，"
        f"发现存在以下问题：",
    )
    for i, v in enumerate(data.violations, start=1):
        p = _paragraph(doc)
        _run(p, f"{item_number_zh(i)}、{v.title.strip().rstrip('。')}", bold=True)
        detail = v.detail.strip()
        if detail:
            _run(p, f"。{detail}" if not detail.startswith(("。", "，", "：")) else detail)
        _run(p, f"（依据：{v.legal_basis}）")

    if data.amount_owed_fen > 0:
        _paragraph(
            doc,
            f"经核查，该项目现拖欠{data.workers_owed}名农民工工资共计{format_fen(data.amount_owed_fen)}"
            f"（大写：人民币{amount_upper(data.amount_owed_fen)}）。根据{WAGE_REGULATIONS}第三十条，"
            f"分包单位拖欠农民工工资的，由施工总承包单位先行清偿，再依法进行追偿。",
        )
    _paragraph(
        doc,
        f"现责令你单位对上述问题立即整改，并于{date_zh(data.deadline)}前整改完毕"
        + ("、足额清偿所拖欠的农民工工资" if data.amount_owed_fen > 0 else "")
        + f"，将整改情况书面报告{data.issuer}。逾期未整改或整改不到位的，将依法依规处理。",
    )
    if data.contact:
        _paragraph(doc, f"联系人及电话：{data.contact}")

    _paragraph(doc, indent=False)
    _paragraph(doc, indent=False)
    right = {"align": WD_ALIGN_PARAGRAPH.RIGHT, "indent": False}
    _paragraph(doc, data.issuer, **right)
    _paragraph(doc, date_zh(data.issued_on), **right)

    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
