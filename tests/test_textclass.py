"""The report-text classifier: behaviour of the shipped model, the head-count rule, the scikit-learn contract,
the machine-checked model card, batch classification and the corpus it was trained on."""

from __future__ import annotations

import csv
import importlib.util
import shutil
from pathlib import Path

import openpyxl
import pytest
import yaml
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from earlywarn.file_format import FileFormatError
from earlywarn.rules import load_escalation_phrases
from earlywarn.textclass import (
    CATEGORIES,
    ModelCardError,
    build_pipeline,
    classify_csv,
    file_sha256,
    head_count,
    latest_model_dir,
    load_model,
    normalise,
    numeral_value,
    read_card,
    save_model,
)
from earlywarn.train_textclass import CORPUS, ROOT, evaluate, read_corpus, split_corpus

MODELS = ROOT / "models"
DATA = Path(__file__).parent / "data"

# (text, category or None, escalation or None, collective or None); None = not asserted.
BEHAVIOUR = [
    ("包工头跑了,二十几个人三个月工资没拿到", "wage_arrears", None, True),
    ("工人说明天要去堵政府大门讨薪", None, True, None),
    ("食堂饭菜太差", "other", False, None),
    ("一百来号人围在项目部门口", None, True, True),
    ("电梯坏了只能爬楼梯上班", None, False, None),
    ("三个工人的工资两个月没发", "wage_arrears", False, False),
    ("老板欠我两个月工姿，电话也不接", "wage_arrears", False, False),
    ("包工头玩失踪，俺们的血汗钱讨不回来", "wage_arrears", False, None),
    ("十个月工资没发", "wage_arrears", None, False),
    ("在厂里干活被机器轧断了手指，老板不管", "injury", False, False),
    ("工地上工友被钢管砸伤了头，还在医院", "injury", False, None),
    ("公司一直没给我们交社保", "social_insurance", False, None),
    ("老板说不交社保每月多给两百", "social_insurance", False, None),
    ("怀孕了被公司辞退，没有补偿", "dismissal", False, None),
    ("每天加班到晚上十一点，没有加班费", "overtime_hours", False, None),
    ("消防通道被堵死了", "safety", False, None),
    ("塔吊司机没有证", "safety", False, None),
    ("请问工会会员卡怎么办理", "other", False, False),
    ("门口挂了招聘横幅", "other", False, None),
    ("有个工人爬上塔吊说不给钱就跳下去", None, True, None),
    ("工人准备去住建局上访", None, True, None),
    ("几个工人扬言要堵路", None, True, False),
    ("二十多个工人把老板堵在办公室", None, True, True),
    ("老板跑路了，俺们三十多人的工钱没着落", "wage_arrears", None, True),
]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    folder = latest_model_dir(MODELS)
    assert folder is not None, "no report-text model shipped in models/"
    return folder


@pytest.fixture(scope="module")
def clf(model_dir):
    return load_model(model_dir)


@pytest.mark.parametrize(("text", "category", "escalation", "collective"), BEHAVIOUR)
def test_behaviour(clf, text, category, escalation, collective):
    (v,) = clf.predict([text])
    if category is not None:
        assert v.category == category, v
    if escalation is not None:
        assert v.escalation is escalation, v
    if collective is not None:
        assert v.collective is collective, v
    assert 0 <= v.category_confidence <= 1 and v.reasons[0].startswith("模型：")


def test_rule_phrases_join_the_escalation_flag(clf):
    text = "老板说再拖就找记者曝光"
    (plain,) = clf.predict([text])
    (ruled,) = clf.predict([text], escalation_phrases=["找*记者"])
    assert not plain.escalation and ruled.escalation
    assert "升级信号短语：找*记者" in ruled.reasons
    # The shipped rule file loads into the same argument.
    phrases = load_escalation_phrases(ROOT / "rules" / "escalation.yaml")
    (v,) = clf.predict(["几个人去堵项目部的门"], escalation_phrases=phrases)
    assert v.escalation and any(r.startswith("升级信号短语") for r in v.reasons)


def test_head_count_makes_collective_even_when_model_hesitates(clf):
    (v,) = clf.predict(["12名工人"])
    assert v.head_count == 12 and v.collective and any("12 人" in r for r in v.reasons)
    assert clf.predict([]) == []


@pytest.mark.parametrize(("text", "n"), [
    ("包工头跑了,二十几个人三个月工资没拿到", 20), ("30多人", 30), ("12名工人", 12), ("一百来号人", 100),
    ("上百号人", 100), ("工人有四五十个，都没拿到钱", 40), ("俺们一伙十五六个人", 15), ("十来个人", 10),
    ("１２名工人", 12), ("三个工人", 3), ("就我一个人", 1), ("几个工友", 3), ("三个人代表全班二十几个工友", 20),
    ("十个月工资没发", None), ("每天干十二个小时", None), ("欠了3000人民币", None), ("全体工人", None), ("", None),
])
def test_head_count(text, n):
    assert head_count(text) == n


