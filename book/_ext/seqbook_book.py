"""本书的 Sphinx 扩展（在 ``_config.yml`` 的 ``sphinx.local_extensions`` 中注册）。

1. **下载 .ipynb**：每个笔记本页面的“下载”菜单里提供 ``.ipynb``。myst-nb 把每个笔记本最终的样子
   （用 ``make book`` 构建时含执行输出）写到 ``_build/jupyter_execute/<页面>.ipynb``；这里把它复制到
   HTML 输出的 ``_sources/`` 下，并告诉 sphinx-book-theme（``ipynb_source``），主题就会在下载菜单里加上
   ``.ipynb``。主题自己只在启用了启动按钮时才这样做。
2. **没有死链接**：只有 ``_config.yml`` 的 ``repository.url`` 填了真实的仓库地址时，才显示仓库按钮和
   启动按钮（Binder、Colab）；默认为空，两者都不显示。
3. **搜索找得到书中的术语**：Sphinx 的中文搜索用 jieba 分词，“束搜索”会被切成“束”“搜索”，搜不到。
   这里把术语表（``book/appendix/glossary.md``）里的术语和正文中加粗定义的术语加进 jieba 的词典，并且
   在建索引时，凡是文字里出现了某个术语，就把这个术语作为一个词收进该页的索引；浏览器端的
   ``splitQuery`` 按索引中已有的词做最长匹配，把“束搜索的束宽”这样的查询切成“束搜索”“束宽”。
4. **搜索结果的摘要来自正文**：Sphinx 默认下载结果页面、从 ``[role=main]`` 中截取摘要，而这个主题的
   ``[role=main]`` 从页眉的按钮文字和页内目录开始，从磁盘打开时还根本下载不了页面。这里把每页正文段落
   的文字写进 ``_static/seqbook-search-text.js``，只在搜索页载入，由 ``seqbook-search.js`` 生成摘要。
"""
import json
import pathlib
import posixpath
import re
import shutil

from docutils import nodes
from sphinx import addnodes
from sphinx.search.zh import SearchChinese
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = pathlib.Path(__file__).resolve().parent
GLOSSARY = "book/appendix/glossary.md"
SEARCH_TEXT_JS = "seqbook-search-text.js"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{_HAN}]+")
_BOLD = re.compile(rf"\*\*([{_HAN}]{{2,8}})\*\*")
# 需要仓库地址才有意义的启动按钮
_LAUNCH_KEYS = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "thebe",
                "jupyterlite_url")


# ---------------------------------------------------------------- 术语

def glossary_terms(text):
    """术语表 Markdown 表格第一列（中文）中的术语，按出现顺序。

    一格中用“ / ”分开的几个术语分别列出；括号里的中文别名（如“BLEU（双语评估替补）”）也算术语，
    括号里用顿号分开的几个（“蕴涵、矛盾、中性”）分别列出。
    """
    terms = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 2:
            continue
        first = cells[0]
        if first in ("中文", "") or set(first) <= set("-: "):
            continue
        for part in first.split(" / "):
            main = re.sub(r"（[^）]*）", "", part).strip()
            aliases = [a.strip() for group in re.findall(r"（([^）]*)）", part)
                       for a in re.split(r"[、，,]", group)]
            for term in [main, *aliases]:
                if term and term not in terms:
                    terms.append(term)
    return terms


def compact(text):
    """去掉空白、转成小写：索引中的混合术语（“前 k 采样”→“前k采样”）和查询都这样比较。"""
    return re.sub(r"\s+", "", text).lower()


def index_words(term):
    """一个术语在索引中对应的词：术语中两个字以上的连续汉字（“掩蔽 softmax 操作”→“掩蔽”“操作”），
    只有一个字的术语（“头”）本身，以及夹着字母数字的术语整体（“掩蔽softmax操作”，与 :func:`compact` 一致）。
    """
    runs = _HAN_RUN.findall(term)
    words = [run for run in runs if len(run) > 1 or run == term]
    if runs and compact(term) != "".join(runs):
        words.append(compact(term))
    return words


