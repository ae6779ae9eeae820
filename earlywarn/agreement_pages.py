"""Form posts for the mediation agreement and its performance: the draft (texts, amount per worker,
signatures), instalments, 定稿 behind the completeness check, payments, confirmation applied for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request

from earlywarn import agreements
from earlywarn.case_actions import Short, Version, act, day, money
from earlywarn.case_pages import Actor, Text
from earlywarn.config import local_today
from earlywarn.deps import CsrfForm, SessionDep, SettingsDep, load_auth

router = APIRouter(dependencies=[Depends(load_auth), CsrfForm])


@router.post("/cases/{case_id}/agreement")
async def save(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
               facts: Text = "", terms: Text = "", performance_method: Annotated[str, Form(max_length=1000)] = "",
               version: Version = None):
    raw = await request.form()
    signatures = set(raw.getlist("signatures"))
    form = {"facts": facts, "terms": terms, "performance_method": performance_method,
            **{k: str(v) for k, v in raw.items() if k.startswith("agreed_")}}

    def run(case):
        agreed = {}
        for key, value in raw.items():
            if key.startswith("agreed_") and key[7:].isdigit():
                agreed[int(key[7:])] = money(str(value), "agreed", required=False)
        agreements.save_agreement(session=session, case=case, facts=facts, terms=terms,
                                  performance_method=performance_method, agreed=agreed, signatures=signatures,
                                  actor=user, expected_version=version)
    return act(request, session, settings, case_id, run, form, "agreement")


@router.post("/cases/{case_id}/instalments")
def add_instalment(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
                   due_on: Short = "", amount: Short = "", party_id: Annotated[str, Form()] = ""):
    form = {"due_on": due_on, "amount": amount}
    return act(request, session, settings, case_id, lambda c: agreements.add_instalment(
        session=session, case=c, due_on=day(due_on, "due_on"), amount_fen=money(amount, "amount"),
        party_id=int(party_id) if party_id.isdigit() else None, actor=user, today=local_today()), form, "agreement")


@router.post("/cases/{case_id}/instalments/{instalment_id}/delete")
def remove_instalment(request: Request, case_id: int, instalment_id: int, session: SessionDep,
                      settings: SettingsDep, user: Actor):
    return act(request, session, settings, case_id, lambda c: agreements.remove_instalment(
        session=session, case=c, instalment_id=instalment_id, actor=user), {}, "agreement")


@router.post("/cases/{case_id}/agreement/finalise")
def finalise(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
             version: Version = None):
    return act(request, session, settings, case_id, lambda c: agreements.finalise(
        session=session, case=c, actor=user, today=local_today(), expected_version=version), {}, "agreement")


@router.post("/cases/{case_id}/instalments/{instalment_id}/paid")
def paid(request: Request, case_id: int, instalment_id: int, session: SessionDep, settings: SettingsDep,
         user: Actor, paid_on: Short = "", amount: Short = "", confirmed: Annotated[str, Form()] = "",
         note: Short = ""):
    form = {"paid_on": paid_on, "paid_amount": amount, "paid_note": note}
    return act(request, session, settings, case_id, lambda c: agreements.mark_paid(
        session=session, case=c, instalment_id=instalment_id, paid_on=day(paid_on, "paid_on"),
        paid_fen=money(amount, "paid"), worker_confirmed=confirmed == "1", note=note, actor=user,
        today=local_today()), form, "performance")


@router.post("/cases/{case_id}/confirmation")
def confirmation(request: Request, case_id: int, session: SessionDep, settings: SettingsDep, user: Actor,
                 kind: Short = "", applied_on: Short = ""):
    return act(request, session, settings, case_id, lambda c: agreements.record_confirmation(
        session=session, case=c, kind=kind, applied_on=day(applied_on, "applied_on"), actor=user,
        today=local_today()), {}, "performance")


