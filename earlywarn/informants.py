"""Informant registry and network (service): identities encrypted, others see pseudonyms, each reveal audited."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, or_
from sqlmodel import Session, select

from earlywarn import auth, config
from earlywarn.audit import record_audit, record_audits
from earlywarn.config import LOCAL_TZ, Settings
from earlywarn.enums import Role, WarningStatus
from earlywarn.i18n import gettext as _
from earlywarn.orgs import township_names
from earlywarn.privacy import Vault
from earlywarn.tables import Informant, OrgUnit, Project, Report, RiskWarning, UserAccount

NAME_MAX = 32
REASON_MIN, REASON_MAX = 4, 500
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
VERDICTS = ("corroborated", "not_corroborated")  # "no_data" is no verdict: it must not lower the share
OPEN_WARNING = (WarningStatus.new, WarningStatus.acknowledged, WarningStatus.case_opened)
RISK_WINDOW_DAYS, COVERAGE_WINDOW_DAYS = 30, 180
# Read aloud over the phone to a volunteer: no 0/O or 1/l/I to confuse.
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class InformantError(ValueError):
    """User-facing problems, keyed by form field, messages in Chinese."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(errors.values()))
        self.errors = errors


@dataclass
class NewInformant:
    informant: Informant
    username: str | None = None
    initial_password: str | None = None  # shown once to the manager, never stored in plain


@dataclass
class InformantRow:
    informant: Informant
    org_unit: str | None
    reports: int = 0
    last_report_at: datetime | None = None
    corroborated: int = 0
    verdicts: int = 0

    @property
    def corroborated_share(self) -> float | None:
        return self.corroborated / self.verdicts if self.verdicts else None


@dataclass
class CoverageRow:
    township: str
    informants: int = 0
    projects: int = 0
    covered_projects: int = 0

    @property
    def share(self) -> float | None:
        return self.covered_projects / self.projects if self.projects else None


@dataclass
class QuietRow:
    informant: Informant
    last_report_at: datetime | None
    silent_days: int
    risks: list[str]


local_today = config.local_today  # kept under this name for callers of earlywarn.informants


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def _next_pseudonym(session: Session) -> int:
    return (session.exec(select(func.max(Informant.pseudonym_no))).one() or 0) + 1


def find_by_ref(*, session: Session, vault: Vault, ref_code: str) -> Informant | None:
    return session.exec(select(Informant).where(Informant.ref_hash == vault.blind_index(ref_code, "informant"))).first()


def register_informant(*, session: Session, vault: Vault, township: str | None = None, name: str | None = None,
                       phone: str | None = None, user: UserAccount | None = None, ref_code: str | None = None,
                       actor: UserAccount | None = None, commit: bool = True) -> Informant:
    """Register (or return the already registered) informant for a user or a sender's informant code."""
    if user is not None:
        existing = session.exec(select(Informant).where(Informant.user_id == user.id)).first()
        if existing:
            return existing
    if ref_code:
        existing = find_by_ref(session=session, vault=vault, ref_code=ref_code)
        if existing:
            return existing
    informant = Informant(
        pseudonym_no=_next_pseudonym(session), user_id=user.id if user else None,
        ref_hash=vault.blind_index(ref_code, "informant") if ref_code else None,
        name_cipher=vault.encrypt(name) if name else None, phone_cipher=vault.encrypt(phone) if phone else None,
        township=township, org_unit_id=user.org_unit_id if user else None,
    )
    session.add(informant)
    session.flush()
    record_audit(session=session, action="informant.register", actor=actor, object_type="informant",
                 object_id=informant.id, detail={"pseudonym_no": informant.pseudonym_no, "township": township})
    if commit:
        session.commit()
    return informant


def register_senders(*, session: Session, vault: Vault, senders: dict[str, str | None]) -> dict[str, Informant]:
    """The informant of each sender's code (``{code: township}``, as a bulk import of reports names them):
    those already registered, and the others registered now — numbered in the order given, audited each, with
    one read of each kind and one flush, not five statements a sender. Flush only."""
    hashes = {code: vault.blind_index(code, "informant") for code in senders}
    found = {i.ref_hash: i for i in session.exec(select(Informant).where(Informant.ref_hash.in_(hashes.values())))}
    informants, new = {}, []
    number = _next_pseudonym(session)
    for code, township in senders.items():
        informant = found.get(hashes[code])
        if informant is None:
            informant = found[hashes[code]] = Informant(pseudonym_no=number, ref_hash=hashes[code], township=township)
            number += 1
            session.add(informant)
            new.append(informant)
        informants[code] = informant
    session.flush()
    record_audits(session=session, entries=[
        dict(action="informant.register", object_type="informant", object_id=i.id,
             detail={"pseudonym_no": i.pseudonym_no, "township": i.township}) for i in new])
    return informants