def book_terms(srcdir):
    """术语表的术语与正文中加粗的中文术语（``**隐状态**``）所含的中文词。"""
    srcdir = pathlib.Path(srcdir)
    words = set()
    glossary = srcdir / GLOSSARY
    if glossary.is_file():
        for term in glossary_terms(glossary.read_text(encoding="utf-8")):
            words.update(index_words(term))
    for path in sorted((srcdir / "book").rglob("*.md")):
        words.update(_BOLD.findall(path.read_text(encoding="utf-8")))
    return words


class BookChinese(SearchChinese):
    """jieba 分词之外，把文字中出现的每个本书术语作为一个词收进索引。"""

    terms = frozenset()
    js_splitter_code = (HERE / "static" / "seqbook-split-query.js").read_text(encoding="utf-8")

    def split(self, input):
        words = super().split(input)
        text = compact(input)
        words.extend(term for term in self.terms if term in text)
        return words

    def word_filter(self, stemmed_word):
        # Sphinx 丢掉单个汉字；术语表里的单字术语（“头”）保留
        return super().word_filter(stemmed_word) or stemmed_word in self.terms


def _load_terms(app):
    terms = book_terms(app.srcdir)
    BookChinese.terms = frozenset(terms)
    try:
        import jieba
    except ImportError:
        return
    for term in sorted(terms):
        if len(term) > 1:
            jieba.add_word(term)


# ---------------------------------------------------------------- 仓库与启动按钮

def configure_repository_buttons(app, config):
    """``repository.url`` 为空时去掉仓库按钮和启动按钮；填了地址时显示它们。"""
    opts = config.html_theme_options
    url = (opts.get("repository_url") or "").strip()
    launch = dict(opts.get("launch_buttons") or {})
    if url:
        opts["repository_url"] = url
        opts["use_repository_button"] = True
    else:
        opts.pop("repository_url", None)
        for key in ("use_repository_button", "use_issues_button", "use_edit_page_button"):
            opts[key] = False
        for key in _LAUNCH_KEYS:
            launch.pop(key, None)
    opts["launch_buttons"] = launch


# ---------------------------------------------------------------- 下载 .ipynb

def is_notebook(app, pagename):
    return "kernelspec" in app.env.metadata.get(pagename, {})


def offer_ipynb(app, pagename, templatename, context, doctree):
    """把 myst-nb 写出的笔记本复制到 ``_sources/``，让下载菜单提供 ``.ipynb``。"""
    if app.builder.format != "html" or pagename not in app.env.found_docs:
        return
    if not is_notebook(app, pagename):
        return
    src = pathlib.Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not src.is_file():
        logger.warning(f"笔记本 {pagename} 没有 myst-nb 写出的 {src}，下载菜单中不提供 .ipynb")
        return
    dst = pathlib.Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    context["ipynb_source"] = f"{pagename}.ipynb"


# ---------------------------------------------------------------- 搜索摘要

_XREF = re.compile("\x00([a-z]+):([^\x00]*)\x00")


def _node_text(node):
    """节点的文字；没有写明文字的交叉引用（``{ref}`sec-x```）先记成占位符，写出时换成标题。"""
    if isinstance(node, addnodes.pending_xref) and not node.get("refexplicit"):
        target = node.get("reftarget", "")
        if node.get("reftype") == "doc":
            target = posixpath.normpath(posixpath.join(posixpath.dirname(node.get("refdoc", "")),
                                                       target.lstrip("/")))
        return f"\x00{node.get('reftype', '')}:{target}\x00"
    if isinstance(node, nodes.Text):
        return str(node)
    return "".join(_node_text(child) for child in node.children)


