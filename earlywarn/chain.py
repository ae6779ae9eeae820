"""A project's subcontract chain as a graph: whom to call about a team's arrears, and what in the chain is unlawful.

Pure functions over plain data (the service layer loads the links). The chain is a tree rooted at the general
contractor (施工总承包单位); the general contractor clears a subcontractor's wage arrears first and recovers them
afterwards (先行清偿, 《保障农民工工资支付条例》 Art. 30), so for every owing team the path up to it is what the
mediator needs. Bad data (a unit with two parents, a unit cut off from the contractor) is reported, never fixed
silently: the path of a unit with two parents is the one found first breadth-first, and every function agrees on it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from earlywarn.enums import SubcontractKind, UnitKind

COMPANY, TEAM, INDIVIDUAL = UnitKind.company.value, UnitKind.team.value, UnitKind.individual.value
SPECIALIST, LABOUR = SubcontractKind.specialist.value, SubcontractKind.labour.value
SUB_SUBCONTRACT, TEAM_LINK = SubcontractKind.sub_subcontract.value, SubcontractKind.team.value

# GC → specialist subcontractor → labour subcontractor → team is the deepest chain the law allows without a
# re-subcontract somewhere; deeper is a risk signal in itself.
DEFAULT_MAX_DEPTH = 3

LINK_LABELS_ZH = {SPECIALIST: "专业分包", LABOUR: "劳务分包", SUB_SUBCONTRACT: "再分包", TEAM_LINK: "班组"}
UNIT_LABELS_ZH = {COMPANY: "企业", TEAM: "班组", INDIVIDUAL: "个人"}

_BUILDING_LAW_29 = "《中华人民共和国建筑法》第二十九条第三款"
_MEASURES_12 = "《建筑工程施工发包与承包违法行为认定查处管理办法》（建市规〔2019〕1号）第十二条"
_WAGE_REG_30 = "《保障农民工工资支付条例》第三十条"
_WAGE_REG_36 = "《保障农民工工资支付条例》第三十六条"


@dataclass(frozen=True, slots=True)
class Link:
    """One row of ``subcontracts``: ``parent`` hands work to ``child``; ``kind`` is a SubcontractKind code or None."""

    parent: str
    child: str
    kind: str | None
    child_kind: str


@dataclass(frozen=True, slots=True)
class ChainIssue:
    code: str
    unit: str
    parent: str
    message_zh: str
    legal_basis: str
    # True when the link itself breaks a rule and belongs on a rectification notice; False for risk signals
    # (depth) and data faults (two parents, not connected), which call for a check rather than a notice.
    violation: bool = True


@dataclass(frozen=True, slots=True)
class LiableParty:
    team: str
    path: list[str]  # [team, parent, ..., general contractor]; [team] when the team is not in the chain
    general_contractor: str
    owed_fen: int
    workers: int
    in_chain: bool = True
    # The unit that engaged the team and answers for its pay directly (Art. 30 ¶1); None when the team hangs
    # straight under the general contractor or its chain is unknown.
    direct_subcontractor: str | None = None
    legal_basis: str = _WAGE_REG_30

    @property
    def chain_zh(self) -> str:
        """The chain top-down, as a mediator reads it: ``总包 → 分包 → 班组``."""
        return " → ".join(reversed(self.path))


@dataclass(slots=True)
class ProjectArrears:
    project_code: str
    role: str  # "general_contractor" or "subcontractor"
    owed_fen: int = 0
    workers: int = 0
    paths: list[list[str]] = field(default_factory=list)  # one per owing team reached through the company


@dataclass(slots=True)
class CompanyArrears:
    company: str
    owed_fen: int = 0
    workers: int = 0  # summed over projects: a worker owed on two projects counts twice
    projects: list[ProjectArrears] = field(default_factory=list)


# --------------------------------------------------------------------------- building and walking the tree


def build_chain(contractor: str, links: Iterable[Link]) -> nx.DiGraph:
    """The project's chain: nodes carry ``kind`` (company/team/individual), edges carry the link ``kind``.

    A unit seen only as a parent is taken for a company (the contractor, or a subcontractor whose own link is
    missing). The importer rejects the contractor as a child and self-links, so meeting one here is a bug.
    """
    units = {k.value for k in UnitKind}
    link_kinds = {k.value for k in SubcontractKind}
    graph = nx.DiGraph(contractor=contractor)
    graph.add_node(contractor, kind=COMPANY)
    for link in links:
        if link.child_kind not in units:
            raise ValueError(f"未知的单位类型：{link.child_kind!r}")
        if link.kind is not None and link.kind not in link_kinds:
            raise ValueError(f"未知的分包类型：{link.kind!r}")
        if link.child == contractor:
            raise ValueError(f"施工总承包单位“{contractor}”不能作为下级单位")
        if link.parent == link.child:
            raise ValueError(f"“{link.child}”不能作为自己的下级单位")
        if link.parent not in graph:
            graph.add_node(link.parent, kind=COMPANY)
        graph.add_node(link.child, kind=link.child_kind)
        graph.add_edge(link.parent, link.child, kind=link.kind)
    return graph


def _contractor(graph: nx.DiGraph) -> str:
    return graph.graph["contractor"]


def _tree(graph: nx.DiGraph) -> tuple[dict[str, str], dict[str, int]]:
    """Parent and depth of every unit reachable from the contractor, breadth-first (insertion order breaks ties)."""
    root = _contractor(graph)
    parent: dict[str, str] = {}
    depth = {root: 0}
    for node, pred in nx.bfs_predecessors(graph, root):
        parent[node] = pred
        depth[node] = depth[pred] + 1
    return parent, depth


def _walk_up(unit: str, parent: Mapping[str, str]) -> list[str]:
    path = [unit]
    while path[-1] in parent:
        path.append(parent[path[-1]])
    return path


def path_to_contractor(graph: nx.DiGraph, unit: str) -> list[str]:
    """``[unit, parent, ..., general contractor]``; ValueError if the unit is not in the chain or cut off from it."""
    if unit not in graph:
        raise ValueError(f"“{unit}”不在该项目的分包链中")
    parent, _ = _tree(graph)
    if unit != _contractor(graph) and unit not in parent:
        raise ValueError(f"“{unit}”未接入以“{_contractor(graph)}”为总包的分包链")
    return _walk_up(unit, parent)


def chain_depth(graph: nx.DiGraph) -> int:
    """Edges on the longest contractor→unit path (contractor→team is 1; contractor alone is 0)."""
    _, depth = _tree(graph)
    return max(depth.values())


# --------------------------------------------------------------------------- unlawful patterns


def _entered_by(graph: nx.DiGraph, unit: str, parent: Mapping[str, str]) -> str | None:
    """The kind of the link by which a unit took its work (its tree link, else any incoming link)."""
    above = parent.get(unit)
    if above is None:
        preds = list(graph.predecessors(unit))
        if not preds:
            return None
        above = preds[0]
    return graph.edges[above, unit]["kind"]


def _link_issue(graph: nx.DiGraph, up: str, down: str, parent: Mapping[str, str]) -> ChainIssue | None:
    up_kind, down_kind = graph.nodes[up]["kind"], graph.nodes[down]["kind"]
    link_kind = graph.edges[up, down]["kind"]
    up_entered = _entered_by(graph, up, parent)
    up_zh, down_zh = UNIT_LABELS_ZH[up_kind], UNIT_LABELS_ZH[down_kind]
    if up_kind in (TEAM, INDIVIDUAL) and down_kind == COMPANY:
        return ChainIssue(
            "company_below_team", down, up,
            f"企业“{down}”挂在{up_zh}“{up}”之下：{up_zh}不具备发包资格，属违法分包",
            f"{_BUILDING_LAW_29}；{_MEASURES_12}第（五）项",
        )
    if up_kind in (TEAM, INDIVIDUAL):
        return ChainIssue(
            "team_subcontracts", down, up,
            f"{up_zh}“{up}”将承接的工作再分包给{down_zh}“{down}”",
            f"{_BUILDING_LAW_29}；{_MEASURES_12}第（五）项",
        )
    if down_kind == INDIVIDUAL:
        return ChainIssue(
            "subcontract_to_individual", down, up,
            f"“{up}”将工程分包给个人“{down}”；由此拖欠的农民工工资由建设单位或施工总承包单位清偿",
            f"{_MEASURES_12}第（一）项；{_WAGE_REG_36}",
        )
    if up_entered == LABOUR and (link_kind == SUB_SUBCONTRACT or down_kind == COMPANY):
        return ChainIssue(
            "resubcontract_of_labour", down, up,
            f"劳务分包单位“{up}”将承接的劳务再分包给“{down}”",
            f"{_BUILDING_LAW_29}；{_MEASURES_12}第（五）项",
        )
    if up_entered == SUB_SUBCONTRACT and (link_kind == SUB_SUBCONTRACT or down_kind == COMPANY):
        return ChainIssue(
            "resubcontract_of_resubcontract", down, up,
            f"“{up}”通过再分包承接工程后，又分包给“{down}”（层层转分包）",
            f"{_BUILDING_LAW_29}；{_MEASURES_12}",
        )
    return None


def chain_issues(graph: nx.DiGraph, *, max_depth: int = DEFAULT_MAX_DEPTH) -> list[ChainIssue]:
    """Unlawful links, chains deeper than ``max_depth``, units with two parents and units cut off from the contractor.

    One issue per link at most (the most specific pattern); the depth is flagged once per branch, at the first
    unit beyond the limit. Units come in breadth-first order, the cut-off ones last.
    """
    parent, depth = _tree(graph)
    root = _contractor(graph)
    order = [root, *parent] + [n for n in graph if n != root and n not in parent]
    issues: list[ChainIssue] = []
    for unit in order:
        if unit == root:
            continue
        preds = list(graph.predecessors(unit))
        if unit not in parent:
            issues.append(ChainIssue(
                "not_connected", unit, "、".join(preds),
                f"“{unit}”未接入以“{root}”为总包的分包链，无法确定欠薪的责任链条",
                _WAGE_REG_30, violation=False,
            ))
        elif len(preds) > 1:
            issues.append(ChainIssue(
                "multiple_parents", unit, "、".join(preds),
                f"“{unit}”同时登记在{len(preds)}个上级单位之下（{'、'.join(preds)}），请核实分包关系",
                _WAGE_REG_30, violation=False,
            ))
        if depth.get(unit) == max_depth + 1:
            issues.append(ChainIssue(
                "too_deep", unit, parent[unit],
                f"分包链到“{unit}”已达{max_depth + 1}级，超过{max_depth}级的预警上限，存在层层分包",
                f"{_BUILDING_LAW_29}（禁止分包单位将其承包的工程再分包）", violation=False,
            ))
        for up in preds:
            issue = _link_issue(graph, up, unit, parent)
            if issue is not None:
                issues.append(issue)
    return issues


# --------------------------------------------------------------------------- who answers for the arrears


def _liable(graph: nx.DiGraph, parent: Mapping[str, str], team: str, owed_fen: int, workers: int) -> LiableParty:
    root = _contractor(graph)
    if team not in graph or (team != root and team not in parent):
        # Art. 30 binds the project's general contractor whatever the recorded chain says.
        return LiableParty(team, [team], root, owed_fen, workers, in_chain=False)
    path = _walk_up(team, parent)
    basis = _WAGE_REG_30
    if any(graph.nodes[u]["kind"] == INDIVIDUAL for u in path):
        basis = f"{_WAGE_REG_30}、第三十六条"
    direct = path[1] if len(path) > 2 else None
    return LiableParty(team, path, root, owed_fen, workers, direct_subcontractor=direct, legal_basis=basis)


def liable_parties(graph: nx.DiGraph, owed_by_team: Mapping[str, tuple[int, int]]) -> list[LiableParty]:
    """Each team with arrears (``{team: (owed_fen, workers)}``), its path, and the contractor liable first.

    Largest arrears first; teams owing nothing are left out.
    """
    parent, _ = _tree(graph)
    parties = [_liable(graph, parent, team, owed, workers)
               for team, (owed, workers) in owed_by_team.items() if owed > 0]
    parties.sort(key=lambda p: (-p.owed_fen, -p.workers, p.team))
    return parties


def companies_owing_most(
    projects: Iterable[tuple[str, nx.DiGraph, Mapping[str, tuple[int, int]]]], top: int | None = 10,
) -> list[CompanyArrears]:
    """Across projects ``(code, chain, owed_by_team)``: the companies on the paths of owing teams, most owed first.

    A company counts a team's arrears when it stands anywhere above the team (the contractor always does);
    teams and individuals in between are not companies and are not ranked.
    """
    by_company: dict[str, CompanyArrears] = {}
    for code, graph, owed_by_team in projects:
        root = _contractor(graph)
        for party in liable_parties(graph, owed_by_team):
            above = party.path[1:] or [root]
            for unit in above:
                if graph.nodes[unit]["kind"] != COMPANY:
                    continue
                entry = by_company.setdefault(unit, CompanyArrears(unit))
                project = next((p for p in entry.projects if p.project_code == code), None)
                if project is None:
                    role = "general_contractor" if unit == root else "subcontractor"
                    project = ProjectArrears(code, role)
                    entry.projects.append(project)
                project.owed_fen += party.owed_fen
                project.workers += party.workers
                project.paths.append(party.path)
                entry.owed_fen += party.owed_fen
                entry.workers += party.workers
    ranked = sorted(by_company.values(), key=lambda c: (-c.owed_fen, -c.workers, c.company))
    for entry in ranked:
        entry.projects.sort(key=lambda p: (-p.owed_fen, p.project_code))
    return ranked if top is None else ranked[:max(top, 0)]


# --------------------------------------------------------------------------- drawing


def _ordered(graph: nx.DiGraph) -> tuple[list[str], list[str], dict[str, str], dict[str, int]]:
    parent, depth = _tree(graph)
    root = _contractor(graph)
    connected = [root, *parent]
    cut_off = [n for n in graph if n not in depth]
    return connected, cut_off, parent, depth


def chain_as_json(graph: nx.DiGraph, *, owing: Collection[str] = frozenset()) -> dict:
    """Nodes and edges for the site page: ids are ``n0, n1, ...`` breadth-first, cut-off units last (depth None)."""
    connected, cut_off, parent, depth = _ordered(graph)
    root = _contractor(graph)
    ids = {unit: f"n{i}" for i, unit in enumerate(connected + cut_off)}
    nodes = [{"id": ids[u], "label": u, "kind": graph.nodes[u]["kind"], "depth": depth.get(u),
              "contractor": u == root, "owing": u in owing} for u in connected + cut_off]
    edges = [{"from": ids[a], "to": ids[b], "kind": graph.edges[a, b]["kind"], "tree": parent.get(b) == a}
             for a, b in graph.edges]
    return {"contractor": root, "depth": max(depth.values()), "nodes": nodes, "edges": edges}


_XML_BAD = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_FONT = 13
_NODE_H = 30
_LEVEL_GAP = 56
_H_GAP = 18
_PAD = 20
_MAX_LABEL = 20
_FILL = {COMPANY: "#e8f0fb", TEAM: "#e9f6ec", INDIVIDUAL: "#fff3e0"}
_STROKE = {COMPANY: "#4a6fa5", TEAM: "#4a8f5c", INDIVIDUAL: "#c07a1a"}


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot carry at all (escaping cannot save a NUL or a vertical tab)."""
    return _XML_BAD.sub("", text)


