"""不执行笔记本的快速构建：警告即错误，检查交叉引用、目录和 MyST 语法。"""
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_quick_build_has_no_warnings(tmp_path):
    from jupyter_book.sphinx import build_sphinx

    if not (ROOT / "_vendor" / "mathjax" / "tex-chtml.js").is_file():
        pytest.fail("缺少 _vendor/mathjax（离线公式渲染所需），请先运行 make install")
    result = build_sphinx(
        str(ROOT), str(tmp_path / "html"),
        path_config=str(ROOT / "_config.yml"),
        confoverrides={"latex_individualpages": False, "nb_execution_mode": "off"},
        doctreedir=str(tmp_path / "doctrees"),
        noconfig=True, builder="html", warningiserror=True, freshenv=True, quiet=True,
    )
    assert result == 0, "快速构建失败：见上面 Sphinx 的警告"
    html = tmp_path / "html"
    assert (html / "index.html").is_file()
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    page = (html / "book" / "notation.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-chtml.js" in page and "cdn.jsdelivr" not in page
