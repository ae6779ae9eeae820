"""Settings come from EARLYWARN_-prefixed environment variables."""

from earlywarn.config import ROOT, Settings


def test_defaults_point_into_the_checkout(monkeypatch):
    for key in ("EARLYWARN_DATABASE_URL", "EARLYWARN_DATA_DIR"):
        monkeypatch.delenv(key, raising=False)
    s = Settings()
    assert s.database_url == f"sqlite:///{ROOT / 'data' / 'earlywarn.db'}"
    assert s.is_sqlite
    assert s.rules_dir == ROOT / "rules" and s.web_dir == ROOT / "web"
    assert s.pay_day == 25 and s.cookie_secure is True


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("EARLYWARN_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1/x")
    monkeypatch.setenv("EARLYWARN_MIN_WAGE_TIER", "3")
    monkeypatch.setenv("EARLYWARN_COOKIE_SECURE", "false")
    monkeypatch.setenv("EARLYWARN_DATA_DIR", str(tmp_path))
    s = Settings()
    assert s.database_url.startswith("postgresql+psycopg://")
    assert not s.is_sqlite
    assert s.min_wage_tier == 3 and s.cookie_secure is False and s.data_dir == tmp_path


def test_derived_keys_are_separated():
    s = Settings(secret_key="k")
    assert s.derived_key("fernet") != s.derived_key("blind-index")
    assert len(s.fernet_key()) == 44
