"""Clustering reports into incidents (pure): several informants writing about one site in the same fortnight are
one situation to handle, and how many of them spoke independently is itself evidence.

Reports are nodes of a networkx graph; two reports are joined when they are about the same subject — the same
project, or, for reports linked only to a company, the same company — and were received at most
``window_days`` apart. An incident is a connected component. Joining is transitive on purpose: reports on days
1, 12 and 23 form one incident although the first and last are 22 days apart, because a dispute that keeps
being reported without a two-week pause is still the same dispute. Reports linked to nothing form no incident
(they wait in the "needs linking" queue).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import networkx as nx

WINDOW_DAYS = 14


@dataclass(frozen=True)
class ReportNode:
    id: int
    received_at: datetime
    project_id: int | None
    company_id: int | None
    informant_key: str | None  # the informant's pseudonym; None for an anonymous report


@dataclass
class Incident:
    report_ids: list[int]  # in the order received
    project_id: int | None
    company_id: int | None  # for a project: the company its reports name most often, if any
    first: datetime
    last: datetime
    informants: int  # distinct named informants
    anonymous: int  # anonymous reports: each may or may not be a further person
    informant_keys: list[str] = field(default_factory=list)

    @property
    def reports(self) -> int:
        return len(self.report_ids)

    @property
    def key(self) -> str:
        """Stable while the incident grows: its subject and its first report."""
        subject = f"p{self.project_id}" if self.project_id is not None else f"c{self.company_id}"
        return f"{subject}-r{self.report_ids[0]}"


def _subject(node: ReportNode) -> tuple[str, int] | None:
    if node.project_id is not None:
        return ("project", node.project_id)
    if node.company_id is not None:
        return ("company", node.company_id)
    return None


def similarity_graph(nodes: Iterable[ReportNode], *, window_days: int = WINDOW_DAYS) -> nx.Graph:
    """Nodes are report ids (with the ReportNode as ``node`` attribute); edges join same-subject reports
    within the window.

    Within a subject only neighbours in time are joined: if any two reports are within the window, so is every
    consecutive pair between them, so the components are those of the all-pairs graph at a fraction of the
    edges (a busy site has hundreds of reports)."""
    graph = nx.Graph()
    by_subject: dict[tuple[str, int], list[ReportNode]] = defaultdict(list)
    window = timedelta(days=window_days)
    for node in nodes:
        subject = _subject(node)
        if subject is None:
            continue
        graph.add_node(node.id, node=node)
        by_subject[subject].append(node)
    for reports in by_subject.values():
        reports.sort(key=lambda n: (n.received_at, n.id))
        for a, b in zip(reports, reports[1:], strict=False):
            if b.received_at - a.received_at <= window:
                graph.add_edge(a.id, b.id, days=(b.received_at - a.received_at).total_seconds() / 86400)
    return graph


def cluster_reports(nodes: Iterable[ReportNode], *, window_days: int = WINDOW_DAYS) -> list[Incident]:
    """Incidents, the most recently active first."""
    graph = similarity_graph(nodes, window_days=window_days)
    incidents = []
    for component in nx.connected_components(graph):
        members = sorted((graph.nodes[i]["node"] for i in component), key=lambda n: (n.received_at, n.id))
        keys = list(dict.fromkeys(n.informant_key for n in members if n.informant_key is not None))
        project_id = members[0].project_id
        companies = Counter(n.company_id for n in members if n.company_id is not None)
        company_id = companies.most_common(1)[0][0] if companies else None
        incidents.append(Incident(
            report_ids=[n.id for n in members], project_id=project_id, company_id=company_id,
            first=members[0].received_at, last=members[-1].received_at, informants=len(keys),
            anonymous=sum(1 for n in members if n.informant_key is None), informant_keys=keys,
        ))
    incidents.sort(key=lambda i: (i.last, i.report_ids[0]), reverse=True)
    return incidents
