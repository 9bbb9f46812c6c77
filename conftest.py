"""让 nbval 执行书中的 MyST Markdown 笔记本（book/**/*.md）。

判定规则与 myst-nb 相同：文件开头的 YAML 元数据里有 jupytext 的
``text_representation.format_name: myst``，或 ``file_format: mystnb``。
每个笔记本在自己的文件夹里执行（与 Jupyter Book 构建时一致）；带 ``remove-cell``
标签的单元在书中隐藏，但 nbval 照样执行，其中的 ``assert`` 失败会让测试失败，
报告里写明笔记本和单元编号。
"""
import io
import pathlib
import re
import tokenize
import types

import jupytext
import nbval.plugin
import pytest
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
        self.cell_items, self.cell_passed = items, {}
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


# 单独就要几分钟、又不依赖别的笔记本训练的模型的笔记本：排在所有笔记本之前开始（按这里的先后）。
# 前两个训练后面几节共用的大模型：两个进程并行时，另一个进程先执行前面的章节，轮到后面几节时
# 模型已在缓存中，不会有进程空等它训练完。最长的几个先开始，结尾就不会只剩一个进程在忙。
# seq2seq.md 训练的 GRU 英译中模型，紧接着的 beam_search.md 也要用：按阅读顺序两者会同时开始，
# 一个进程就得空等另一个训练完。
START_FIRST = ("book/chapter_bert/bert_pretraining.md", "book/chapter_gpt/gpt_training.md",
               "book/chapter_gpt/gpt_rope.md", "book/chapter_gpt/gpt_tokenization.md",
               "book/chapter_modern_rnn/seq2seq.md")


def pytest_collection_modifyitems(session, config, items):
    """笔记本按 ``START_FIRST``、再按书的阅读顺序执行；单元测试（很快）排在最后填补空闲。

    后面的章节会复用前面章节训练并缓存的模型（见 ``seqbook.training.checkpoint.load_or_train``），
    按目录顺序执行时每个模型只训练一次；单独执行任何一个笔记本也照样能跑通。
    pytest-xdist 默认按每个文件的测试数重新排序，pyproject.toml 用 ``--no-loadscope-reorder``
    关掉它，这里的顺序才生效。
    """
    toc_file = pathlib.Path(str(config.rootpath)) / "_toc.yml"
    if not toc_file.is_file():
        return
    order = toc_order(toc_file.parent)
    first = [str(toc_file.parent / f) for f in START_FIRST]

    def key(item):
        if isinstance(item.parent, MystNotebookFile):
            path = str(item.parent.path)
            return (0, first.index(path)) if path in first else (1, order.get(path, len(order)))
        return (2, 0)

    items.sort(key=key)  # 稳定排序：同一笔记本的单元保持原来的先后


def pytest_collect_file(file_path, parent):
    opt = parent.config.option
    if (opt.nbval or opt.nbval_lax) and file_path.suffix == ".md" and is_myst_notebook(file_path):
        if parent.config.getoption("fill_book_cache") and is_cached_for_book(file_path):
            return None  # make book：缓存里已有这个笔记本（当前的库与设置下）的执行结果
        return MystNotebookFile.from_parent(parent, path=file_path)
    return None


# ---------------------------------------------------------------------------
# 正文中的数字必须来自运行结果（issue 8）
#
# nbval 执行完一个笔记本的全部单元且全部通过后，检查它的 Markdown 单元：正文里每个
# “像测量值”的数字（带小数点、带 %，或紧跟 秒/毫秒/分钟/小时/倍/×/词元）都必须原样出现在
# 本笔记本的输出（含 glue 的值）或代码（设置写在代码里；注释不算）中，否则就是手写的
# 测量值，检查失败，报告笔记本、数字和所在的句子。不检查的部分：代码块与指令块、行内代码、
# MyST 角色（{glue:text}`…`、{ref}`…`、{eq}`…` 等）、标签、公式（但只含一个数字的行内
# 公式如 $5.29$、$1{,}000$、$10\%$ 按正文数字处理，书中的数字多这样书写），以及“练习”一节
# （练习里的数字是让读者尝试的设置）。另外检查 {glue:…} 角色引用的键确实由本笔记本 glue 过。
# ---------------------------------------------------------------------------

