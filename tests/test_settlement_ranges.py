"""Settlement ranges from precedent: bands, quartiles and the ranges with exact values (pure), then the service on
closed cases in the database on both backends, and the panel and JSON of a case."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from earlywarn import precedent as svc
from earlywarn.config import LOCAL_TZ
from earlywarn.settlement_ranges import (
    AMOUNT_BANDS,
    WORKER_BANDS,
    PastCase,
    Summary,
    band,
    precedent,
    quantile,
    summarise,
)
from earlywarn.tables import CaseAgreement, CaseParty, CaseTransition, MediationCase
from tests.conftest import login

D = date(2026, 3, 2)


@pytest.mark.parametrize("value, expected", [(None, None), (1, 0), (2, 0), (3, 1), (9, 1), (10, 2), (29, 2), (30, 3)])
def test_worker_bands(value, expected):
    assert band(value, WORKER_BANDS) == expected


def test_amount_bands_edges_are_exclusive_upper_bounds():
    assert [band(v, AMOUNT_BANDS) for v in (0, 999_999, 1_000_000, 4_999_999, 5_000_000, 20_000_000)] == \
        [0, 0, 1, 1, 2, 3]


def test_quantiles_interpolate_between_closest_ranks():
    xs = [10, 20, 30, 40]
    assert [quantile(xs, q) for q in (0, 0.25, 0.5, 0.75, 1)] == [10, 17.5, 25, 32.5, 40]
    assert quantile([7], 0.75) == 7
    with pytest.raises(ValueError):
        quantile([], 0.5)
    with pytest.raises(ValueError):
        quantile(xs, 1.5)
    assert summarise([]) is None
    assert summarise([3, 1, 2, 4], whole=True) == Summary(4, 1, 2, 3, 3, 4)  # 1.75, 2.5, 3.25 rounded half up


def past(claimed, workers, agreed, days, outcome, case_type="wage_arrears") -> PastCase:
    accepted = D if days is not None else None
    return PastCase(case_type, claimed, workers, agreed, accepted, D + timedelta(days=days or 1), outcome)


SIMILAR = [past(6_000_000, 12, 6_000_000, 10, "closed_performed"),
           past(8_000_000, 10, 6_000_000, 14, "closed_performed"),
           past(10_000_000, 20, 8_000_000, 7, "referred"), past(5_000_000, 25, None, 15, "referred"),
           past(7_000_000, 14, None, None, "rejected"), past(12_000_000, 18, 9_000_000, 4, "closed_performed")]
OTHERS = [past(6_000_000, 12, 6_000_000, 3, "closed_performed", "injury"),
          past(4_000_000, 12, 4_000_000, 3, "withdrawn"), past(6_000_000, 30, 6_000_000, 3, "closed_performed")]


def test_ranges_of_similar_cases_with_exact_values():
    p = precedent(SIMILAR + OTHERS, case_type="wage_arrears", claimed_fen=9_000_000, workers=15)
    assert (p.similar, p.amount_band, p.workers_band, p.small_sample, p.note) == (6, 2, 2, False, "共 6 件相似案件")
    assert p.ratio == Summary(4, 0.75, 0.75, 0.775, 0.85, 1.0)
    assert p.per_worker_fen == Summary(4, 400_000, 475_000, 500_000, 525_000, 600_000)
    assert p.days == Summary(5, 4, 7, 10, 14, 15)  # the rejected case was never accepted
    assert list(p.outcomes.items()) == [("closed_performed", 3), ("referred", 2), ("rejected", 1)]


def test_small_samples_none_and_unknown_figures():
    p = precedent(SIMILAR[:3], case_type="wage_arrears", claimed_fen=9_000_000, workers=15)
    assert (p.similar, p.small_sample, p.note) == (3, True, "仅 3 件相似案件，仅供参考")
    none = precedent(SIMILAR, case_type="dismissal", claimed_fen=9_000_000, workers=15)
    assert (none.similar, none.note, none.ratio, none.days, none.outcomes) == (0, "暂无相似的已结案件", None, None, {})
    # The amount is not known yet: it does not narrow (the ￥40,000 case joins); the workers band still does.
    assert precedent(SIMILAR + OTHERS, case_type="wage_arrears", claimed_fen=None, workers=15).similar == 7


# ------------------------------------------------------------------------------------------------ service


def closed_case(session, n: int, *, status: str, claimed: int, workers: int, agreed: int | None = None,
                accepted: date | None = None, agreement_on: date | None = None, closed: date,
                case_type: str = "wage_arrears") -> MediationCase:
    def at(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, 10, tzinfo=LOCAL_TZ).astimezone(UTC)

    c = MediationCase(case_no=f"AJ调〔2025〕{n:04d}号", title=f"已结案件 {n}", status=status, case_type=case_type,
                      amount_claimed_fen=claimed, workers_count=workers, township="梅溪镇", source="walk_in",
                      accepted_at=at(accepted) if accepted else None, closed_at=at(closed), opened_at=at(D))
    session.add(c)
    session.flush()
    if agreed is not None:
        session.add(CaseAgreement(case_id=c.id, finalised_at=at(agreement_on)))
        session.add(CaseTransition(case_id=c.id, at=at(agreement_on), action="reach_agreement",
                                   from_status="in_mediation", to_status="agreement"))
        for i in range(workers):
            share = agreed // workers + (1 if i < agreed % workers else 0)
            session.add(CaseParty(case_id=c.id, role="worker", name=f"职工{i}", agreed_fen=share))
    session.commit()
    return c


@pytest.fixture
def history(session):
    closed_case(session, 1, status="closed_performed", claimed=6_000_000, workers=12, agreed=6_000_000,
                accepted=D, agreement_on=date(2026, 3, 12), closed=date(2026, 5, 1))
    closed_case(session, 2, status="referred", claimed=10_000_000, workers=20, agreed=8_000_000, accepted=D,
                agreement_on=date(2026, 3, 9), closed=date(2026, 6, 1))
    closed_case(session, 3, status="referred", claimed=5_000_000, workers=25, accepted=D, closed=date(2026, 3, 17))
    closed_case(session, 4, status="withdrawn", claimed=6_000_000, workers=12, accepted=D, closed=date(2026, 3, 4),
                case_type="injury")
    new = MediationCase(case_no="AJ调〔2026〕0001号", title="新案件", status="accepted", amount_claimed_fen=9_000_000,
                        workers_count=15, township="梅溪镇", source="walk_in")
    session.add(new)
    session.commit()
    return new


def test_the_service_reads_what_closed_cases_came_to(session, history):
    p = svc.settlement_precedent(session=session, case=history)
    assert (p.similar, p.note) == (3, "仅 3 件相似案件，仅供参考")
    assert p.ratio == Summary(2, 0.8, 0.85, 0.9, 0.95, 1.0)
    assert p.per_worker_fen == Summary(2, 400_000, 425_000, 450_000, 475_000, 500_000)
    assert p.days == Summary(3, 7, 9, 10, 13, 15)  # to the agreement where there was one, else to the end
    assert p.outcomes == {"closed_performed": 1, "referred": 2}
    data = svc.as_json(p)
    assert data["agreed_per_worker_fen"]["median"] == 450_000 and data["small_sample"] is True


def test_the_case_page_and_api_show_the_ranges(client, session, history, make_user):
    make_user("mediator")
    assert login(client, "u_mediator").status_code == 303
    page = client.get(f"/cases/{history.id}").text
    assert "相似案件参考" in page and "同为“欠薪”争议" in page and "￥5 万–20 万元" in page and "10–29 人" in page
    assert "仅 3 件相似案件，仅供参考" in page and "￥4,500.00" in page and "90%" in page and "10 天" in page
    assert "已移送</span> 2 件（67%）" in page and "已履行结案</span> 1 件（33%）" in page
    data = client.get(f"/api/cases/{history.id}").json()["precedent"]
    assert (data["similar"], data["note"], data["agreed_to_claimed"]["median"]) == (3, "仅 3 件相似案件，仅供参考", 0.9)
    assert data["days_to_agreement_or_end"] == {"n": 3, "min": 7, "q1": 9, "median": 10, "q3": 13, "max": 15}
    closed = session.exec(select(MediationCase).where(MediationCase.case_no == "AJ调〔2025〕0001号")).one()
    assert "相似案件参考" not in client.get(f"/cases/{closed.id}").text  # an ended case needs no precedent
    assert client.get(f"/api/cases/{closed.id}").json()["precedent"] is None
