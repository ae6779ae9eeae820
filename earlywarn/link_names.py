"""Short forms of registered names (pure): what informants actually write instead of the registered name.

'湖州银河建设有限公司' is '银河建设' or just '银河' in a text; '安吉县阳光苑一期' is '阳光苑'. The lists below cover
the county's own names (legal forms, regions, construction trades); :mod:`earlywarn.linking` drops any form that
turns out to be shared by two candidates.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_LEGAL_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "分公司", "公司")
_REGIONS = ("浙江省", "浙江", "湖州市", "湖州", "安吉县", "安吉", "杭州市", "杭州", "江苏省", "江苏", "安徽省",
            "安徽", "四川省", "四川", "河南省", "河南", "江西省", "江西", "福建省", "福建", "上海市", "上海")
# Longest first, so '建设工程' is stripped whole before '工程' is tried.
_TRADES = ("城乡建设发展", "房地产开发", "建筑劳务", "劳务分包", "建设工程", "建筑工程", "机电安装", "钢结构",
           "建设", "建筑", "建工", "劳务", "工程", "装饰", "消防", "幕墙", "安装", "置业", "地产", "集团", "股份",
           "实业", "发展", "投资", "控股")
# Brands that are ordinary words: '城市' from 安吉县城市建设投资集团 would match any text about a town.
_GENERIC = frozenset({"城市", "城乡", "中国", "国际", "交通", "人民", "国有", "两山"})
_PROJECT_PREFIXES = ("安吉县", "安吉")
_PROJECT_SUFFIXES = ("新建工程", "迁建工程", "改造工程", "工程", "项目", "一期", "二期", "三期", "四期", "五期")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def norm(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def place_short(township: str) -> str:
    return re.sub(r"(街道|镇|乡)$", "", township)


def cjk_len(form: str) -> int:
    return len(_CJK.findall(form))


def _strip_prefix(name: str, prefixes: Sequence[str]) -> str:
    while p := next((p for p in prefixes if name.startswith(p) and len(name) > len(p)), None):
        name = name[len(p):]
    return name


def _strip_suffix(name: str, suffixes: Sequence[str], stripped: list[str] | None = None) -> str:
    while s := next((s for s in suffixes if name.endswith(s) and len(name) > len(s)), None):
        name = name[: -len(s)]
        if stripped is not None:
            stripped.insert(0, s)
    return name


def company_forms(name: str, kind: str = "company") -> list[str]:
    """'湖州银河建设有限公司' → ['湖州银河建设有限公司', '湖州银河建设', '银河建设', '银河']. Teams and individuals
    keep only their name: a person's name alone in a text is too weak to link on."""
    name = norm(name)
    forms = [name]
    if kind != "company":
        return forms
    base = _strip_suffix(name, _LEGAL_SUFFIXES)
    core = _strip_prefix(base, _REGIONS)
    trades: list[str] = []
    brand = _strip_suffix(core, _TRADES, trades)
    forms += [base, core, core.removesuffix("集团")]
    if brand in _GENERIC:
        return forms
    forms.append(brand)
    # What people say is the brand plus a trade word: '银河建设', '银河劳务', '银河幕墙'.
    for t in trades:
        if t not in ("集团", "股份"):
            forms += [brand + t, brand + t[:2], brand + t[-2:]] if len(t) >= 4 else [brand + t]
    return list(dict.fromkeys(forms))


def project_forms(name: str) -> list[str]:
    """'安吉县阳光苑一期' → ['安吉县阳光苑一期', '阳光苑一期', '阳光苑']."""
    name = norm(name)
    bare = _strip_prefix(name, _PROJECT_PREFIXES)
    short = _strip_suffix(bare, _PROJECT_SUFFIXES)
    # '银河·阳光府' is typed without the middle dot on a phone.
    return list(dict.fromkeys([name, bare, short, bare.replace("·", ""), short.replace("·", "")]))
