"""Warnings (预警): a project's risk warning from scoring through triage to a mediation case (service).

At most one warning per project is open (new, acknowledged, case_opened). Two writers must not both find none and
both insert, so every write first locks the project rows: ``SELECT … FOR UPDATE`` on PostgreSQL (READ COMMITTED
would let both through); on SQLite the app's BEGIN IMMEDIATE already serialises writers. A partial unique index
would say it in the schema; until the tables get one, this is it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, text
from sqlmodel import Session, select

from earlywarn.audit import record_audit
from earlywarn.config import LOCAL_TZ
from earlywarn.db import utcnow
from earlywarn.enums import CaseStatus, OrgKind, Role, WarningLevel
from earlywarn.enums import WarningStatus as S
from earlywarn.tables import CaseEvent, MediationCase, MediationOrg, OrgUnit, Project, RiskWarning, UserAccount

LEVEL_RANK = {WarningLevel.red: 4, WarningLevel.orange: 3, WarningLevel.yellow: 2, WarningLevel.blue: 1}
OPEN = (S.new, S.acknowledged, S.case_opened)
AWAITING = (S.new, S.acknowledged)  # open and still waiting for a mediator's decision
SCORE_STEP = 0.01  # smaller moves are noise of a re-fit, not news for the history
DISMISSAL_MEMORY_DAYS = 14
COLLECTIVE_WORKERS = 10  # 劳动争议调解仲裁法 Art. 7
CASE_NO_PREFIX = "AJ调"  # 安吉 + 调(解): the county's case-number stem
CASE_NO_LOCK = 734101  # PostgreSQL advisory lock: two cases opened at once must not draw the same number
_LOCK_CHUNK = 5000  # PostgreSQL takes at most 65,535 bind parameters per statement
BOOKKEEPING = ("after_dismissal", "escalated_from", "escalated_at")  # ours in ``reasons``: re-scoring keeps them

# action → (statuses it starts from, status it leads to, the verb its refusal names)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "acknowledge": ((S.new,), S.acknowledged, "确认"),
    "open_case": (AWAITING, S.case_opened, "立案"),
    "dismiss": (AWAITING, S.dismissed, "排除"),
    "resolve": (OPEN, S.resolved, "解除"),
}
_STATE_PHRASE = {S.new: "尚未确认", S.acknowledged: "已确认", S.case_opened: "已立案", S.dismissed: "已排除",
                 S.resolved: "已解除"}


@dataclass(frozen=True)
class ProjectScore:
    """The scorer's verdict on one project. ``level`` None: below every threshold, no warning.

    ``reasons``: {"rules": [{id, title, legal_basis}], "factors": [{group, text, contribution}], "summary": str},
    optionally "workers_owed" and "amount_owed_fen", which a case opened from the warning takes over."""

    project_id: int
    score: float
    level: str | None
    reasons: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ApplyResult:
    created: int
    updated: int
    resolved: int


class WarningError(ValueError):
    """A refused action, worded for the mediator; ``field`` names the form input at fault, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _lock_projects(session: Session, project_ids: Iterable[int]) -> None:
    if session.get_bind().dialect.name != "postgresql":
        return
    ids = sorted(set(project_ids))  # one global order: two batches never wait on each other in a cycle
    for i in range(0, len(ids), _LOCK_CHUNK):
        chunk = select(Project.id).where(Project.id.in_(ids[i:i + _LOCK_CHUNK]))
        session.exec(chunk.order_by(Project.id).with_for_update()).all()


def _score_entry(now: datetime, as_of: date, level: str | None, score: float) -> dict:
    return {"at": now.isoformat(), "as_of": as_of.isoformat(), "level": level, "score": round(float(score), 4)}


def _status_entry(now: datetime, status: str, actor: UserAccount | None, note: str | None = None) -> dict:
    return {"at": now.isoformat(), "status": str(status), "by": actor.id if actor else None,
            "by_name": actor.display_name if actor else None, "note": note}