_MEASURE_UNITS = ("秒", "毫秒", "分钟", "小时", "倍", "×", "词元")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,}|:{3,}).*?^[ \t]*\1[ \t]*$", re.S | re.M)
_LABEL = re.compile(r"^\([^)\n]*\)=[ \t]*$", re.M)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.S)
_ROLE = re.compile(r"\{([\w:-]+)\}(`+)(.*?)\2", re.S)
_INLINE_CODE = re.compile(r"(`+).*?\1", re.S)
_INLINE_MATH = re.compile(r"\$([^$\n]+?)\$")
_BARE_NUMBER = re.compile(r"^\s*-?\d[\d{},]*(?:\.\d+)?\s*(?:\\%)?\s*$")
_LINK_TARGET = re.compile(r"\]\([^)\n]*\)")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d.]\d)(%?)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$", re.M)


def _strip_markdown(text):
    """去掉不检查的部分；只含一个数字的行内公式换成这个数字。返回 (正文, glue 角色列表)。"""
    text = _FENCE.sub("", text)
    text = _LABEL.sub("", text)
    text = _COMMENT.sub("", text)
    text = _DISPLAY_MATH.sub("", text)
    roles = [(m.group(1), m.group(3)) for m in _ROLE.finditer(text) if m.group(1).startswith("glue")]
    text = _ROLE.sub("", text)
    text = _INLINE_CODE.sub("", text)

    def math(m):
        body = m.group(1)
        if _BARE_NUMBER.match(body):
            return body.strip().replace("{,}", ",").replace("\\%", "%")
        return ""

    text = _INLINE_MATH.sub(math, text)
    text = _LINK_TARGET.sub("]", text)
    return text, roles


def prose_numbers(markdown_cells):
    """Markdown 单元中像测量值的数字：[(数字, 所在的句子)]；以及 glue 角色 [(角色, 内容)]。"""
    found, roles, in_exercises = [], [], False
    for source in markdown_cells:
        text, cell_roles = _strip_markdown(source)
        roles += cell_roles
        # 按标题切开：“练习”一节（直到下一个同级或更高的标题）不检查
        pieces, last = [], 0
        for m in _HEADING.finditer(text):
            pieces.append((text[last:m.start()], in_exercises))
            level = len(m.group(1))
            if level <= 2:
                in_exercises = m.group(2).strip() == "练习"
            pieces.append((m.group(0), False))
            last = m.end()
        pieces.append((text[last:], in_exercises))
        for piece, skip in pieces:
            if skip:
                continue
            for sentence in re.split(r"(?<=[。！？；])|\n", piece):
                for m in _NUMBER.finditer(sentence):
                    number = m.group(0)
                    after = sentence[m.end():].lstrip()
                    if m.group(2) or m.group(3) or after.startswith(_MEASURE_UNITS):
                        found.append((number, sentence.strip()))
    return found, roles


def _code_without_comments(source):
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
                  if t.type != tokenize.COMMENT]
        return tokenize.untokenize(tokens)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source


def _output_texts(outputs):
    """一个单元的输出中可读的文本（stream、text/plain、text/markdown、text/html，含 glue 的值）与 glue 的键。"""
    texts, glued = [], {}
    for out in outputs or []:
        if "text" in out:
            texts.append(out["text"])
        data = out.get("data") or {}
        for mime, value in data.items():
            if mime.endswith(("text/plain", "text/markdown", "text/html")):
                texts.append(value if isinstance(value, str) else "".join(value))
        name = ((out.get("metadata") or {}).get("scrapbook") or {}).get("name")
        if name:
            glued[name] = {k.rsplit("application/papermill.record/", 1)[-1]: v for k, v in data.items()}
    return texts, glued


def _occurs(number, haystack):
    variants = {number, number.replace(",", "")}
    return any(re.search(r"(?<![\d.])" + re.escape(v) + r"(?![\d])", haystack) for v in variants)