def _shown(label: str) -> str:
    label = _clean(label)
    return label if len(label) <= _MAX_LABEL else label[:_MAX_LABEL - 1] + "…"


def _text_width(text: str, size: float = _FONT) -> float:
    # CJK glyphs are a full em wide, Latin roughly 0.6 em: enough to size boxes without a font engine.
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def _box_width(label: str) -> float:
    return round(_text_width(_shown(label)) + 20)


def _layout(children: Mapping[str, list[str]], root: str, widths: Mapping[str, float]) -> dict[str, float]:
    """Centre x of every node of the tree: leaves side by side, each parent centred over its children."""
    span: dict[str, float] = {}
    stack = [(root, False)]
    while stack:  # post-order without recursion: a chain of any length draws
        node, done = stack.pop()
        if done:
            kids = sum(span[c] for c in children[node]) + _H_GAP * max(len(children[node]) - 1, 0)
            span[node] = max(widths[node], kids)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children[node])
    centre: dict[str, float] = {}
    todo = [(root, float(_PAD))]
    while todo:
        node, left = todo.pop()
        centre[node] = left + span[node] / 2
        kids = children[node]
        total = sum(span[c] for c in kids) + _H_GAP * max(len(kids) - 1, 0)
        x = left + (span[node] - total) / 2
        for c in kids:
            todo.append((c, x))
            x += span[c] + _H_GAP
    return centre