def apply_scores(*, session: Session, scores: Iterable[ProjectScore], as_of: date, auto_resolve_days: int = 14,
                 actor: UserAccount | None = None) -> ApplyResult:
    """Turn a scoring run into warnings: open, update or auto-resolve. Projects not in ``scores`` are untouched
    (a partial run says nothing about them)."""
    latest = {s.project_id: s for s in scores}  # a project scored twice in one run: the last verdict counts
    if bad := [s.level for s in latest.values() if s.level is not None and s.level not in LEVEL_RANK]:
        raise ValueError(f"unknown warning levels {bad!r}")
    _lock_projects(session, latest)
    open_q = select(RiskWarning).where(RiskWarning.status.in_(OPEN)).order_by(RiskWarning.id)
    current = {w.project_id: w for w in session.exec(open_q.execution_options(populate_existing=True))}
    now = utcnow()
    done: dict[str, list[int]] = {"created": [], "updated": [], "resolved": []}
    warned: list[int] = []  # open warnings this run put at a level: the emergency check looks at their reasons
    for pid, s in sorted(latest.items()):
        w = current.get(pid)
        if s.level is None:
            outcome = w and _below_threshold(w, s, as_of, now, auto_resolve_days)
        elif w is None:
            outcome, w = "created", _create(session, s, as_of, now)
        else:
            outcome = "updated" if _rescore(w, s, as_of, now) else None
        if outcome:
            done[outcome].append(w.id)
        if s.level is not None:
            warned.append(w.id)
    if any(done.values()):  # the loaded rows are tracked: record_audit's flush writes them
        record_audit(session=session, action="warning.apply_scores", actor=actor, object_type="risk_warning",
                     detail={"as_of": as_of.isoformat(), **done})
    session.commit()
    # An escalation signal or a collective report of 30+ starts the emergency workflow at once (once per warning).
    from earlywarn.emergencies import check_warnings

    check_warnings(session=session, warning_ids=warned, as_of=as_of, actor=actor)
    return ApplyResult(**{k: len(v) for k, v in done.items()})


def _create(session: Session, s: ProjectScore, as_of: date, now: datetime) -> RiskWarning:
    reasons = dict(s.reasons)
    cutoff = datetime.combine(as_of - timedelta(days=DISMISSAL_MEMORY_DAYS), time.min, LOCAL_TZ)
    dismissed = session.exec(select(RiskWarning.id).where(
        RiskWarning.project_id == s.project_id, RiskWarning.status == S.dismissed, RiskWarning.closed_at >= cutoff,
    ).order_by(RiskWarning.closed_at.desc())).first()
    if dismissed is not None:
        reasons["after_dismissal"] = dismissed  # the mediator sees it was judged harmless a short while ago
    warning = RiskWarning(project_id=s.project_id, level=s.level, score=s.score, status=S.new, reasons=reasons,
                          history=[_score_entry(now, as_of, s.level, s.score)], opened_at=now, updated_at=now)
    session.add(warning)
    session.flush()
    return warning


def _rescore(w: RiskWarning, s: ProjectScore, as_of: date, now: datetime) -> bool:
    """Fresh reasons always; level, score and history only on a real change. Returns whether it changed."""
    old = w.reasons or {}
    reasons = {**s.reasons, **{k: old[k] for k in BOOKKEEPING if k in old}}
    changed = w.level != s.level or abs(w.score - s.score) >= SCORE_STEP or "below_since" in old
    rank, seen = LEVEL_RANK[s.level], reasons.get("escalated_from")
    # A rise on a warning someone already acted on keeps its status (the work done stays valid) but is marked,
    # against the level the mediator last saw; the mark goes once the level is back down to it.
    if rank > LEVEL_RANK.get(w.level, 0) and w.status != S.new and seen is None:
        reasons.update(escalated_from=w.level, escalated_at=as_of.isoformat())
    elif seen is not None and rank <= LEVEL_RANK.get(seen, 0):
        del reasons["escalated_from"], reasons["escalated_at"]
    w.reasons = reasons  # a new object: JSON columns do not track changes made in place
    if changed:
        w.level, w.score, w.updated_at = s.level, s.score, now
        w.history = [*w.history, _score_entry(now, as_of, s.level, s.score)]
    return changed


