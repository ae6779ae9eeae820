"""Routes for mediation cases (调解案件): my cases and all cases, opening one, the case page, the printable
agreement, evidence downloads, the leaders' overdue list with figures, reminders and the volunteer roster."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import select

from earlywarn import (
    agreements,
    case_clock,
    case_lists,
    case_parties,
    case_routing,
    case_stats,
    cases,
    referrals,
    retaliation,
)
from earlywarn import case_deadlines as cd
from earlywarn.agreement_docx import AgreementData, AgreementInstalment, AgreementParty, render_agreement_docx
from earlywarn.case_states import FINAL, actions_from
from earlywarn.case_timeline import read_evidence
from earlywarn.config import local_date, local_today
from earlywarn.deps import CsrfForm, SessionDep, SettingsDep, load_auth, require_roles
from earlywarn.emergencies import open_for
from earlywarn.enums import CaseSource, ReferralBody, ReportCategory, Role, TimelineKind
from earlywarn.orgs import township_names
from earlywarn.precedent import settlement_precedent
from earlywarn.reports import messages_of
from earlywarn.tables import CaseEvent, LegalVolunteer, MediationCase, MediationOrg, Project, UserAccount
from earlywarn.templating import render

router = APIRouter(dependencies=[Depends(load_auth)])
Viewer = Annotated[UserAccount, Depends(require_roles(Role.mediator, Role.leader, Role.admin))]
Actor = Annotated[UserAccount, Depends(require_roles(Role.mediator, Role.admin))]
Text = Annotated[str, Form(max_length=5000)]


def case_or_404(session, case_id: int) -> MediationCase:
    case = session.get(MediationCase, case_id)
    if case is None:
        raise HTTPException(status_code=404)
    return case


def parse_day(value: str, field: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise cases.CaseError("日期格式应为 2026-03-01", field=field) from None


@router.get("/cases", response_class=HTMLResponse)
def case_list(request: Request, session: SessionDep, settings: SettingsDep, user: Viewer, scope: str | None = None,
              status: str | None = None, township: str | None = None):
    scope = scope if scope in ("mine", "all") else ("mine" if user.role == Role.mediator else "all")
    status = status if status in case_lists.STATUS_FILTERS else "open"
    towns = township_names(settings.reference_file)
    township = township if township in towns else None
    today = local_today()
    rows = case_lists.list_cases(session=session, today=today, status=status, township=township,
                                 assignee_id=user.id if scope == "mine" else None)
    return render(request, "cases/list.html", rows=rows, scope=scope, status=status, township=township,
                  townships=towns, today=today, reminders=case_clock.reminders_for(session=session, user=user))


@router.post("/reminders/{reminder_id}/dismiss", dependencies=[CsrfForm])
def dismiss_reminder(reminder_id: int, session: SessionDep, user: Viewer):
    case_clock.dismiss_reminder(session=session, user=user, reminder_id=reminder_id)
    return RedirectResponse("/cases", status_code=303)


def _new_form(request: Request, settings, status_code: int = 200, error: str | None = None,
              form: dict | None = None, field: str | None = None):
    return render(request, "cases/new.html", status_code, townships=township_names(settings.reference_file),
                  sources=[s.value for s in CaseSource if s != CaseSource.warning],
                  types=[t.value for t in ReportCategory], error=error, field=field, form=form or {})


@router.get("/cases/new", response_class=HTMLResponse)
def new_case_form(request: Request, settings: SettingsDep, user: Actor, report: int | None = None):
    form = {"source": "reports", "report_ids": str(report)} if report else {}
    return _new_form(request, settings, form=form)


@router.post("/cases", dependencies=[CsrfForm])
def create_case(request: Request, session: SessionDep, settings: SettingsDep, user: Actor,
                source: Annotated[str, Form()] = "", case_type: Annotated[str, Form()] = "wage_arrears",
                title: Text = "", summary: Text = "", township: Annotated[str, Form()] = "",
                project_code: Annotated[str, Form(max_length=64)] = "", report_ids: Text = "",
                union_rep_name: Annotated[str, Form(max_length=64)] = "",
                received_on: Annotated[str, Form(max_length=20)] = ""):
    form = dict(source=source, case_type=case_type, title=title, summary=summary, township=township,
                project_code=project_code, report_ids=report_ids, union_rep_name=union_rep_name,
                received_on=received_on)
    try:
        project = None
        if project_code.strip():
            project = session.exec(select(Project).where(Project.code == project_code.strip())).first()
            if project is None:
                raise cases.CaseError("项目编号不存在", field="project_code")
        ids = [int(x) for x in report_ids.replace("，", ",").replace("#", "").replace(",", " ").split()
               if x.strip()] if report_ids.strip() else []
        case = cases.open_case(session=session, source=source, title=title, summary=summary, township=township or None,
                               project_id=project.id if project else None, report_ids=ids, case_type=case_type,
                               union_rep_name=union_rep_name, received_on=parse_day(received_on, "received_on"),
                               actor=user, townships=township_names(settings.reference_file))
    except ValueError as exc:  # CaseError, or a report number that is not a number
        field = getattr(exc, "field", "report_ids")
        message = str(exc) if isinstance(exc, cases.CaseError) else "报告编号应为数字，多个用空格或逗号分隔"
        return _new_form(request, settings, 400, message, form, field)
    return RedirectResponse(f"/cases/{case.id}", status_code=303)


def detail_context(session, settings, case: MediationCase) -> dict:
    today = local_today()
    parties = cases.parties_of(session=session, case=case)
    agreement = agreements.agreement_of(session=session, case=case)
    instalments = agreements.instalments_of(session=session, case=case)
    reports = cases.reports_of(session=session, case=case)
    users = dict(session.exec(select(UserAccount.id, UserAccount.display_name)).all())
    missing = agreements.completeness(
        agreement, parties, instalments, mediator_assigned=case.assignee_id is not None,
        org_assigned=case.mediation_org_id is not None, today=today) if agreement else None
    return dict(
        c=case, today=today, parties=parties, agreement=agreement, instalments=instalments, missing=missing,
        deadlines=case_clock.all_deadlines(session=session, case=case), due_state=cd.due_state,
        kind_zh=case_clock.KIND_ZH, actions=actions_from(case.status), final=case.status in FINAL,
        transitions=cases.transitions_of(session=session, case=case),
        events=cases.events_of(session=session, case=case),
        reports=reports, messages={r.id: messages_of(session=session, report=r) for r in reports},
        referrals=referrals.referrals_of(session=session, case=case), body_zh=referrals.BODY_ZH,
        hardship=case_parties.hardship_of(session=session, case=case), users=users,
        org=session.get(MediationOrg, case.mediation_org_id) if case.mediation_org_id else None,
        orgs=case_routing.mediation_orgs(session=session), mediators=case_routing.mediators(session=session),
        volunteers=case_routing.volunteers(session=session),
        volunteer=session.get(LegalVolunteer, case.volunteer_id) if case.volunteer_id else None,
        project=session.get(Project, case.project_id) if case.project_id else None,
        emergency=open_for(session=session, case_id=case.id), signatures=agreements.SIGNATURES,
        reps_problem=cases.representatives_problem(parties), timeline_kinds=[k.value for k in TimelineKind],
        bodies=[b.value for b in ReferralBody], max_extension=cd.MAX_EXTENSION_DAYS,
    )


def render_detail(request: Request, session, settings, case: MediationCase, status_code: int = 200,
                  error: str | None = None, form: dict | None = None, field: str | None = None):
    user = getattr(request.state, "user", None)
    return render(request, "cases/case.html", status_code, error=error, form=form or {}, field=field,
                  retaliation=retaliation.flags_of(session=session, case=case, user=user),
                  precedent=None if case.status in FINAL else settlement_precedent(session=session, case=case),
                  **detail_context(session, settings, case))


@router.get("/cases/overdue", response_class=HTMLResponse)
def overdue_page(request: Request, session: SessionDep, user: Viewer):
    today = local_today()
    return render(request, "cases/overdue.html", today=today, rows=case_clock.overdue(session=session, today=today),
                  kind_zh=case_clock.KIND_ZH, stats=case_stats.case_stats(session=session, today=today),
                  bodies=referrals.on_time_by_body(session=session, today=today), body_zh=referrals.BODY_ZH)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Viewer):
    return render_detail(request, session, settings, case_or_404(session, case_id))


def agreement_data(session, case: MediationCase) -> AgreementData:
    parties = cases.parties_of(session=session, case=case)
    names = {p.id: p.name for p in parties}
    agreement = agreements.agreement_of(session=session, case=case)
    if agreement is None or agreement.finalised_at is None:
        raise HTTPException(status_code=409, detail="调解协议尚未定稿，不能打印")
    org = session.get(MediationOrg, case.mediation_org_id)
    mediator = session.get(UserAccount, case.assignee_id)
    volunteer = session.get(LegalVolunteer, case.volunteer_id) if case.volunteer_id else None
    project = session.get(Project, case.project_id) if case.project_id else None
    return AgreementData(
        case_no=case.case_no, org_name=org.name if org else "", mediator=mediator.display_name if mediator else "",
        volunteer=volunteer.name if volunteer else None, union_rep=case.union_rep_name,
        parties=[AgreementParty(p.role, p.name, p.id_masked, p.agreed_fen, p.is_representative) for p in parties],
        facts=agreement.facts, terms=agreement.terms, performance_method=agreement.performance_method,
        instalments=[AgreementInstalment(i.seq, i.due_on, i.amount_fen, names.get(i.party_id))
                     for i in agreements.instalments_of(session=session, case=case)],
        signed_on=local_date(agreement.finalised_at),
        project=f"{project.name}（{project.code}）" if project else None)


@router.get("/cases/{case_id}/agreement.docx")
def agreement_docx(case_id: int, session: SessionDep, user: Viewer):
    case = case_or_404(session, case_id)
    body = render_agreement_docx(agreement_data(session, case))
    name = f"调解协议书-{case.case_no}.docx"
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.get("/cases/{case_id}/evidence/{event_id}")
def evidence(case_id: int, event_id: int, session: SessionDep, settings: SettingsDep, user: Viewer):
    event = session.get(CaseEvent, event_id)
    data = read_evidence(settings=settings, event=event) if event and event.case_id == case_id else None
    if data is None:
        raise HTTPException(status_code=404)
    name = quote(event.data.get("filename") or "evidence")
    return Response(data, media_type=event.data.get("content_type", "application/octet-stream"),
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@router.get("/volunteers", response_class=HTMLResponse)
def volunteer_roster(request: Request, session: SessionDep, user: Viewer):
    return render(request, "cases/volunteers.html", volunteers=case_routing.volunteers(session=session,
                                                                                       active_only=False),
                  error=None, form={})


@router.post("/volunteers", dependencies=[CsrfForm])
def add_volunteer(request: Request, session: SessionDep, user: Actor, name: Annotated[str, Form(max_length=64)] = "",
                  organisation: Annotated[str, Form(max_length=100)] = "",
                  phone: Annotated[str, Form(max_length=20)] = ""):
    try:
        case_routing.add_volunteer(session=session, name=name, organisation=organisation, phone=phone, actor=user)
    except cases.CaseError as exc:
        return render(request, "cases/volunteers.html", 400, volunteers=case_routing.volunteers(
            session=session, active_only=False), error=str(exc), form={"name": name, "organisation": organisation})
    return RedirectResponse("/volunteers", status_code=303)