def _validate(*, session: Session, settings: Settings, name: str, phone: str, township: str,
              org_unit_id: int | None, create_login: bool, username: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("请填写信息员姓名")
    elif len(name) > NAME_MAX:
        errors["name"] = _("姓名不能超过 %(n)s 个字", n=NAME_MAX)
    if phone and not MOBILE_RE.match(phone):
        errors["phone"] = _("手机号应为 11 位数字，以 1 开头")
    if township not in township_names(settings.reference_file):
        errors["township"] = _("请从列表中选择本县的乡镇/街道") if township else _("请选择乡镇/街道")
    unit = session.get(OrgUnit, org_unit_id) if org_unit_id is not None else None
    if org_unit_id is not None and (unit is None or unit.township not in (None, township)):
        errors["org_unit_id"] = _("所选组织不存在，或不属于该乡镇/街道")
    if create_login and username:
        if not auth.USERNAME_RE.match(username):
            errors["username"] = _("用户名须为 3–64 位字母、数字、下划线、点或连字符")
        elif session.exec(select(UserAccount.id).where(UserAccount.username == username)).first():
            errors["username"] = _("用户名 %(u)s 已存在", u=username)
    return errors


def create_informant(*, session: Session, settings: Settings, name: str | None, phone: str | None,
                     township: str | None, org_unit_id: int | None, actor: UserAccount,
                     create_login: bool = False, username: str | None = None) -> NewInformant:
    """Register an informant from the manager's form; optionally with an ``informant`` login."""
    name, township, username = ((value or "").strip() for value in (name, township, username))
    phone = re.sub(r"[\s\-()]", "", phone or "").removeprefix("+86")
    errors = _validate(session=session, settings=settings, name=name, phone=phone, township=township,
                       org_unit_id=org_unit_id, create_login=create_login, username=username)
    if errors:
        raise InformantError(errors)
    informant = register_informant(session=session, vault=Vault(settings), township=township, name=name,
                                   phone=phone or None, actor=actor, commit=False)
    informant.org_unit_id = org_unit_id
    result = NewInformant(informant=informant)
    if create_login:
        result.username = username or f"xxy{informant.pseudonym_no:04d}"
        result.initial_password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _i in range(12))
        try:
            # create_user commits, taking the flushed informant with it; the display name is the pseudonym
            # because user names show in page headers and lists that other roles see.
            user = auth.create_user(session=session, username=result.username, password=result.initial_password,
                                    role=Role.informant, display_name=f"信息员 #{informant.pseudonym_no}",
                                    org_unit_id=org_unit_id, actor=actor)
        except auth.UserError as exc:
            session.rollback()
            raise InformantError({"username": str(exc)}) from None
        informant.user_id = user.id
    session.add(informant)
    session.commit()
    return result


def set_informant_active(*, session: Session, informant: Informant, active: bool, actor: UserAccount) -> None:
    """Deactivating also disables the informant's login; re-enabling a login stays with the administrator."""
    if informant.is_active == active:
        return
    informant.is_active = active
    session.add(informant)
    record_audit(session=session, action="informant.enable" if active else "informant.disable", actor=actor,
                 object_type="informant", object_id=informant.id, detail={"pseudonym_no": informant.pseudonym_no})
    user = session.get(UserAccount, informant.user_id) if informant.user_id else None
    if user is not None and user.is_active and not active:
        auth.set_active(session=session, user=user, active=False, actor=actor)  # commits both changes
        return
    session.commit()


def reveal_identity(*, session: Session, settings: Settings, informant: Informant, actor: UserAccount,
                    reason: str | None) -> tuple[str | None, str | None]:
    """(name, phone), returned only once the audit entry is committed: no reveal goes unlogged."""
    if actor.role not in (Role.informant_manager, Role.admin):
        raise PermissionError("only the informant manager may reveal an informant's identity")
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        raise InformantError({"reason": _("请写明查看身份的理由（至少 %(n)s 个字）", n=REASON_MIN)})
    if len(reason) > REASON_MAX:
        raise InformantError({"reason": _("理由不能超过 %(n)s 个字", n=REASON_MAX)})
    vault = Vault(settings)
    name = vault.decrypt(informant.name_cipher) if informant.name_cipher else None
    phone = vault.decrypt(informant.phone_cipher) if informant.phone_cipher else None
    # A manager may type the name into the reason; the log must never carry the identity it protects.
    for value in (name, phone):
        reason = reason.replace(value, "[已隐去]") if value else reason
    record_audit(session=session, action="informant.reveal", actor=actor, object_type="informant",
                 object_id=informant.id, detail={"pseudonym_no": informant.pseudonym_no, "reason": reason})
    session.commit()
    return name, phone


