"""``make lab``：在 127.0.0.1 的随机端口上启动 JupyterLab，经内容 API 把一章 .md 当作笔记本读出来，再关掉。"""
import json
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = "book/chapter_rnn/rnn.md"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``make lab`` 启动的服务器：``(基础 URL, 令牌)``；测试结束时经 API 关掉它。"""
    port, token = free_port(), secrets.token_hex(16)
    runtime = tmp_path_factory.mktemp("jupyter_runtime")
    args = f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime))
    log = (runtime / "lab.log").open("w")
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail("make lab 退出了：\n" + (runtime / "lab.log").read_text())
            try:
                get(base, token, "/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    pytest.fail("JupyterLab 两分钟内没有启动：\n" + (runtime / "lab.log").read_text())
                time.sleep(0.5)
        yield base, token
    finally:
        if proc.poll() is None:
            try:
                request(base, token, "/api/shutdown", method="POST")
                proc.wait(timeout=30)
            except Exception:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
        log.close()
    assert proc.returncode == 0, (runtime / "lab.log").read_text()


def request(base, token, path, method="GET"):
    req = urllib.request.Request(base + path, method=method,
                                 headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


def get(base, token, path):
    return request(base, token, path)


def test_chapter_opens_as_a_notebook(lab):
    model = get(*lab, f"/api/contents/{CHAPTER}?type=notebook&content=1")
    assert model["type"] == "notebook" and model["path"] == CHAPTER
    nb = model["content"]
    kinds = {cell["cell_type"] for cell in nb["cells"]}
    assert kinds == {"markdown", "code"} and len(nb["cells"]) > 10
    assert nb["metadata"]["kernelspec"]["name"] == "seqbook"
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert first_code["source"].strip() in (ROOT / CHAPTER).read_text(encoding="utf-8")


def test_book_kernel_and_default_viewer(lab):
    specs = get(*lab, "/api/kernelspecs")
    assert specs["default"] == "seqbook" and "seqbook" in specs["kernelspecs"]
    argv = " ".join(specs["kernelspecs"]["seqbook"]["spec"]["argv"])
    assert "ATEN_CPU_CAPABILITY" in argv  # 内核启动时设好本书的数值设置
    # 双击 .md 时用 Jupytext Notebook 打开，而不是文本编辑器
    settings = get(*lab, "/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    # lab/overrides.json 改的是设置的默认值（用户自己的设置仍然优先）
    viewers = settings["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers.get("markdown") == "Jupytext Notebook", viewers
