"""The web upload and the import API, through the test client, with the real background job runner."""

import time

import pytest

from tests.conftest import csrf_of, login

PROJECTS = (
    "项目编号,项目名称,所属乡镇,施工总承包单位,开工日期\n"
    "AJ-T1,递铺测试小区,递铺街道,浙江测试建设有限公司,2025/3/5\n"
)


def _wait(client, job_id: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = client.get(f"/api/imports/{job_id}").json()
        if data["finished"]:
            return data
        time.sleep(0.05)
    raise AssertionError("import job did not finish")


@pytest.fixture
def checker(client, make_user):
    make_user("wage_checker")
    login(client, "u_wage_checker")
    return client


def test_upload_page_imports_in_the_background(checker):
    token = csrf_of(checker, "/imports")
    r = checker.post("/imports", data={"csrf_token": token},
                     files=[("files", ("项目.csv", PROJECTS.encode("gbk"), "text/csv"))], follow_redirects=False)
    assert r.status_code == 303
    job_id = r.headers["location"].rsplit("/", 1)[-1]
    data = _wait(checker, job_id)
    [f] = data["files"]
    assert (f["status"], f["kind"], f["rows_imported"]) == ("succeeded", "projects", 1)
    page = checker.get(f"/imports/jobs/{job_id}")
    assert "成功" in page.text and "项目.csv" in page.text
    history = checker.get("/imports")
    assert "项目.csv" in history.text


def test_not_a_table_and_empty_file_are_reported_in_chinese(checker):
    token = csrf_of(checker, "/imports")
    r = checker.post("/imports", data={"csrf_token": token}, follow_redirects=False,
                     files=[("files", ("photo.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "text/csv")),
                            ("files", ("empty.csv", b"", "text/csv"))])
    data = _wait(checker, r.headers["location"].rsplit("/", 1)[-1])
    messages = {f["filename"]: (f["status"], f["message"]) for f in data["files"]}
    assert messages["photo.csv"][0] == "failed" and "不是 CSV 或 Excel" in messages["photo.csv"][1]
    assert messages["empty.csv"][0] == "failed" and "文件为空" in messages["empty.csv"][1]


def test_file_with_errors_imports_nothing_and_lists_errors(checker):
    bad = PROJECTS + "AJ-T2,某项目,火星镇,浙江测试建设有限公司,2025-13-01\n"
    token = csrf_of(checker, "/imports")
    r = checker.post("/imports", data={"csrf_token": token}, follow_redirects=False,
                     files=[("files", ("projects.csv", bad.encode(), "text/csv"))])
    job_id = r.headers["location"].rsplit("/", 1)[-1]
    [f] = _wait(checker, job_id)["files"]
    assert f["status"] == "failed" and f["rows_imported"] == 0
    reasons = {(e["row"], e["column"]): e["reason"] for e in f["errors"]}
    assert "未知乡镇" in reasons[(3, "所属乡镇")]
    assert (3, "开工日期") in reasons
    page = checker.get(f"/imports/jobs/{job_id}").text
    assert "火星镇" in page and "所属乡镇" in page
    assert "递铺测试小区" not in checker.get("/sites").text


def test_skip_invalid_offers_the_rejected_rows_for_download(checker, settings):
    bad = PROJECTS + "AJ-T2,某项目,火星镇,浙江测试建设有限公司,2025-03-01\n"
    token = csrf_of(checker, "/imports")
    r = checker.post("/imports", data={"csrf_token": token, "skip_invalid": "1"}, follow_redirects=False,
                     files=[("files", ("projects.csv", bad.encode(), "text/csv"))])
    [f] = _wait(checker, r.headers["location"].rsplit("/", 1)[-1])["files"]
    assert (f["status"], f["rows_imported"], f["rows_rejected"]) == ("succeeded", 1, 1)
    assert f["has_rejected_file"]
    download = checker.get(f"/imports/batches/{f['batch_id']}/rejected.csv")
    assert download.status_code == 200
    lines = download.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("行号,项目编号") and lines[0].endswith("错误原因")
    assert len(lines) == 2 and lines[1].startswith("3,AJ-T2") and "未知乡镇" in lines[1]
    # Uploads hold personal data: nothing readable stays on disk after the job.
    leftovers = list((settings.data_dir / "uploads").rglob("*"))
    assert all(p.is_dir() or p.name.endswith(".enc") for p in leftovers)


def test_api_upload_returns_a_job_id(checker):
    token = csrf_of(checker, "/imports")
    r = checker.post("/api/imports", headers={"X-CSRF-Token": token},
                     files=[("files", ("projects.csv", PROJECTS.encode("utf-8-sig"), "text/csv"))])
    assert r.status_code == 202
    body = r.json()
    assert body["status_url"] == f"/api/imports/{body['job_id']}"
    assert _wait(checker, body["job_id"])["files"][0]["status"] == "succeeded"
    # The cookie-authenticated API refuses a write without the CSRF header.
    r = checker.post("/api/imports", files=[("files", ("p.csv", PROJECTS.encode(), "text/csv"))])
    assert r.status_code == 403


def test_mediator_may_not_upload(client, make_user):
    make_user("mediator")
    login(client, "u_mediator")
    token = csrf_of(client, "/reports")
    r = client.post("/imports", data={"csrf_token": token},
                    files=[("files", ("projects.csv", PROJECTS.encode(), "text/csv"))])
    assert r.status_code == 403


def test_unknown_job_is_404(checker):
    assert checker.get("/api/imports/deadbeef").status_code == 404
    assert checker.get("/imports/jobs/deadbeef").status_code == 404