def get_informant(*, session: Session, informant_id: int) -> Informant | None:
    return session.get(Informant, informant_id)


def org_unit_choices(*, session: Session) -> list[OrgUnit]:
    return list(session.exec(select(OrgUnit).order_by(OrgUnit.parent_id.is_not(None), OrgUnit.name)))


def list_informants(*, session: Session, township: str | None = None, active: bool | None = None,
                    informant_id: int | None = None) -> list[InformantRow]:
    """Pseudonymous rows with each informant's track record; no identity column is read."""
    q = (select(Informant, OrgUnit.name).outerjoin(OrgUnit, OrgUnit.id == Informant.org_unit_id)
         .order_by(Informant.township, Informant.pseudonym_no))
    if township:
        q = q.where(Informant.township == township)
    if active is not None:
        q = q.where(Informant.is_active == active)
    if informant_id is not None:
        q = q.where(Informant.id == informant_id)
    rows = {i.id: InformantRow(informant=i, org_unit=unit) for i, unit in session.exec(q)}
    stats = (select(Report.informant_id, func.count(), func.max(Report.received_at),
                    func.sum(case((Report.corroboration == "corroborated", 1), else_=0)),
                    func.sum(case((Report.corroboration.in_(VERDICTS), 1), else_=0)))
             .where(Report.informant_id.in_(list(rows))).group_by(Report.informant_id))
    for key, n, last, corroborated, verdicts in session.exec(stats):
        row = rows[key]
        row.reports, row.last_report_at, row.corroborated, row.verdicts = n, last, int(corroborated), int(verdicts)
    return list(rows.values())


def coverage(*, session: Session, settings: Settings, today: date | None = None) -> list[CoverageRow]:
    """Per township: active informants, projects, and projects reported on by a registered informant lately."""
    since = _start_of((today or local_today()) - timedelta(days=COVERAGE_WINDOW_DAYS))
    rows = {t: CoverageRow(t) for t in township_names(settings.reference_file)}
    counts = {
        "informants": select(Informant.township, func.count()).where(Informant.is_active).group_by(Informant.township),
        "projects": select(Project.township, func.count()).group_by(Project.township),
        "covered_projects": (select(Project.township, func.count(func.distinct(Report.project_id)))
                             .select_from(Report).join(Project, Project.id == Report.project_id)
                             .where(Report.informant_id.is_not(None), Report.received_at >= since)
                             .group_by(Project.township)),
    }
    for attr, query in counts.items():
        for township, n in session.exec(query):
            if township:
                setattr(rows.setdefault(township, CoverageRow(township)), attr, n)
    return list(rows.values())


def open_risk_townships(*, session: Session, today: date | None = None) -> dict[str, list[str]]:
    """Township → why it counts as at risk (``open_warning``, ``escalation``). New signals join here."""
    since = _start_of((today or local_today()) - timedelta(days=RISK_WINDOW_DAYS))
    signals = {
        "open_warning": (select(Project.township).select_from(RiskWarning)
                         .join(Project, Project.id == RiskWarning.project_id)
                         .where(RiskWarning.status.in_([s.value for s in OPEN_WARNING]))),
        # A linked project's township wins over the one the reporter typed.
        "escalation": (select(func.coalesce(Project.township, Report.township)).select_from(Report)
                       .outerjoin(Project, Project.id == Report.project_id)
                       .where(or_(Report.escalation, Report.collective), Report.received_at >= since)),
    }
    risks: dict[str, list[str]] = {}
    for code, query in signals.items():
        for township in set(session.exec(query)) - {None}:
            risks.setdefault(township, []).append(code)
    return risks


def gone_quiet(*, session: Session, settings: Settings, days: int = 30, today: date | None = None) -> list[QuietRow]:
    """Active informants silent ``days`` or more (since their last report, else since registering) where
    there is open risk: the places where silence is a gap in the network, not good news."""
    # ``settings`` stays in the signature for the risk test, which will read the warning rules.
    today = today or local_today()
    risks = open_risk_townships(session=session, today=today)
    candidates = list(session.exec(select(Informant).where(Informant.is_active, Informant.township.in_(list(risks)))))
    last = dict(session.exec(select(Report.informant_id, func.max(Report.received_at))
                             .where(Report.informant_id.in_([i.id for i in candidates]))
                             .group_by(Report.informant_id)).all()) if candidates else {}
    rows = []
    for informant in candidates:
        since = last.get(informant.id) or informant.registered_at
        silent = (today - since.astimezone(LOCAL_TZ).date()).days
        if silent >= days:
            rows.append(QuietRow(informant, last.get(informant.id), silent, risks[informant.township]))
    return sorted(rows, key=lambda r: (-r.silent_days, r.informant.pseudonym_no))
