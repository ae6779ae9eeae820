"""Linking a report to a project and a company from its code field, employer field and free text (pure).

Informants rarely write a registered name: they write a project code, a full name, or — most often — a short
form ('银河建设', '阳光苑工地'). Each candidate therefore carries its full name plus the short forms of
:mod:`earlywarn.link_names`; a form shared by two candidates says nothing about either and is dropped. The order
of evidence is: project code (1.0), a full registered name (0.95), then fuzzy matching of the forms (rapidfuzz
``partial_ratio``), adjusted by whether the report's township agrees. Below the threshold the report stays
unlinked and the best alternatives — with hints from the township and a gang master's surname — go to the
mediator's "needs linking" queue.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from rapidfuzz import fuzz, process

from earlywarn.link_names import cjk_len, company_forms, norm, place_short, project_forms

PROJECT, COMPANY = "project", "company"
CODE_CONFIDENCE = 1.0
NAME_CONFIDENCE = 0.95
# A fuzzy match never reaches the certainty of a registered name, whatever the township says.
FUZZY_CEILING = 0.9
FUZZY_MAX = 0.94
TOWNSHIP_BONUS = 0.05
TOWNSHIP_PENALTY = 0.1
FUZZY_FLOOR = 60  # partial_ratio below this is noise, not worth showing as an alternative
# A two-character brand ('银河') is found by chance far more often than a four-character form ('银河建设').
FORM_WEIGHT = {2: 0.9, 3: 0.95}
# Arrears surface at final settlement, months after the planned end date; a site stays "active" that long.
ACTIVE_GRACE_DAYS = 180

# Hints for the mediator's queue, never linked on: a gang master's surname in the township, any active site there.
SURNAME_HINT, TOWNSHIP_HINT = 0.5, 0.2
_GANG_MASTER = re.compile(r"([\u4e00-\u9fff])(?:老板|包工头|班长)的?班组")
_CODE_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]{2,}")


@dataclass(frozen=True)
class Candidate:
    """A project or company a report may be about. ``names[0]`` is the registered name, the rest short forms.

    For a project ``project_ids`` is ``(id,)``; for a company the projects it works on (as general contractor
    or anywhere in the chain). ``township`` is a project's; a company's townships follow from its projects."""

    kind: str
    id: int
    names: tuple[str, ...]
    project_ids: tuple[int, ...] = ()
    township: str | None = None
    active_from: date | None = None
    active_until: date | None = None

    def active_on(self, day: date | None) -> bool:
        if day is None:
            return True
        if self.active_from is not None and day < self.active_from:
            return False
        return self.active_until is None or day <= self.active_until + timedelta(days=ACTIVE_GRACE_DAYS)


@dataclass(frozen=True)
class Alternative:
    kind: str
    id: int
    name: str
    confidence: float
    matched: str | None  # the form found in the text; for a hint, the township
    method: str = "fuzzy"  # name | fuzzy | hint


@dataclass(frozen=True)
class LinkResult:
    project_id: int | None
    company_id: int | None
    method: str | None  # code | name | fuzzy | None (unresolved)
    confidence: float
    matched: str | None
    alternatives: tuple[Alternative, ...] = ()
    project_via_company: bool = False  # the project was inferred: the company's only active site there

    @property
    def resolved(self) -> bool:
        return self.method is not None


def project_candidate(id: int, name: str, township: str | None = None, active_from: date | None = None,
                      active_until: date | None = None) -> Candidate:
    return Candidate(PROJECT, id, tuple(project_forms(name)), (id,), township, active_from, active_until)


def company_candidate(id: int, name: str, kind: str = COMPANY, project_ids: Iterable[int] = ()) -> Candidate:
    return Candidate(COMPANY, id, tuple(company_forms(name, kind)), tuple(sorted(set(project_ids))))


def make_candidates(candidates: Iterable[Candidate]) -> tuple[Candidate, ...]:
    """Keep each candidate's registered name; drop short forms that are too short, that name a township, or that
    two candidates share (such a form cannot tell them apart)."""
    items = list(candidates)
    owners: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for c in items:
        for form in set(c.names[1:]):
            owners[form].add((c.kind, c.id))
    places = {c.township for c in items if c.township}
    places |= {place_short(t) for t in places}
    out = []
    for c in items:
        short = [f for f in dict.fromkeys(c.names[1:])
                 if f != c.names[0] and cjk_len(f) >= 2 and len(owners[f]) == 1 and f not in places]
        out.append(Candidate(c.kind, c.id, (c.names[0], *short), c.project_ids, c.township, c.active_from,
                             c.active_until))
    return tuple(out)


@dataclass
class CandidateIndex:
    """Candidates prepared once for many reports (a flat list of forms for rapidfuzz's batch scorer)."""

    candidates: Sequence[Candidate]
    forms: list[str] = field(init=False)
    owners: list[Candidate] = field(init=False)
    projects: dict[int, Candidate] = field(init=False)

    def __post_init__(self):
        self.forms = [form for c in self.candidates for form in c.names]
        self.owners = [c for c in self.candidates for _ in c.names]
        self.projects = {c.id: c for c in self.candidates if c.kind == PROJECT}
        self.places: dict[str, str] = {}
        for t in {p.township for p in self.projects.values() if p.township}:
            self.places[t] = self.places[place_short(t)] = t
        # Per form, what scoring a match needs: worked out once, not for each of a report's hundreds of matches.
        self.keys = [(c.kind, c.id) for c in self.owners]
        self.registered = [form == c.names[0] for form, c in zip(self.forms, self.owners, strict=True)]
        self.weights = [FORM_WEIGHT.get(cjk_len(form), 1.0) for form in self.forms]
        places = {(c.kind, c.id): frozenset(self.townships(c)) for c in self.candidates}
        self.form_places = [places[key] for key in self.keys]
        # Which forms hold each character, how often: to skip, before fuzzy matching, the forms too few of whose
        # characters occur in a text to reach FUZZY_FLOOR (_worth_scoring).
        holders: dict[str, dict[int, int]] = defaultdict(dict)
        for i, form in enumerate(self.forms):
            for ch in form:
                holders[ch][i] = holders[ch].get(i, 0) + 1
        self.holders = {ch: (np.fromiter(h.keys(), dtype=np.intp, count=len(h)),
                             np.fromiter(h.values(), dtype=np.int64, count=len(h))) for ch, h in holders.items()}
        self.form_lengths = np.array([len(form) for form in self.forms], dtype=np.int64)

    def normalised_codes(self, codes: Mapping[str, int]) -> Mapping[str, int]:
        """Project codes as they are compared (NFKC, no spaces, upper case); kept while the same mapping is
        passed again, as it is for every report of a batch."""
        cached = getattr(self, "_codes", None)
        if cached is None or cached[0] is not codes:
            cached = self._codes = (codes, {norm(k).upper(): v for k, v in codes.items()})
        return cached[1]

    def worth_scoring(self, hay: str) -> list[int]:
        """The forms that could score FUZZY_FLOOR or more against ``hay`` with ``partial_ratio`` and that are no
        longer than it (a longer form is never kept: see _score), in form order.

        partial_ratio scores a window of the hay of the form's length L (at the hay's ends a shorter one, w ≥ 0)
        as 2·LCS / (L + w); reaching 60 needs LCS ≥ 0.3·(L + w) ≥ 0.3·L. An LCS of k needs k of the form's
        characters (counted with repeats) to occur in the hay, so forms with fewer than 0.3·L are skipped: they
        cannot match, and fuzzy-matching a report against every form in the county cost 0.75 s for 729 reports."""
        present = np.zeros(len(self.forms), dtype=np.int64)
        for ch in set(hay):
            found = self.holders.get(ch)
            if found is not None:
                present[found[0]] += found[1]
        lengths = self.form_lengths
        return np.flatnonzero((lengths <= len(hay)) & (present * 10 >= lengths * 3)).tolist()

    def township_in(self, text: str) -> str | None:
        """The one township a text names ('在孝丰的工地'), when the report's township field is empty."""
        named = {t for place, t in self.places.items() if place in text}
        return named.pop() if len(named) == 1 else None

    def townships(self, c: Candidate) -> set[str]:
        if c.kind == PROJECT:
            return {c.township} if c.township else set()
        return {p.township for pid in c.project_ids if (p := self.projects.get(pid)) and p.township}


@dataclass
class _Match:
    candidate: Candidate
    confidence: float
    method: str
    matched: str


def _code_in(project_code: str | None, text: str, wanted: Mapping[str, int]) -> tuple[int, str] | None:
    tokens = [norm(project_code).upper(), *(t.upper() for t in _CODE_TOKEN.findall(text))]
    token = next((t for t in tokens if t and t in wanted), None)
    return None if token is None else (wanted[token], token)


def _score(index: CandidateIndex, hays: list[str], township: str | None) -> dict[tuple[str, int], _Match]:
    """The best match of each candidate over the hays (a later one only when strictly better)."""
    found: dict[tuple[str, int], _Match] = {}
    owners, keys, registered, weights, form_places = (index.owners, index.keys, index.registered, index.weights,
                                                      index.form_places)
    forms = index.forms
    for hay in hays:
        worth = index.worth_scoring(hay)
        for form, score, j in process.extract(hay, [forms[i] for i in worth], scorer=fuzz.partial_ratio, limit=None,
                                              score_cutoff=FUZZY_FLOOR):
            i = worth[j]
            if registered[i] and form in hay:
                conf, method = NAME_CONFIDENCE, "name"
            elif len(form) > len(hay):  # the hay is an abbreviation of this form; the short forms judge that
                continue
            else:
                conf = FUZZY_CEILING * score / 100 * weights[i]
                places = form_places[i]
                if township and places:
                    conf += TOWNSHIP_BONUS if township in places else -TOWNSHIP_PENALTY
                conf, method = round(min(FUZZY_MAX, max(0.0, conf)), 3), "fuzzy"
            before = found.get(keys[i])
            if before is None or conf > before.confidence:
                found[keys[i]] = _Match(owners[i], conf, method, form)
    return found


def _best(found: dict, kind: str, threshold: float) -> _Match | None:
    """The best match of a kind at or above the threshold; None when two candidates tie for it."""
    ranked = sorted((m for m in found.values() if m.candidate.kind == kind), key=lambda m: -m.confidence)
    if not ranked or ranked[0].confidence < threshold:
        return None
    if len(ranked) > 1 and ranked[1].confidence == ranked[0].confidence:
        return None
    return ranked[0]


def _hints(index: CandidateIndex, found: dict, text: str, township: str, on: date | None) -> None:
    """'朱老板的班组' in 梅溪镇: the teams led by a 朱 on a site active there; else the sites active there."""
    sites = {p.id for p in index.projects.values() if p.township == township and p.active_on(on)}
    surnames = set(_GANG_MASTER.findall(text))
    hints = [(c, SURNAME_HINT) for c in index.candidates if c.kind == COMPANY and c.names[0].endswith("班组")
             and c.names[0][0] in surnames and sites.intersection(c.project_ids)]
    hints += [(index.projects[pid], TOWNSHIP_HINT) for pid in sorted(sites)]
    for c, confidence in hints:
        found.setdefault((c.kind, c.id), _Match(c, confidence, "hint", township))


def link_report(*, project_code: str | None, employer: str | None, text: str, township: str | None,
                candidates: Sequence[Candidate] | CandidateIndex, codes: Mapping[str, int],
                threshold: float = 0.85, on: date | None = None) -> LinkResult:
    """Link one report. ``on`` (the report's local date) limits a company's sites to those active then."""
    index = candidates if isinstance(candidates, CandidateIndex) else CandidateIndex(candidates)
    hays = [h for h in (norm(employer), norm(text)) if h]
    township = township or index.township_in("".join(hays))
    found = _score(index, hays, township)
    project, company = _best(found, PROJECT, threshold), _best(found, COMPANY, threshold)
    code = _code_in(project_code, norm(text), index.normalised_codes(codes))
    if code is not None:
        pid, token = code
        p = index.projects.get(pid) or Candidate(PROJECT, pid, (token,), (pid,))
        project = _Match(p, CODE_CONFIDENCE, "code", token)

    def fits(c: _Match | None, p: _Match) -> bool:
        return c is not None and p.candidate.id in c.candidate.project_ids

    chosen: _Match | None = None
    project_id = company_id = None
    via_company = False
    if project and (code or not company or fits(company, project) or project.confidence >= company.confidence):
        chosen, project_id = project, project.candidate.id
        company_id = company.candidate.id if fits(company, project) else None
    elif company:
        chosen, company_id = company, company.candidate.id
        sites = [pid for pid in company.candidate.project_ids
                 if (p := index.projects.get(pid)) and p.active_on(on) and (not township or p.township == township)]
        if len(sites) == 1:
            project_id, via_company = sites[0], True
    linked = {(PROJECT, project_id), (COMPANY, company_id)}
    closest = max((m.confidence for m in found.values()), default=0.0)
    if chosen is None and township:
        _hints(index, found, "".join(hays), township, on)
    others = sorted((m for k, m in found.items() if k not in linked), key=lambda m: (-m.confidence, m.candidate.id))
    alternatives = tuple(Alternative(m.candidate.kind, m.candidate.id, m.candidate.names[0], m.confidence, m.matched,
                                     m.method)
                         for m in others[:3])
    if chosen is None:
        return LinkResult(None, None, None, closest, None, alternatives)
    return LinkResult(project_id, company_id, chosen.method, chosen.confidence, chosen.matched, alternatives,
                      via_company)