def _below_threshold(w: RiskWarning, s: ProjectScore, as_of: date, now: datetime, days: int) -> str | None:
    """The risk fell below every threshold: note since when; after ``days`` an untouched warning resolves."""
    since = (w.reasons or {}).get("below_since")
    if since is not None:
        below = (as_of - date.fromisoformat(since)).days
        if w.status in AWAITING and below >= days:  # a case under way is the mediator's to close
            _set_status(w, S.resolved, now, None, note=f"风险已消退 {below} 天，自动解除")
            return "resolved"
        if abs(w.score - s.score) < SCORE_STEP:
            return None
    else:
        w.reasons = {**w.reasons, "below_since": as_of.isoformat()}
    # The level column keeps the last warning level; the history says the risk is gone.
    w.score, w.updated_at = s.score, now
    w.history = [*w.history, _score_entry(now, as_of, None, s.score)]
    return "updated"


def _set_status(w: RiskWarning, status: str, now: datetime, actor: UserAccount | None, note: str | None = None):
    w.status, w.updated_at = status, now
    w.closed_at = now if status in (S.dismissed, S.resolved) else w.closed_at
    w.history = [*w.history, _status_entry(now, status, actor, note)]


def _begin(session: Session, warning: RiskWarning, action: str) -> str:
    """Lock, re-read and check one transition; returns the status it leads to."""
    _lock_projects(session, [warning.project_id])
    session.refresh(warning)  # another mediator may have acted since this request read the warning
    allowed, to, verb = TRANSITIONS[action]
    if warning.status not in allowed:
        message = f"不能{verb}：该预警{_STATE_PHRASE.get(warning.status, warning.status)}"
        session.rollback()
        raise WarningError(message)
    return to


def _finish(session: Session, warning: RiskWarning, action: str, to: str, actor: UserAccount | None,
            note: str | None = None, **detail) -> None:
    before = warning.status
    _set_status(warning, to, utcnow(), actor, note)
    record_audit(session=session, action=f"warning.{action}", actor=actor, object_type="risk_warning",
                 object_id=warning.id, detail={"from": str(before), "to": str(to), **detail})


def acknowledge_warning(*, session: Session, warning: RiskWarning, actor: UserAccount | None) -> RiskWarning:
    _finish(session, warning, "acknowledge", _begin(session, warning, "acknowledge"), actor)
    session.commit()
    return warning


def dismiss_warning(*, session: Session, warning: RiskWarning, reason: str | None,
                    actor: UserAccount | None) -> RiskWarning:
    return _close_by_hand(session, warning, "dismiss", actor, reason, "reason", "请填写排除理由（至少 4 个字）", 4)


def resolve_warning(*, session: Session, warning: RiskWarning, note: str | None,
                    actor: UserAccount | None) -> RiskWarning:
    return _close_by_hand(session, warning, "resolve", actor, note, "note", "请填写解除说明", 2)


def _close_by_hand(session: Session, warning: RiskWarning, action: str, actor: UserAccount | None,
                   value: str | None, name: str, message: str, min_len: int) -> RiskWarning:
    to = _begin(session, warning, action)
    value = (value or "").strip()
    if not min_len <= len(value) <= 500:
        session.rollback()  # release the project lock _begin took
        raise WarningError(message if len(value) < min_len else "最多 500 字", field=name)
    warning.dismiss_reason = value if action == "dismiss" else warning.dismiss_reason
    _finish(session, warning, action, to, actor, note=value, text=value)
    session.commit()
    return warning