def _node_svg(unit: str, kind: str, cx: float, top: float, width: float, *, owing: bool, contractor: bool,
              dashed: bool = False) -> list[str]:
    fill, stroke, ink, stroke_w = _FILL[kind], _STROKE[kind], "#1f2d3d", 1.2
    if contractor:
        fill, stroke, ink, stroke_w = "#2f4f7f", "#1d3557", "#ffffff", 1.5
    if owing:
        fill, stroke, ink, stroke_w = "#fde2e1", "#c0392b", "#a01c1c", 2.2
    role = "施工总承包单位" if contractor else UNIT_LABELS_ZH[kind]
    tooltip = f"{_clean(unit)}（{role}{'，存在欠薪' if owing else ''}）"
    dash = ' stroke-dasharray="5 3"' if dashed else ""
    bold = ' font-weight="bold"' if contractor or owing else ""
    return [
        f'<g class="unit unit-{kind}{" owing" if owing else ""}">',
        f"<title>{escape(tooltip)}</title>",
        f'<rect x="{cx - width / 2:.1f}" y="{top:.1f}" width="{width:.1f}" height="{_NODE_H}" rx="4" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{stroke_w}"{dash}/>',
        f'<text x="{cx:.1f}" y="{top + _NODE_H / 2 + _FONT * 0.36:.1f}" text-anchor="middle" fill="{ink}"'
        f"{bold}>{escape(_shown(unit))}</text>",
        "</g>",
    ]


