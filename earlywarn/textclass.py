"""Understanding report text: a category and two flags (escalation, collective) for free Chinese text.

Three scikit-learn pipelines, TF-IDF over character n-grams + a calibrated linear model: no word segmentation, so
typos, dialect and unseen names still share most n-grams with the training texts. Two cheap rules sit beside
the models and show in ``reasons``: a head count read from the text (``二十几个人`` → 20; ≥ 10 is collective)
and the escalation phrases of ``rules/escalation.yaml`` (a mediator adds one without retraining).
:func:`load_model` refuses an artifact whose sha256 or scikit-learn/numpy version differs from its card: a
pickle is only trustworthy as the exact bytes our training wrote, and cross-version loading is unsupported.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import yaml
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from earlywarn.artifacts import file_sha256, library_versions
from earlywarn.file_format import FileFormatError, open_csv_text, sniff_format
from earlywarn.rules import find_escalation

CATEGORIES = ("wage_arrears", "injury", "social_insurance", "dismissal", "overtime_hours", "safety", "other")
CATEGORY_ZH = {"wage_arrears": "欠薪", "injury": "工伤", "social_insurance": "社保", "dismissal": "辞退",
               "overtime_hours": "加班工时", "safety": "安全隐患", "other": "其他"}
KINDS = ("category", "escalation", "collective")
COLLECTIVE_HEADCOUNT = 10  # 调解仲裁法 Art. 7: ten or more workers with a common claim is a collective dispute
ARTIFACT, CARD = "model.joblib", "card.yaml"
FORMAT = 1
# The pickled pipelines call normalise() by name, so its code is not in the artifact's hash: the card stores
# what it makes of these probes and load_model() refuses a model whose preprocessing has changed since.
PROBES = ("包工头跑了，二十几个人三个月工资没拿到！", "一百来号人围在项目部门口", "ＡＢＣ 12名工人、3个月、十几万")


class ModelCardError(RuntimeError):
    """The model folder cannot be trusted: card missing or malformed, hash or library version mismatch."""


# --------------------------------------------------------------------------- numbers and normalisation

_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = r"[零〇一二两三四五六七八九十百千几]+"
_NUM = rf"\d+|{_CN_NUM}"
_PERSON = r"农民工|民工|工人|工友|兄弟|师傅|员工|职工|老乡|伙计|人(?!民币)"
_HEAD = re.compile(
    rf"(?:(?P<rough>上百|近百|成百|数百|上千)|(?P<num>{_NUM}))[多来余]?[个名位号]?[多来余]?"
    rf"(?:{_PERSON}|(?<=个)(?=$|[\s，,。.!！?？；;、~…]|都|全|一起|一块))"
)
_ROUGH = {"上百": 100, "近百": 100, "成百": 100, "数百": 200, "上千": 1000}
# A Chinese numeral only counts as a number before a measure word: 一 in 一直/统一 is not a quantity.
_NUMBER = re.compile(rf"\d+|{_CN_NUM}(?=[多来余几]?[个名位号人月天年万块元岁层次周小点斤米吨针])")
_NOT_WORD = re.compile(r"[^\w\sⓈⓃⓅⓆ]+")


def numeral_value(s: str) -> int:
    """Lower bound of a numeral as written in messages: ``二十几`` 20, ``四五十`` 40, ``十七八`` 17, ``几十`` 20,
    ``几`` alone 3 (a few), ``一百二十`` 120."""
    if s.isdigit():
        return int(s)
    section, num, prev_digit = 0, None, False
    for i, ch in enumerate(s):
        if ch in _DIGIT or ch == "几":
            if not prev_digit:  # the second digit of a range (四五十) is the upper bound: skip it
                num = _DIGIT[ch] if ch != "几" else (2 if s[i + 1:i + 2] in _UNIT else (0 if section else 3))
            prev_digit = True
        elif ch in _UNIT:
            section += (1 if num is None else num) * _UNIT[ch]
            num, prev_digit = None, False
    return section + (num or 0)


def _people(m: re.Match[str]) -> int:
    return _ROUGH[m["rough"]] if m["rough"] else numeral_value(m["num"])


def head_count(text: str) -> int | None:
    """The largest number of people the text names (``一百来号人`` 100, ``12名工人`` 12, ``三个人`` 3), or None."""
    counts = [_people(m) for m in _HEAD.finditer(unicodedata.normalize("NFKC", str(text or "")))]
    return max(counts) if counts else None


def _people_token(m: re.Match[str]) -> str:
    return ("Ⓟ" if _people(m) >= COLLECTIVE_HEADCOUNT else "Ⓠ") + m.group()[len(m["rough"] or m["num"]):]


def normalise(text: str) -> str:
    """The vectorisers' preprocessor: NFKC, lower case, numbers replaced by their magnitude — a head count by
    Ⓟ (10 or more people) or Ⓠ (fewer), any other number by Ⓝ (≥ 10) or Ⓢ — so 二十几个人 and 35个人 share
    features while 十个月 does not look like ten people; punctuation to spaces so n-grams stop at clauses.
    Module-level so the pickled pipelines refer to it by name; renaming it breaks shipped models."""
    t = unicodedata.normalize("NFKC", str(text or "")).lower()
    t = _HEAD.sub(_people_token, t)
    t = _NUMBER.sub(lambda m: "Ⓝ" if numeral_value(m.group()) >= COLLECTIVE_HEADCOUNT else "Ⓢ", t)
    return " ".join(_NOT_WORD.sub(" ", t).split())


# --------------------------------------------------------------------------- pipelines and prediction


def build_pipeline(kind: str) -> Pipeline:
    """An unfitted pipeline for ``kind`` (``category``: 7 classes; ``escalation``/``collective``: binary)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    # Unigrams + bigrams: on the training folds (1, 3) and (1, 4) were no better and (2, 4) was worse.
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), preprocessor=normalise, sublinear_tf=True,
                          min_df=2, max_features=40000, dtype=np.float32)
    # Sigmoid calibration of a linear SVM: mediators read these probabilities, and on the training folds it had
    # a lower Brier score and log loss than logistic regression at the same F1. Sigmoid, not isotonic: ~1,200
    # rows are too few for isotonic (scikit-learn's own advice).
    clf = CalibratedClassifierCV(LinearSVC(C=1.0, random_state=0), method="sigmoid", cv=5)
    return Pipeline([("tfidf", vec), ("clf", clf)])


