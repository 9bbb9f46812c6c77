"""不执行笔记本的快速构建：警告即错误，检查交叉引用、目录和 MyST 语法；以及构建出的书里的
下载菜单（.ipynb）和仓库、启动按钮。构建本身在 tests/conftest.py 的 ``quick_build`` 夹具中，只做一次。"""
import pathlib
import re
import sys

import nbformat
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
PLACEHOLDER = "github.com/seqbook/seqbook"


def test_quick_build_has_no_warnings(quick_build):
    html = quick_build
    assert (html / "index.html").is_file()
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    page = (html / "book" / "notation.html").read_text(encoding="utf-8")
    assert "_static/mathjax/tex-chtml.js" in page and "cdn.jsdelivr" not in page


def notebook_pages():
    """书中的笔记本页面（文件开头有 kernelspec 的 .md），以 Sphinx 的页面名表示。"""
    pages = []
    for path in sorted((ROOT / "book").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        if text.startswith("---") and "kernelspec:" in text.split("\n---", 2)[0]:
            pages.append(path.relative_to(ROOT).with_suffix("").as_posix())
    return pages


def test_every_notebook_page_offers_its_ipynb(quick_build):
    pages = notebook_pages()
    assert "book/chapter_rnn/rnn" in pages and len(pages) >= 20
    for page in pages:
        html_file = quick_build / f"{page}.html"
        html = html_file.read_text(encoding="utf-8")
        links = re.findall(r'href="([^"]+\.ipynb)"', html)
        assert links, f"{page}.html 的下载菜单里没有 .ipynb"
        assert "download-notebook-button" in html
        target = (html_file.parent / links[0]).resolve()
        assert target.is_file(), f"{page}.html 链接的 {links[0]} 不存在"
        nb = nbformat.read(target, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "seqbook"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, f"{target} 里没有代码单元"
    # 笔记本与书中的页面一致：第一个代码单元的源代码就是 .md 中的第一个代码单元
    md = (ROOT / "book" / "chapter_rnn" / "rnn.md").read_text(encoding="utf-8")
    first = re.search(r"```\{code-cell\}[^\n]*\n(.*?)```", md, re.S).group(1)
    nb = nbformat.read(quick_build / "_sources" / "book" / "chapter_rnn" / "rnn.ipynb", as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code.source.strip() in first.strip()


def test_non_notebook_pages_offer_no_ipynb(quick_build):
    html = (quick_build / "book" / "chapter_rnn" / "index.html").read_text(encoding="utf-8")
    assert ".ipynb" not in html


def test_no_page_links_to_the_placeholder_repository(quick_build):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["url"] == "", "默认不配置仓库地址（见 README）"
    pages = sorted(quick_build.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert PLACEHOLDER not in text, f"{page} 链接到占位的仓库地址"
        # 没有仓库地址时，仓库按钮和启动按钮（Binder、Colab）都不出现
        for marker in ["mybinder.org/v2", "colab.research.google.com/github", "repository-button",
                       "executablebooks/jupyter-book"]:
            assert marker not in text, f"{page} 中有 {marker}"


def _configure(theme_options):
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import seqbook_book
    finally:
        sys.path.pop(0)

    class Config:
        html_theme_options = theme_options

    seqbook_book.configure_repository_buttons(None, Config)
    return theme_options


def test_repository_and_launch_buttons_follow_the_repository_url():
    launch = {"notebook_interface": "jupyterlab", "binderhub_url": "https://mybinder.org",
              "colab_url": "https://colab.research.google.com"}
    off = _configure({"repository_url": "", "use_repository_button": True,
                      "launch_buttons": dict(launch)})
    assert off["use_repository_button"] is False and "repository_url" not in off
    assert off["launch_buttons"] == {"notebook_interface": "jupyterlab"}
    url = "https://github.com/example/seqbook-fork"
    on = _configure({"repository_url": url, "launch_buttons": dict(launch)})
    assert on["use_repository_button"] is True and on["repository_url"] == url
    assert on["launch_buttons"] == launch


def test_downloaded_ipynb_has_the_executed_outputs(tmp_path):
    """执行笔记本的构建（make book 那样）里，下载的 .ipynb 带着执行输出。用一个一页的小书检查。"""
    from jupyter_book.sphinx import build_sphinx

    src = tmp_path / "src"
    src.mkdir()
    (src / "_config.yml").write_text(
        "title: t\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: force\n"
        "repository:\n  url: \"\"\nsphinx:\n  local_extensions:\n"
        f"    seqbook_book: {ROOT / 'book' / '_ext'}\n", encoding="utf-8")
    (src / "_toc.yml").write_text("format: jb-book\nroot: page\n", encoding="utf-8")
    (src / "page.md").write_text(
        "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
        "kernelspec:\n  display_name: Python 3 (seqbook)\n  language: python\n  name: seqbook\n---\n"
        "# 页面\n\n```{code-cell} ipython3\nprint('执行结果', 6 * 7)\n```\n", encoding="utf-8")
    out = tmp_path / "_build"
    result = build_sphinx(str(src), str(out / "html"), path_config=str(src / "_config.yml"),
                          confoverrides={"latex_individualpages": False},
                          doctreedir=str(out / "doctrees"), noconfig=True, builder="html",
                          warningiserror=True, freshenv=True, quiet=True)
    assert result == 0
    html = (out / "html" / "page.html").read_text(encoding="utf-8")
    assert 'href="_sources/page.ipynb"' in html
    nb = nbformat.read(out / "html" / "_sources" / "page.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs and "执行结果 42" in outputs[0]["text"]
