"""Linking a report to a project and company (earlywarn.linking, pure): derived short forms, by code (field and
text), by registered name, fuzzily by a short brand in colloquial text, the township's say, a company implying its
only active site, and an unknown subject left unresolved with alternatives for the mediator."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from earlywarn.linking import (
    COMPANY,
    FUZZY_FLOOR,
    FUZZY_MAX,
    NAME_CONFIDENCE,
    Candidate,
    CandidateIndex,
    company_candidate,
    company_forms,
    link_report,
    make_candidates,
    project_candidate,
    project_forms,
)

CODES = {"AJ2024-001": 1, "AJ2024-002": 2, "AJ2024-003": 3}


def county(extra=()):
    return CandidateIndex(make_candidates([
        project_candidate(1, "安吉县阳光苑一期", "递铺街道", date(2024, 1, 1)),
        project_candidate(2, "孝丰卫生院迁建工程", "孝丰镇", date(2024, 3, 1), date(2024, 6, 30)),
        project_candidate(3, "天荒坪竹乡学校新建工程", "天荒坪镇", date(2024, 3, 1)),
        company_candidate(10, "湖州银河建设有限公司", "company", [1]),
        company_candidate(11, "浙江恒达建设集团有限公司", "company", [2, 3]),
        company_candidate(12, "湖州宏盛建筑劳务有限公司", "company", [1, 2]),
        company_candidate(13, "王建国班组", "team", [1]),
        *extra,
    ]))


def link(text, *, code=None, employer=None, township=None, on=date(2025, 3, 1), index=None):
    return link_report(project_code=code, employer=employer, text=text, township=township,
                       candidates=index or county(), codes=CODES, on=on)


def test_short_forms_of_company_and_project_names():
    assert company_forms("湖州银河建设有限公司") == ["湖州银河建设有限公司", "湖州银河建设", "银河建设", "银河"]
    assert {"恒达建设集团", "恒达建设", "恒达"} <= set(company_forms("浙江恒达建设集团有限公司"))
    assert {"宏盛建筑", "宏盛劳务"} <= set(company_forms("湖州宏盛建筑劳务有限公司"))
    assert {"华立幕墙"} <= set(company_forms("杭州华立幕墙工程有限公司"))
    assert company_forms("王建国班组", "team") == ["王建国班组"]
    assert project_forms("安吉县阳光苑一期") == ["安吉县阳光苑一期", "阳光苑一期", "阳光苑"]
    assert "银河阳光府" in project_forms("银河·阳光府一期")


def test_short_forms_shared_by_two_candidates_or_naming_a_township_are_dropped():
    cands = make_candidates([company_candidate(1, "湖州银河建设有限公司"),
                             company_candidate(2, "浙江银河建设集团有限公司"),
                             company_candidate(3, "安吉孝丰建设有限公司"),
                             project_candidate(9, "孝丰阳光苑", "孝丰镇")])
    first, second, third, _ = cands
    assert first.names == ("湖州银河建设有限公司", "湖州银河建设")
    assert "银河" not in second.names and "银河建设" not in second.names
    assert "孝丰" not in third.names and "孝丰建设" in third.names


def test_link_by_code_in_the_field_and_in_the_text():
    r = link("工资三个月没发了", code="AJ2024-002")
    assert (r.project_id, r.method, r.confidence, r.matched) == (2, "code", 1.0, "AJ2024-002")
    r = link("ａｊ2024-003 工地拖欠工资")  # full-width, lower case, as typed on a phone
    assert (r.project_id, r.method) == (3, "code")


def test_an_unknown_code_falls_through_to_the_names():
    r = link("阳光苑一期拖欠工资", code="AJ2099-999")
    assert (r.project_id, r.method) == (1, "fuzzy")


def test_code_wins_and_a_company_on_that_project_is_kept():
    r = link("恒达建设拖欠工资", code="AJ2024-003")
    assert (r.project_id, r.company_id, r.method) == (3, 11, "code")
    r = link("银河建设拖欠工资", code="AJ2024-003")  # 银河 does not work on project 3
    assert (r.project_id, r.company_id) == (3, None)


def test_link_by_registered_name():
    r = link("欠薪", employer="湖州银河建设有限公司")
    assert (r.company_id, r.method, r.confidence) == (10, "name", NAME_CONFIDENCE)
    assert r.project_id == 1 and r.project_via_company  # its only site
    r = link("安吉县阳光苑一期的工人反映被欠薪")
    assert (r.project_id, r.company_id, r.method) == (1, None, "name")


def test_project_named_with_its_company():
    r = link("浙江恒达建设集团有限公司承建的孝丰卫生院迁建工程拖欠工资")
    assert (r.project_id, r.company_id, r.method) == (2, 11, "name")
    assert not r.project_via_company


def test_fuzzy_link_by_a_short_brand_in_colloquial_text():
    r = link("银河建设的老板欠我们三个月工资")
    assert (r.company_id, r.method, r.matched) == (10, "fuzzy", "银河建设")
    assert 0.85 <= r.confidence < NAME_CONFIDENCE
    assert r.project_id == 1 and r.project_via_company


def test_township_boosts_a_match_and_a_wrong_township_penalises_it():
    on = date(2024, 5, 1)  # both of 恒达's sites running
    plain = link("恒达建设在那边的工地拖欠工资", on=on)
    boosted = link("恒达建设在那边的工地拖欠工资", township="天荒坪镇", on=on)
    wrong = link("恒达建设在那边的工地拖欠工资", township="梅溪镇", on=on)
    assert boosted.confidence > plain.confidence >= 0.85
    assert boosted.confidence <= FUZZY_MAX
    assert wrong.method is None and wrong.alternatives[0].id == 11
    # Two sites: only the township tells which one.
    assert (plain.company_id, plain.project_id) == (11, None)
    assert (boosted.company_id, boosted.project_id) == (11, 3)


def test_township_named_in_the_text_counts_when_the_field_is_empty():
    r = link("恒达建设在天荒坪的工地拖欠工资", on=date(2024, 5, 1))
    assert (r.company_id, r.project_id) == (11, 3)


def test_a_bare_two_character_brand_needs_the_township():
    assert link("银河的工地拖欠工资").method is None
    r = link("银河的工地拖欠工资", township="递铺街道")
    assert (r.company_id, r.method) == (10, "fuzzy")


def test_company_implies_only_its_active_site():
    # 宏盛 works on 1 and 2, but 2 ended in mid-2024 (plus the grace for late settlement).
    assert link("宏盛劳务拖欠工资", on=date(2025, 3, 1)).project_id == 1
    assert link("宏盛劳务拖欠工资", on=date(2024, 5, 1)).project_id is None
    r = link("宏盛劳务拖欠工资", township="孝丰镇", on=date(2024, 5, 1))
    assert (r.company_id, r.project_id) == (12, 2)


def test_unknown_subject_is_unresolved_with_alternatives():
    r = link("银河建筑的工地拖欠工资")  # not a registered company; resembles 银河建设
    assert (r.project_id, r.company_id, r.method, r.matched) == (None, None, None, None)
    assert r.confidence < 0.85 and not r.resolved
    assert r.alternatives and r.alternatives[0].id == 10 and r.alternatives[0].kind == "company"
    assert len(r.alternatives) <= 3
    nothing = link("请问最低工资标准是多少")
    assert nothing.method is None and nothing.alternatives == () and nothing.confidence == 0.0


def test_two_projects_with_the_same_name_are_not_guessed_between():
    index = county([project_candidate(4, "安吉县阳光苑一期", "递铺街道")])
    r = link("安吉县阳光苑一期欠薪", index=index)
    assert r.project_id is None and {a.id for a in r.alternatives} >= {1, 4}


def test_alternatives_leave_out_what_was_linked():
    r = link("浙江恒达建设集团有限公司承建的孝丰卫生院迁建工程拖欠工资")
    assert all((a.kind, a.id) not in {("project", 2), ("company", 11)} for a in r.alternatives)


def test_unresolved_reports_get_hints_from_the_township_and_the_gang_masters_surname():
    r = link("王老板的班组工资两个月没结了", township="递铺街道")
    assert r.method is None and r.confidence == 0.0  # hints are not evidence
    assert [(a.kind, a.id, a.method) for a in r.alternatives] == [("company", 13, "hint"), ("project", 1, "hint")]
    assert r.alternatives[0].matched == "递铺街道"
    # In another township the surname points nowhere; only the sites running there are suggested.
    r = link("王老板的班组工资两个月没结了", township="天荒坪镇")
    assert [(a.id, a.method) for a in r.alternatives] == [(3, "hint")]
    assert link("王老板的班组工资两个月没结了").alternatives == ()


@pytest.mark.parametrize("text", ["王建国班组的工资没发", "王建国班组两个月没结工资"])
def test_a_team_is_linked_by_its_full_name(text):
    r = link(text)
    assert (r.company_id, r.method, r.project_id) == (13, "name", 1)


def test_a_plain_candidate_list_works_without_an_index():
    cands = make_candidates([project_candidate(1, "安吉县阳光苑一期", "递铺街道")])
    r = link_report(project_code=None, employer=None, text="阳光苑工地欠薪", township=None, candidates=cands, codes={})
    assert (r.project_id, r.method) == (1, "fuzzy")


# A small alphabet, so random texts share characters with the forms and fuzzy scores spread around the floor.
_ALPHABET = "银河建设有限公司阳光苑工地安吉劳务班组朱老板钢筋木工递铺孝丰"


@settings(max_examples=300, deadline=None)
@given(forms=st.lists(st.text(_ALPHABET, min_size=1, max_size=12), min_size=1, max_size=25),
       hay=st.text(_ALPHABET, min_size=1, max_size=40))
def test_forms_skipped_before_fuzzy_matching_could_not_have_matched(forms, hay):
    index = CandidateIndex([Candidate(COMPANY, i, (form,)) for i, form in enumerate(forms)])
    kept = index.worth_scoring(hay)
    assert kept == sorted(kept)
    scored = {i for _, _, i in process.extract(hay, index.forms, scorer=fuzz.partial_ratio, limit=None,
                                               score_cutoff=FUZZY_FLOOR) if len(index.forms[i]) <= len(hay)}
    assert scored <= set(kept)


def test_forms_sharing_too_few_characters_are_skipped():
    index = CandidateIndex([Candidate(COMPANY, 1, ("银河建设有限公司",)), Candidate(COMPANY, 2, ("阳光苑",)),
                            Candidate(COMPANY, 3, ("安吉县递铺街道阳光苑安置小区工程",))])
    # 阳光苑 is in the text; 银河建设有限公司 shares only 公司 (2 of 8 < 0.3·8); the long name is longer than the text.
    assert index.worth_scoring("阳光苑工地的公司欠了三个月工资") == [1]
