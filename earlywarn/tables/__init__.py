"""Every table of the system (SQLModel). Money is integer fen (``*_fen``), timestamps aware UTC.

Personal identifiers are never stored in plain text: an ID number is kept as a Fernet ciphertext
(``*_cipher``), a keyed hash for matching (``*_hash``) and a masked form for display (``*_masked``).

The tables live in modules by noun (people, sites, reports, cases, records); importing this package
registers every one of them on ``metadata``, which Alembic and the bulk writer use.
"""

from __future__ import annotations

from earlywarn.tables._fields import metadata
from earlywarn.tables.cases import (
    CaseAgreement,
    CaseDeadline,
    CaseEvent,
    CaseInstalment,
    CaseParty,
    CaseReferral,
    CaseReport,
    CaseTransition,
    Emergency,
    EmergencyEvent,
    HardshipReferral,
    LegalVolunteer,
    MediationCase,
    Reminder,
    RetaliationFlag,
    RiskWarning,
)
from earlywarn.tables.people import (
    MediationOrg,
    OrgUnit,
    UserAccount,
    UserSession,
)
from earlywarn.tables.records import (
    AuditLog,
    ImportBatch,
)
from earlywarn.tables.reports import (
    Informant,
    Report,
    ReportMessage,
    ReportPhoto,
)
from earlywarn.tables.sites import (
    Attendance,
    AttendanceMonth,
    Company,
    PayrollPayment,
    Project,
    RosterEntry,
    Subcontract,
    Worker,
)

__all__ = [
    "metadata",
    "OrgUnit",
    "MediationOrg",
    "UserAccount",
    "UserSession",
    "Company",
    "Project",
    "Subcontract",
    "Worker",
    "RosterEntry",
    "Attendance",
    "AttendanceMonth",
    "PayrollPayment",
    "Informant",
    "Report",
    "ReportMessage",
    "ReportPhoto",
    "RiskWarning",
    "LegalVolunteer",
    "MediationCase",
    "CaseTransition",
    "CaseParty",
    "CaseReport",
    "CaseReferral",
    "CaseDeadline",
    "CaseAgreement",
    "CaseInstalment",
    "HardshipReferral",
    "Emergency",
    "EmergencyEvent",
    "Reminder",
    "RetaliationFlag",
    "CaseEvent",
    "ImportBatch",
    "AuditLog",
]
