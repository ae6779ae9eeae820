"""Settlement ranges from precedent (pure): for a new case, what similar past cases came to.

Similar means the same dispute type, the same band of amount claimed and the same band of workers. For those,
the agreed-to-claimed ratio, the amount agreed per worker, the days from acceptance to the agreement (or to the
end, for cases that ended without one) and the outcomes, each as min / quartiles / median / max. Fewer than
``SMALL_SAMPLE`` similar cases: a warning that the range is only indicative.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

SMALL_SAMPLE = 5
# Amount claimed (fen): up to ￥10,000 is one worker's few months; up to ￥50,000 a small team's; up to ￥200,000
# a team over a season; beyond that a site-wide arrears. Workers: 10 or more is a collective dispute
# (调解仲裁法第七条), 30 or more the emergency line of the contingency plan.
AMOUNT_BANDS = (1_000_000, 5_000_000, 20_000_000)
AMOUNT_BAND_ZH = ("￥1 万元以下", "￥1 万–5 万元", "￥5 万–20 万元", "￥20 万元以上")
WORKER_BANDS = (3, 10, 30)
WORKER_BAND_ZH = ("1–2 人", "3–9 人", "10–29 人", "30 人以上")
OUTCOMES = ("closed_performed", "referred", "withdrawn", "rejected")


def band(value: int | None, edges: Sequence[int]) -> int | None:
    """The band index of ``value`` (0 … len(edges)); None for an unknown value. Edges are exclusive upper bounds:
    with edges (3, 10, 30), 1–2 is band 0, 3–9 band 1, 10–29 band 2, 30 and more band 3."""
    if value is None:
        return None
    return sum(value >= e for e in edges)


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (the common "type 7" definition, numpy's default)."""
    if not sorted_values:
        raise ValueError("no values")
    if not 0 <= q <= 1:
        raise ValueError("q must be within [0, 1]")
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass(frozen=True, slots=True)
class Summary:
    n: int
    min: float
    q1: float
    median: float
    q3: float
    max: float


def summarise(values: Sequence[float], *, whole: bool = False) -> Summary | None:
    """Min, quartiles, median and max; ``whole``: rounded half up to whole units (fen, days)."""
    xs = sorted(values)
    if not xs:
        return None
    figures = [xs[0], quantile(xs, 0.25), quantile(xs, 0.5), quantile(xs, 0.75), xs[-1]]
    if whole:
        figures = [int(x + 0.5) if x >= 0 else -int(-x + 0.5) for x in figures]
    else:
        figures = [round(x, 4) for x in figures]
    return Summary(len(xs), *figures)


@dataclass(frozen=True, slots=True)
class PastCase:
    case_type: str
    claimed_fen: int | None
    workers: int | None
    agreed_fen: int | None  # Σ agreed per worker of a finalised agreement; None without one
    accepted_on: date | None
    ended_on: date  # the agreement's day, or the day the case ended
    outcome: str


@dataclass
class Precedent:
    similar: int
    amount_band: int | None
    workers_band: int | None
    ratio: Summary | None = None  # agreed ÷ claimed
    per_worker_fen: Summary | None = None
    days: Summary | None = None
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def small_sample(self) -> bool:
        return self.similar < SMALL_SAMPLE

    @property
    def note(self) -> str:
        if self.similar == 0:
            return "暂无相似的已结案件"
        if self.small_sample:
            return f"仅 {self.similar} 件相似案件，仅供参考"
        return f"共 {self.similar} 件相似案件"


def is_similar(past: PastCase, *, case_type: str, amount_band: int | None, workers_band: int | None) -> bool:
    """Same type; same bands where the new case's figure is known (an unknown figure does not narrow)."""
    return (past.case_type == case_type
            and (amount_band is None or band(past.claimed_fen, AMOUNT_BANDS) == amount_band)
            and (workers_band is None or band(past.workers, WORKER_BANDS) == workers_band))


def precedent(past: Sequence[PastCase], *, case_type: str, claimed_fen: int | None,
              workers: int | None) -> Precedent:
    ab, wb = band(claimed_fen, AMOUNT_BANDS), band(workers, WORKER_BANDS)
    similar = [p for p in past if is_similar(p, case_type=case_type, amount_band=ab, workers_band=wb)]
    agreed = [p for p in similar if p.agreed_fen is not None]
    return Precedent(
        similar=len(similar), amount_band=ab, workers_band=wb,
        ratio=summarise([p.agreed_fen / p.claimed_fen for p in agreed if p.claimed_fen]),
        per_worker_fen=summarise([p.agreed_fen / p.workers for p in agreed if p.workers], whole=True),
        days=summarise([(p.ended_on - p.accepted_on).days for p in similar if p.accepted_on is not None], whole=True),
        outcomes=dict(sorted(Counter(p.outcome for p in similar).items(),
                             key=lambda kv: OUTCOMES.index(kv[0]) if kv[0] in OUTCOMES else len(OUTCOMES))))
