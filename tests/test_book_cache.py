"""一次执行，两处使用：nbval 执行的结果存进 Jupyter Book 的执行缓存，构建时直接命中。"""
import importlib.util
import pathlib

import jupytext
import nbformat

from test_notebooks import HEADER, load_root_conftest

ROOT = pathlib.Path(__file__).resolve().parents[1]
root_conftest = load_root_conftest()

NOTEBOOK = HEADER + """
# 小笔记本

```{code-cell} ipython3
x = 1 + 1
x
```

正文。

```{code-cell} ipython3
print(x)
```
"""


def _build_stamp():
    """构建时 myst-nb 读入笔记本后用的 stamp（book/_ext/seqbook_cache.py）。"""
    spec = importlib.util.spec_from_file_location("seqbook_cache_ext",
                                                  ROOT / "book" / "_ext" / "seqbook_cache.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.stamp


def _outputs():
    """{单元下标: 输出}：两个代码单元是第 1 和第 3 个单元（中间是正文）。"""
    result = nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)
    stream = nbformat.v4.new_output("stream", name="stdout", text="2\n")
    nb = jupytext.reads(NOTEBOOK, fmt="md:myst")
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    return {code[0]: [result], code[1]: [stream]}


def test_stored_execution_is_what_the_book_build_looks_up(tmp_path, monkeypatch):
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook

    monkeypatch.setattr(root_conftest, "BOOK_CACHE", tmp_path / "_build" / ".jupyter_cache")
    path = tmp_path / "small.md"
    path.write_text(NOTEBOOK, encoding="utf-8")
    assert not root_conftest.is_cached_for_book(path)
    root_conftest.store_for_book(path, jupytext.read(path), _outputs(), 1.5)
    assert root_conftest.is_cached_for_book(path)

    # 构建时的查找：myst-nb 自己的读入 + 执行键，再合并缓存中的输出
    read = read_myst_markdown_notebook(path.read_text(encoding="utf-8"), add_source_map=True,
                                       path=path)
    cache = get_cache(str(tmp_path / "_build" / ".jupyter_cache"))
    _, merged = cache.merge_match_into_notebook(_build_stamp()(read))
    code = [c for c in merged.cells if c.cell_type == "code"]
    assert [c.outputs[0].output_type for c in code] == ["execute_result", "stream"]
    assert code[0].outputs[0].data["text/plain"] == "2" and code[1].execution_count == 2

    # 改一个代码单元：缓存不再命中（重新执行）
    path.write_text(NOTEBOOK.replace("1 + 1", "1 + 2"), encoding="utf-8")
    assert not root_conftest.is_cached_for_book(path)


def test_execution_key_change_misses_the_cache(tmp_path, monkeypatch):
    import seqbook.training.checkpoint as checkpoint

    monkeypatch.setattr(root_conftest, "BOOK_CACHE", tmp_path / "_build" / ".jupyter_cache")
    path = tmp_path / "small.md"
    path.write_text(NOTEBOOK, encoding="utf-8")
    root_conftest.store_for_book(path, jupytext.read(path), _outputs(), 1.0)
    monkeypatch.setattr(checkpoint, "library_fingerprint", lambda: "0" * 40)  # 库改了
    assert not root_conftest.is_cached_for_book(path)


def test_display_updates_are_applied_to_the_displayed_output():
    updates = root_conftest._DisplayUpdates()
    outs = []
    shown = {"msg_type": "display_data",
             "content": {"data": {"text/plain": "第 1 轮"}, "metadata": {},
                         "transient": {"display_id": "plot"}}}
    assert updates.see(shown, outs) is False  # 交给 nbval，由它追加到 outs
    outs.append(nbformat.v4.new_output("display_data", data={"text/plain": "第 1 轮"}))
    update = {"msg_type": "update_display_data",
              "content": {"data": {"text/plain": "第 5 轮"}, "metadata": {},
                          "transient": {"display_id": "plot"}}}
    assert updates.see(update, outs) is True  # 已处理，nbval 看不到
    assert outs[0]["data"] == {"text/plain": "第 5 轮"}
    other = {"msg_type": "stream", "content": {"name": "stdout", "text": "x"}}
    assert updates.see(other, outs) is False


def test_make_book_fills_the_cache_in_parallel_before_building():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    book = makefile.split("\nbook:", 1)[1].split("\n\n", 1)[0]
    assert "--fill-book-cache" in book and "-n $(JOBS)" in book
    assert book.index("pytest") < book.index("jupyter-book build")


def test_semicolon_hides_the_return_value_in_the_book():
    """IPython 的约定：以分号结尾的单元不显示返回值（nbval 执行时也照此存进书里）。"""
    text = HEADER + "\n```{code-cell} ipython3\nx = 2\nx;  # 不显示\n```\n\n```{code-cell} ipython3\nx\n```\n"
    nb = jupytext.reads(text, fmt="md:myst")
    result = nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)
    stream = nbformat.v4.new_output("stream", name="stdout", text="hi\n")
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    executed = root_conftest.executed_notebook(nb, {code[0]: [stream, result], code[1]: [result]})
    cells = [c for c in executed.cells if c.cell_type == "code"]
    assert [o.output_type for o in cells[0].outputs] == ["stream"]
    assert [o.output_type for o in cells[1].outputs] == ["execute_result"]
