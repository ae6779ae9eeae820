"""Informant registry (service). Identities are encrypted; everyone but the informant manager sees a pseudonym."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from earlywarn.audit import record_audit
from earlywarn.privacy import Vault
from earlywarn.tables import Informant, UserAccount


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
