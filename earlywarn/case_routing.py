"""Where a case is handled and by whom (service): the township's mediation organisation by the org tree,
an industry union's, transfers up or across with a reason, the assigned mediator and a legal volunteer."""

from __future__ import annotations

import networkx as nx
from sqlmodel import Session, select

from earlywarn.enums import OrgKind, Role
from earlywarn.orgs import load_org_graph, township_unit
from earlywarn.tables import LegalVolunteer, MediationCase, MediationOrg, OrgUnit, UserAccount


def org_for_unit(graph: nx.DiGraph, orgs_by_unit: dict[int, MediationOrg], unit: int | None) -> MediationOrg | None:
    """Pure: the mediation organisation of ``unit`` or, walking up the tree, of the nearest ancestor with one."""
    while unit is not None:
        if unit in orgs_by_unit:
            return orgs_by_unit[unit]
        parents = list(graph.predecessors(unit)) if unit in graph else []
        unit = parents[0] if parents else None
    return None


def _orgs_by_unit(session: Session) -> dict[int, MediationOrg]:
    return {o.org_unit_id: o for o in session.exec(select(MediationOrg).order_by(MediationOrg.id))}


def route_by_township(*, session: Session, township: str | None) -> MediationOrg | None:
    """The township union's mediation organisation, found in the org tree; the county centre's when the
    township has no union or no organisation of its own."""
    graph = load_org_graph(session=session)
    unit = township_unit(graph, township) if township else None
    if unit is None:
        unit = next((n for n, a in graph.nodes(data=True) if a.get("kind") == OrgKind.county_federation), None)
    return org_for_unit(graph, _orgs_by_unit(session), unit)


def mediation_orgs(*, session: Session) -> list[tuple[MediationOrg, OrgUnit]]:
    """Every organisation a case can go to: county centre, townships, then industry unions."""
    order = {OrgKind.county_federation: 0, OrgKind.township_union: 1, OrgKind.industry_union: 2}
    rows = session.exec(select(MediationOrg, OrgUnit).join(OrgUnit, OrgUnit.id == MediationOrg.org_unit_id)).all()
    return sorted(rows, key=lambda r: (order.get(r[1].kind, 3), r[1].id))


def direction(graph: nx.DiGraph, from_unit: int | None, to_unit: int) -> str:
    """Pure: ``up`` when the target is an ancestor in the tree (township → county), else ``across``."""
    if from_unit is not None and from_unit in graph and to_unit in nx.ancestors(graph, from_unit):
        return "up"
    return "across"


def transfer_case(*, session: Session, case: MediationCase, org_id: int, reason: str, actor: UserAccount | None,
                  expected_version: int | None = None) -> str:
    """Move the case to another organisation, with a reason; returns ``up`` or ``across``."""
    from earlywarn.case_states import FINAL
    from earlywarn.cases import CaseConflict, CaseError, add_event, audit, claim

    target = session.get(MediationOrg, org_id)
    reason = reason.strip()
    if case.status in FINAL:
        raise CaseConflict("已结束的案件不能移交")
    if target is None:
        raise CaseError("请选择接收的调解组织", field="org_id")
    if target.id == case.mediation_org_id:
        raise CaseError("案件已在该调解组织", field="org_id")
    if len(reason) < 2:
        raise CaseError("请写明移交理由", field="reason")
    graph = load_org_graph(session=session)
    current = session.get(MediationOrg, case.mediation_org_id) if case.mediation_org_id else None
    way = direction(graph, current.org_unit_id if current else None, target.org_unit_id)
    claim(session, case, expected_version)
    case.mediation_org_id = target.id
    case.assignee_id = None  # the receiving organisation assigns its own mediator
    session.add(case)
    add_event(session, case, "transfer", actor, reason[:1000], direction=way, to_org=target.name,
              from_org=current.name if current else None)
    audit(session, case, "transfer", actor, direction=way, to_org_id=target.id, reason=reason[:500])
    session.commit()
    return way


def mediators(*, session: Session) -> list[UserAccount]:
    return list(session.exec(select(UserAccount).where(UserAccount.role == Role.mediator,
                                                       UserAccount.is_active.is_(True)).order_by(UserAccount.id)))


