"""Settings from the environment (prefix ``EARLYWARN_``); paths default relative to the checkout."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EARLYWARN_", env_file=None, extra="ignore")

    database_url: str = f"sqlite:///{ROOT / 'data' / 'earlywarn.db'}"
    data_dir: Path = ROOT / "data"
    rules_dir: Path = ROOT / "rules"
    model_dir: Path = ROOT / "models"
    web_dir: Path = ROOT / "web"
    reference_file: Path = ROOT / "seed" / "anji.yaml"
    # One secret derives the encryption key, the keyed-hash key and the CSRF key (HKDF-style separation).
    # In production it must be set; the default lives in data_dir so a demo survives restarts.
    secret_key: str = ""
    cookie_secure: bool = True
    session_idle_minutes: int = 30
    session_absolute_hours: int = 10
    default_locale: str = "zh_Hans_CN"
    # Anji's minimum-wage tier (1, 2 or 3) in Zhejiang's dated table.
    min_wage_tier: int = 2
    pay_day: int = Field(default=25, ge=1, le=31)
    # Who signs a rectification notice (the notice is an official Chinese document in any UI language).
    notice_issuer: str = "安吉县住房和城乡建设局"
    report_window_days: int = Field(default=30, ge=1, le=365)
    # How long an escalation or emergency report keeps a project red whatever the model says (see scoring.py).
    floor_fresh_days: int = Field(default=7, ge=1, le=365)
    mediator_capacity_per_week: int = Field(default=10, ge=1)
    # Re-score every morning inside the web process (one process; past one machine, run `earlywarn score` from
    # the host's scheduler instead and set this to false).
    daily_scoring: bool = True
    daily_scoring_hour: int = Field(default=6, ge=0, le=23)
    # The risk model folder (under model_dir) to serve; by default the newest simulator-trained ``risk-*``. A model
    # learnt from outcomes (``earlywarn train --from-db`` writes ``outcomes-risk-*``) is served only when named.
    risk_model: str | None = None
    redis_url: str | None = None
    # Where import jobs run: "thread" inside the web process (one machine), or "redis" — a Dramatiq queue on
    # redis_url, consumed by `earlywarn worker` processes (several machines sharing data_dir and the database).
    job_queue: Literal["thread", "redis"] = "thread"
    job_namespace: str = "earlywarn"  # the queue's and the progress keys' prefix in Redis
    upload_max_bytes: int = 200 * 1024 * 1024

    def resolved_secret(self) -> bytes:
        """The master secret; generated once into data_dir when not configured."""
        if self.secret_key:
            return self.secret_key.encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    def derived_key(self, purpose: str) -> bytes:
        return hashlib.sha256(self.resolved_secret() + b"|" + purpose.encode()).digest()

    def fernet_key(self) -> bytes:
        return base64.urlsafe_b64encode(self.derived_key("fernet"))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def local_today():
    """Today in Anji (Asia/Shanghai): the default as-of date of checks, scores and forms."""
    from datetime import datetime

    return datetime.now(LOCAL_TZ).date()


def local_date(moment):
    """The day in Anji of an aware timestamp (stored in UTC): what "received on" means to a user."""
    return moment.astimezone(LOCAL_TZ).date()


@lru_cache
def get_settings() -> Settings:
    return Settings()
