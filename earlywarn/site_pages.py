"""Routes for the wage check: the site list and page, the worker page, the rectification notice, JSON."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from earlywarn import sites
from earlywarn.audit import record_audit
from earlywarn.chain import chain_as_svg, chain_depth
from earlywarn.charts import bar_pairs_svg
from earlywarn.config import local_today
from earlywarn.deps import SessionDep, SettingsDep, load_auth, require_roles
from earlywarn.enums import Role
from earlywarn.i18n import gettext as _
from earlywarn.notice import render_notice_docx
from earlywarn.orgs import township_names
from earlywarn.parsing import parse_date, parse_money_fen
from earlywarn.scoring import score_project
from earlywarn.tables import UserAccount
from earlywarn.templating import render as _render
from earlywarn.wagecheck import as_json

router = APIRouter(dependencies=[Depends(load_auth)])
Viewer = Annotated[UserAccount, Depends(require_roles(Role.wage_checker, Role.mediator, Role.leader, Role.admin))]
Issuer = Annotated[UserAccount, Depends(require_roles(Role.wage_checker, Role.admin))]
NOTICE_DAYS = 15  # a common rectification period; the checker can issue a new notice with another date


def _as_of(value: str | None) -> date:
    if value:
        try:
            return parse_date(value)
        except ValueError:
            raise HTTPException(status_code=400, detail=_("日期格式应为 2025-03-05")) from None
    return local_today()




def _checks(request: Request, session, settings, as_of: date):
    return request.app.state.check_cache.get(session=session, settings=settings, ruleset=request.app.state.ruleset,
                                             as_of=as_of)


def _filtered(request: Request, session, settings, *, as_of: date, township: str | None, level: str | None,
              sort: str, desc: int, min_owed: str | None):
    towns = township_names(settings.reference_file)
    try:
        min_fen = parse_money_fen(min_owed) if min_owed else 0
    except ValueError:
        raise HTTPException(status_code=400, detail=_("最低欠薪金额应为数字，如 10000")) from None
    rows = sites.filter_sort(_checks(request, session, settings, as_of),
                             township=township if township in towns else None,
                             level=level if level in sites.LEVEL_RANK else None, sort=sort, descending=bool(desc),
                             min_owed_fen=min_fen)
    return rows, towns


@router.get("/sites", response_class=HTMLResponse)
def site_list(request: Request, session: SessionDep, settings: SettingsDep, user: Viewer,
              township: str | None = None, level: str | None = None, sort: str = "level", desc: int = 1,
              as_of: str | None = None, min_owed: str | None = None):
    day = _as_of(as_of)
    rows, towns = _filtered(request, session, settings, as_of=day, township=township, level=level, sort=sort,
                            desc=desc, min_owed=min_owed)
    return _render(request, "sites.html", rows=rows, townships=towns, township=township, level=level, sort=sort,
                   desc=desc, as_of=day, min_owed=min_owed or "", total_owed=sum(r.amount_owed_fen for r in rows))


def _detail(request: Request, session, settings, code: str, as_of: date):
    project = sites.project_by_code(session=session, code=code)
    if project is None:
        raise HTTPException(status_code=404)
    detail = sites.site_detail(session=session, settings=settings, ruleset=request.app.state.ruleset,
                               project=project, as_of=as_of)
    if detail is None:
        raise HTTPException(status_code=404, detail=_("该项目在核查日之前没有考勤与工资记录"))
    return detail


@router.get("/companies", response_class=HTMLResponse)
def company_list(request: Request, session: SessionDep, settings: SettingsDep, user: Viewer,
                 as_of: str | None = None):
    day = _as_of(as_of)
    ranked = sites.companies_owing(session=session, checks=_checks(request, session, settings, day))
    return _render(request, "companies.html", companies=ranked, as_of=day)


@router.get("/admin/rules", response_class=HTMLResponse)
def rule_list(request: Request, session: SessionDep, settings: SettingsDep,
              user: Annotated[UserAccount, Depends(require_roles(Role.admin, Role.leader))], as_of: str | None = None):
    """Every rule with its county-wide hits — including monitor-mode rules, whose hits raise nothing."""
    day = _as_of(as_of)
    counts: dict[str, list[int]] = {}
    for check in _checks(request, session, settings, day):
        for hit in check.hits:
            c = counts.setdefault(hit.rule.id, [0, 0, 0])
            c[0] += 1 if hit.fired else 0
            c[1] += hit.fired
            c[2] += hit.not_checked
    return _render(request, "rules.html", rules=request.app.state.ruleset.rules, counts=counts, as_of=day)


@router.get("/sites/{code}", response_class=HTMLResponse)
def site_page(request: Request, code: str, session: SessionDep, settings: SettingsDep, user: Viewer,
              as_of: str | None = None):
    day = _as_of(as_of)
    detail = _detail(request, session, settings, code, day)
    owing = {w.team for w in detail.check.owed}
    chart = bar_pairs_svg([m for m, _, _ in detail.months], [e for _, e, _ in detail.months],
                          [p for _, _, p in detail.months], names=(_("应发（按考勤）"), _("实发")))
    return _render(request, "site.html", d=detail, as_of=day, chart=chart, depth=chain_depth(detail.graph),
                   risk=_risk(request, session, settings, code, day),
                   chain_svg=chain_as_svg(detail.graph, owing=owing, flagged={i.unit for i in detail.issues}))


def _risk(request: Request, session, settings, code: str, as_of: date):
    return score_project(session=session, settings=settings, ruleset=request.app.state.ruleset,
                         model=request.app.state.risk_model, code=code, as_of=as_of)


@router.get("/api/sites/{code}/risk")
def api_site_risk(request: Request, code: str, session: SessionDep, settings: SettingsDep, user: Viewer,
                  as_of: str | None = None) -> dict:
    """The project's risk score as of the date, computed now (not the stored warning): probability, level,
    the rules that set a floor and the model's main factors, in Chinese."""
    day = _as_of(as_of)
    found = _risk(request, session, settings, code, day)
    if found is None:
        raise HTTPException(status_code=404, detail=_("没有这个项目"))
    r = found.reasons
    return {"project_code": code, "as_of": day.isoformat(), "probability": found.score, "level": found.level or "none",
            "model_level": r.get("model_level") or "none", "floor": r.get("floor"), "floor_note": r.get("floor_note"),
            "summary": r.get("summary"),
            "rules": r.get("rules", []), "factors": r.get("factors", []),
            "model": getattr(request.app.state.risk_model, "version", None)}


