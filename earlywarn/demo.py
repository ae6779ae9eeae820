"""``earlywarn demo``: a small simulated county, imported, with one account per role. Safe to re-run."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from rich.console import Console
from sqlmodel import select

from earlywarn import auth
from earlywarn.config import Settings
from earlywarn.enums import Role
from earlywarn.informants import register_informant
from earlywarn.orgs import seed_org_tree
from earlywarn.privacy import Vault
from earlywarn.services_common import open_session
from earlywarn.tables import OrgUnit, UserAccount

DEMO_SEED = 7
DEMO_SCALE = 0.12
DEMO_ACCOUNTS = (
    (Role.informant, "demo_informant", "演示信息员"),
    (Role.informant_manager, "demo_infomgr", "信息员管理员老周"),
    (Role.mediator, "demo_mediator", "调解员王芳"),
    (Role.wage_checker, "demo_checker", "住建局陈明"),
    (Role.leader, "demo_leader", "县总工会领导"),
    (Role.admin, "demo_admin", "系统管理员"),
)


@dataclass
class DemoResult:
    accounts: list[tuple[str, str, str | None]] = field(default_factory=list)


def prepare_demo(*, settings: Settings, console: Console | None = None) -> DemoResult:
    console = console or Console(stderr=True)
    result = DemoResult()
    with open_session(settings) as session:
        seed_org_tree(session=session, path=settings.reference_file)
        _load_demo_county(settings=settings, session=session, console=console)
        county_union = session.exec(select(OrgUnit).where(OrgUnit.parent_id.is_(None))).first()
        for role, username, name in DEMO_ACCOUNTS:
            user = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
            password = None
            if user is None:
                password = secrets.token_urlsafe(9)
                user = auth.create_user(session=session, username=username, password=password, role=role,
                                        display_name=name, org_unit_id=county_union.id if county_union else None)
            if role == Role.informant:
                register_informant(session=session, vault=Vault(settings), township="递铺街道", user=user)
            result.accounts.append((role.value, username, password))
    return result


def _load_demo_county(*, settings: Settings, session, console: Console) -> None:
    """Simulate the demo county once into data_dir and import it (the import is idempotent)."""
    from earlywarn.simulation import simulate_county

    folder = settings.data_dir / f"demo-county-seed{DEMO_SEED}"
    if not (folder / "projects.csv").exists():
        console.print(f"模拟演示县（seed={DEMO_SEED}, scale={DEMO_SCALE}）…")
        simulate_county(folder, seed=DEMO_SEED, scale=DEMO_SCALE)
    from datetime import timedelta

    from sqlalchemy import func

    from earlywarn.importer import import_paths
    from earlywarn.scoring import run_scoring
    from earlywarn.tables import Attendance

    import_paths(session=session, settings=settings, paths=[folder], console=console)
    # The simulated county lies in the past: score its last weeks, so the triage queue has warnings with history.
    last = session.exec(select(func.max(Attendance.work_date))).one()
    if last is not None:
        created = 0
        for weeks_back in (3, 2, 1, 0):
            scores, result = run_scoring(session=session, settings=settings, as_of=last - timedelta(weeks=weeks_back))
            created += result.created
        console.print(f"按 {last.isoformat()} 前四周逐周评分：{len(scores)} 个项目，共开出预警 {created} 条")
