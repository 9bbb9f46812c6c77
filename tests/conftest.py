"""tests/ 共用的夹具：整个测试会话只做一次不执行笔记本的快速构建。"""
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def quick_build(tmp_path_factory):
    """不执行笔记本、警告即错误的 Sphinx 构建；返回 HTML 输出目录（其上一级有 jupyter_execute/）。"""
    from jupyter_book.sphinx import build_sphinx

    if not (ROOT / "_vendor" / "mathjax" / "tex-chtml.js").is_file():
        pytest.fail("缺少 _vendor/mathjax（离线公式渲染所需），请先运行 make install")
    out = tmp_path_factory.mktemp("quick_build")
    result = build_sphinx(
        str(ROOT), str(out / "html"),
        path_config=str(ROOT / "_config.yml"),
        confoverrides={"latex_individualpages": False, "nb_execution_mode": "off"},
        doctreedir=str(out / "doctrees"),
        noconfig=True, builder="html", warningiserror=True, freshenv=True, quiet=True,
    )
    assert result == 0, "快速构建失败：见上面 Sphinx 的警告"
    return out / "html"
