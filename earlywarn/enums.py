"""Stable codes stored in the database; templates turn them into labels (see web/templates/_labels.html)."""

from enum import StrEnum


class Role(StrEnum):
    informant = "informant"
    informant_manager = "informant_manager"
    mediator = "mediator"
    wage_checker = "wage_checker"
    leader = "leader"
    admin = "admin"


class OrgKind(StrEnum):
    county_federation = "county_federation"
    township_union = "township_union"
    grassroots_union = "grassroots_union"
    industry_union = "industry_union"


class UnitKind(StrEnum):
    """What stands at a node of a subcontract chain."""

    company = "company"
    team = "team"
    individual = "individual"


class SubcontractKind(StrEnum):
    specialist = "specialist"  # 专业分包
    labour = "labour"  # 劳务分包
    sub_subcontract = "sub_subcontract"  # 再分包
    team = "team"  # 班组


class PayChannel(StrEnum):
    special_account = "special_account"  # 专用账户代发
    bank = "bank"  # 银行代发
    cash = "cash"  # 现金
    team_leader = "team_leader"  # 班组长代领
    other = "other"


class ReportCategory(StrEnum):
    wage_arrears = "wage_arrears"
    injury = "injury"
    social_insurance = "social_insurance"
    dismissal = "dismissal"
    overtime_hours = "overtime_hours"
    safety = "safety"
    other = "other"


class ReportStatus(StrEnum):
    received = "received"
    triaged = "triaged"
    linked = "linked"
    closed = "closed"


class ReportSource(StrEnum):
    web = "web"
    api = "api"
    import_file = "import"


class WarningLevel(StrEnum):
    red = "red"
    orange = "orange"
    yellow = "yellow"
    blue = "blue"


class WarningStatus(StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    case_opened = "case_opened"
    dismissed = "dismissed"
    resolved = "resolved"


class CaseStatus(StrEnum):
    intake = "intake"
    accepted = "accepted"
    in_mediation = "in_mediation"
    agreement = "agreement"
    performing = "performing"
    closed_performed = "closed_performed"
    mediation_failed = "mediation_failed"
    referred = "referred"
    withdrawn = "withdrawn"
    rejected = "rejected"


class ImportStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    duplicate = "duplicate"