@dataclass(frozen=True)
class TextVerdict:
    """``*_p`` and ``category_confidence`` are the calibrated model probabilities; the two flags are final
    (model or rule), and ``reasons`` says which fired."""

    category: str
    category_confidence: float
    escalation: bool
    escalation_p: float
    collective: bool
    collective_p: float
    reasons: list[str] = field(default_factory=list)
    head_count: int | None = None

    @property
    def category_zh(self) -> str:
        return CATEGORY_ZH.get(self.category, self.category)


def _positive_p(pipe: Pipeline, texts: list[str]) -> np.ndarray:
    return pipe.predict_proba(texts)[:, list(pipe.classes_).index(True)]


@dataclass
class ReportClassifier:
    category: Pipeline
    escalation: Pipeline
    collective: Pipeline
    threshold: float = 0.5
    version: str = ""

    def predict(self, texts: Sequence[str], escalation_phrases: Sequence[str] = ()) -> list[TextVerdict]:
        """One verdict per text. Escalation = model or a phrase of ``rules/escalation.yaml`` (as loaded by
        ``rules.load_escalation_phrases``, matched by ``rules.find_escalation``, so ``堵*门`` works as the rule
        file documents); collective = model or a head count of 10 or more read from the text."""
        texts = ["" if t is None else str(t) for t in texts]
        if not texts:
            return []
        pc = self.category.predict_proba(texts)
        classes = self.category.classes_
        pe, pl = _positive_p(self.escalation, texts), _positive_p(self.collective, texts)
        out = []
        for i, t in enumerate(texts):
            k = int(np.argmax(pc[i]))
            cat, conf = str(classes[k]), float(pc[i][k])
            hits, hc = find_escalation(t, escalation_phrases), head_count(t)
            model_esc, model_col = bool(pe[i] >= self.threshold), bool(pl[i] >= self.threshold)
            many = hc is not None and hc >= COLLECTIVE_HEADCOUNT
            reasons = ([f"模型：{CATEGORY_ZH.get(cat, cat)}（{conf:.2f}）"] + [f"升级信号短语：{p}" for p in hits]
                       + [f"模型判断有升级迹象（{pe[i]:.2f}）"] * model_esc
                       + [f"文中人数约 {hc} 人（≥{COLLECTIVE_HEADCOUNT}）"] * many
                       + [f"模型判断涉及 {COLLECTIVE_HEADCOUNT} 人以上（{pl[i]:.2f}）"] * model_col)
            out.append(TextVerdict(cat, round(conf, 4), bool(hits) or model_esc, round(float(pe[i]), 4),
                                   many or model_col, round(float(pl[i]), 4), reasons, hc))
        return out


