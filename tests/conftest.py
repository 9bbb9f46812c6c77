"""tests/ 共用的夹具：整个测试会话只做一次不执行笔记本的快速构建。"""
import contextlib
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _build(out):
    from jupyter_book.sphinx import build_sphinx

    if not (ROOT / "_vendor" / "mathjax" / "tex-chtml.js").is_file():
        pytest.fail("缺少 _vendor/mathjax（离线公式渲染所需），请先运行 make install")
    result = build_sphinx(
        str(ROOT), str(out / "html"),
        path_config=str(ROOT / "_config.yml"),
        # 不执行笔记本，就没有 glue 的数据：正文中粘贴测得数字的 {glue} 在这里找不到键是预期的
        # （执行的构建 make book 用 -W 检查它们）
        confoverrides={"latex_individualpages": False, "nb_execution_mode": "off",
                       "suppress_warnings": ["mystnb.glue"]},
        doctreedir=str(out / "doctrees"),
        noconfig=True, builder="html", warningiserror=True, freshenv=True, quiet=True,
    )
    assert result == 0, "快速构建失败：见上面 Sphinx 的警告"


@contextlib.contextmanager
def _locked(path):
    import fcntl
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def quick_build(tmp_path_factory):
    """不执行笔记本、警告即错误的 Sphinx 构建；返回 HTML 输出目录（其上一级有 jupyter_execute/）。

    用 pytest-xdist 并行时（``make test``），各个工作进程共用同一次构建：先到的构建，其余的等它完成。
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        out = tmp_path_factory.mktemp("quick_build")
        _build(out)
        return out / "html"
    shared = tmp_path_factory.getbasetemp().parent / "quick_build"  # 本次运行的各工作进程共用
    with _locked(shared.parent / "quick_build.lock"):
        if not (shared / "done").is_file():
            _build(shared)
            (shared / "done").write_text("ok", encoding="utf-8")
    return shared / "html"