@pytest.mark.parametrize(("s", "n"), [("二十几", 20), ("四五十", 40), ("十七八", 17), ("几十", 20), ("几", 3),
                                      ("一百二十", 120), ("两三百", 200), ("十", 10), ("35", 35)])
def test_numeral_value(s, n):
    assert numeral_value(s) == n


def test_normalise_keeps_magnitudes_apart():
    assert normalise("二十几个人，三个月！") == "Ⓟ个人 Ⓢ个月"
    assert normalise("十个月") == "Ⓝ个月" and normalise("三个工人") == "Ⓠ个工人"
    assert normalise("一直统一") == "一直统一"  # 一 outside a quantity is a word, not a number
    assert normalise(None) == ""


@pytest.mark.parametrize("kind", ["category", "escalation", "collective"])
def test_pipeline_follows_the_sklearn_contract(kind):
    pipe = build_pipeline(kind)
    with pytest.raises(NotFittedError):
        check_is_fitted(pipe)
    params = pipe.get_params()
    assert params["tfidf__analyzer"] == "char_wb" and params["tfidf__preprocessor"] is normalise
    twin = clone(pipe)
    assert twin is not pipe and twin.get_params().keys() == params.keys()
    twin.set_params(tfidf__min_df=1)
    assert twin.get_params()["tfidf__min_df"] == 1 and pipe.get_params()["tfidf__min_df"] == 2
    # No custom estimator, so there is nothing for parametrize_with_checks to check; a new step must bring one.
    assert all(type(step).__module__.startswith("sklearn.") for _, step in pipe.steps)
    with pytest.raises(ValueError):
        build_pipeline("sentiment")


def test_tiny_fit_returns_self():
    rows = read_corpus()
    pos = [r for r in rows if r.escalation][:25]
    neg = [r for r in rows if not r.escalation][:25]
    pipe = build_pipeline("escalation")
    assert pipe.fit([r.text for r in pos + neg], [True] * 25 + [False] * 25) is pipe
    check_is_fitted(pipe)
    assert pipe.predict_proba(["有人扬言要跳楼"]).shape == (1, 2)


def _copy(model_dir: Path, tmp_path: Path) -> Path:
    dst = tmp_path / model_dir.name
    shutil.copytree(model_dir, dst)
    return dst