@router.get("/sites/{code}/notice.docx")
def rectification_notice(request: Request, code: str, session: SessionDep, settings: SettingsDep, user: Issuer,
                         as_of: str | None = None):
    day = _as_of(as_of)
    detail = _detail(request, session, settings, code, day)
    today = local_today()
    data = sites.notice_data(detail=detail, issuer=settings.notice_issuer, issued_on=today,
                             deadline=today + timedelta(days=NOTICE_DAYS),
                             notice_no=f"安建整改〔{today.year}〕{detail.project.code}号")
    try:
        body = render_notice_docx(data)
    except ValueError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    record_audit(session=session, action="notice.rectification", actor=user, object_type="project",
                 object_id=detail.project.id, detail={"as_of": day.isoformat(), "violations": len(data.violations)})
    session.commit()
    name = f"整改通知书-{detail.project.code}.docx"
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.get("/workers/{worker_id}", response_class=HTMLResponse)
def worker_page(request: Request, worker_id: int, session: SessionDep, settings: SettingsDep, user: Viewer,
                as_of: str | None = None):
    day = _as_of(as_of)
    worker, projects = sites.worker_detail(session=session, settings=settings, worker_id=worker_id, as_of=day)
    if worker is None:
        raise HTTPException(status_code=404)
    return _render(request, "worker.html", worker=worker, projects=projects, as_of=day)


@router.get("/api/sites")
def api_sites(request: Request, session: SessionDep, settings: SettingsDep, user: Viewer,
              township: str | None = None, level: str | None = None, sort: str = "level", desc: int = 1,
              as_of: str | None = None, min_owed: str | None = None) -> dict:
    day = _as_of(as_of)
    rows, _towns = _filtered(request, session, settings, as_of=day, township=township, level=level, sort=sort,
                             desc=desc, min_owed=min_owed)
    return as_json(rows, day)


@router.get("/api/sites/{code}")
def api_site(request: Request, code: str, session: SessionDep, settings: SettingsDep, user: Viewer,
             as_of: str | None = None) -> dict:
    day = _as_of(as_of)
    detail = _detail(request, session, settings, code, day)
    out = as_json([detail.check], day)["projects"][0]
    out["chain"] = {"depth": chain_depth(detail.graph),
                    "issues": [{"code": i.code, "unit": i.unit, "parent": i.parent, "message": i.message_zh,
                                "legal_basis": i.legal_basis, "violation": i.violation} for i in detail.issues],
                    "liable": [{"team": lp.team, "path": lp.path, "general_contractor": lp.general_contractor,
                                "owed": f"{lp.owed_fen / 100:.2f}", "workers": lp.workers} for lp in detail.liable]}
    out["months"] = [{"period": p, "earned": f"{e / 100:.2f}", "paid": f"{pd / 100:.2f}"} for p, e, pd in detail.months]
    return out


@router.get("/api/companies")
def api_companies(request: Request, session: SessionDep, settings: SettingsDep, user: Viewer,
                  as_of: str | None = None) -> dict:
    day = _as_of(as_of)
    ranked = sites.companies_owing(session=session, checks=_checks(request, session, settings, day))
    return {"as_of": day.isoformat(), "companies": [
        {"company": c.company, "owed": f"{c.owed_fen / 100:.2f}", "workers": c.workers,
         "projects": [{"project_code": p.project_code, "role": p.role, "owed": f"{p.owed_fen / 100:.2f}",
                       "workers": p.workers, "paths": p.paths} for p in c.projects]} for c in ranked]}


@router.get("/api/workers/{worker_id}")
def api_worker(worker_id: int, session: SessionDep, settings: SettingsDep, user: Viewer,
               as_of: str | None = None) -> dict:
    day = _as_of(as_of)
    worker, projects = sites.worker_detail(session=session, settings=settings, worker_id=worker_id, as_of=day)
    if worker is None:
        raise HTTPException(status_code=404)
    return {"id": worker.id, "name": worker.name, "id_masked": worker.id_masked, "as_of": day.isoformat(),
            "projects": [{"project_code": p.project.code, "team": p.team, "months": [
                {"period": m.period, "earned": f"{m.earned_fen / 100:.2f}", "paid": f"{m.paid_fen / 100:.2f}",
                 "owed": f"{m.owed_fen / 100:.2f}", "overdue_days": m.overdue_days} for m in p.months]}
                for p in projects]}