def fit_classifier(texts: Sequence[str], categories: Sequence[str], escalation: Sequence[bool],
                   collective: Sequence[bool]) -> ReportClassifier:
    texts = list(texts)
    return ReportClassifier(category=build_pipeline("category").fit(texts, list(categories)),
                            escalation=build_pipeline("escalation").fit(texts, [bool(x) for x in escalation]),
                            collective=build_pipeline("collective").fit(texts, [bool(x) for x in collective]))


# --------------------------------------------------------------------------- artifact and card






class _CardDumper(yaml.SafeDumper):
    """Block style, except that a list of numbers (a confusion-matrix row) stays on one line."""


_CardDumper.add_representer(list, lambda d, v: d.represent_sequence(
    "tag:yaml.org,2002:seq", v, flow_style=bool(v) and all(isinstance(x, int | float) for x in v)))


def save_model(clf: ReportClassifier, folder: str | Path, card_extra: Mapping[str, Any]) -> dict[str, Any]:
    """Writes ``model.joblib`` and ``card.yaml`` into ``folder``; refuses to overwrite a shipped version."""
    folder = Path(folder)
    if (folder / CARD).exists() or (folder / ARTIFACT).exists():
        raise FileExistsError(f"{folder} already holds a model; versions are immutable, train into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "threshold": clf.threshold,
               "category": clf.category, "escalation": clf.escalation, "collective": clf.collective}
    joblib.dump(payload, folder / ARTIFACT, compress=3)
    card = {"name": "report-text", "version": folder.name, **card_extra, "versions": library_versions(),
            "normalise_probes": {p: normalise(p) for p in PROBES},
            "artifact": {"file": ARTIFACT, "sha256": file_sha256(folder / ARTIFACT),
                         "bytes": (folder / ARTIFACT).stat().st_size}}
    text = yaml.dump(card, Dumper=_CardDumper, allow_unicode=True, sort_keys=False, width=110)
    (folder / CARD).write_text(text, encoding="utf-8")
    return card


