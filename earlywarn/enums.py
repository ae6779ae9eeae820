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


class CaseSource(StrEnum):
    """How a mediation case came in."""

    warning = "warning"  # 预警立案
    reports = "reports"  # 信息员报告
    walk_in = "walk_in"  # 来访
    hotline = "hotline"  # 热线（12351）
    union = "union"  # 工会代表匿名职工


class PartyRole(StrEnum):
    worker = "worker"
    employer = "employer"  # 用人单位（班组/劳务分包）
    general_contractor = "general_contractor"  # 施工总承包单位
    subcontractor = "subcontractor"  # 分包单位


class DeadlineKind(StrEnum):
    mediation = "mediation"  # 调解期限 15 日（调解仲裁法第十四条）
    confirmation = "confirmation"  # 司法确认/仲裁审查确认 30 日
    limitation = "limitation"  # 仲裁时效：劳动关系终止后 1 年
    supervision_reply = "supervision_reply"  # 监督意见书书面答复 15 个工作日
    rejection_notice = "rejection_notice"  # 不予受理书面告知 5 个工作日
    referral_answer = "referral_answer"  # 移送单位答复
    instalment = "instalment"  # 分期履行


class ReferralBody(StrEnum):
    arbitration = "arbitration"  # 劳动人事争议仲裁委员会
    labour_inspection = "labour_inspection"  # 人社局劳动保障监察
    construction_bureau = "construction_bureau"  # 住建局
    court = "court"  # 人民法院（支付令、司法确认、诉讼）
    petitions = "petitions"  # 信访局


class TimelineKind(StrEnum):
    session = "session"  # 调解会
    call = "call"  # 电话
    site_visit = "site_visit"  # 实地走访
    evidence = "evidence"  # 证据材料
    note = "note"  # 备注