def chain_as_svg(graph: nx.DiGraph, *, owing: Collection[str] = frozenset(),
                 flagged: Collection[str] = frozenset()) -> str:
    """A self-contained SVG of the chain, one row per depth, so the page needs no drawing library.

    ``owing`` units are drawn red; the link into each ``flagged`` unit (e.g. the units of ``chain_issues``) is
    drawn dashed orange. Units cut off from the contractor sit in a row of their own at the bottom.
    """
    connected, cut_off, parent, depth = _ordered(graph)
    root = _contractor(graph)
    children: dict[str, list[str]] = {u: [] for u in connected}
    for unit in connected[1:]:
        children[parent[unit]].append(unit)
    widths = {u: _box_width(u) for u in graph}
    centre = _layout(children, root, widths)
    top = {u: _PAD + depth[u] * (_NODE_H + _LEVEL_GAP) for u in connected}
    width = max(centre[u] + widths[u] / 2 for u in connected) + _PAD
    y = _PAD + (max(depth.values()) + 1) * (_NODE_H + _LEVEL_GAP) - _LEVEL_GAP + _PAD

    out: list[str] = []
    # flagged links last, so the shared horizontal runs of their siblings do not paint over them
    for a, b in sorted(graph.edges, key=lambda e: e[1] in flagged):
        if a not in centre or b not in centre:
            continue
        x1, y1 = centre[a], top[a] + _NODE_H
        x2, y2 = centre[b], top[b]
        stroke, dash = "#8a96a3", ""
        if b in flagged:
            stroke, dash = "#d35400", ' stroke-dasharray="6 4"'
        if parent.get(b) != a:  # a second parent: a data fault, drawn as a faint straight line
            out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#b0b8c1" '
                       f'stroke-dasharray="2 3"/>')
            continue
        mid = y1 + (y2 - y1) / 2
        out.append(f'<path d="M{x1:.1f},{y1:.1f} V{mid:.1f} H{x2:.1f} V{y2:.1f}" fill="none" stroke="{stroke}" '
                   f'stroke-width="1.4"{dash}/>')
        label = LINK_LABELS_ZH.get(graph.edges[a, b]["kind"])
        if label:
            out.append(f'<text x="{x2 + 4:.1f}" y="{y2 - 7:.1f}" font-size="11" fill="#5c6b7a">{label}</text>')
    for unit in connected:
        out += _node_svg(unit, graph.nodes[unit]["kind"], centre[unit], top[unit], widths[unit],
                         owing=unit in owing, contractor=unit == root)

    if cut_off:
        out.append(f'<text x="{_PAD}" y="{y + _FONT:.1f}" fill="#a01c1c">以下单位未接入总包分包链，请核实：</text>')
        y += _FONT + 10
        x = float(_PAD)
        for unit in cut_off:
            w = widths[unit]
            out += _node_svg(unit, graph.nodes[unit]["kind"], x + w / 2, y, w, owing=unit in owing,
                             contractor=False, dashed=True)
            x += w + _H_GAP
        width = max(width, x - _H_GAP + _PAD)
        y += _NODE_H + _PAD
    notes = []
    if owing:
        notes.append("红色：存在欠薪")
    if flagged:
        notes.append("橙色虚线：分包关系存疑或违法")
    if notes:
        out.append(f'<text x="{_PAD}" y="{y + _FONT:.1f}" font-size="12" fill="#5c6b7a">{"；".join(notes)}</text>')
        y += _FONT + _PAD
    width = max(width, _PAD * 2 + _text_width("；".join(notes), 12))

    font = quoteattr("'SimSun', 'Songti SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif")
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{y:.0f}" '
            f'viewBox="0 0 {width:.0f} {y:.0f}" role="img" font-family={font} font-size="{_FONT}">')
    title = f"<title>{escape(_clean(root))} 分包链（{max(depth.values())}级）</title>"
    return "\n".join([head, title, *out, "</svg>"])