def _paragraph_text(doctree):
    parts = []
    for node in doctree.findall(lambda n: isinstance(n, (nodes.paragraph, nodes.entry))):
        if isinstance(node, nodes.entry) and any(isinstance(c, nodes.paragraph) for c in node.children):
            continue
        text = " ".join(_node_text(node).split())
        if text:
            parts.append(text)
    return " ".join(parts)


def _resolve_xrefs(env, text):
    labels = env.get_domain("std").labels
    equations = getattr(env.get_domain("math"), "equations", {})

    def title(docname):
        return env.titles[docname].astext() if docname in env.titles else ""

    def replace(match):
        kind, target = match.groups()
        if kind == "doc":
            return title(target)
        if kind == "eq":
            docname, number = equations.get(target, (None, None))
            # 书中按章编号（math_numfig），如 (2.12)；没有时退回页内编号
            numbers = env.toc_fignumbers.get(docname, {}).get("displaymath", {})
            shown = numbers.get(f"equation-{target}")
            number = ".".join(map(str, shown)) if shown else number
            return f"式 ({number})" if number else "公式"
        if target.lower() not in labels:
            return ""
        docname, labelid, name = labels[target.lower()]
        if kind == "numref":
            # 图、表按书中的编号写（“图 2.1”）；它们的标题里可能还有未解析的引用
            fignumbers = env.toc_fignumbers.get(docname, {})
            for figtype, word in (("figure", "图"), ("table", "表"), ("code-block", "代码")):
                number = fignumbers.get(figtype, {}).get(labelid)
                if number:
                    return f"{word} {'.'.join(map(str, number))}"
        return name or title(docname)

    return _XREF.sub(replace, text)


def collect_text(app, doctree):
    env = app.env
    if not hasattr(env, "seqbook_page_text"):
        env.seqbook_page_text = {}
    env.seqbook_page_text[env.docname] = _paragraph_text(doctree)


def purge_text(app, env, docname):
    getattr(env, "seqbook_page_text", {}).pop(docname, None)


def merge_text(app, env, docnames, other):
    if not hasattr(env, "seqbook_page_text"):
        env.seqbook_page_text = {}
    env.seqbook_page_text.update(
        {d: t for d, t in getattr(other, "seqbook_page_text", {}).items() if d in docnames})


def search_page_scripts(app, pagename, templatename, context, doctree):
    if pagename == "search" and app.builder.format == "html":
        app.add_js_file(SEARCH_TEXT_JS)
        app.add_js_file("seqbook-search.js")


def write_search_text(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    texts = getattr(app.env, "seqbook_page_text", {})
    texts = {d: _resolve_xrefs(app.env, texts[d]) for d in sorted(texts) if d in app.env.found_docs}
    static = pathlib.Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / SEARCH_TEXT_JS).write_text(
        "// 每页正文段落的文字，用于搜索结果的摘要（book/_ext/seqbook_book.py 生成）\n"
        "var SEQBOOK_PAGE_TEXT = " + json.dumps(texts, ensure_ascii=False) + ";\n",
        encoding="utf-8")


def _add_static_path(app, config):
    static = str(HERE / "static")
    if static not in config.html_static_path:
        config.html_static_path.append(static)


def setup(app):
    app.add_search_language(BookChinese)
    app.connect("config-inited", configure_repository_buttons)
    app.connect("config-inited", _add_static_path)
    app.add_css_file("seqbook.css")  # 代码块字号：84 列的代码行放得下
    app.connect("builder-inited", _load_terms)
    app.connect("doctree-read", collect_text)
    app.connect("env-purge-doc", purge_text)
    app.connect("env-merge-info", merge_text)
    # 主题在优先级 501 上生成页眉按钮；在它之前设好 ipynb_source
    app.connect("html-page-context", offer_ipynb, priority=500)
    app.connect("html-page-context", search_page_scripts)
    app.connect("build-finished", write_search_text)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True,
            "env_version": 1}
