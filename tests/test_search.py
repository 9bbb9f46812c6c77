"""书中的搜索：术语表里的每个术语都搜得到，而且正文用到它的每一页都在结果里；摘要取自正文。

在快速构建的 ``searchindex.js`` 上模拟浏览器端的搜索（Sphinx 的 searchtools.js 与
``book/_ext/static/seqbook-split-query.js``）。
"""
import html as html_lib
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import seqbook_book  # noqa: E402

sys.path.pop(0)

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


def load_js_object(path, prefix):
    text = path.read_text(encoding="utf-8")
    body = text[text.index(prefix) + len(prefix):].rstrip().rstrip(";")
    if prefix.endswith("("):
        body = body[:-1]
    return json.loads(body)


def load_index(html):
    return load_js_object(html / "searchindex.js", "Search.setIndex(")


def split_query(query, index):
    """seqbook-split-query.js 的 Python 版本：汉字按索引中的词做正向最长匹配。"""
    def known(word):
        return word in index["terms"] or word in index["titleterms"]

    whole = re.sub(r"\s+", "", query).lower()
    if re.search(f"[{HAN}]", whole) and re.search(f"[^{HAN}]", whole) and known(whole):
        return [whole]
    result = []
    for word in re.split(r"[^\w]+", query):
        for run in re.findall(f"[{HAN}]+|[^{HAN}]+", word):
            if not re.search(f"[{HAN}]", run) or known(run):
                result.append(run)
                continue
            i = 0
            while i < len(run):
                j = min(len(run), i + 16)
                while j > i + 1 and not known(run[i:j]):
                    j -= 1
                if j > i + 1 or known(run[i]):
                    result.append(run[i:j])
                i = j
    return [w.lower() for w in result if w]


def search(query, index):
    """searchtools.js 的 performTermsSearch：每个查询词（含部分匹配）都要命中的页面。"""
    words = set(split_query(query, index))
    hits = {}
    for word in words:
        files = set()
        for kind in ("terms", "titleterms"):
            table = index[kind]
            found = [table[word]] if word in table else []
            if len(word) > 2 and word not in table:
                found += [docs for term, docs in table.items() if word in term]
            for docs in found:
                files.update([docs] if isinstance(docs, int) else docs)
        for f in files:
            hits.setdefault(f, set()).add(word)
    long_words = [w for w in words if len(w) > 2]
    return {index["docnames"][f] for f, ws in hits.items()
            if len(ws) == len(words) or len(ws) == len(long_words)}


def page_text(html, docname):
    """页面正文（<article>）的文字，去掉脚本和标签。"""
    page = (html / f"{docname}.html").read_text(encoding="utf-8")
    article = re.search(r'<article class="bd-article"[^>]*>(.*?)</article>', page, re.S).group(1)
    article = re.sub(r"<(script|style)\b.*?</\1>", " ", article, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", article))


def glossary_terms():
    return seqbook_book.glossary_terms((ROOT / "book/appendix/glossary.md").read_text(encoding="utf-8"))


def test_glossary_terms_are_parsed():
    terms = glossary_terms()
    for term in ["束搜索", "序列开始词元", "序列结束词元", "n 元语法", "BLEU", "双语评估替补",
                 "掩蔽 softmax 操作", "头", "交叉注意力", "编码器-解码器注意力"]:
        assert term in terms
    assert len(terms) > 90
    more = seqbook_book.glossary_terms("| 自然语言推断（蕴涵、矛盾、中性） | NLI |\n| 前 k 采样 / 核采样（前 p 采样） | x |")
    assert more == ["自然语言推断", "蕴涵", "矛盾", "中性", "前 k 采样", "核采样", "前 p 采样"]
    assert seqbook_book.index_words("前 k 采样") == ["采样", "前k采样"]
    assert seqbook_book.index_words("头") == ["头"]
    assert seqbook_book.index_words("束搜索") == ["束搜索"]


def test_every_glossary_term_finds_every_page_that_uses_it(quick_build):
    index = load_index(quick_build)
    texts = {d: re.sub(r"\s+", "", page_text(quick_build, d)).lower() for d in index["docnames"]}
    problems = []
    for term in glossary_terms():
        assert split_query(term, index), f"术语 {term!r} 切分后没有任何查询词"
        found = search(term, index)
        needle = re.sub(r"\s+", "", term).lower()
        using = {d for d, text in texts.items() if needle in text}
        assert "book/appendix/glossary" in using, term
        if using - found:
            problems.append(f"{term}：{sorted(using - found)}")
    assert not problems, "搜索不到用到该术语的页面：\n" + "\n".join(problems)


def test_beam_search_finds_all_its_pages(quick_build):
    index = load_index(quick_build)
    found = search("束搜索", index)
    assert {"book/chapter_modern_rnn/beam_search", "book/appendix/glossary"} <= found
    assert len(found) >= 5
    # 一句话里的几个术语：切成“束搜索”“束宽”，“的”丢掉
    assert split_query("束搜索的束宽", index) == ["束搜索", "束宽"]
    assert "book/chapter_modern_rnn/beam_search" in search("束搜索的束宽", index)


def test_snippets_come_from_the_text(quick_build):
    texts = load_js_object(quick_build / "_static" / seqbook_book.SEARCH_TEXT_JS, "var SEQBOOK_PAGE_TEXT = ")
    index = load_index(quick_build)
    assert set(texts) == set(index["docnames"])
    beam = texts["book/chapter_modern_rnn/beam_search"]
    assert "束搜索" in beam and len(beam) > 1000
    # 正文段落，不含页眉按钮、页内目录和代码
    assert ".pdf" not in beam and "目录" not in beam[:50] and "import " not in beam
    # 交叉引用显示为目标的标题，而不是标签名
    modern = texts["book/chapter_modern_rnn/index"]
    assert "sec-modern-rnn-gru" not in modern and "门控循环单元" in modern
    assert re.search(r"式 \(\d+\.\d+\)", beam), "公式引用显示为书中的编号，如“式 (2.12)”"
    assert any(re.search(r"图 \d+\.\d+", t) for t in texts.values()), "图的引用显示为“图 2.1”"
    assert not any(re.search(r"(?<![a-z])(fig|sec|eq)-[a-z]", t) for t in texts.values())
    assert not any("\x00" in t or re.search(r"(?<![a-z])eq-[a-z]", t) for t in texts.values())
    search_page = (quick_build / "search.html").read_text(encoding="utf-8")
    assert seqbook_book.SEARCH_TEXT_JS in search_page and "seqbook-search.js" in search_page
    assert "var splitQuery" in (quick_build / "_static" / "language_data.js").read_text(encoding="utf-8")
    chapter = (quick_build / "book" / "chapter_rnn" / "rnn.html").read_text(encoding="utf-8")
    assert seqbook_book.SEARCH_TEXT_JS not in chapter  # 只在搜索页载入
