"""Subcontract chains: liable-party paths, depth, unlawful subcontracting, rankings across projects, drawings."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from earlywarn.chain import (
    DEFAULT_MAX_DEPTH,
    Link,
    build_chain,
    chain_as_json,
    chain_as_svg,
    chain_depth,
    chain_issues,
    companies_owing_most,
    liable_parties,
    path_to_contractor,
)

GC = "浙江安吉建工集团有限公司"
SVG = "{http://www.w3.org/2000/svg}"


def team(parent: str, name: str) -> Link:
    return Link(parent, name, "team", "team")


def company(parent: str, name: str, kind: str | None) -> Link:
    return Link(parent, name, kind, "company")


def codes(graph, **kw) -> set[tuple[str, str]]:
    return {(i.code, i.unit) for i in chain_issues(graph, **kw)}


# Chains of depth 1 to 4; the first three are lawful, no depth-4 chain can be (someone re-subcontracts).
CHAINS = {
    1: [team(GC, "钢筋班组")],
    2: [company(GC, "安吉劳务有限公司", "labour"), team("安吉劳务有限公司", "钢筋班组")],
    3: [company(GC, "幕墙专业公司", "specialist"), company("幕墙专业公司", "安吉劳务有限公司", "labour"),
        team("安吉劳务有限公司", "钢筋班组")],
    4: [company(GC, "幕墙专业公司", "specialist"), company("幕墙专业公司", "再分包公司", "sub_subcontract"),
        company("再分包公司", "安吉劳务有限公司", "labour"), team("安吉劳务有限公司", "钢筋班组")],
}
PATHS = {
    1: ["钢筋班组", GC],
    2: ["钢筋班组", "安吉劳务有限公司", GC],
    3: ["钢筋班组", "安吉劳务有限公司", "幕墙专业公司", GC],
    4: ["钢筋班组", "安吉劳务有限公司", "再分包公司", "幕墙专业公司", GC],
}


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_path_and_depth_on_chains_of_depth_1_to_4(depth):
    graph = build_chain(GC, CHAINS[depth])
    assert path_to_contractor(graph, "钢筋班组") == PATHS[depth]
    assert chain_depth(graph) == depth
    [party] = liable_parties(graph, {"钢筋班组": (500_000, 7)})
    assert party.path == PATHS[depth]
    assert party.general_contractor == GC
    assert party.direct_subcontractor == (None if depth == 1 else "安吉劳务有限公司")
    assert party.chain_zh == " → ".join(reversed(PATHS[depth]))
    assert "第三十条" in party.legal_basis


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_lawful_chains_raise_no_issue(depth):
    assert chain_issues(build_chain(GC, CHAINS[depth])) == []


def test_depth_beyond_the_limit_is_a_risk_signal_at_the_first_unit_past_it():
    graph = build_chain(GC, CHAINS[4])
    deep = [i for i in chain_issues(graph) if i.code == "too_deep"]
    assert [(i.unit, i.parent) for i in deep] == [("钢筋班组", "安吉劳务有限公司")]
    assert not deep[0].violation
    assert f"{DEFAULT_MAX_DEPTH}级" in deep[0].message_zh
    # the depth-4 chain is also unlawful in itself: the 再分包 recipient passed its work on
    assert codes(graph) == {("too_deep", "钢筋班组"), ("resubcontract_of_resubcontract", "安吉劳务有限公司")}
    assert codes(graph, max_depth=4) == {("resubcontract_of_resubcontract", "安吉劳务有限公司")}
    assert codes(build_chain(GC, CHAINS[3]), max_depth=2) == {("too_deep", "钢筋班组")}


def test_contractor_alone_and_the_contractor_itself():
    graph = build_chain(GC, [])
    assert chain_depth(graph) == 0
    assert path_to_contractor(graph, GC) == [GC]
    assert chain_issues(graph) == []


def test_path_of_an_unknown_or_cut_off_unit_is_an_error():
    graph = build_chain(GC, [team(GC, "钢筋班组"), company("无主公司", "木工班组", None)])
    with pytest.raises(ValueError, match="不在该项目的分包链中"):
        path_to_contractor(graph, "不存在的班组")
    with pytest.raises(ValueError, match="未接入"):
        path_to_contractor(graph, "木工班组")


def test_company_below_a_team():
    graph = build_chain(GC, [team(GC, "钢筋班组"), company("钢筋班组", "某某建材公司", "sub_subcontract")])
    [issue] = chain_issues(graph)
    assert (issue.code, issue.unit, issue.parent) == ("company_below_team", "某某建材公司", "钢筋班组")
    assert issue.violation
    assert "建筑法" in issue.legal_basis and "第二十九条" in issue.legal_basis


def test_team_subcontracting_to_an_individual_or_a_team():
    graph = build_chain(GC, [team(GC, "钢筋班组"), Link("钢筋班组", "张三", None, "individual"),
                             team("钢筋班组", "小工班组")])
    assert codes(graph) == {("team_subcontracts", "张三"), ("team_subcontracts", "小工班组")}


def test_company_subcontracting_to_an_individual_puts_article_36_on_the_liable_party():
    graph = build_chain(GC, [company(GC, "安吉劳务有限公司", "labour"),
                             Link("安吉劳务有限公司", "李四", "labour", "individual")])
    [issue] = chain_issues(graph)
    assert (issue.code, issue.unit) == ("subcontract_to_individual", "李四")
    assert "第三十六条" in issue.legal_basis
    [party] = liable_parties(graph, {"李四": (100, 1)})
    assert party.general_contractor == GC
    assert "第三十六条" in party.legal_basis


def test_resubcontract_below_a_labour_subcontract():
    graph = build_chain(GC, [company(GC, "安吉劳务有限公司", "labour"),
                             company("安吉劳务有限公司", "二手劳务公司", "sub_subcontract"),
                             team("二手劳务公司", "钢筋班组")])
    assert codes(graph) == {("resubcontract_of_labour", "二手劳务公司")}
    # a labour subcontractor passing its work to another company is the same thing whatever the link says
    graph = build_chain(GC, [company(GC, "安吉劳务有限公司", "labour"),
                             company("安吉劳务有限公司", "二手劳务公司", "labour")])
    assert codes(graph) == {("resubcontract_of_labour", "二手劳务公司")}
    # an explicit 再分包 to a team under a labour subcontractor is labour farmed out again
    graph = build_chain(GC, [company(GC, "安吉劳务有限公司", "labour"),
                             Link("安吉劳务有限公司", "外包班组", "sub_subcontract", "team")])
    assert codes(graph) == {("resubcontract_of_labour", "外包班组")}


def test_resubcontract_of_a_resubcontract():
    graph = build_chain(GC, [company(GC, "幕墙专业公司", "specialist"),
                             company("幕墙专业公司", "再分包公司", "sub_subcontract"),
                             company("再分包公司", "三手公司", "sub_subcontract"),
                             team("三手公司", "钢筋班组")])
    issues = {(i.code, i.unit) for i in chain_issues(graph, max_depth=4)}
    assert issues == {("resubcontract_of_resubcontract", "三手公司")}


def test_two_parents_and_units_cut_off_from_the_contractor_are_data_faults():
    graph = build_chain(GC, [company(GC, "甲公司", "specialist"), company(GC, "乙公司", "specialist"),
                             team("甲公司", "钢筋班组"), team("乙公司", "钢筋班组"),
                             company("无主公司", "木工班组", None)])
    issues = {(i.code, i.unit, i.parent): i for i in chain_issues(graph)}
    assert set(issues) == {("multiple_parents", "钢筋班组", "甲公司、乙公司"),
                           ("not_connected", "无主公司", ""), ("not_connected", "木工班组", "无主公司")}
    assert not any(i.violation for i in issues.values())
    # the first parent found breadth-first is the path, consistently
    assert path_to_contractor(graph, "钢筋班组") == ["钢筋班组", "甲公司", GC]


def test_build_rejects_what_the_importer_rejects():
    with pytest.raises(ValueError, match="不能作为下级单位"):
        build_chain(GC, [team("钢筋班组", GC)])
    with pytest.raises(ValueError, match="自己的下级单位"):
        build_chain(GC, [team("钢筋班组", "钢筋班组")])
    with pytest.raises(ValueError, match="未知的单位类型"):
        build_chain(GC, [Link(GC, "钢筋班组", "team", "gang")])
    with pytest.raises(ValueError, match="未知的分包类型"):
        build_chain(GC, [Link(GC, "钢筋班组", "劳务分包", "team")])


def test_build_carries_kinds():
    graph = build_chain(GC, CHAINS[3])
    assert graph.graph["contractor"] == GC
    assert graph.nodes[GC]["kind"] == "company"
    assert graph.nodes["钢筋班组"]["kind"] == "team"
    assert graph.edges["幕墙专业公司", "安吉劳务有限公司"]["kind"] == "labour"


def test_liable_parties_orders_by_arrears_and_keeps_teams_outside_the_chain():
    graph = build_chain(GC, [*CHAINS[3], team("安吉劳务有限公司", "木工班组"), team(GC, "杂工班组")])
    parties = liable_parties(graph, {"钢筋班组": (100_00, 2), "木工班组": (900_00, 5), "杂工班组": (0, 3),
                                     "未登记班组": (50_00, 1)})
    assert [p.team for p in parties] == ["木工班组", "钢筋班组", "未登记班组"]
    assert all(p.general_contractor == GC for p in parties)
    outside = parties[-1]
    assert not outside.in_chain and outside.path == ["未登记班组"] and outside.direct_subcontractor is None


def test_companies_owing_most_aggregates_a_company_across_projects():
    labour = "安吉劳务有限公司"
    p1 = build_chain(GC, [company(GC, labour, "labour"), team(labour, "钢筋班组"), team(labour, "木工班组")])
    p2 = build_chain("湖州二建有限公司", [company("湖州二建有限公司", labour, "labour"), team(labour, "泥工班组"),
                                   team("湖州二建有限公司", "水电班组")])
    p3 = build_chain(GC, [team(GC, "油漆班组")])
    ranking = companies_owing_most([
        ("P1", p1, {"钢筋班组": (300_00, 3), "木工班组": (200_00, 2)}),
        ("P2", p2, {"泥工班组": (400_00, 4), "水电班组": (50_00, 1)}),
        ("P3", p3, {"油漆班组": (0, 2), "未登记班组": (10_00, 1)}),
    ])
    by_name = {c.company: c for c in ranking}
    assert [c.company for c in ranking] == [labour, GC, "湖州二建有限公司"]
    assert (by_name[labour].owed_fen, by_name[labour].workers) == (900_00, 9)
    assert [(p.project_code, p.role, p.owed_fen) for p in by_name[labour].projects] == [
        ("P1", "subcontractor", 500_00), ("P2", "subcontractor", 400_00)]
    assert by_name[labour].projects[1].paths == [["泥工班组", labour, "湖州二建有限公司"]]
    # a team outside the recorded chain still counts against the project's contractor
    assert (by_name[GC].owed_fen, by_name[GC].workers) == (510_00, 6)
    assert [(p.project_code, p.role) for p in by_name[GC].projects] == [("P1", "general_contractor"),
                                                                       ("P3", "general_contractor")]
    assert by_name["湖州二建有限公司"].owed_fen == 450_00
    assert [c.company for c in companies_owing_most([("P1", p1, {"钢筋班组": (1, 1)})], top=1)] == [labour]


def test_individuals_and_teams_on_a_path_are_not_ranked_as_companies():
    graph = build_chain(GC, [Link(GC, "包工头王五", None, "individual"), team("包工头王五", "钢筋班组")])
    ranking = companies_owing_most([("P1", graph, {"钢筋班组": (100, 1)})])
    assert [c.company for c in ranking] == [GC]


def test_chain_as_json_counts_and_shape():
    graph = build_chain(GC, [*CHAINS[3], team(GC, "杂工班组"), company("无主公司", "木工班组", None)])
    data = chain_as_json(graph, owing={"钢筋班组"})
    assert data["contractor"] == GC and data["depth"] == 3
    assert len(data["nodes"]) == graph.number_of_nodes() == 7
    assert len(data["edges"]) == graph.number_of_edges() == 5
    nodes = {n["label"]: n for n in data["nodes"]}
    assert nodes[GC] == {"id": "n0", "label": GC, "kind": "company", "depth": 0, "contractor": True,
                         "owing": False}
    assert nodes["钢筋班组"]["depth"] == 3 and nodes["钢筋班组"]["owing"]
    assert nodes["木工班组"]["depth"] is None
    ids = {n["id"] for n in data["nodes"]}
    assert all(e["from"] in ids and e["to"] in ids for e in data["edges"])
    assert {e["kind"] for e in data["edges"]} == {"specialist", "labour", "team", None}


def test_svg_is_well_formed_and_carries_every_label_escaped():
    odd = '甲&乙<劳务>"公司"'
    graph = build_chain("A&B<总包>", [company("A&B<总包>", odd, "labour"), team(odd, "钢筋'班组'"),
                                      team("A&B<总包>", "木工班组"), company("无主公司", "油漆班组", None)])
    svg = chain_as_svg(graph, owing={"钢筋'班组'"}, flagged={"木工班组"})
    assert "&amp;" in svg and "&lt;" in svg
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
    for label in graph.nodes:
        assert label in texts
    red = [g for g in root.iter(f"{SVG}g") if "owing" in g.get("class", "").split()]
    assert ["".join(t.itertext()) for g in red for t in g.iter(f"{SVG}text")] == ["钢筋'班组'"]
    assert "未接入总包分包链" in svg
    assert float(root.get("width")) > 0 and float(root.get("height")) > 0


def test_svg_survives_characters_xml_cannot_carry_and_long_names():
    long_name = "安吉县某某建筑劳务分包有限责任公司第一工程处第二项目部"
    graph = build_chain(GC, [company(GC, "劳务\x0b公司", "labour"), company(GC, long_name, "specialist")])
    root = ET.fromstring(chain_as_svg(graph))
    texts = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
    assert "劳务公司" in texts
    assert any(t.endswith("…") and long_name.startswith(t[:-1]) for t in texts)
    titles = {"".join(t.itertext()) for t in root.iter(f"{SVG}title")}
    assert any(long_name in t for t in titles)


def test_svg_places_siblings_apart_and_children_below():
    graph = build_chain(GC, [company(GC, "甲公司", "specialist"), company(GC, "乙公司", "specialist"),
                             team("甲公司", "一班组"), team("甲公司", "二班组"), team("乙公司", "三班组")])
    root = ET.fromstring(chain_as_svg(graph))
    boxes = {}
    for g in root.iter(f"{SVG}g"):
        rect = g.find(f"{SVG}rect")
        label = "".join(g.find(f"{SVG}text").itertext())
        boxes[label] = (float(rect.get("x")), float(rect.get("y")), float(rect.get("width")))
    row = sorted((boxes[u] for u in ("一班组", "二班组", "三班组")), key=lambda b: b[0])
    assert all(a[0] + a[2] <= b[0] for a, b in zip(row, row[1:], strict=False))
    assert boxes[GC][1] < boxes["甲公司"][1] < boxes["一班组"][1]
