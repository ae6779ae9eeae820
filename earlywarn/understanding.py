"""Understanding a report's text: category, escalation and collective flags, with reasons (service helper).

The classifier (models/report-text-*/, loaded only if its card checks out) and the escalation phrases of
rules/escalation.yaml are combined: a phrase a mediator adds takes effect without retraining. Loaded once
per process and shared by the web app, the importer and the CLI.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from earlywarn.audit import record_audit
from earlywarn.rules import load_escalation_phrases
from earlywarn.tables import Report
from earlywarn.textclass import ReportClassifier, TextVerdict, latest_model_dir, load_model

COLLECTIVE_MIN = 10  # 调解仲裁法 Art. 7: ten or more workers with a common claim


@dataclass(frozen=True)
class Analyser:
    classifier: ReportClassifier
    phrases: tuple[str, ...]
    model_version: str

    def verdict(self, text: str) -> TextVerdict:
        return self.classifier.predict([text], escalation_phrases=self.phrases)[0]


@lru_cache(maxsize=4)
def load_analyser(models_dir: Path, rules_dir: Path) -> Analyser:
    """The newest report-text model whose card matches; a missing or mismatched model stops the caller."""
    folder = latest_model_dir(models_dir)
    if folder is None:
        raise RuntimeError(f"no report-text model in {models_dir}: train one with python -m earlywarn.train_textclass")
    phrases = tuple(load_escalation_phrases(rules_dir / "escalation.yaml"))
    return Analyser(load_model(folder), phrases, folder.name)


def apply_verdict(report: Report, verdict: TextVerdict, model_version: str) -> None:
    """Write the classifier's verdict onto the report; the reporter's own head count counts too."""
    report.category = verdict.category
    report.category_confidence = round(float(verdict.category_confidence), 4)
    report.escalation = bool(verdict.escalation)
    stated = report.workers_involved or 0
    report.collective = bool(verdict.collective or stated >= COLLECTIVE_MIN)
    reasons = list(verdict.reasons)
    if stated >= COLLECTIVE_MIN and not verdict.collective:
        reasons.append(f"报告人填写涉及 {stated} 人（≥ {COLLECTIVE_MIN} 人为集体争议）")
    report.analysis = {
        **(report.analysis or {}),
        "model": model_version, "category_zh": verdict.category_zh,
        "escalation_p": round(float(verdict.escalation_p), 4), "collective_p": round(float(verdict.collective_p), 4),
        "head_count": verdict.head_count, "reasons": reasons,
    }


def understand_reports(*, session, settings, reports: list[Report]) -> None:
    """Classify, link and corroborate reports (bulk imports and the web alike); flushes, never commits.

    One classifier call for the batch, one set of link candidates, and corroboration for wage-arrears
    reports about a project (the wage check as of the day each report came in, all computed together)."""
    from earlywarn.report_links import corroborate_many, link_report_record, load_candidates
    from earlywarn.rules import cached_rules

    if not reports:
        return
    analyser = load_analyser(settings.model_dir, settings.rules_dir)
    # One audit entry per report when it is filed alone (it needs the report's id); a bulk import is audited
    # once, as a batch.
    single = len(reports) == 1
    if single:
        session.flush()
    # Nothing is written until every field is known: a bulk import's reports are inserted once with their
    # category, link and corroboration, instead of inserted and then updated once for each (the look-ups
    # in between would otherwise flush them).
    with session.no_autoflush:
        verdicts = analyser.classifier.predict([r.text for r in reports], escalation_phrases=analyser.phrases)
        for report, verdict in zip(reports, verdicts, strict=True):
            apply_verdict(report, verdict, analyser.model_version)
            session.add(report)
        candidates, linked = None, 0
        for report in reports:
            if report.project_id is None and report.link_method is None:
                candidates = candidates or load_candidates(session=session)
                result = link_report_record(session=session, report=report, candidates=candidates, commit=False,
                                            audit=single)
                linked += bool(result and result.resolved)
        arrears = [r for r in reports if r.category == "wage_arrears" and r.project_id is not None]
        outcomes = Counter(corroborate_many(session=session, ruleset=cached_rules(settings.rules_dir),
                                            reports=arrears, audit=single, commit=False,
                                            min_wage_tier=settings.min_wage_tier, pay_day=settings.pay_day)
                           if arrears else ())
    session.flush()
    if not single:
        record_audit(session=session, action="report.understand_batch", object_type="report",
                     detail={"reports": len(reports), "linked": linked, "corroboration": dict(outcomes),
                             "first_id": reports[0].id, "last_id": reports[-1].id})
    session.flush()
