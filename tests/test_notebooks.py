"""笔记本的测试机制本身：nbval 执行 MyST 笔记本，隐藏单元里的断言失败会让测试失败。"""
import importlib.util
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_root_conftest():
    """根目录的 conftest.py（nbval 的笔记本插件）。tests/ 里也有一个 conftest.py，所以按路径载入。"""
    spec = importlib.util.spec_from_file_location("book_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_root_conftest = load_root_conftest()
is_myst_notebook, toc_order = _root_conftest.is_myst_notebook, _root_conftest.toc_order

HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# 测试用笔记本
"""


def code_cell(source, tags=None):
    tag_line = f":tags: [{', '.join(tags)}]\n\n" if tags else ""
    return f"\n```{{code-cell}} ipython3\n{tag_line}{source}\n```\n"


def run_pytest(folder, *args):
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    return subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
                           "-p", "no:cacheprovider", "-q", *args],
                          cwd=folder, capture_output=True, text=True, timeout=300)


def test_failing_hidden_assert_fails_and_names_notebook_and_cell(tmp_path):
    (tmp_path / "good.md").write_text(
        HEADER + code_cell("import os\nx = 41") + code_cell("assert x + 1 == 42", ["remove-cell"]),
        encoding="utf-8")
    (tmp_path / "bad.md").write_text(
        HEADER + code_cell("x = 41") + code_cell("y = x * 2")
        + code_cell("assert y == 42, '隐藏检查失败'", ["remove-cell"]), encoding="utf-8")
    (tmp_path / "plain.md").write_text("# 普通 Markdown，不是笔记本\n\n```python\n1/0\n```\n", encoding="utf-8")
    result = run_pytest(tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "bad.md::Cell 2" in out, out       # 指出笔记本和单元
    assert "隐藏检查失败" in out, out
    assert "1 failed" in out and "4 passed" in out, out  # good.md 两个单元 + bad.md 前两个单元


def test_notebook_runs_in_its_own_folder(tmp_path):
    sub = tmp_path / "chapter"
    sub.mkdir()
    (sub / "data.txt").write_text("在这里", encoding="utf-8")
    (sub / "nb.md").write_text(
        HEADER + code_cell("import pathlib\nassert pathlib.Path('data.txt').read_text(encoding='utf-8') == '在这里'"),
        encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_is_myst_notebook_rule(tmp_path):
    nb = tmp_path / "nb.md"
    nb.write_text(HEADER, encoding="utf-8")
    mystnb = tmp_path / "mystnb.md"
    mystnb.write_text("---\nfile_format: mystnb\n---\n# x\n", encoding="utf-8")
    plain = tmp_path / "plain.md"
    plain.write_text("# 只是文字\n", encoding="utf-8")
    other = tmp_path / "other.md"
    other.write_text("---\ntitle: 前言\n---\n# x\n", encoding="utf-8")
    assert is_myst_notebook(nb) and is_myst_notebook(mystnb)
    assert not is_myst_notebook(plain) and not is_myst_notebook(other)


def test_every_book_page_is_in_the_toc_and_exists():
    listed = set(toc_order(ROOT))
    for page in listed:
        assert pathlib.Path(page).is_file(), f"_toc.yml 列出的 {page} 不存在"
    on_disk = {str(p) for p in (ROOT / "book").rglob("*.md") if ".ipynb_checkpoints" not in p.parts}
    assert on_disk - listed == set(), f"这些页面不在 _toc.yml 中：{sorted(on_disk - listed)}"


def test_start_first_notebooks_exist_and_xdist_keeps_the_order():
    """先开始的笔记本都在目录中；xdist 不再按测试数重排（否则 START_FIRST 与阅读顺序不生效）。"""
    listed = set(toc_order(ROOT))
    for page in _root_conftest.START_FIRST:
        assert str(ROOT / page) in listed, f"START_FIRST 中的 {page} 不在 _toc.yml 中"
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "--no-loadscope-reorder" in pyproject


def test_collection_order_starts_first_then_reading_order_then_unit_tests():
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                          "tests/test_utils.py", "book/chapter_rnn", "book/chapter_modern_rnn",
                          "book/chapter_gpt"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300).stdout
    files = []
    for line in out.splitlines():
        if "::" in line and line.split("::")[0] not in files:
            files.append(line.split("::")[0])
    first = [p for p in _root_conftest.START_FIRST
             if p.startswith(("book/chapter_rnn/", "book/chapter_modern_rnn/", "book/chapter_gpt/"))]
    assert files[:len(first)] == first
    assert files[-1] == "tests/test_utils.py"
    reading = files[len(first):-1]
    order = toc_order(ROOT)
    assert reading == sorted(reading, key=lambda f: order[str(ROOT / f)])


def test_notebooks_use_the_seqbook_kernel_and_hidden_checks():
    notebooks = [p for p in (ROOT / "book").rglob("*.md") if is_myst_notebook(p)]
    assert notebooks, "book/ 下没有笔记本"
    for path in notebooks:
        text = path.read_text(encoding="utf-8")
        # seqbook 内核带着固定的数值设置（seqbook.numerics），在 Jupyter 中打开也打印书中的数字
        assert "  name: seqbook\n" in text, f"{path} 应使用 seqbook 内核"
        assert ":tags: [remove-cell]" in text, f"{path} 没有隐藏的检查单元"
        assert "## 小结" in text and "## 练习" in text, f"{path} 缺少“小结”或“练习”"
