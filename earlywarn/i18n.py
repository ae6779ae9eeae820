"""Chinese first, English second: Babel catalogues, a per-request locale, Chinese number and date formats.

Message ids are the Chinese text itself; ``web/locale/en/LC_MESSAGES/messages.po`` carries English. The
catalogue is compiled in memory at start-up (no binary .mo in the repository), and a missing or broken
catalogue fails the start-up loudly.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from earlywarn.config import LOCAL_TZ
from earlywarn.parsing import format_fen

LOCALES = ("zh_Hans_CN", "en")
DEFAULT_LOCALE = "zh_Hans_CN"
_current: ContextVar[str] = ContextVar("earlywarn_locale", default=DEFAULT_LOCALE)
_catalogues: dict[str, NullTranslations] = {DEFAULT_LOCALE: NullTranslations()}


def load_catalogues(locale_dir: Path) -> None:
    for locale in LOCALES:
        if locale == DEFAULT_LOCALE:
            continue
        po_path = locale_dir / locale / "LC_MESSAGES" / "messages.po"
        if not po_path.exists():
            raise RuntimeError(f"translation catalogue missing: {po_path}")
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        _catalogues[locale] = Translations(buf)


def set_locale(locale: str):
    return _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def reset_locale(token) -> None:
    _current.reset(token)


def get_locale() -> str:
    return _current.get()


def gettext(message: str, **variables) -> str:
    text = _catalogues.get(_current.get(), _catalogues[DEFAULT_LOCALE]).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = _catalogues.get(_current.get(), _catalogues[DEFAULT_LOCALE]).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def format_money(fen: int | None) -> str:
    """Integer fen → ``￥1,234.50`` (full-width yuan sign, Chinese convention); ``—`` for no value."""
    return "—" if fen is None else format_fen(fen)


def format_datetime_local(value: datetime | None) -> str:
    if value is None:
        return "—"
    local = value.astimezone(LOCAL_TZ)
    if get_locale() == DEFAULT_LOCALE:
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return local.strftime("%Y-%m-%d %H:%M")


def format_date_local(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TZ).date()
    if get_locale() == DEFAULT_LOCALE:
        return f"{value.year}年{value.month}月{value.day}日"
    return value.isoformat()