def check_prose_numbers(cells, outputs):
    """检查一个执行过的笔记本：``cells`` 是 nbformat 的单元，``outputs`` 是各代码单元的输出列表。

    返回问题的列表（中文说明，每条一行）；空列表表示正文与运行结果一致。
    """
    from myst_nb.core.variables import format_plain_text

    texts, glued = [], {}
    for cell_outputs in outputs:
        t, g = _output_texts(cell_outputs)
        texts += t
        glued.update(g)
    code = [_code_without_comments(c.source) for c in cells if c.cell_type == "code"]
    haystack = "\n".join(texts + code)
    numbers, roles = prose_numbers([c.source for c in cells if c.cell_type == "markdown"])
    problems = [f"正文中的 {number} 既不在输出中也不在代码中（手写的测量值？请用 glue）：“{sentence}”"
                for number, sentence in numbers if not _occurs(number, haystack)]
    for role, content in roles:
        key, _, fmt = content.partition(":") if role == "glue:text" else (content, "", "")
        if "::" in content:
            continue  # 引用别的笔记本的值，构建时再检查
        if key not in glued:
            problems.append(f"{{{role}}}`{content}` 引用的键 {key!r} 没有在本笔记本中 glue")
        elif fmt:
            try:
                format_plain_text(glued[key].get("text/plain", ""), fmt)
            except Exception as exc:  # noqa: BLE001 —— 与 myst-nb 构建时的失败相同
                problems.append(f"{{{role}}}`{content}` 无法按 {fmt!r} 格式化 {glued[key].get('text/plain')!r}：{exc}")
    return problems


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """笔记本的最后一个单元执行完、且全部单元都通过时，检查正文中的数字（见上）。

    失败记在最后一个单元上，报告写明笔记本、数字和句子。只执行了部分单元（例如 ``-k``）时不检查。
    """
    outcome = yield
    report = outcome.get_result()
    notebook = getattr(item, "parent", None)
    if call.when != "call" or not isinstance(notebook, MystNotebookFile):
        return
    notebook.cell_passed[item.name] = report.passed
    notebook.seconds = getattr(notebook, "seconds", 0.0) + report.duration
    if len(notebook.cell_passed) < len(notebook.cell_items) or not all(notebook.cell_passed.values()):
        return
    outputs = [c.test_outputs for c in notebook.cell_items]
    problems = check_prose_numbers(notebook.nb.cells, outputs)
    if not problems:
        by_cell = {_cell_index(notebook.nb, c.cell): c.test_outputs for c in notebook.cell_items}
        store_for_book(notebook.path, notebook.nb, by_cell, notebook.seconds)
    if problems:
        report.outcome = "failed"
        report.longrepr = (f"{notebook.path.name}：正文中的数字与运行结果不一致（{len(problems)} 处）\n"
                           + "\n".join("  - " + p for p in problems))


# ---------------------------------------------------------------------------
# 一次执行，两处使用（issue 11）
#
# nbval 执行完一个笔记本、全部单元通过且正文数字检查通过后，把执行结果写进 Jupyter Book 的
# 执行缓存（jupyter-cache，``_build/.jupyter_cache``）。缓存的键与 myst-nb 查找时相同：代码
# 单元 + ``kernelspec``（其中有 book/_ext/seqbook_cache.py 写入的执行键：库源代码、PyTorch
# 版本、数值设置）。于是先 ``make test`` 再 ``make book`` 时，构建直接用这些输出，不再执行。
# ``make book`` 自己也先用 pytest 在两个进程里执行缓存里还没有的笔记本（``--fill-book-cache``：
# 只收集没有缓存的笔记本），再构建。
#
# nbval 不处理 ``update_display_data``（训练曲线用显示句柄原地更新），这里把更新应用到
# 对应的输出上，缓存里存的是每张图的最终状态，与 Jupyter 中看到的一样。
# ---------------------------------------------------------------------------

BOOK_CACHE = pathlib.Path(__file__).resolve().parent / "_build" / ".jupyter_cache"
CACHE_EXTENSION = pathlib.Path(__file__).resolve().parent / "book" / "_ext" / "seqbook_cache.py"


def pytest_addoption(parser):
    parser.addoption("--fill-book-cache", action="store_true",
                     help="只执行 Jupyter Book 执行缓存中还没有的笔记本（make book 使用）")


