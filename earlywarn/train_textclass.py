"""Trains the report-text classifier and ships it with its model card.

    python -m earlywarn.train_textclass --out models/report-text-YYYYMMDD/

Reads the labelled corpus (``tests/data/report_corpus.csv``, built by ``tests/data/make_corpus.py``), holds out
a stratified 20 % (by category, fixed seed), fits the three pipelines on the rest, measures them on the held-out
part and writes ``model.joblib`` + ``card.yaml``. The shipped model is the one fitted on the training part, not
refitted on everything, so the card's held-out metrics stay honest and can be recomputed from the corpus and
the seed (the tests do so).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import train_test_split

from earlywarn.rules import load_escalation_phrases
from earlywarn.textclass import (
    CATEGORIES,
    COLLECTIVE_HEADCOUNT,
    ReportClassifier,
    build_pipeline,
    file_sha256,
    fit_classifier,
    save_model,
)

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "report_corpus.csv"
PHRASES = ROOT / "rules" / "escalation.yaml"
SEED = 20261128
TEST_SIZE = 0.2
_TRUE, _FALSE = {"1", "true", "yes", "是", "y"}, {"0", "false", "no", "否", "n", ""}

INTENDED_USE = (
    "给调解员排序和提示用：对信息员报告、热线记录等中文短文本给出类别（欠薪/工伤/社保/辞退/加班工时/安全隐患/其他）、"
    "升级信号（上访、堵门堵路、拉横幅、爬塔吊/爬楼、跳楼威胁、围堵、集体停工）和是否涉及 10 人以上。"
    "结果是提示而不是结论：每条都带概率和理由，由调解员核实。"
)
LIMITATIONS = [
    "训练语料是项目自建的：约九成由模板组合生成，一成手写；留出集与训练集同源，指标偏乐观。"
    "手写子集的指标（held_out_handwritten）更接近真实文本，但样本很少。",
    "字符 n-gram 不理解否定和语境：『不会去上访』『已经通过正规渠道反映』这类说法可能被误判为升级信号，"
    "语料里有这类反例但数量有限。",
    "群体性判断依赖文中写出的人数或『全厂』『整个工地』等说法；没写人数的群体事件会漏掉。",
    "一条文本只给一个类别；同时反映多件事（如工伤加欠薪）时取模型认为最主要的一项。",
    "不适用于非中文文本、长篇材料（判决书、合同全文）或语音转写中错字很多的文本。",
    "升级信号规则短语（rules/escalation.yaml）在预测时与模型取『或』；held_out 里的升级指标只算模型，"
    "加上短语后的指标见 held_out_with_rule_phrases（短语只看字面，『爬楼梯』『招工横幅』也会命中）。",
]


@dataclass(frozen=True)
class CorpusRow:
    text: str
    category: str
    escalation: bool
    collective: bool
    source: str = ""


def _flag(value: str, where: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE or v in _FALSE:
        return v in _TRUE
    raise ValueError(f"{where}: expected 1/0, got {value!r}")


def read_corpus(path: str | Path = CORPUS) -> list[CorpusRow]:
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as f:
        for n, r in enumerate(csv.DictReader(f), start=2):
            if r["category"] not in CATEGORIES:
                raise ValueError(f"{path}:{n}: unknown category {r['category']!r}")
            rows.append(CorpusRow(r["text"], r["category"], _flag(r["escalation"], f"{path}:{n}"),
                                  _flag(r["collective"], f"{path}:{n}"), r.get("source") or ""))
    return rows


def split_corpus(rows: Sequence[CorpusRow], test_size: float = TEST_SIZE,
                 seed: int = SEED) -> tuple[list[CorpusRow], list[CorpusRow]]:
    train, test = train_test_split(list(rows), test_size=test_size, random_state=seed,
                                   stratify=[r.category for r in rows])
    return train, test


def _prf(y: Sequence[bool], pred: Sequence[bool], prob: Sequence[float] | None = None) -> dict[str, float]:
    p, r, f, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
    out = {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4),
           "positives": int(sum(y)), "rows": len(y)}
    if prob is not None and len(y):
        # Calibration in the large and the Brier score: the probabilities are shown to mediators.
        out |= {"mean_p": round(float(sum(prob) / len(prob)), 4), "rate": round(sum(y) / len(y), 4),
                "brier": round(float(brier_score_loss(y, prob, pos_label=True)), 4)}
    return out


def evaluate(clf: ReportClassifier, rows: Sequence[CorpusRow], phrases: Sequence[str] = ()) -> dict[str, Any]:
    """Metrics on ``rows``: category (accuracy, macro-F1, per-class F1, confusion matrix), the escalation flag
    (model alone unless ``phrases`` are given), the collective flag of the model alone and with the head count."""
    verdicts = clf.predict([r.text for r in rows], escalation_phrases=phrases)
    y, pred = [r.category for r in rows], [v.category for v in verdicts]
    labels = [c for c in CATEGORIES if c in set(y) | set(pred)]
    per_class = f1_score(y, pred, labels=labels, average=None, zero_division=0)
    return {
        "rows": len(rows),
        "category": {
            "accuracy": round(float(accuracy_score(y, pred)), 4),
            "macro_f1": round(float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)), 4),
            "f1_by_class": {c: round(float(s), 4) for c, s in zip(labels, per_class, strict=True)},
            "confusion_matrix": {"labels": labels, "rows_true_cols_predicted":
                                 confusion_matrix(y, pred, labels=labels).tolist()},
        },
        "escalation": _prf([r.escalation for r in rows], [v.escalation for v in verdicts],
                           [v.escalation_p for v in verdicts]),
        "collective_model": _prf([r.collective for r in rows], [v.collective_p >= clf.threshold for v in verdicts],
                                 [v.collective_p for v in verdicts]),
        "collective": _prf([r.collective for r in rows], [v.collective for v in verdicts]),
    }


def _git_commit() -> dict[str, Any] | None:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return {"commit": head.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def _describe(kind: str) -> str:
    p = build_pipeline(kind)
    v, c = p.named_steps["tfidf"], p.named_steps["clf"]
    return (f"TfidfVectorizer(analyzer={v.analyzer!r}, ngram_range={v.ngram_range}, min_df={v.min_df}, "
            f"max_features={v.max_features}, sublinear_tf={v.sublinear_tf}, preprocessor=textclass.normalise) "
            f"+ CalibratedClassifierCV({type(c.estimator).__name__}(C={c.estimator.C}), method={c.method!r}, "
            f"cv={c.cv})")


def train(corpus: Path, out: Path, seed: int = SEED, test_size: float = TEST_SIZE) -> dict[str, Any]:
    rows = read_corpus(corpus)
    train_rows, test_rows = split_corpus(rows, test_size, seed)
    clf = fit_classifier([r.text for r in train_rows], [r.category for r in train_rows],
                         [r.escalation for r in train_rows], [r.collective for r in train_rows])
    hand = [r for r in test_rows if r.source == "handwritten"]
    metrics = {"held_out": evaluate(clf, test_rows), "held_out_handwritten": evaluate(clf, hand)}
    if PHRASES.is_file():
        # What the rule phrases add to (and cost) the final flag; the model metrics above exclude them.
        phrases = load_escalation_phrases(PHRASES)
        metrics["held_out_with_rule_phrases"] = {
            "phrases_file": str(PHRASES.relative_to(ROOT)), "sha256": file_sha256(PHRASES), "phrases": len(phrases),
            "escalation": evaluate(clf, test_rows, phrases)["escalation"]}
    try:
        corpus_name = str(corpus.resolve().relative_to(ROOT))
    except ValueError:
        corpus_name = str(corpus)
    extra = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": _git_commit(),
        "task": "报告文本分类：类别（7 类）+ 升级信号 + 群体性（≥10 人）",
        "data": {"corpus": corpus_name, "sha256": file_sha256(corpus), "rows": len(rows),
                 "rows_by_source": dict(Counter(r.source or "unknown" for r in rows)),
                 "category_counts": {c: sum(r.category == c for r in rows) for c in CATEGORIES},
                 "escalation_positive": sum(r.escalation for r in rows),
                 "collective_positive": sum(r.collective for r in rows),
                 "generator": "tests/data/make_corpus.py"},
        "split": {"method": "sklearn train_test_split, stratified by category", "test_size": test_size,
                  "seed": seed, "train_rows": len(train_rows), "test_rows": len(test_rows)},
        "features": "textclass.normalise: NFKC, lower case, head counts → Ⓟ (≥10 people) / Ⓠ (<10), other "
                    "numbers → Ⓝ (≥10) / Ⓢ, punctuation → space; then TF-IDF over character n-grams",
        "models": {k: _describe(k) for k in ("category", "escalation", "collective")},
        "thresholds": {"escalation_p": clf.threshold, "collective_p": clf.threshold,
                       "collective_head_count": COLLECTIVE_HEADCOUNT},
        "metrics": metrics,
        "intended_use": INTENDED_USE,
        "limitations": LIMITATIONS,
    }
    return save_model(clf, out, extra)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m earlywarn.train_textclass", description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "models" / f"report-text-{date.today():%Y%m%d}",
                    help="new model folder (default models/report-text-<today>)")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--test-size", type=float, default=TEST_SIZE)
    args = ap.parse_args(argv)
    card = train(args.corpus, args.out, args.seed, args.test_size)
    m = card["metrics"]["held_out"]
    print(f"{card['version']}: held-out {m['rows']} rows; category accuracy {m['category']['accuracy']}, "
          f"macro-F1 {m['category']['macro_f1']}; escalation F1 {m['escalation']['f1']}; "
          f"collective F1 {m['collective']['f1']}; artifact {card['artifact']['bytes'] / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
