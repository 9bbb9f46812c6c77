"""让 nbval 执行书中的 MyST Markdown 笔记本（book/**/*.md）。

判定规则与 myst-nb 相同：文件开头的 YAML 元数据里有 jupytext 的
``text_representation.format_name: myst``，或 ``file_format: mystnb``。
每个笔记本在自己的文件夹里执行（与 Jupyter Book 构建时一致）；带 ``remove-cell``
标签的单元在书中隐藏，但 nbval 照样执行，其中的 ``assert`` 失败会让测试失败，
报告里写明笔记本和单元编号。
"""
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


def pytest_collect_file(file_path, parent):
    opt = parent.config.option
    if (opt.nbval or opt.nbval_lax) and file_path.suffix == ".md" and is_myst_notebook(file_path):
        return MystNotebookFile.from_parent(parent, path=file_path)
    return None
