"""The mediation case's state machine (pure): one transition table, its refusals worded for the mediator.

    intake → accepted → in_mediation → agreement → performing → closed_performed
    exits: (accepted | in_mediation) → mediation_failed → referred;  performing → referred (支付令, arbitration);
           (intake | accepted | in_mediation) → withdrawn;  intake → rejected (out of scope).
"""

from __future__ import annotations

from dataclasses import dataclass

from earlywarn.enums import CaseStatus as S

STATE_ZH: dict[str, str] = {
    S.intake: "待受理", S.accepted: "已受理", S.in_mediation: "调解中", S.agreement: "已达成协议",
    S.performing: "履行中", S.closed_performed: "已履行结案", S.mediation_failed: "调解不成",
    S.referred: "已移送", S.withdrawn: "已撤回", S.rejected: "不予受理",
}
FINAL = frozenset({S.closed_performed, S.referred, S.withdrawn, S.rejected})
# Where the 15-day mediation clock runs: from acceptance until an agreement or an exit.
MEDIATING = frozenset({S.accepted, S.in_mediation})


@dataclass(frozen=True, slots=True)
class Transition:
    sources: tuple[str, ...]
    target: str
    verb: str  # the Chinese verb a refusal names: 不能{verb}
    needs_reason: bool = False


TRANSITIONS: dict[str, Transition] = {
    "accept": Transition((S.intake,), S.accepted, "受理"),
    "reject": Transition((S.intake,), S.rejected, "不予受理", needs_reason=True),
    "start_mediation": Transition((S.accepted,), S.in_mediation, "开始调解"),
    "reach_agreement": Transition((S.in_mediation,), S.agreement, "确认达成协议"),
    "start_performance": Transition((S.agreement,), S.performing, "进入履行"),
    "close_performed": Transition((S.performing,), S.closed_performed, "履行结案"),
    "fail": Transition((S.accepted, S.in_mediation), S.mediation_failed, "终止调解", needs_reason=True),
    "refer": Transition((S.mediation_failed, S.performing), S.referred, "移送", needs_reason=True),
    "withdraw": Transition((S.intake, S.accepted, S.in_mediation), S.withdrawn, "撤回", needs_reason=True),
}
ACTION_ZH = {action: t.verb for action, t in TRANSITIONS.items()}


class CaseStateError(ValueError):
    """A refused transition, worded for the mediator."""


def target_of(status: str, action: str) -> str:
    """The state ``action`` leads to from ``status``; CaseStateError (Chinese) when it is not allowed."""
    t = TRANSITIONS.get(action)
    if t is None:
        raise CaseStateError(f"未知的操作：{action}")
    if status not in t.sources:
        allowed = "、".join(f"“{STATE_ZH[s]}”" for s in t.sources)
        raise CaseStateError(f"不能{t.verb}：案件当前状态为“{STATE_ZH.get(status, status)}”，"
                             f"只有{allowed}的案件可以{t.verb}")
    return t.target


def actions_from(status: str) -> list[str]:
    """The actions allowed from ``status``, in table order (what a page offers)."""
    return [a for a, t in TRANSITIONS.items() if status in t.sources]
