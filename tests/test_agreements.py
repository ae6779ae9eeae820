"""The agreement's completeness check (pure) and the printable .docx."""

import io
from datetime import date

from docx import Document

from earlywarn.agreement_docx import AgreementData, AgreementInstalment, AgreementParty, render_agreement_docx
from earlywarn.agreements import completeness
from earlywarn.tables import CaseAgreement, CaseInstalment, CaseParty

TODAY = date(2026, 3, 2)
NOW = __import__("datetime").datetime(2026, 3, 2, 8)


def parties():
    return [CaseParty(id=1, case_id=1, role="worker", name="陈一", agreed_fen=300_000),
            CaseParty(id=2, case_id=1, role="worker", name="林二", agreed_fen=200_000),
            CaseParty(id=3, case_id=1, role="general_contractor", name="安吉建工")]


def complete() -> CaseAgreement:
    return CaseAgreement(case_id=1, facts="2025 年 9 月工资未发放，总包认可。", terms="总包先行清偿",
                         performance_method="银行代发",
                         employer_signed_at=NOW, workers_signed_at=NOW, mediator_signed_at=NOW, sealed_at=NOW)


def check(agreement, ps, inst, today=TODAY):
    return completeness(agreement, ps, inst, mediator_assigned=True, org_assigned=True, today=today)


def test_complete_agreement_passes():
    inst = [CaseInstalment(case_id=1, party_id=1, seq=1, due_on=date(2026, 3, 10), amount_fen=300_000),
            CaseInstalment(case_id=1, party_id=2, seq=2, due_on=date(2026, 3, 10), amount_fen=200_000)]
    assert check(complete(), parties(), inst) == []


def test_each_missing_element_is_named():
    bare = CaseAgreement(case_id=1)
    ps = parties()
    ps[1].agreed_fen = None
    missing = check(bare, ps, [])
    for needle in ("主要事实", "协议内容", "履行方式", "每名职工的协议金额：林二", "履行期次",
                   "用人单位（或总承包单位）签名盖章",
                   "职工（或代表）签名", "调解员签名", "调解组织盖章"):
        assert any(needle in m for m in missing), needle
    assert completeness(complete(), [], [], mediator_assigned=False, org_assigned=False, today=TODAY)[:4] == [
        "当事人：没有职工一方", "当事人：没有用人单位一方", "承办调解员", "调解组织"]


def test_instalments_must_add_up_per_worker_and_not_be_past():
    inst = [CaseInstalment(case_id=1, party_id=1, seq=1, due_on=date(2026, 3, 1), amount_fen=250_000),
            CaseInstalment(case_id=1, party_id=2, seq=2, due_on=date(2026, 3, 10), amount_fen=200_000)]
    missing = check(complete(), parties(), inst)
    assert "各期金额合计 ￥4,500.00 与协议金额合计 ￥5,000.00 不符" in missing
    assert "陈一 的各期金额合计 ￥2,500.00 与其协议金额不符" in missing
    assert "履行期限不能早于今天" in missing


def test_docx_in_chinese_with_amounts_and_instalments():
    data = AgreementData(case_no="AJ调〔2026〕0007号", org_name="梅溪镇劳动争议调解委员会", mediator="王调解",
                         volunteer="李律师",
                         union_rep=None, parties=[AgreementParty("general_contractor", "安吉建工"),
                                                  AgreementParty("worker", "陈一", "330523********0011", 300_000)],
                         facts="2025 年 9 月工资未发放。", terms="总包先行清偿。", performance_method="银行代发",
                         instalments=[AgreementInstalment(1, date(2026, 3, 10), 300_000, "陈一")],
                         signed_on=date(2026, 3, 2), project="梅溪镇安置房（AJ-1）")
    doc = Document(io.BytesIO(render_agreement_docx(data)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "调解协议书" in text and "AJ调〔2026〕0007号" in text and "施工总承包单位：安吉建工" in text
    assert "陈一（330523********0011）：￥3,000.00" in text and "叁仟元整" in text
    assert "第一期：于2026年3月10日前支付￥3,000.00（陈一）。" in text and "法律服务志愿者：李律师" in text
    assert "2026年3月2日" in text
