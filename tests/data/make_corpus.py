"""Builds ``report_corpus.csv``, the labelled corpus of the report-text classifier (``earlywarn.textclass``).

Run ``python tests/data/make_corpus.py`` from the repository root; the output is byte-identical for the same
code. The labels come from how each text is composed (the category of its complaint, whether an escalation
clause was drawn, the head count of its count clause), never from the classifier's own rules. The hand-written
rows of ``report_corpus_handwritten.csv`` are appended after the generated ones. Phrase lists live in
``corpus_phrases.py`` so this file stays about the composition.

Nothing is copied from the simulator's report templates (``earlywarn/simulation/reports.py``): ``main`` refuses
to write a corpus in which any literal run of 8+ characters from that file appears.
"""

from __future__ import annotations

import ast
import csv
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpus_phrases as P  # noqa: E402

SEED = 20261128
N_GENERATED = 1320
# How often each category is drawn: arrears dominate real informant traffic.
WEIGHTS = {"wage_arrears": 30, "injury": 11, "social_insurance": 11, "dismissal": 12, "overtime_hours": 11,
           "safety": 11, "other": 14}
# P(an escalation clause) per category: protests are mostly about pay, rarely about the canteen.
P_ESC = {"wage_arrears": 0.38, "injury": 0.18, "social_insurance": 0.1, "dismissal": 0.2, "overtime_hours": 0.1,
         "safety": 0.06, "other": 0.05}
HEADER = ["text", "category", "escalation", "collective", "source"]
_PUNCT = re.compile(r"[\s，,。.!！?？；;：:、…~～\"“”'‘’()（）【】\[\]-]+")


def _fill(rng: random.Random, s: str) -> str:
    """Replaces ``{slot}`` markers with a random choice from the slot's list (slots may nest)."""
    for _ in range(4):
        s = re.sub(r"\{(\w+)\}", lambda m: rng.choice(P.SLOTS[m.group(1)]), s)
    return s


def _count(rng: random.Random, category: str) -> tuple[str, bool]:
    """A head-count clause and whether it means 10 or more workers (or '' when the text names no group)."""
    p_big = {"wage_arrears": 0.45, "dismissal": 0.3, "social_insurance": 0.3, "overtime_hours": 0.25,
             "safety": 0.2, "injury": 0.1, "other": 0.12}[category]
    u = rng.random()
    if u < p_big:
        n, phrase = P.big_count(rng)
        if phrase.startswith(("全", "整个")):  # "the whole site" reads wrong after 有/涉及/大概
            return phrase + rng.choice(["", "都", "全都"]), True
        return _fill(rng, rng.choice(P.COUNT_FRAMES)).replace("N", phrase), True
    if u < p_big + 0.25:
        phrase = P.small_count(rng)
        return _fill(rng, rng.choice(P.COUNT_FRAMES)).replace("N", phrase), False
    return "", False


def _escalation(rng: random.Random) -> tuple[str, bool]:
    """An escalation clause (threatened or under way) and whether it names a group of 10 or more."""
    threat, ongoing = rng.choice(P.ESC_ACTS)
    if rng.random() < 0.6:
        frame = rng.choice(P.THREAT_FRAMES).replace("ACT", threat)
    else:
        frame = rng.choice(P.ONGOING_FRAMES).replace("ACT", ongoing)
    big = "BIG" in frame
    if big:
        frame = frame.replace("BIG", P.big_count(rng)[1])
    return _fill(rng, frame), big


def _typo(rng: random.Random, text: str) -> str:
    keys = [k for k in P.TYPOS if k in text]
    if keys:
        k = rng.choice(keys)
        text = text.replace(k, rng.choice(P.TYPOS[k]), 1)
    return text


def _join(rng: random.Random, parts: list[str]) -> str:
    parts = [p for p in parts if p]
    out = parts[0]
    for p in parts[1:]:
        out += rng.choice(P.SEPARATORS) + p
    return out + rng.choice(P.ENDINGS)


def generate_one(rng: random.Random) -> tuple[str, str, bool, bool]:
    category = rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
    # Hard negatives: texts with protest words used innocently (爬楼梯, 招工横幅, 正规渠道, 停工整改 ...).
    if rng.random() < 0.09:
        text, category = rng.choice(P.HARD_NEGATIVES + P.MORE_HARD_NEGATIVES)
        text = _fill(rng, text)
        return _join(rng, [_fill(rng, rng.choice(P.OPENERS)), text]), category, False, False
    core = _fill(rng, rng.choice(P.CORES[category]))
    count, collective = _count(rng, category)
    escalation = rng.random() < P_ESC[category]
    length = rng.random()
    parts = [core]
    if count:
        parts.insert(rng.randrange(2), count)
    if length > 0.55 and P.DETAILS[category]:
        parts.append(_fill(rng, rng.choice(P.DETAILS[category])))
    if length > 0.8:
        parts.append(_fill(rng, rng.choice(P.SECONDARY[category])))
    if escalation:
        clause, big = _escalation(rng)
        parts.append(clause)
        collective = collective or big
    elif rng.random() < 0.05:
        parts.append(_fill(rng, rng.choice(P.NEGATED_FRAMES).replace("ACT", rng.choice(P.ESC_ACTS)[0])))
    if length > 0.3:
        parts.append(_fill(rng, rng.choice(P.CLOSINGS)))
    if length > 0.4:
        parts.insert(0, _fill(rng, rng.choice(P.OPENERS)))
    text = _join(rng, parts)
    if rng.random() < 0.5:
        text = P.dialect(rng, text)
    if rng.random() < 0.14:
        text = _typo(rng, text)
    return text, category, escalation, collective


def _key(text: str) -> str:
    return _PUNCT.sub("", text)


def simulator_fragments() -> list[str]:
    """Literal runs (8+ characters, punctuation dropped) of every string in the simulator's report module."""
    src = (HERE.parents[1] / "earlywarn" / "simulation" / "reports.py").read_text(encoding="utf-8")
    out = []
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for piece in _PUNCT.split(node.value):
                if len(piece) >= 8:
                    out.append(piece)
    return sorted(set(out))


def build_rows() -> list[list[str]]:
    rng = random.Random(SEED)
    seen: set[str] = set()
    rows: list[list[str]] = []
    while len(rows) < N_GENERATED:
        text, cat, esc, col = generate_one(rng)
        if _key(text) in seen:
            continue
        seen.add(_key(text))
        rows.append([text, cat, str(int(esc)), str(int(col)), "generated"])
    with open(HERE / "report_corpus_handwritten.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if _key(r["text"]) not in seen:
                seen.add(_key(r["text"]))
                rows.append([r["text"], r["category"], r["escalation"], r["collective"], "handwritten"])
    return rows


def main() -> None:
    rows = build_rows()
    frags = simulator_fragments()
    copied = [(r[0], f) for r in rows for f in frags if f in _key(r[0])]
    if copied:
        raise SystemExit(f"corpus reuses simulator phrases: {copied[:5]}")
    with open(HERE / "report_corpus.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)
    print(f"wrote {len(rows)} rows to {HERE / 'report_corpus.csv'}")


if __name__ == "__main__":
    main()
