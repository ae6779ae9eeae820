"""The printable mediation agreement (调解协议书) as a Word document (pure: data in, .docx bytes out).

Laid out like the rectification notice (earlywarn.notice: A4, 宋体 三号, fixed line pitch): the parties, the
facts and matters in dispute, the terms with each worker's amount, the instalments with their due dates,
how performance is made, the legal effect (调解仲裁法 Arts. 14–16), and a signature block.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH

from earlywarn.notice import TITLE_PT, _clean, _paragraph, _run, _setup, amount_upper, date_zh, item_number_zh
from earlywarn.parsing import format_fen

ROLE_ZH = {"worker": "职工", "employer": "用人单位", "general_contractor": "施工总承包单位",
           "subcontractor": "分包单位"}


@dataclass(frozen=True, slots=True)
class AgreementParty:
    role: str
    name: str
    id_masked: str | None = None
    agreed_fen: int | None = None
    is_representative: bool = False


@dataclass(frozen=True, slots=True)
class AgreementInstalment:
    seq: int
    due_on: date
    amount_fen: int
    payee: str | None  # a worker's name, or None for the whole group


@dataclass(frozen=True, slots=True)
class AgreementData:
    case_no: str
    org_name: str
    mediator: str
    volunteer: str | None
    union_rep: str | None
    parties: list[AgreementParty]
    facts: str
    terms: str
    performance_method: str
    instalments: list[AgreementInstalment]
    signed_on: date
    project: str | None = None


def render_agreement_docx(data: AgreementData) -> bytes:
    workers = [p for p in data.parties if p.role == "worker"]
    payers = [p for p in data.parties if p.role != "worker"]
    if not workers or not payers:
        raise ValueError("调解协议须有职工和用人单位双方当事人")
    doc = Document()
    _setup(doc)
    props = doc.core_properties
    props.title, props.author, props.language = "调解协议书", _clean(data.org_name), "zh-CN"

    _paragraph(doc, "调解协议书", align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, size=TITLE_PT, bold=True)
    _paragraph(doc, data.case_no, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(doc, indent=False)
    _paragraph(doc, "当事人", indent=False, bold=True)
    for p in payers:
        _paragraph(doc, f"{ROLE_ZH.get(p.role, p.role)}：{p.name}")
    if len(workers) > 5:
        reps = [w.name for w in workers if w.is_representative]
        _paragraph(doc, f"职工：{workers[0].name}等 {len(workers)} 人（名单及金额见下）"
                   + (f"，代表：{'、'.join(reps)}" if reps else ""))
    else:
        for w in workers:
            _paragraph(doc, f"职工：{w.name}" + (f"，身份证号 {w.id_masked}" if w.id_masked else ""))
    if data.union_rep:
        _paragraph(doc, f"工会代表：{data.union_rep}（受职工委托代为参加调解）")
    _paragraph(doc, f"调解组织：{data.org_name}；调解员：{data.mediator}"
               + (f"；法律服务志愿者：{data.volunteer}" if data.volunteer else ""))
    _paragraph(doc, "一、主要事实、争议事项及责任", indent=False, bold=True)
    if data.project:
        _paragraph(doc, f"所涉项目：{data.project}。")
    for line in data.facts.splitlines():
        if line.strip():
            _paragraph(doc, line.strip())
    _paragraph(doc, "二、协议内容", indent=False, bold=True)
    for line in data.terms.splitlines():
        if line.strip():
            _paragraph(doc, line.strip())
    total = sum(w.agreed_fen or 0 for w in workers)
    _paragraph(doc, f"应支付职工工资等款项共计{format_fen(total)}"
                    f"（大写：人民币{amount_upper(total)}），各职工金额如下：")
    for i, w in enumerate(workers, start=1):
        _paragraph(doc, f"{i}. {w.name}" + (f"（{w.id_masked}）" if w.id_masked else "")
                   + f"：{format_fen(w.agreed_fen or 0)}")
    _paragraph(doc, "三、履行期限和方式", indent=False, bold=True)
    for inst in data.instalments:
        _paragraph(doc, f"第{item_number_zh(inst.seq)}期：于{date_zh(inst.due_on)}前支付{format_fen(inst.amount_fen)}"
                   + (f"（{inst.payee}）" if inst.payee else "") + "。")
    _paragraph(doc, f"履行方式：{data.performance_method.strip()}")
    _paragraph(doc, "四、协议效力", indent=False, bold=True)
    _paragraph(doc, "本协议经双方当事人签名或者盖章，经调解员签名并经调解组织盖章后生效，对双方当事人具有约束力，"
                    "当事人应当履行（《劳动争议调解仲裁法》第十四条）。双方可自本协议生效之日起三十日内共同申请司法确认"
                    "或者仲裁审查确认。用人单位在协议约定期限内不履行支付拖欠劳动报酬义务的，职工可以持本协议书依法向"
                    "人民法院申请支付令（第十六条），也可以依法申请仲裁（第十五条）。")
    _paragraph(doc, "本协议一式三份，双方当事人各执一份，调解组织留存一份。")
    _paragraph(doc, indent=False)
    p = _paragraph(doc, indent=False)
    _run(p, "用人单位（盖章）：")
    _paragraph(doc, indent=False)
    _run(_paragraph(doc, indent=False), "职工（或代表）签名：")
    _paragraph(doc, indent=False)
    _run(_paragraph(doc, indent=False), "调解员签名：")
    _paragraph(doc, indent=False)
    right = {"align": WD_ALIGN_PARAGRAPH.RIGHT, "indent": False}
    _paragraph(doc, f"{data.org_name}（盖章）", **right)
    _paragraph(doc, date_zh(data.signed_on), **right)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