def open_case_from_warning(*, session: Session, warning: RiskWarning, actor: UserAccount | None,
                           pay_day: int = 25) -> MediationCase:
    """Open a mediation case (status intake) at the project's township mediation organisation, with its intake
    clock, and the workers owed wages (and the chain's units) pre-filled from the wage data (earlywarn.cases)."""
    from earlywarn.case_parties import prefill_from_wage_data
    from earlywarn.cases import started
    from earlywarn.emergencies import check_emergency

    to = _begin(session, warning, "open_case")
    project = session.get(Project, warning.project_id)
    org = township_mediation_org(session=session, township=project.township)
    reasons, now = warning.reasons or {}, utcnow()
    workers = _int_of(reasons, "workers_owed", "workers")
    case_ = MediationCase(
        case_no=next_case_no(session=session, year=now.astimezone(LOCAL_TZ).year),
        title=f"{project.name}（{project.code}）"[:200], status=CaseStatus.intake, project_id=project.id,
        warning_id=warning.id, mediation_org_id=org.id if org else None,
        # The mediator who takes it on from the queue holds it; an admin opening it leaves it to be assigned.
        assignee_id=actor.id if actor is not None and actor.role == Role.mediator else None,
        is_collective=workers is not None and workers >= COLLECTIVE_WORKERS, workers_count=workers,
        amount_claimed_fen=_int_of(reasons, "amount_owed_fen", "amount_claimed_fen"), opened_at=now,
        township=project.township, summary=str(reasons.get("summary") or "")[:2000], updated_at=now)
    session.add(case_)
    session.flush()
    started(session, case_, actor, now.astimezone(LOCAL_TZ).date())
    prefill_from_wage_data(session=session, case=case_, as_of=now.astimezone(LOCAL_TZ).date(), pay_day=pay_day,
                           actor=actor, commit=False)
    session.add(CaseEvent(case_id=case_.id, at=now, kind="opened_from_warning", actor_id=actor.id if actor else None,
                          body=f"由预警 #{warning.id} 立案：{reasons.get('summary') or ''}".strip("："),
                          data={"warning_id": warning.id, "level": warning.level, "score": warning.score}))
    _finish(session, warning, "open_case", to, actor, note=case_.case_no, case_id=case_.id, case_no=case_.case_no)
    session.commit()
    check_emergency(session=session, case=case_, actor=actor)
    return case_


def _int_of(reasons: dict, *keys: str) -> int | None:
    values = (reasons.get(k) for k in keys)
    return next((int(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)), None)


def township_mediation_org(*, session: Session, township: str) -> MediationOrg | None:
    """The township's mediation organisation; the county centre's when the township has none."""
    q = select(MediationOrg).join(OrgUnit, OrgUnit.id == MediationOrg.org_unit_id)
    own = q.where(OrgUnit.township == township).order_by((OrgUnit.kind != OrgKind.township_union), OrgUnit.id)
    county = q.where(OrgUnit.kind == OrgKind.county_federation).order_by(OrgUnit.id)
    return session.exec(own).first() or session.exec(county).first()


def next_case_no(*, session: Session, year: int) -> str:
    """``AJ调〔2026〕0001号``: numbered per year, always increasing (SQLite's BEGIN IMMEDIATE serialises it)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CASE_NO_LOCK})
    prefix = f"{CASE_NO_PREFIX}〔{year}〕"
    # Longest first: 10000 must beat 9999, which text order alone would not.
    last = session.exec(select(MediationCase.case_no).where(MediationCase.case_no.startswith(prefix))
                        .order_by(func.length(MediationCase.case_no).desc(), MediationCase.case_no.desc())).first()
    m = re.fullmatch(r"(\d+)号", last[len(prefix):]) if last else None
    return f"{prefix}{(int(m.group(1)) if m else 0) + 1:04d}号"


_RANK = case(*((RiskWarning.level == level, rank) for level, rank in LEVEL_RANK.items()), else_=0)


def list_queue(*, session: Session, township: str | None = None, level: str | None = None, status: str = "open",
               limit: int = 200) -> list[tuple[RiskWarning, Project]]:
    """The triage queue, worst first (level, then score); ``status``: open, awaiting, all, or one status."""
    q = select(RiskWarning, Project).join(Project, Project.id == RiskWarning.project_id)
    if status in ("open", "awaiting"):
        q = q.where(RiskWarning.status.in_(OPEN if status == "open" else AWAITING))
    elif status != "all":
        q = q.where(RiskWarning.status == status)
    for column, wanted in ((Project.township, township), (RiskWarning.level, level)):
        q = q.where(column == wanted) if wanted else q
    q = q.order_by(_RANK.desc(), RiskWarning.score.desc(), RiskWarning.opened_at, RiskWarning.id).limit(limit)
    return [(w, p) for w, p in session.exec(q)]


def top_k(*, session: Session, capacity: int, township: str | None = None) -> list[tuple[RiskWarning, Project]]:
    """This week's list: the ``capacity`` worst still awaiting a decision (new, acknowledged; not case_opened)."""
    return list_queue(session=session, township=township, status="awaiting", limit=max(capacity, 0))