def volunteers(*, session: Session, active_only: bool = True) -> list[LegalVolunteer]:
    q = select(LegalVolunteer).order_by(LegalVolunteer.id)
    return list(session.exec(q.where(LegalVolunteer.is_active.is_(True)) if active_only else q))


def add_volunteer(*, session: Session, name: str, organisation: str, phone: str | None,
                  actor: UserAccount | None) -> LegalVolunteer:
    """Register a 职工法律服务志愿者; the phone is kept only masked (the roster is for reaching them in the
    office, the full number stays in the union's own register)."""
    from earlywarn.audit import record_audit
    from earlywarn.cases import CaseError

    name, organisation, phone = name.strip(), organisation.strip(), (phone or "").strip()
    if not 2 <= len(name) <= 64:
        raise CaseError("请填写志愿者姓名", field="name")
    if phone and not (phone.isdigit() and len(phone) == 11):
        raise CaseError("手机号应为 11 位数字", field="phone")
    row = LegalVolunteer(name=name, organisation=organisation[:100],
                         phone_masked=f"{phone[:3]}****{phone[-4:]}" if phone else None)
    session.add(row)
    session.flush()
    record_audit(session=session, action="volunteer.add", actor=actor, object_type="legal_volunteer",
                 object_id=row.id)
    session.commit()
    return row


def assign_case(*, session: Session, case: MediationCase, assignee_id: int | None, volunteer_id: int | None,
                actor: UserAccount | None, expected_version: int | None = None) -> MediationCase:
    from earlywarn.case_states import FINAL
    from earlywarn.cases import CaseConflict, CaseError, add_event, audit, claim

    if case.status in FINAL:
        raise CaseConflict("已结束的案件不能再指派")
    mediator = session.get(UserAccount, assignee_id) if assignee_id else None
    if mediator is None or mediator.role != Role.mediator or not mediator.is_active:
        raise CaseError("请选择在岗的调解员", field="assignee_id")
    volunteer = session.get(LegalVolunteer, volunteer_id) if volunteer_id else None
    if volunteer_id and (volunteer is None or not volunteer.is_active):
        raise CaseError("该法律服务志愿者不在名册中", field="volunteer_id")
    claim(session, case, expected_version)
    case.assignee_id, case.volunteer_id = mediator.id, volunteer.id if volunteer else None
    session.add(case)
    add_event(session, case, "assign", actor, f"承办调解员：{mediator.display_name}"
              + (f"；法律服务志愿者：{volunteer.name}" if volunteer else ""),
              assignee_id=mediator.id, volunteer_id=volunteer.id if volunteer else None)
    audit(session, case, "assign", actor, assignee_id=mediator.id, volunteer_id=volunteer.id if volunteer else None)
    session.commit()
    return case


def set_union_rep(*, session: Session, case: MediationCase, name: str, actor: UserAccount | None,
                  expected_version: int | None = None) -> MediationCase:
    """Name (or change, or clear) the union representative who carries the case. A case the union opened for
    anonymous workers always keeps one: the workers stay anonymous only while a named representative acts."""
    from earlywarn.case_states import FINAL
    from earlywarn.cases import CaseConflict, CaseError, add_event, audit, claim
    from earlywarn.enums import CaseSource

    if case.status in FINAL:
        raise CaseConflict("已结束的案件不能再更换工会代表")
    name = " ".join(name.split())
    if len(name) > 64:
        raise CaseError("工会代表姓名最多 64 个字", field="union_rep_name")
    if case.source == CaseSource.union and len(name) < 2:
        raise CaseError("工会代为申请的案件须有承办的工会代表，请填写姓名", field="union_rep_name")
    if name and len(name) < 2:
        raise CaseError("请填写工会代表的姓名（至少 2 个字）", field="union_rep_name")
    before = case.union_rep_name
    if (name or None) == before:
        raise CaseError("工会代表没有变化", field="union_rep_name")
    claim(session, case, expected_version)
    case.union_rep_name = name or None
    session.add(case)
    add_event(session, case, "union_rep", actor, f"工会代表：{before or '（无）'} → {name or '（无）'}",
              before=before, after=name or None)
    audit(session, case, "union_rep", actor, before=before, after=name or None)
    session.commit()
    return case
