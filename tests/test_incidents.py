"""Clustering reports into incidents (earlywarn.incidents, pure): same project within 14 days joins, different
projects stay apart, 20 days apart splits, a chain of reports stays one incident, informants are counted once and
anonymous reports separately, company-only reports cluster by company, unlinked reports form none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from earlywarn.incidents import ReportNode, cluster_reports, similarity_graph

T0 = datetime(2025, 1, 6, 2, 0, tzinfo=UTC)


def node(id, day, project=None, company=None, informant=None):
    return ReportNode(id, T0 + timedelta(days=day), project, company, informant)


def test_same_project_within_14_days_is_one_incident():
    [incident] = cluster_reports([node(1, 0, 7, informant="#1"), node(2, 5, 7, informant="#2"),
                                  node(3, 14, 7, informant="#3")])
    assert incident.report_ids == [1, 2, 3]
    assert incident.project_id == 7 and incident.reports == 3
    assert (incident.first, incident.last) == (T0, T0 + timedelta(days=14))


def test_different_projects_stay_apart():
    incidents = cluster_reports([node(1, 0, 7), node(2, 1, 8), node(3, 2, 7)])
    assert sorted(i.report_ids for i in incidents) == [[1, 3], [2]]
    assert {i.project_id for i in incidents} == {7, 8}


def test_reports_20_days_apart_are_two_incidents():
    incidents = cluster_reports([node(1, 0, 7), node(2, 20, 7)])
    assert [i.report_ids for i in incidents] == [[2], [1]]  # most recent first


def test_a_chain_longer_than_the_window_stays_one_incident():
    [incident] = cluster_reports([node(1, 0, 7), node(2, 11, 7), node(3, 22, 7)])
    assert incident.report_ids == [1, 2, 3]
    assert incident.last - incident.first == timedelta(days=22)


def test_window_is_configurable():
    assert len(cluster_reports([node(1, 0, 7), node(2, 5, 7)], window_days=3)) == 2


def test_counts_distinct_informants_and_anonymous_reports():
    [incident] = cluster_reports([node(1, 0, 7, informant="#4"), node(2, 1, 7, informant="#4"),
                                  node(3, 2, 7, informant="#9"), node(4, 3, 7), node(5, 4, 7)])
    assert incident.informants == 2 and incident.anonymous == 2
    assert incident.informant_keys == ["#4", "#9"]


def test_company_only_reports_cluster_by_company_and_unlinked_reports_form_none():
    incidents = cluster_reports([node(1, 0, company=3), node(2, 3, company=3), node(3, 1, company=4), node(4, 2),
                                 node(5, 2, project=7, company=3)])
    by_ids = {tuple(i.report_ids): i for i in incidents}
    assert set(by_ids) == {(1, 2), (3,), (5,)}
    assert by_ids[(1, 2)].project_id is None and by_ids[(1, 2)].company_id == 3
    assert by_ids[(5,)].project_id == 7 and by_ids[(5,)].company_id == 3
    assert by_ids[(1, 2)].key == "c3-r1" and by_ids[(5,)].key == "p7-r5"


def test_company_of_a_project_incident_is_the_one_named_most():
    [incident] = cluster_reports([node(1, 0, 7, company=3), node(2, 1, 7, company=5), node(3, 2, 7, company=5),
                                  node(4, 3, 7)])
    assert incident.company_id == 5


def test_graph_joins_only_neighbours_in_time():
    graph = similarity_graph([node(i, i, 7) for i in range(1, 6)])
    assert graph.number_of_nodes() == 5 and graph.number_of_edges() == 4


def test_no_reports_no_incidents():
    assert cluster_reports([]) == []