def test_card_refuses_tampered_artifact(model_dir, tmp_path):
    folder = _copy(model_dir, tmp_path)
    load_model(folder)  # the untouched copy loads
    data = bytearray((folder / "model.joblib").read_bytes())
    data[len(data) // 2] ^= 0x01
    (folder / "model.joblib").write_bytes(bytes(data))
    with pytest.raises(ModelCardError, match="sha256"):
        load_model(folder)


@pytest.mark.parametrize("lib", ["scikit-learn", "numpy"])
def test_card_refuses_other_library_version(model_dir, tmp_path, lib):
    folder = _copy(model_dir, tmp_path)
    card = yaml.safe_load((folder / "card.yaml").read_text(encoding="utf-8"))
    card["versions"][lib] = "1.0.0"
    (folder / "card.yaml").write_text(yaml.safe_dump(card, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ModelCardError, match=lib):
        load_model(folder)


@pytest.mark.parametrize("content", [None, "versions: [unclosed", "- just\n- a list\n", "versions: {}\n"])
def test_card_refuses_missing_or_malformed(model_dir, tmp_path, content):
    folder = _copy(model_dir, tmp_path)
    if content is None:
        (folder / "card.yaml").unlink()
    else:
        (folder / "card.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(ModelCardError, match="模型卡"):
        load_model(folder)


def test_card_refuses_changed_preprocessing(model_dir, tmp_path):
    folder = _copy(model_dir, tmp_path)
    card = yaml.safe_load((folder / "card.yaml").read_text(encoding="utf-8"))
    first = next(iter(card["normalise_probes"]))
    card["normalise_probes"][first] += "x"
    (folder / "card.yaml").write_text(yaml.safe_dump(card, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ModelCardError, match="normalise"):
        load_model(folder)


def test_save_load_round_trip_and_immutability(clf, tmp_path):
    card = save_model(clf, tmp_path / "report-text-20990101", {"note": "test"})
    assert card["artifact"]["sha256"] == file_sha256(tmp_path / "report-text-20990101" / "model.joblib")
    again = load_model(tmp_path / "report-text-20990101")
    texts = [t for t, *_ in BEHAVIOUR]
    assert again.predict(texts) == clf.predict(texts)
    with pytest.raises(FileExistsError):
        save_model(clf, tmp_path / "report-text-20990101", {})


def test_latest_model_dir(tmp_path):
    assert latest_model_dir(tmp_path / "missing") is None
    assert latest_model_dir(tmp_path) is None
    for name in ("report-text-20250101", "report-text-20260301", "report-text-20270101", "risk-20300101"):
        (tmp_path / name).mkdir()
    for name in ("report-text-20250101", "report-text-20260301", "risk-20300101"):
        (tmp_path / name / "card.yaml").write_text("x: 1\n")
    assert latest_model_dir(tmp_path) == tmp_path / "report-text-20260301"  # 2027 has no card
    assert latest_model_dir(tmp_path, prefix="risk-") == tmp_path / "risk-20300101"


def test_classify_csv_gbk_with_content_column(clf, tmp_path):
    src = tmp_path / "in.csv"
    rows = [["编号", "内容"], ["1", "包工头跑了，二十几个人三个月工资没拿到"], ["2", "食堂饭菜太差"], ["3", ""],
            ["4", "工人说明天要去堵政府大门讨薪"]]
    with open(src, "w", encoding="gbk", newline="") as f:
        csv.writer(f).writerows(rows)
    counts = classify_csv(src, tmp_path / "out.csv", clf, phrases=["堵*门"])
    assert counts["rows"] == 4 and counts["blank"] == 1 and counts["escalation"] == 1
    assert counts["by_category"]["wage_arrears"] == 2 and counts["by_category"]["other"] == 1
    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    out = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["编号"] for r in out] == ["1", "2", "3", "4"]
    assert out[0]["category"] == "wage_arrears" and out[0]["category_zh"] == "欠薪" and out[0]["collective"] == "1"
    assert out[0]["head_count"] == "20" and 0 < float(out[0]["confidence"]) <= 1
    assert out[1]["category"] == "other" and out[1]["escalation"] == "0"
    assert out[2]["category"] == "" and out[3]["escalation"] == "1" and "堵*门" in out[3]["reasons"]


def test_classify_csv_labelled_file_and_xlsx(clf, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["Text", "category"])
    wb.active.append(["公司一直没给我们交社保", "social_insurance"])
    wb.save(tmp_path / "in.xlsx")
    classify_csv(tmp_path / "in.xlsx", tmp_path / "out.csv", clf)
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as f:
        (row,) = list(csv.DictReader(f))
    # The input's own label column is kept; the prediction goes beside it.
    assert row["category"] == "social_insurance" and row["category_pred"] == "social_insurance"


def test_classify_csv_needs_a_text_column(clf, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("编号,备注\n1,食堂饭菜太差\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="内容"):
        classify_csv(src, tmp_path / "out.csv", clf)


def test_shipped_card_matches_recomputed_held_out_metrics(clf, model_dir):
    card = read_card(model_dir)
    assert card["artifact"]["bytes"] < 5_000_000
    assert card["data"]["sha256"] == file_sha256(CORPUS), "corpus changed since training: retrain"
    held = card["metrics"]["held_out"]
    assert held["category"]["macro_f1"] >= 0.85
    rows = read_corpus(CORPUS)
    _, test = split_corpus(rows, card["split"]["test_size"], card["split"]["seed"])
    assert len(test) == held["rows"] == card["split"]["test_rows"]
    again = evaluate(clf, test)
    assert again["category"]["macro_f1"] == held["category"]["macro_f1"]
    assert again["category"]["confusion_matrix"] == held["category"]["confusion_matrix"]
    assert again["escalation"] == held["escalation"] and again["collective"] == held["collective"]


def _make_corpus():
    spec = importlib.util.spec_from_file_location("make_corpus", DATA / "make_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_corpus_is_reproducible_and_independent():
    mc = _make_corpus()
    rows = read_corpus(CORPUS)
    assert len(rows) >= 1200 and {r.category for r in rows} == set(CATEGORIES)
    assert sum(r.source == "handwritten" for r in rows) >= 140
    with open(CORPUS, encoding="utf-8", newline="") as f:
        assert list(csv.reader(f))[1:] == mc.build_rows()  # the script regenerates the file exactly
    fragments = mc.simulator_fragments()
    assert fragments and not [(r.text, s) for r in rows for s in fragments if s in mc._key(r.text)]
    # The behavioural cases are unseen texts, not rows of the training corpus.
    keys = {mc._key(r.text) for r in rows}
    assert not [t for t, *_ in BEHAVIOUR if mc._key(t) in keys]