def _stamped(nb):
    """笔记本的副本，kernelspec 里写上执行键（与构建时 seqbook_cache 扩展的做法相同）。"""
    import copy
    import importlib.util

    spec = importlib.util.spec_from_file_location("seqbook_cache", CACHE_EXTENSION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.stamp(copy.deepcopy(nb))


def _book_cache():
    from jupyter_cache import get_cache
    BOOK_CACHE.parent.mkdir(parents=True, exist_ok=True)
    return get_cache(str(BOOK_CACHE))


def is_cached_for_book(path):
    """``path`` 的笔记本（当前的库与数值设置下）是否已在执行缓存中。"""
    if not CACHE_EXTENSION.exists() or not (BOOK_CACHE / "global.db").exists():
        return False
    try:
        _book_cache().match_cache_notebook(_stamped(jupytext.read(path)))
        return True
    except KeyError:
        return False


class _DisplayUpdates:
    """记录带 display_id 的输出，收到 update_display_data 时原地更新它。"""

    def __init__(self):
        self.targets = {}  # display_id -> (输出列表, 下标)

    def see(self, msg, outs):
        content, kind = msg["content"], msg["msg_type"]
        display_id = (content.get("transient") or {}).get("display_id")
        if kind == "display_data" and display_id and outs is not None:
            self.targets[display_id] = (outs, len(outs))  # nbval 随后把它追加到 outs 末尾
            return False
        if kind == "update_display_data":
            target = self.targets.get(display_id)
            if target is not None and target[1] < len(target[0]):
                out = target[0][target[1]]
                out["data"], out["metadata"] = content["data"], content.get("metadata", {})
            return True  # 已处理，不交给 nbval（它会打印 unhandled iopub msg）
        return False


def _install_display_updates(notebook):
    if getattr(notebook, "_display_updates", None) is not None:
        return
    notebook._display_updates = updates = _DisplayUpdates()
    notebook._running = None
    original = notebook.get_kernel_message

    def get_kernel_message(timeout=None, stream="iopub"):
        while True:
            msg = original(timeout=timeout, stream=stream)
            running = notebook._running
            outs = getattr(running, "test_outputs", None) if running is not None else None
            if stream != "iopub" or not updates.see(msg, outs):
                return msg

    notebook.get_kernel_message = get_kernel_message


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    notebook = getattr(item, "parent", None)
    if isinstance(notebook, MystNotebookFile):
        _install_display_updates(notebook)
        notebook._running = item
    yield


def _cell_index(nb, cell):
    return next(i for i, c in enumerate(nb.cells) if c is cell)


def executed_notebook(nb, outputs):
    """把 nbval 收集的输出（{单元下标: 输出列表}）放回笔记本，得到执行过的笔记本（已写上执行键）。"""
    import nbformat

    executed = _stamped(nb)
    code = [(i, c) for i, c in enumerate(executed.cells) if c.cell_type == "code"]
    for count, (index, cell) in enumerate(code, start=1):
        cell.outputs = [nbformat.from_dict(dict(o)) for o in outputs.get(index) or []]
        if _ends_with_semicolon(cell.source):
            # 分号结尾的单元不显示返回值（IPython 的约定）。nbval 执行时 store_history=False，
            # IPython 看不到单元的源代码，照样显示了它（例如画图函数返回的 <Axes ...>）
            cell.outputs = [o for o in cell.outputs if o.output_type != "execute_result"]
        cell.execution_count = count
        for out in cell.outputs:
            if out.output_type == "execute_result":
                out.execution_count = count
    return executed


def _ends_with_semicolon(source):
    """单元的代码（去掉注释与空白后）是否以分号结尾。"""
    return _code_without_comments(source).rstrip().endswith(";")


def store_for_book(path, nb, outputs, seconds):
    """把执行过的笔记本存进 Jupyter Book 的执行缓存（多个进程同时写时加文件锁）。"""
    import fcntl

    from jupyter_cache.base import CacheBundleIn

    if not CACHE_EXTENSION.exists():
        return  # 不是本书的项目（例如测试在临时目录里复制了这个 conftest）：没有书可构建
    executed = executed_notebook(nb, outputs)
    BOOK_CACHE.parent.mkdir(parents=True, exist_ok=True)
    with open(BOOK_CACHE.parent / ".jupyter_cache.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _book_cache().cache_notebook_bundle(
            CacheBundleIn(executed, str(path), data={"execution_seconds": seconds}),
            check_validity=False, overwrite=True)
