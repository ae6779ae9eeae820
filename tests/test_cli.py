"""The real command line, run as a user runs it (a subprocess of the installed `earlywarn` script)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

EARLYWARN = shutil.which("earlywarn") or str(Path(sys.executable).parent / "earlywarn")


def run(settings, *args, timeout=300):
    env = {**os.environ, "EARLYWARN_DATABASE_URL": settings.database_url, "EARLYWARN_DATA_DIR": str(settings.data_dir),
           "EARLYWARN_SECRET_KEY": settings.secret_key, "COLUMNS": "200"}
    return subprocess.run([EARLYWARN, *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_help_everywhere(settings):
    top = run(settings, "--help")
    assert top.returncode == 0
    for command in ("demo", "serve", "db", "users", "simulate", "import"):
        assert command in top.stdout
    for sub in (["db", "upgrade"], ["users", "add"], ["users", "passwd"], ["simulate"], ["import"], ["demo"],
                ["serve"]):
        r = run(settings, *sub, "--help")
        assert r.returncode == 0, (sub, r.stderr)
        assert "Usage" in r.stdout


def test_db_upgrade_and_users_add(settings):
    r = run(settings, "db", "upgrade")
    assert r.returncode == 0 and "0008" in r.stderr
    r = run(settings, "users", "add", "zhang", "--role", "mediator", "--name", "张调解")
    assert r.returncode == 0, r.stderr
    assert "初始密码（只显示这一次）" in r.stdout
    again = run(settings, "users", "add", "zhang", "--role", "mediator")
    assert again.returncode == 2 and "已存在" in again.stderr
    bad_role = run(settings, "users", "add", "lisi", "--role", "boss")
    assert bad_role.returncode == 2 and "未知角色" in bad_role.stderr
    r = run(settings, "users", "passwd", "zhang", "--password", "a-new-password-1")
    assert r.returncode == 0 and "已重设" in r.stdout
    assert run(settings, "users", "passwd", "nobody").returncode == 2


def test_import_reports_errors_and_exit_code(settings, tmp_path):
    f = tmp_path / "projects.csv"
    f.write_text("项目编号,项目名称,所属乡镇,施工总承包单位,开工日期\nP1,测试,火星镇,某公司,2025-01-01\n",
                 encoding="gbk")
    r = run(settings, "import", str(f))
    assert r.returncode == 1
    assert "未知乡镇/街道" in r.stderr and "所属乡镇" in r.stderr
    missing = run(settings, "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "找不到" in missing.stderr
    bad_kind = run(settings, "import", str(f), "--kind", "salary")
    assert bad_kind.returncode == 2 and "未知的文件类型" in bad_kind.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_demo_prepares_data_accounts_and_serves(settings, engine):
    from sqlmodel import Session, func, select

    from earlywarn.tables import Attendance, Project, UserAccount

    def counts():
        with Session(engine) as s:
            return tuple(s.exec(select(func.count()).select_from(t)).one() for t in (Project, Attendance, UserAccount))

    first = run(settings, "demo", "--no-serve")
    assert first.returncode == 0, first.stderr[-2000:]
    for username in ("demo_informant", "demo_infomgr", "demo_mediator", "demo_checker", "demo_leader", "demo_admin"):
        assert username in first.stdout
    after_first = counts()
    assert after_first[0] > 5 and after_first[1] > 10_000 and after_first[2] == 6
    again = run(settings, "demo", "--no-serve")
    assert again.returncode == 0
    assert again.stdout.count("已存在") == 6  # passwords are printed once only
    assert counts() == after_first  # re-running changes nothing
    port = _free_port()
    env = {**os.environ, "EARLYWARN_DATABASE_URL": settings.database_url, "EARLYWARN_DATA_DIR": str(settings.data_dir),
           "EARLYWARN_SECRET_KEY": settings.secret_key}
    server = subprocess.Popen([EARLYWARN, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as resp:
                    html = resp.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert "登录" in html and 'lang="zh-CN"' in html
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_classify_reads_gbk_and_writes_verdicts(settings, tmp_path):
    src = tmp_path / "texts.csv"
    src.write_text("编号,内容\n1,包工头跑了，二十几个人三个月工资没拿到\n2,食堂饭菜太差\n3,工人说明天要去堵政府大门讨薪\n",
                   encoding="gbk")
    out = tmp_path / "out.csv"
    r = run(settings, "classify", str(src), "--out", str(out))
    assert r.returncode == 0, r.stderr
    import csv

    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert [(row["编号"], row["category"]) for row in rows] == [("1", "wage_arrears"), ("2", "other"),
                                                               ("3", "wage_arrears")]
    assert [row["escalation"] for row in rows] == ["0", "0", "1"]
    assert rows[0]["collective"] == "1" and float(rows[0]["confidence"]) > 0.5
    bad = tmp_path / "no_text.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    r = run(settings, "classify", str(bad), "--out", str(out))
    assert r.returncode == 2 and "内容" in r.stderr
