"""The mediation agreement and its performance (service + a pure completeness check).

What the law asks of an agreement (调解仲裁法 Art. 14, 人民调解法 Art. 29): the parties; the main facts, the
matters in dispute and responsibility; the agreed terms with how and by when they are performed; signed or
sealed by both parties, signed by the mediator and sealed by the mediation body. Here that becomes: every
worker with an agreed amount, instalments with due dates that add up to those amounts, and four signatures.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlmodel import Session, select

from earlywarn import case_clock
from earlywarn.db import utcnow
from earlywarn.enums import CaseStatus, DeadlineKind, PartyRole
from earlywarn.parsing import format_fen
from earlywarn.tables import CaseAgreement, CaseInstalment, CaseParty, MediationCase, UserAccount

SIGNATURES = {"employer_signed_at": "用人单位（或总承包单位）签名盖章", "workers_signed_at": "职工（或代表）签名",
              "mediator_signed_at": "调解员签名", "sealed_at": "调解组织盖章"}
EDITABLE = (CaseStatus.in_mediation,)


def completeness(agreement: CaseAgreement, parties: list[CaseParty], instalments: list[CaseInstalment], *,
                 mediator_assigned: bool, org_assigned: bool, today: date) -> list[str]:
    """Pure: what is still missing, in Chinese; an empty list means the agreement can be finalised."""
    missing = []
    workers = [p for p in parties if p.role == PartyRole.worker]
    payers = [p for p in parties if p.role != PartyRole.worker]
    if not workers:
        missing.append("当事人：没有职工一方")
    if not payers:
        missing.append("当事人：没有用人单位一方")
    if not mediator_assigned:
        missing.append("承办调解员")
    if not org_assigned:
        missing.append("调解组织")
    if len(agreement.facts.strip()) < 10:
        missing.append("主要事实、争议事项及责任（至少 10 个字）")
    if len(agreement.terms.strip()) < 4:
        missing.append("协议内容")
    if len(agreement.performance_method.strip()) < 2:
        missing.append("履行方式")
    no_amount = [w.name for w in workers if w.agreed_fen is None]
    if no_amount:
        missing.append("每名职工的协议金额：" + "、".join(no_amount[:10]) + (" 等" if len(no_amount) > 10 else ""))
    agreed = sum(w.agreed_fen or 0 for w in workers)
    if not instalments:
        missing.append("履行期次（金额与期限）")
    else:
        scheduled = sum(i.amount_fen for i in instalments)
        if scheduled != agreed:
            missing.append(f"各期金额合计 {format_fen(scheduled)} 与协议金额合计 {format_fen(agreed)} 不符")
        per: dict[int, int] = defaultdict(int)
        for i in instalments:
            if i.party_id is not None:
                per[i.party_id] += i.amount_fen
        for w in workers:
            if w.id in per and per[w.id] != (w.agreed_fen or 0):
                missing.append(f"{w.name} 的各期金额合计 {format_fen(per[w.id])} 与其协议金额不符")
        if any(i.due_on < today for i in instalments):
            missing.append("履行期限不能早于今天")
    missing += [label for attr, label in SIGNATURES.items() if getattr(agreement, attr) is None]
    return missing


def agreement_of(*, session: Session, case: MediationCase, create: bool = False) -> CaseAgreement | None:
    row = session.exec(select(CaseAgreement).where(CaseAgreement.case_id == case.id)).first()
    if row is None and create:
        row = CaseAgreement(case_id=case.id)
        session.add(row)
        session.flush()
    return row


def instalments_of(*, session: Session, case: MediationCase) -> list[CaseInstalment]:
    return list(session.exec(select(CaseInstalment).where(CaseInstalment.case_id == case.id)
                             .order_by(CaseInstalment.due_on, CaseInstalment.seq)))


def _editable(case: MediationCase, agreement: CaseAgreement | None) -> None:
    from earlywarn.cases import CaseConflict

    if case.status not in EDITABLE:
        raise CaseConflict("只有调解中的案件可以起草或修改调解协议")
    if agreement is not None and agreement.finalised_at is not None:
        raise CaseConflict("调解协议已定稿，不能再修改")


def save_agreement(*, session: Session, case: MediationCase, facts: str, terms: str, performance_method: str,
                   agreed: dict[int, int | None], signatures: set[str], actor: UserAccount | None,
                   expected_version: int | None = None) -> CaseAgreement:
    """Save the draft: texts, the amount agreed per worker (party id → fen) and which signatures are done."""
    from earlywarn.cases import CaseError, audit, claim

    agreement = agreement_of(session=session, case=case)
    _editable(case, agreement)
    if len(facts) > 5000 or len(terms) > 5000 or len(performance_method) > 1000:
        raise CaseError("内容过长（事实和协议内容各 5000 字、履行方式 1000 字以内）")
    if unknown := signatures - set(SIGNATURES):
        raise CaseError(f"未知的签章项：{sorted(unknown)}")
    workers = {p.id: p for p in session.exec(select(CaseParty).where(CaseParty.case_id == case.id,
                                                                     CaseParty.role == PartyRole.worker))}
    for pid, fen in agreed.items():
        if pid not in workers:
            raise CaseError("职工不属于本案", field="agreed")
        if fen is not None and not 0 <= fen <= 10_000_000_00:
            raise CaseError(f"{workers[pid].name} 的协议金额应在 0 到 1000 万元之间", field="agreed")
    claim(session, case, expected_version)
    agreement = agreement or agreement_of(session=session, case=case, create=True)
    agreement.facts, agreement.terms = facts.strip(), terms.strip()
    agreement.performance_method = performance_method.strip()
    now = utcnow()
    for attr in SIGNATURES:
        setattr(agreement, attr, (getattr(agreement, attr) or now) if attr in signatures else None)
    for pid, fen in agreed.items():
        workers[pid].agreed_fen = fen
        session.add(workers[pid])
    session.add(agreement)
    audit(session, case, "agreement_save", actor, signatures=sorted(signatures))
    session.commit()
    return agreement


def add_instalment(*, session: Session, case: MediationCase, due_on: date, amount_fen: int, party_id: int | None,
                   actor: UserAccount | None, today: date) -> CaseInstalment:
    from earlywarn.cases import CaseError, audit

    _editable(case, agreement_of(session=session, case=case))
    if due_on < today:
        raise CaseError("履行期限不能早于今天", field="due_on")
    if amount_fen <= 0:
        raise CaseError("每期金额须大于零", field="amount")
    if party_id is not None:
        party = session.get(CaseParty, party_id)
        if party is None or party.case_id != case.id or party.role != PartyRole.worker:
            raise CaseError("职工不属于本案", field="party_id")
    seq = len(instalments_of(session=session, case=case)) + 1
    row = CaseInstalment(case_id=case.id, party_id=party_id, seq=seq, due_on=due_on, amount_fen=amount_fen)
    session.add(row)
    session.flush()
    audit(session, case, "instalment_add", actor, instalment_id=row.id, amount_fen=amount_fen,
          due_on=due_on.isoformat())
    session.commit()
    return row


def remove_instalment(*, session: Session, case: MediationCase, instalment_id: int, actor: UserAccount | None) -> None:
    from earlywarn.cases import CaseError, audit

    _editable(case, agreement_of(session=session, case=case))
    row = session.get(CaseInstalment, instalment_id)
    if row is None or row.case_id != case.id:
        raise CaseError("该期不存在")
    session.delete(row)
    audit(session, case, "instalment_remove", actor, instalment_id=instalment_id)
    session.commit()


def finalise(*, session: Session, case: MediationCase, actor: UserAccount | None, today: date,
             expected_version: int | None = None) -> CaseAgreement:
    """The completeness check, then 定稿: the case moves to ``agreement``, the instalments and the 30-day
    confirmation clock start."""
    from earlywarn.cases import CaseError, change_status, parties_of

    agreement = agreement_of(session=session, case=case)
    _editable(case, agreement)
    parties, instalments = parties_of(session=session, case=case), instalments_of(session=session, case=case)
    missing = completeness(agreement or CaseAgreement(case_id=case.id), parties, instalments,
                           mediator_assigned=case.assignee_id is not None,
                           org_assigned=case.mediation_org_id is not None, today=today)
    if missing:
        raise CaseError("调解协议不完整，不能定稿。缺少：" + "；".join(missing))
    agreement.finalised_at = utcnow()
    session.add(agreement)
    session.flush()
    names = {p.id: p.name for p in parties}
    from earlywarn.workdays import Due

    for i in instalments:
        case_clock.add_deadline(session, case, DeadlineKind.instalment, Due(i.due_on), instalment_id=i.id,
                                note=f"第 {i.seq} 期 {format_fen(i.amount_fen)}" + (f"（{names[i.party_id]}）"
                                                                                  if i.party_id else ""))
    change_status(session=session, case=case, action="reach_agreement", actor=actor, today=today,
                  expected_version=expected_version)
    return agreement


def mark_paid(*, session: Session, case: MediationCase, instalment_id: int, paid_on: date, paid_fen: int,
              worker_confirmed: bool, note: str, actor: UserAccount | None, today: date) -> CaseInstalment:
    """An instalment paid, with the worker's confirmation where it could be had. A partial amount is recorded
    against it (``paid_fen`` accumulates) and the remainder stays due on the same clock: the instalment counts as
    performed, and its deadline as met, only once the whole amount is in."""
    from earlywarn.cases import CaseConflict, CaseError, add_event, audit

    if case.status not in (CaseStatus.agreement, CaseStatus.performing):
        raise CaseConflict("只有已达成协议或履行中的案件可以登记履行")
    row = session.get(CaseInstalment, instalment_id)
    if row is None or row.case_id != case.id:
        raise CaseError("该期不存在")
    if row.paid_on is not None:
        raise CaseError("该期已登记履行")
    if paid_on > today:
        raise CaseError("支付日期不能晚于今天", field="paid_on")
    before = row.paid_fen or 0
    remaining = row.amount_fen - before
    if paid_fen <= 0:
        raise CaseError("实付金额须大于零", field="paid")
    if paid_fen > remaining:
        raise CaseError(f"实付金额超过本期未付金额 {format_fen(remaining)}", field="paid")
    if not worker_confirmed and len(note.strip()) < 2:
        raise CaseError("职工未确认收款的，请写明支付凭证或未能确认的原因", field="note")
    if paid_fen < remaining:
        return _partial(session, case, row, paid_on, paid_fen, worker_confirmed, note.strip(), actor)
    row.paid_on, row.paid_fen, row.worker_confirmed = paid_on, row.amount_fen, worker_confirmed
    row.confirmation_note = note.strip()[:200]
    session.add(row)
    late = paid_on > row.due_on
    case_clock.close(session, case, {DeadlineKind.instalment}, note="逾期履行" if late else "按期履行",
                     instalment_id=row.id)
    add_event(session, case, "paid", actor, f"第 {row.seq} 期 {format_fen(paid_fen)} 已支付"
              + (f"（含此前部分支付共 {format_fen(row.amount_fen)}，本期付清）" if before else "")
              + ("，职工已确认收款" if worker_confirmed else f"（职工未确认：{note.strip()}）"),
              instalment_id=row.id, late=late)
    audit(session, case, "instalment_paid", actor, instalment_id=row.id, paid_fen=paid_fen,
          worker_confirmed=worker_confirmed)
    session.commit()
    return row


def _partial(session: Session, case: MediationCase, row: CaseInstalment, paid_on: date, paid_fen: int,
             confirmed: bool, note: str, actor: UserAccount | None) -> CaseInstalment:
    """Part of an instalment paid: recorded, the remainder still due on the instalment's own deadline."""
    from earlywarn.cases import add_event, audit

    row.paid_fen = (row.paid_fen or 0) + paid_fen
    left = row.amount_fen - row.paid_fen
    session.add(row)
    status = f"已部分履行 {format_fen(row.paid_fen)}，尚欠 {format_fen(left)}"
    for deadline in case_clock.open_deadlines(session=session, case=case):
        if deadline.kind == DeadlineKind.instalment and deadline.instalment_id == row.id:
            kept = "；".join(x for x in deadline.note.split("；") if x and not x.startswith("已部分履行"))
            deadline.note = "；".join(x for x in (kept, status) if x)[:200]
            session.add(deadline)
    add_event(session, case, "partial_payment", actor,
              f"第 {row.seq} 期部分支付 {format_fen(paid_fen)}（{paid_on.isoformat()}），尚欠 {format_fen(left)}"
              + ("，职工已确认收款" if confirmed else f"（职工未确认：{note}）"),
              instalment_id=row.id, paid_fen=paid_fen, paid_on=paid_on.isoformat(), remaining_fen=left,
              worker_confirmed=confirmed)
    audit(session, case, "instalment_partial", actor, instalment_id=row.id, paid_fen=paid_fen, remaining_fen=left,
          worker_confirmed=confirmed)
    session.commit()
    return row


def record_confirmation(*, session: Session, case: MediationCase, kind: str, applied_on: date,
                        actor: UserAccount | None, today: date) -> CaseAgreement:
    """The parties applied for judicial confirmation (court) or arbitral review (仲裁审查确认)."""
    from earlywarn.cases import CaseError, add_event, audit

    agreement = agreement_of(session=session, case=case)
    if agreement is None or agreement.finalised_at is None:
        raise CaseError("调解协议尚未定稿")
    if kind not in ("judicial", "arbitral"):
        raise CaseError("请选择司法确认或仲裁审查确认", field="kind")
    if applied_on > today:
        raise CaseError("申请日期不能晚于今天", field="applied_on")
    agreement.confirmation, agreement.confirmation_applied_on = kind, applied_on
    session.add(agreement)
    label = "司法确认" if kind == "judicial" else "仲裁审查确认"
    case_clock.close(session, case, {DeadlineKind.confirmation}, note=f"{applied_on.isoformat()} 申请{label}")
    add_event(session, case, "confirmation", actor, f"双方已申请{label}", kind=kind, applied_on=applied_on.isoformat())
    audit(session, case, "confirmation", actor, kind=kind)
    session.commit()
    return agreement
