"""The case state machine: every legal transition and every illegal one."""

import pytest

from earlywarn.case_states import STATE_ZH, TRANSITIONS, CaseStateError, actions_from, target_of
from earlywarn.enums import CaseStatus

LEGAL = {
    ("intake", "accept"): "accepted", ("intake", "reject"): "rejected", ("intake", "withdraw"): "withdrawn",
    ("accepted", "start_mediation"): "in_mediation", ("accepted", "fail"): "mediation_failed",
    ("accepted", "withdraw"): "withdrawn",
    ("in_mediation", "reach_agreement"): "agreement", ("in_mediation", "fail"): "mediation_failed",
    ("in_mediation", "withdraw"): "withdrawn",
    ("agreement", "start_performance"): "performing",
    ("performing", "close_performed"): "closed_performed", ("performing", "refer"): "referred",
    ("mediation_failed", "refer"): "referred",
}


def test_every_state_has_a_label():
    assert set(STATE_ZH) == {s.value for s in CaseStatus}


@pytest.mark.parametrize("status", [s.value for s in CaseStatus])
@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_each_pair_is_legal_or_refused_in_chinese(status, action):
    if (status, action) in LEGAL:
        assert target_of(status, action) == LEGAL[(status, action)]
        assert action in actions_from(status)
    else:
        with pytest.raises(CaseStateError) as exc:
            target_of(status, action)
        verb = TRANSITIONS[action].verb
        assert str(exc.value).startswith(f"不能{verb}：案件当前状态为“{STATE_ZH[status]}”")
        assert action not in actions_from(status)


def test_final_states_offer_nothing_and_messages_name_the_allowed_states():
    for final in ("closed_performed", "referred", "withdrawn", "rejected"):
        assert actions_from(final) == []
    with pytest.raises(CaseStateError, match="只有“调解中”的案件可以确认达成协议"):
        target_of("accepted", "reach_agreement")
    with pytest.raises(CaseStateError, match="未知的操作"):
        target_of("intake", "teleport")


def test_reasons_are_required_for_exits():
    assert {a for a, t in TRANSITIONS.items() if t.needs_reason} == {"reject", "fail", "refer", "withdraw"}
