"""Form posts on a case page: state changes, assignment, transfer, extension, parties, timeline, messages,
deadlines, referrals and the emergency start. Each re-renders the case page with the message on a refusal
(400 bad input, 409 a refused transition or a conflicting save) and redirects back on success."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse

from earlywarn import case_clock, case_parties, case_routing, case_timeline, cases, referrals, retaliation
from earlywarn.case_pages import Actor, Text, case_or_404, parse_day, render_detail
from earlywarn.config import local_today
from earlywarn.deps import CsrfForm, SessionDep, SettingsDep, load_auth
from earlywarn.emergencies import EmergencyError, start_emergency, trigger_of
from earlywarn.parsing import parse_money_fen

router = APIRouter(dependencies=[Depends(load_auth), CsrfForm])
Short = Annotated[str, Form(max_length=200)]
Version = Annotated[int | None, Form()]


def act(request: Request, session, settings, case_id: int, fn, form: dict, anchor: str = ""):
    case = case_or_404(session, case_id)
    try:
        fn(case)
    except (cases.CaseError, EmergencyError) as exc:
        session.rollback()
        status = 409 if isinstance(exc, cases.CaseConflict) else 400
        return render_detail(request, session, settings, case_or_404(session, case_id), status, str(exc), form,
                             getattr(exc, "field", None))
    return RedirectResponse(f"/cases/{case_id}" + (f"#{anchor}" if anchor else ""), status_code=303)


def money(value: str, field: str, required: bool = True) -> int | None:
    if not value.strip():
        if required:
            raise cases.CaseError("请填写金额", field=field)
        return None
    try:
        return parse_money_fen(value)
    except ValueError:
        raise cases.CaseError("金额格式应为 1234.50", field=field) from None


def day(value: str, field: str):
    parsed = parse_day(value, field)
    if parsed is None:
        raise cases.CaseError("请填写日期", field=field)
    return parsed


@router.post("/cases/{case_id}/status")
def change_status(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
                  action: Short = "", reason: Text = "", version: Version = None, body: Short = "",
                  reference: Short = "", sent_on: Short = ""):
    form = dict(action=action, reason=reason, body=body, reference=reference, sent_on=sent_on)

    def run(case):
        referral = {"body": body, "reference": reference, "sent_on": parse_day(sent_on, "sent_on")} \
            if action == "refer" else None
        cases.change_status(session=session, case=case, action=action, actor=user, reason=reason,
                            expected_version=version, referral=referral)
    return act(request, session, settings, case_id, run, form, "status")


@router.post("/cases/{case_id}/assign")
def assign(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
           assignee_id: Annotated[int | None, Form()] = None, volunteer_id: Annotated[str, Form()] = "",
           version: Version = None):
    vid = int(volunteer_id) if volunteer_id.isdigit() else None
    return act(request, session, settings, case_id, lambda c: case_routing.assign_case(
        session=session, case=c, assignee_id=assignee_id, volunteer_id=vid, actor=user, expected_version=version),
        {}, "handling")


@router.post("/cases/{case_id}/union-rep")
def union_rep(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
              union_rep_name: Annotated[str, Form(max_length=200)] = "", version: Version = None):
    return act(request, session, settings, case_id, lambda c: case_routing.set_union_rep(
        session=session, case=c, name=union_rep_name, actor=user, expected_version=version),
        {"union_rep_name": union_rep_name}, "handling")


@router.post("/cases/{case_id}/transfer")
def transfer(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
             org_id: Annotated[int, Form()] = 0, reason: Text = "", version: Version = None):
    return act(request, session, settings, case_id, lambda c: case_routing.transfer_case(
        session=session, case=c, org_id=org_id, reason=reason, actor=user, expected_version=version),
        {"transfer_reason": reason}, "handling")


@router.post("/cases/{case_id}/extend")
def extend(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
           days: Annotated[int, Form(ge=0, le=365)] = 0, worker_consent: Text = "", employer_consent: Text = "",
           version: Version = None):
    form = {"worker_consent": worker_consent, "employer_consent": employer_consent, "days": days}
    return act(request, session, settings, case_id, lambda c: case_clock.extend_mediation(
        session=session, case=c, days=days, worker_consent=worker_consent, employer_consent=employer_consent,
        actor=user, expected_version=version), form, "deadlines")


@router.post("/cases/{case_id}/parties")
def add_party(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
              role: Short = "", name: Short = "", claim: Short = "", ended_on: Short = "",
              anonymous: Annotated[str, Form()] = ""):
    form = {"role": role, "name": name, "claim": claim, "ended_on": ended_on}
    return act(request, session, settings, case_id, lambda c: case_parties.add_party(
        session=session, case=c, role=role, name=name, actor=user, claim_fen=money(claim, "claim", required=False),
        employment_ended_on=parse_day(ended_on, "employment_ended_on"), is_anonymous=anonymous == "1",
        today=local_today()), form, "parties")


@router.post("/cases/{case_id}/parties/prefill")
def prefill(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor):
    def run(case):
        if case_parties.prefill_from_wage_data(session=session, case=case, as_of=local_today(),
                                               pay_day=settings.pay_day, actor=user) == 0:
            raise cases.CaseError("工资数据中没有新的欠薪职工可预填（案件须关联项目）")
    return act(request, session, settings, case_id, run, {}, "parties")


@router.post("/cases/{case_id}/parties/{party_id}/representative")
def representative(request: Request, case_id: int, party_id: int, session: SessionDep, settings: SettingsDep,
                   user: Actor, on: Annotated[str, Form()] = "1"):
    return act(request, session, settings, case_id, lambda c: case_parties.set_representative(
        session=session, case=c, party_id=party_id, on=on == "1", actor=user), {}, "parties")


@router.post("/cases/{case_id}/parties/{party_id}/hardship")
def hardship(request: Request, case_id: int, party_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
             reason: Text = ""):
    return act(request, session, settings, case_id, lambda c: case_parties.refer_hardship(
        session=session, case=c, party_id=party_id, reason=reason, actor=user), {"hardship_reason": reason},
        "parties")


@router.post("/cases/{case_id}/timeline")
async def timeline(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
                   kind: Short = "", on: Short = "", place: Short = "", attendees: Text = "", body: Text = "",
                   file: Annotated[UploadFile | None, File()] = None):
    upload = (file.filename or "", await file.read()) if file is not None and file.filename else None
    form = {"kind": kind, "on": on, "place": place, "attendees": attendees, "body": body}
    return act(request, session, settings, case_id, lambda c: case_timeline.add_entry(
        session=session, settings=settings, case=c, kind=kind, on=day(on, "on"), body=body, actor=user,
        today=local_today(), place=place, attendees=attendees, file=upload), form, "timeline")


@router.post("/cases/{case_id}/messages")
def message(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
            report_id: Annotated[int, Form()] = 0, body: Annotated[str, Form(max_length=2000)] = ""):
    return act(request, session, settings, case_id, lambda c: case_timeline.message_informant(
        session=session, case=c, report_id=report_id, body=body, actor=user), {"message": body}, "reports")


@router.post("/cases/{case_id}/reports")
def link_report(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
                report_id: Annotated[int, Form()] = 0):
    return act(request, session, settings, case_id, lambda c: case_timeline.link_report(
        session=session, case=c, report_id=report_id, actor=user), {}, "reports")


@router.post("/cases/{case_id}/deadlines/{deadline_id}/met")
def deadline_met(request: Request, case_id: int, deadline_id: int, session: SessionDep, settings: SettingsDep,
                 user: Actor, note: Short = ""):
    return act(request, session, settings, case_id, lambda c: case_clock.mark_met(
        session=session, case=c, deadline_id=deadline_id, note=note, actor=user), {}, "deadlines")


@router.post("/cases/{case_id}/supervision")
def supervision(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
                served_on: Short = "", summary: Text = ""):
    return act(request, session, settings, case_id, lambda c: case_clock.issue_supervision_opinion(
        session=session, case=c, served_on=day(served_on, "served_on"), summary=summary, actor=user,
        today=local_today()), {"supervision_summary": summary}, "deadlines")


@router.post("/cases/{case_id}/referrals")
def refer(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
          body: Short = "", reference: Short = "", reason: Text = "", sent_on: Short = ""):
    return act(request, session, settings, case_id, lambda c: referrals.refer_without_closing(
        session=session, case=c, body=body, reference=reference, reason=reason,
        sent_on=parse_day(sent_on, "sent_on"), actor=user, today=local_today()),
        {"referral_reason": reason, "reference": reference}, "referrals")


@router.post("/cases/{case_id}/referrals/{referral_id}/answer")
def referral_answer(request: Request, case_id: int, referral_id: int, session: SessionDep, settings: SettingsDep,
                    user: Actor, answered_on: Short = "", answer: Text = ""):
    return act(request, session, settings, case_id, lambda c: referrals.record_answer(
        session=session, case=c, referral_id=referral_id, answered_on=day(answered_on, "answered_on"),
        answer=answer, actor=user, today=local_today()), {"answer": answer}, "referrals")


@router.post("/cases/{case_id}/emergency")
def emergency(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
              people: Annotated[int | None, Form(ge=0, le=100000)] = None,
              escalation: Annotated[str, Form()] = "", reason: Text = ""):
    def run(case):
        trigger = trigger_of(people=people, escalation=escalation == "1")
        if trigger is None:
            raise EmergencyError("应急处置的启动条件：涉及 30 人以上，或出现激化信号（堵路、爬塔吊、扬言跳楼等）")
        start_emergency(session=session, trigger=trigger, reason=reason, actor=user, case=case, people=people)
    return act(request, session, settings, case_id, run, {"emergency_reason": reason}, "emergency")


@router.post("/cases/{case_id}/retaliation/{flag_id}/handled")
def retaliation_handled(request: Request, case_id: int, flag_id: int, session: SessionDep, settings: SettingsDep,
                        user: Actor, note: Text = ""):
    return act(request, session, settings, case_id,
               lambda case: retaliation.handle_flag(session=session, case=case, flag_id=flag_id, note=note,
                                                    actor=user), dict(retaliation_note=note), "retaliation")
