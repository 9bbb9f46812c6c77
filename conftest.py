"""让 nbval 执行书中的 MyST Markdown 笔记本（book/**/*.md）。

判定规则与 myst-nb 相同：文件开头的 YAML 元数据里有 jupytext 的
``text_representation.format_name: myst``，或 ``file_format: mystnb``。
每个笔记本在自己的文件夹里执行（与 Jupyter Book 构建时一致）；带 ``remove-cell``
标签的单元在书中隐藏，但 nbval 照样执行，其中的 ``assert`` 失败会让测试失败，
报告里写明笔记本和单元编号。
"""
import pathlib
import re
import types

import jupytext
import nbval.plugin
import yaml

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def is_myst_notebook(path):
    """``path`` 是不是 MyST Markdown 笔记本（myst-nb 的规则）。"""
    match = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    if not match:
        return False
    meta = yaml.safe_load(match.group(1)) or {}
    if meta.get("file_format") == "mystnb":
        return True
    fmt = ((meta.get("jupytext") or {}).get("text_representation") or {}).get("format_name")
    return fmt == "myst"


class MystNotebookFile(nbval.plugin.IPyNbFile):
    """nbval 的笔记本收集器，只是改用 jupytext 读入 MyST Markdown。"""

    def collect(self):
        reader = types.SimpleNamespace(read=lambda path, as_version: jupytext.read(path))
        original, nbval.plugin.nbformat = nbval.plugin.nbformat, reader
        try:
            items = list(super().collect())
        finally:
            nbval.plugin.nbformat = original
        return items


def toc_order(root):
    """``_toc.yml`` 中各页面的阅读顺序：{绝对路径: 序号}。"""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("parts"))
    return {str((root / f).with_suffix(".md")): i for i, f in enumerate(files)}


def pytest_collection_modifyitems(session, config, items):
    """按书的阅读顺序执行笔记本（单元测试在前，顺序不变）。

    后面的章节会复用前面章节训练并缓存的模型（见 ``seqbook.load_or_train``），
    按目录顺序执行时每个模型只训练一次；单独执行任何一个笔记本也照样能跑通。
    """
    toc_file = pathlib.Path(str(config.rootpath)) / "_toc.yml"
    if not toc_file.is_file():
        return
    order = toc_order(toc_file.parent)

    def key(item):
        if isinstance(item.parent, MystNotebookFile):
            return (1, order.get(str(item.parent.path), len(order)))
        return (0, 0)

    items.sort(key=key)  # 稳定排序：同一笔记本的单元保持原来的先后


def pytest_collect_file(file_path, parent):
    opt = parent.config.option
    if (opt.nbval or opt.nbval_lax) and file_path.suffix == ".md" and is_myst_notebook(file_path):
        return MystNotebookFile.from_parent(parent, path=file_path)
    return None