def read_card(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / CARD
    try:
        card = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelCardError(f"模型卡缺失：{path}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ModelCardError(f"模型卡无法解析：{path}（{e}）") from None
    ok = isinstance(card, dict) and all(isinstance(card.get(k), dict) for k in ("versions", "artifact"))
    if not ok or not all(isinstance(card["artifact"].get(k), str) for k in ("file", "sha256")):
        raise ModelCardError(f"模型卡格式不正确（缺少 versions 或 artifact.file/sha256）：{path}")
    return card


def load_model(folder: str | Path) -> ReportClassifier:
    """The classifier of ``folder`` after checking it against its card (raises :class:`ModelCardError`)."""
    folder = Path(folder)
    card = read_card(folder)
    installed = library_versions()
    for lib in ("scikit-learn", "numpy"):
        if str(card["versions"].get(lib)) != installed[lib]:
            raise ModelCardError(f"{folder.name}：模型用 {lib} {card['versions'].get(lib)} 训练，当前安装的是 "
                                 f"{installed[lib]}；跨版本加载不受支持，请用当前环境重新训练")
    probes = card.get("normalise_probes")
    if not isinstance(probes, dict) or not probes or any(normalise(k) != v for k, v in probes.items()):
        raise ModelCardError(f"{folder.name}：文本预处理（textclass.normalise）与训练时不同，请重新训练")
    artifact = folder / Path(card["artifact"]["file"]).name
    if not artifact.is_file():
        raise ModelCardError(f"模型文件缺失：{artifact}")
    if file_sha256(artifact) != card["artifact"]["sha256"]:
        raise ModelCardError(f"{artifact} 的 sha256 与模型卡不符：文件被改动或不是训练命令写出的那一份，拒绝加载")
    payload = joblib.load(artifact)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or not all(k in payload for k in KINDS):
        raise ModelCardError(f"{artifact} 的内容不是本程序认识的模型格式（format {FORMAT}）")
    return ReportClassifier(category=payload["category"], escalation=payload["escalation"],
                            collective=payload["collective"], threshold=float(payload["threshold"]),
                            version=str(card.get("version", folder.name)))


def latest_model_dir(models_dir: str | Path, prefix: str = "report-text-") -> Path | None:
    """The newest ``<prefix><YYYYMMDD…>`` folder holding a card (names sort by date), or None."""
    root = Path(models_dir)
    found = sorted(p for p in root.glob(f"{prefix}*") if p.is_dir() and (p / CARD).is_file()) if root.is_dir() else []
    return found[-1] if found else None


# --------------------------------------------------------------------------- batch classification

TEXT_COLUMNS = ("text", "内容", "报告内容", "反映内容", "文本")
OUTPUT_COLUMNS = ("category", "category_zh", "confidence", "escalation", "escalation_p", "collective",
                  "collective_p", "head_count", "reasons")
BATCH = 2000


def _read_rows(path: Path) -> list[list[str]]:
    if sniff_format(path) == "xlsx":
        from python_calamine import CalamineWorkbook

        with CalamineWorkbook.from_path(str(path)) as wb:
            cells = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
        return [["" if c is None else str(c) for c in row] for row in cells]
    with open_csv_text(path) as f:
        first = f.readline()
        f.seek(0)
        return list(csv.reader(f, delimiter="\t" if first.count("\t") > first.count(",") else ","))


def classify_csv(in_path: str | Path, out_path: str | Path, clf: ReportClassifier,
                 phrases: Sequence[str] = ()) -> dict[str, Any]:
    """Classifies the ``text``/``内容`` column of a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or .xlsx file and
    writes every input column plus the verdict columns as UTF-8 with BOM (Excel opens it without mojibake). An
    output column whose name the input already uses (a labelled file being measured) gets a ``_pred`` suffix.
    Blank texts are kept with empty verdicts. Raises FileFormatError (Chinese message) for an unreadable file
    or a missing text column."""
    rows = [r for r in _read_rows(Path(in_path)) if any(c.strip() for c in r)]
    if not rows:
        raise FileFormatError("文件为空，没有表头")
    header = [h.strip() for h in rows[0]]
    keys = [h.lower() for h in header]
    col = next((keys.index(c) for c in TEXT_COLUMNS if c in keys), None)
    if col is None:
        raise FileFormatError(f"找不到文本列：表头中需要有“内容”或“text”列（现有列：{'、'.join(header) or '无'}）")
    names = [f"{c}_pred" if c in keys else c for c in OUTPUT_COLUMNS]
    counts: dict[str, Any] = {"rows": 0, "blank": 0, "escalation": 0, "collective": 0,
                              "by_category": dict.fromkeys(CATEGORIES, 0)}
    with open(out_path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header + names)
        for start in range(1, len(rows), BATCH):
            chunk = [r + [""] * (len(header) - len(r)) for r in rows[start:start + BATCH]]
            verdicts = iter(clf.predict([r[col].strip() for r in chunk if r[col].strip()], phrases))
            for r in chunk:
                v = next(verdicts) if r[col].strip() else None
                counts["rows"] += 1
                counts["blank"] += v is None
                if v is None:
                    w.writerow(r + [""] * len(names))
                    continue
                counts["by_category"][v.category] = counts["by_category"].get(v.category, 0) + 1
                counts["escalation"] += v.escalation
                counts["collective"] += v.collective
                w.writerow(r + [v.category, v.category_zh, f"{v.category_confidence:.3f}", int(v.escalation),
                                f"{v.escalation_p:.3f}", int(v.collective), f"{v.collective_p:.3f}",
                                "" if v.head_count is None else v.head_count, "；".join(v.reasons)])
    return counts
