"""The parties of a case (service): workers with their claims, pre-filled from the wage data where it
exists; the employer, the general contractor and the subcontractors of the chain; representatives of a
collective case; hardship referrals. A worker's ID number never appears here, only its masked form."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlmodel import Session, select

from earlywarn import case_clock
from earlywarn import case_deadlines as cd
from earlywarn.balances import worker_months
from earlywarn.chain import liable_parties
from earlywarn.enums import DeadlineKind, PartyRole
from earlywarn.parsing import format_fen
from earlywarn.sites import load_chain
from earlywarn.tables import (
    CaseParty,
    Company,
    HardshipReferral,
    MediationCase,
    Project,
    RosterEntry,
    UserAccount,
    Worker,
)

MAX_CLAIM_FEN = 10_000_000_00  # ￥1,000万 per worker: anything above is a typing error


def recount(session: Session, case: MediationCase) -> None:
    """Workers, amount claimed and the collective flag follow the parties (≥ 10 workers: collective)."""
    from earlywarn.cases import COLLECTIVE_WORKERS

    workers = session.exec(select(CaseParty).where(CaseParty.case_id == case.id,
                                                   CaseParty.role == PartyRole.worker)).all()
    if workers:
        case.workers_count = len(workers)
        case.amount_claimed_fen = sum(w.claim_fen or 0 for w in workers)
        case.is_collective = len(workers) >= COLLECTIVE_WORKERS
    session.add(case)


def _watch_limitation(session: Session, case: MediationCase, party: CaseParty) -> None:
    case_clock.close(session, case, {DeadlineKind.limitation}, cancelled=True, note="离职日期已更正", party_id=party.id)
    if party.employment_ended_on is not None:
        case_clock.add_deadline(session, case, DeadlineKind.limitation, cd.limitation_due(party.employment_ended_on),
                                note=f"{party.name} {party.employment_ended_on.isoformat()} 离场", party_id=party.id)


def prefill_from_wage_data(*, session: Session, case: MediationCase, as_of: date, pay_day: int = 25,
                           actor: UserAccount | None = None, commit: bool = True) -> int:
    """Add the project's workers owed wages past their pay day, each with the amount and months, and the units
    answering for them along the subcontract chain. Workers already on the case are left as they are.
    Returns the number of workers added."""
    from earlywarn.cases import add_event, audit

    project = session.get(Project, case.project_id) if case.project_id else None
    if project is None:
        return 0
    owed: dict[int, list] = defaultdict(lambda: [0, []])
    for wm in worker_months(session=session, as_of=as_of, pay_day=pay_day, project_ids=[project.id]):
        if wm.overdue:
            owed[wm.worker_id][0] += wm.owed_fen
            owed[wm.worker_id][1].append(wm.period)
    if not owed:
        return 0
    existing = set(session.exec(select(CaseParty.worker_id).where(CaseParty.case_id == case.id,
                                                                  CaseParty.worker_id.is_not(None))))
    roster = {r.worker_id: r for r in session.exec(select(RosterEntry).where(RosterEntry.project_id == project.id))}
    teams = dict(session.exec(select(Company.id, Company.name)).all())
    people = {w.id: w for w in session.exec(select(Worker).where(Worker.id.in_(list(owed))))}
    by_team: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    added = 0
    for wid, (fen, periods) in sorted(owed.items()):
        entry = roster.get(wid)
        team = teams.get(entry.team_id, "") if entry else ""
        by_team[team][0] += fen
        by_team[team][1] += 1
        if wid in existing:
            continue
        w = people[wid]
        party = CaseParty(case_id=case.id, role=PartyRole.worker, name=w.name, worker_id=w.id, id_masked=w.id_masked,
                          claim_fen=fen,
                          claim_basis=f"工资核查：{'、'.join(sorted(periods))} 应发未发 {format_fen(fen)}",
                          employment_ended_on=entry.exit_date if entry else None,
                          chain_note=f"班组：{team}" if team else "")
        session.add(party)
        session.flush()
        _watch_limitation(session, case, party)
        added += 1
    _add_chain(session, case, project, {t: tuple(v) for t, v in by_team.items() if t})
    recount(session, case)
    add_event(session, case, "prefill", actor, f"按 {as_of.isoformat()} 工资核查预填 {added} 名职工的请求",
              workers=added, as_of=as_of.isoformat())
    audit(session, case, "prefill", actor, workers=added, as_of=as_of.isoformat())
    if commit:
        session.commit()
    return added


def _add_chain(session: Session, case: MediationCase, project: Project, owed_by_team: dict) -> None:
    """The employing teams, the subcontractors between them and the general contractor (保障农民工工资支付条例
    Art. 30: the general contractor pays first), each once."""
    have = {(p.role, p.name) for p in session.exec(select(CaseParty).where(CaseParty.case_id == case.id))}
    companies = {c.name: c for c in session.exec(select(Company))}

    def add(role: str, name: str, note: str) -> None:
        if (role, name) in have or any(n == name for _r, n in have):
            return
        have.add((role, name))
        company = companies.get(name)
        session.add(CaseParty(case_id=case.id, role=role, name=name[:200], company_id=company.id if company else None,
                              chain_note=note[:500]))

    gc = session.get(Company, project.general_contractor_id)
    add(PartyRole.general_contractor, gc.name,
        "施工总承包单位，对分包单位拖欠的农民工工资先行清偿（《保障农民工工资支付条例》第三十条）")
    for lp in liable_parties(load_chain(session=session, project=project), owed_by_team):
        add(PartyRole.employer, lp.team, f"用工单位；链条：{lp.chain_zh}；{lp.workers} 人 {format_fen(lp.owed_fen)}")
        for unit in lp.path[1:-1]:
            add(PartyRole.subcontractor, unit, f"分包单位；链条：{lp.chain_zh}；依据：{lp.legal_basis}")
    session.flush()


def add_party(*, session: Session, case: MediationCase, role: str, name: str, actor: UserAccount | None,
              claim_fen: int | None = None, employment_ended_on: date | None = None, is_anonymous: bool = False,
              today: date) -> CaseParty:
    from earlywarn.case_states import FINAL
    from earlywarn.cases import CaseConflict, CaseError, add_event, audit

    name = name.strip()
    if case.status in FINAL:
        raise CaseConflict("已结束的案件不能再增加当事人")
    if role not in set(PartyRole):
        raise CaseError("请选择当事人类别", field="role")
    if is_anonymous and role != PartyRole.worker:
        raise CaseError("只有职工可以匿名（由工会代表）", field="is_anonymous")
    if is_anonymous and not case.union_rep_name:
        raise CaseError("匿名职工须由工会代表承办：请先在案件上登记工会代表", field="is_anonymous")
    if is_anonymous:
        name = name or "匿名职工"
    if not 1 <= len(name) <= 200:
        raise CaseError("请填写当事人名称", field="name")
    if claim_fen is not None and not 0 <= claim_fen <= MAX_CLAIM_FEN:
        raise CaseError("请求金额应在 0 到 1000 万元之间", field="claim")
    if role != PartyRole.worker and (claim_fen is not None or employment_ended_on is not None):
        raise CaseError("请求金额和离职日期只登记在职工名下", field="claim")
    if employment_ended_on is not None and employment_ended_on > today:
        raise CaseError("离职日期不能晚于今天", field="employment_ended_on")
    party = CaseParty(case_id=case.id, role=role, name=name, claim_fen=claim_fen, is_anonymous=is_anonymous,
                      employment_ended_on=employment_ended_on, claim_basis="登记" if claim_fen is not None else "")
    session.add(party)
    session.flush()
    if role == PartyRole.worker:
        _watch_limitation(session, case, party)
        recount(session, case)
    add_event(session, case, "party", actor, f"增加当事人：{name}", role=role, party_id=party.id)
    audit(session, case, "party_add", actor, party_id=party.id, role=role)
    session.commit()
    from earlywarn.emergencies import check_emergency

    check_emergency(session=session, case=case, actor=actor)
    return party


def set_representative(*, session: Session, case: MediationCase, party_id: int, on: bool,
                       actor: UserAccount | None) -> CaseParty:
    from earlywarn.cases import REPRESENTATIVES, CaseError, add_event, audit

    party = _party_of(session, case, party_id)
    if party.role != PartyRole.worker:
        raise CaseError("代表须从职工中推选")
    if on and not party.is_representative:
        reps = session.exec(select(CaseParty.id).where(CaseParty.case_id == case.id,
                                                       CaseParty.is_representative.is_(True))).all()
        if len(reps) >= REPRESENTATIVES[1]:
            raise CaseError(f"代表最多 {REPRESENTATIVES[1]} 名")
    party.is_representative = on
    session.add(party)
    add_event(session, case, "representative", actor, f"{'推选' if on else '取消'}代表：{party.name}",
              party_id=party.id)
    audit(session, case, "representative", actor, party_id=party.id, on=on)
    session.commit()
    return party


def _party_of(session: Session, case: MediationCase, party_id: int) -> CaseParty:
    from earlywarn.cases import CaseError

    party = session.get(CaseParty, party_id)
    if party is None or party.case_id != case.id:
        raise CaseError("当事人不存在")
    return party


def refer_hardship(*, session: Session, case: MediationCase, party_id: int, reason: str,
                   actor: UserAccount | None) -> HardshipReferral:
    """Refer a worker to the hardship-worker file (困难职工档案) with the reason."""
    from earlywarn.cases import CaseError, add_event, audit

    party = _party_of(session, case, party_id)
    reason = reason.strip()
    if party.role != PartyRole.worker:
        raise CaseError("只有职工可以转介困难职工档案")
    if not 4 <= len(reason) <= 1000:
        raise CaseError("请写明转介理由（至少 4 个字）", field="reason")
    if session.exec(select(HardshipReferral.id).where(HardshipReferral.party_id == party.id)).first():
        raise CaseError(f"{party.name} 已转介过困难职工档案")
    row = HardshipReferral(case_id=case.id, party_id=party.id, reason=reason, actor_id=actor.id if actor else None)
    session.add(row)
    session.flush()
    add_event(session, case, "hardship", actor, f"转介困难职工档案：{party.name}。{reason}", party_id=party.id)
    audit(session, case, "hardship_referral", actor, party_id=party.id, referral_id=row.id)
    session.commit()
    return row


def hardship_of(*, session: Session, case: MediationCase) -> dict[int, HardshipReferral]:
    rows = session.exec(select(HardshipReferral).where(HardshipReferral.case_id == case.id))
    return {r.party_id: r for r in rows}
