"""在笔记本和构建出的书中展示库里的源代码：章节展示的就是经过测试的那份代码。

:func:`show_source` 默认略去文档字符串和参数检查（只检验参数、出错就抛异常的语句），
让读者看到承载想法的几行；略去之处留一行注释，完整的源代码折叠在下面，点开即见。
"""

import ast
import html
import inspect
import re
import textwrap
import unicodedata

GUARD_NOTE = "# …（参数检查从略）"
_CHECK_NAME = re.compile(r"^_?check(_\w+)?$|^_?validate\w*$")
_REGION = re.compile(r"^\s*#\s*region\s+(?P<name>[\w.-]+)\s*$")
_END_REGION = re.compile(r"^\s*#\s*endregion\b")
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_ARG_ERRORS = ("TypeError", "ValueError", "IndexError", "KeyError")
_DEFS = (*_FUNCS, ast.ClassDef)


def get_source(obj):
    """返回函数、类或方法的源代码（字符串，已去掉整体缩进）。"""
    if isinstance(obj, str):
        raise TypeError("show_source 需要一个函数、类或方法对象，而不是字符串；"
                        "例如 show_source(seqbook.Vocab)")
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (TypeError, OSError) as e:
        raise TypeError(f"无法取得 {obj!r} 的源代码：{e}") from None


# ---------------------------------------------------------------- 找出要略去的语句
def _is_check_call(node):
    """``check_x(...)``、``self._check_x(...)`` 这样的调用。"""
    f = node.func if isinstance(node, ast.Call) else None
    name = getattr(f, "id", None) or getattr(f, "attr", None)
    return bool(name and _CHECK_NAME.match(name))


def _is_raise(stmt):
    """``raise TypeError(...)`` 等（见 ``_ARG_ERRORS``）：参数不对。其他异常（数据
    损坏、``NotImplementedError`` 等）说的是库的行为，照常展示。"""
    if not isinstance(stmt, ast.Raise):
        return False
    exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
    return isinstance(exc, ast.Name) and exc.id in _ARG_ERRORS


def _is_guard(stmt):
    """只检验参数的语句：去掉它，函数对合法输入的行为不变。"""
    if _is_raise(stmt):
        return True
    if isinstance(stmt, ast.Expr):  # check_positive_int(n, "n")、self._check_x(X)
        return _is_check_call(stmt.value)
    if isinstance(stmt, ast.Assign) and _is_check_call(stmt.value):
        # x = check_index(x, "x")：检查并规范化同一个变量
        args = stmt.value.args
        targets = [ast.unparse(t) for t in stmt.targets]
        return bool(args) and targets == [ast.unparse(args[0])]
    if isinstance(stmt, ast.If):
        # if 条件: [准备错误信息的赋值……] raise ...；elif/else 也只含检查
        body = stmt.body
        simple = (ast.Assign, ast.Expr)
        ok = _is_guard(body[-1]) and all(
            _is_guard(s) or isinstance(s, simple) for s in body[:-1])
        return ok and all(_is_guard(s) for s in stmt.orelse)
    if isinstance(stmt, ast.For) and not stmt.orelse:  # 对若干参数逐个检查
        return all(_is_guard(s) for s in stmt.body)
    return False


def _docstring(node):
    """``node`` 的文档字符串语句；没有时为 None。"""
    ok = (isinstance(node, (ast.Module, *_DEFS))
          and ast.get_docstring(node) is not None)
    return node.body[0] if ok else None


def _start(node):
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _omissions(tree, lines, strip, members):
    """要略去的行：``[(首行, 末行, 注释或 None)]``，行号从 1 开始。"""
    cuts = []
    if members is not None:  # 只展示类的这几个方法
        cls = tree.body[0]
        run = []
        for stmt in cls.body + [None]:
            if isinstance(stmt, _DEFS) and stmt.name not in members:
                run.append(stmt)
                continue
            if run:
                names = "、".join(s.name for s in run)
                note = f"# …（从略：{names}）"
                cuts.append((_start(run[0]), run[-1].end_lineno, note))
                run = []
    if not strip:
        return cuts
    for node in ast.walk(tree):
        doc = _docstring(node)
        if doc is not None and len(node.body) > 1:  # 只有文档字符串的函数体保留它
            cuts.append((doc.lineno, doc.end_lineno, None))
        if isinstance(node, ast.ExceptHandler):
            continue  # except 分支里把错误换成 TypeError/ValueError：照常展示
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list):
                continue
            stmts = [s for s in stmts if isinstance(s, ast.stmt) and s is not doc]
            guards = [s for s in stmts if _is_guard(s) or (
                isinstance(s, _FUNCS) and _CHECK_NAME.match(s.name))]
            if len(guards) == len(stmts) and field == "body":
                continue  # 语句体全是检查（如 elif 分支）：保留，免得语句体变空
            cuts += [(_start(s), s.end_lineno, GUARD_NOTE) for s in guards]
        orelse = getattr(node, "orelse", None)
        if (isinstance(node, (ast.If, ast.For, ast.While, ast.Try)) and orelse
                and not _is_guard(node) and all(_is_guard(s) for s in orelse)):
            # 只有检查的 else 分支：连同 else: 一行略去（elif 行已在分支的范围里）
            first = orelse[0].lineno - 1
            while first > node.lineno and lines[first - 1].strip() != "else:":
                first -= 1
            if lines[first - 1].strip() == "else:":
                cuts.append((first, orelse[-1].end_lineno, GUARD_NOTE))
    cuts += _helpers_of_guards(tree, cuts)
    cuts += _emptied_blocks(tree, cuts)
    return [_with_comment_above(c, lines) if c[2] == GUARD_NOTE else c
            for c in cuts]


def _with_comment_above(cut, lines):
    """检查正上方、缩进相同的注释行（说明这个检查的）随检查一起略去。"""
    first, last, note = cut
    indent = len(lines[first - 1]) - len(lines[first - 1].lstrip())
    while first > 1:
        above = lines[first - 2]
        comment = above.lstrip().startswith("#") and not _REGION.match(above)
        if not comment or _END_REGION.match(above) or \
                len(above) - len(above.lstrip()) != indent:
            break
        first -= 1
    return first, last, note


def _dropped(cuts):
    """略去检查的行号（不含文档字符串）。"""
    return {i for first, last, note in cuts if note for i in range(first, last + 1)}


def _emptied_blocks(tree, cuts):
    """语句体全被略去的 for/while/with：整条语句一起略去。"""
    dropped, extra = _dropped(cuts), []
    for node in ast.walk(tree):
        loop = isinstance(node, (ast.For, ast.While)) and not node.orelse
        if loop or isinstance(node, ast.With):
            body = [set(range(s.lineno, s.end_lineno + 1)) for s in node.body]
            if all(lines <= dropped for lines in body):
                extra.append((node.lineno, node.end_lineno, GUARD_NOTE))
    return extra


def _helpers_of_guards(tree, cuts):
    """只为参数检查而算的变量（如 ``ok_shapes = [...]``）：用到处都已略去。"""
    dropped, extra = _dropped(cuts), []
    for fn in ast.walk(tree):
        if not isinstance(fn, _FUNCS):
            continue
        loads = {}
        for n in ast.walk(fn):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                loads.setdefault(n.id, []).append(n.lineno)
        for stmt in ast.walk(fn):
            if not (isinstance(stmt, ast.Assign) and stmt.lineno not in dropped
                    and all(isinstance(t, ast.Name) for t in stmt.targets)):
                continue
            uses = [line for t in stmt.targets for line in loads.get(t.id, [])]
            if uses and all(line in dropped for line in uses):
                extra.append((stmt.lineno, stmt.end_lineno, GUARD_NOTE))
    return extra


def _apply(lines, cuts):
    """删去 ``cuts`` 覆盖的行；相邻的同类删除只留一行注释（缩进与被删的行相同）。"""
    drop, note_at, note_lines = set(), {}, set()
    for first, last, note in sorted(cuts, key=lambda c: c[:2]):
        if any(a <= first and last <= b and (a, b) != (first, last)
               for a, b, _ in cuts):
            continue  # 包含在更大的删除里
        drop.update(range(first, last + 1))
        if note:
            note_lines.update(range(first, last + 1))
            note_at.setdefault(first, note)
    out, after_doc, after_cut = [], False, False
    for i, line in enumerate(lines, 1):
        if i in drop:
            note = note_at.get(i)
            if note:
                note = line[:len(line) - len(line.lstrip())] + note
                previous = [x for x in out if x.strip()]
                if previous and previous[-1] == note:  # 相邻的几处检查只留一行注释
                    while not out[-1].strip():
                        out.pop()
                else:
                    out.append(note)
            # 文档字符串后的空行随之删去；略去检查处的空行保留，但不连着两行空行
            after_doc, after_cut = i not in note_lines, True
            continue
        if not line.strip():
            if after_doc or (after_cut and out and not out[-1].strip()):
                continue
        else:
            after_cut = False
        after_doc = False
        out.append(line)
    return out


def _region(lines, name, where):
    """``# region 名字`` 与 ``# endregion`` 之间的行（不含这两行）。"""
    start = next((i for i, s in enumerate(lines)
                  if (m := _REGION.match(s)) and m["name"] == name), None)
    if start is None:
        found = [m["name"] for s in lines if (m := _REGION.match(s))]
        raise ValueError(f"{where} 中没有名为 {name!r} 的区域（用 # region {name} "
                         f"与 # endregion 标出）；已有的区域：{found or '无'}")
    end = next((i for i in range(start + 1, len(lines))
                if _END_REGION.match(lines[i])), len(lines))
    return textwrap.dedent("\n".join(lines[start + 1:end])).splitlines()


class _Source:
    """一段带语法高亮的 Python 源代码，在 Jupyter 和 Jupyter Book 里都以高亮
    形式显示；略去了内容时，完整的源代码折叠在下面。"""

    def __init__(self, code, title, full=None, where="", note=""):
        # 标题行放得下时附上说明，否则说明单独一行（展示的代码不超过 84 列）
        wide = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1
                   for c in f"# {title}{note}")
        self.title = f"{title}{note}" if wide <= 84 else f"{title}\n# {note}"
        self.code, self.full = code, code if full is None else full
        self.where = where  # 如 "seqbook/models/multihead.py，第 44–150 行"

    @property
    def omitted(self):
        return self.code != self.full

    def __repr__(self):
        return f"# {self.title}\n{self.code}"

    def _repr_markdown_(self):
        # Jupyter 前端与 myst-nb 都把 Markdown 输出渲染成带高亮的代码块；
        # <details> 在两者中都是可以点开的折叠块
        md = f"```python\n# {self.title}\n{self.code.rstrip()}\n```\n"
        if self.omitted:
            where = html.escape(self.where)
            md += (f"\n<details><summary>完整源代码（{where}）</summary>\n\n"
                   f"```python\n{self.full.rstrip()}\n```\n\n</details>\n")
        return md


def _listing(obj, members=None, full=False):
    """``(展示的行, 完整的源代码, 首行行号, 是否略去了文档字符串)``。"""
    source = get_source(obj)
    tree = ast.parse(source)
    lines = source.splitlines()
    cuts = _omissions(tree, lines, not full, members)
    shown = _apply(lines, cuts) if cuts else lines
    first = inspect.getsourcelines(obj)[1]
    no_doc = any(c[2] is None for c in cuts)
    return shown, source, (first, first + len(lines) - 1), no_doc


def _helpers(obj, names, title):
    """``obj`` 直接调用的、同一模块中的函数和类（检查函数除外），按调用的先后；
    ``names`` 不是 True 时只取这几个名字。"""
    if not inspect.isfunction(obj):
        raise TypeError(f"helpers 只用于函数，{title} 不是函数")
    module = inspect.getmodule(obj)
    calls = [node for node in ast.walk(ast.parse(get_source(obj)))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
    found = []
    for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
        name = node.func.id
        helper = getattr(module, name, None)
        new = helper is not obj and helper not in found
        if (new and not _CHECK_NAME.match(name)
                and (inspect.isfunction(helper) or inspect.isclass(helper))
                and helper.__module__ == obj.__module__):
            found.append(helper)
    if names is True:
        return found
    names = [names] if isinstance(names, str) else list(names)
    known = [h.__name__ for h in found]
    if missing := [n for n in names if n not in known]:
        raise ValueError(f"{title} 没有直接调用同一模块中的 {missing}；"
                         f"可以展示的有：{known}")
    return [h for h in found if h.__name__ in names]


def show_source(obj, members=None, region=None, full=False, helpers=False):
    """展示 ``obj`` 在 seqbook 库里的源代码，并注明它所在的模块。

    在笔记本最后一行写 ``show_source(seqbook.Vocab)`` 即可；返回的对象在 Jupyter
    中显示为高亮的代码块，在纯 Python 中打印为文本。

    参数：
        obj: 函数、类或方法（如 ``seqbook.MultiHeadAttention.forward``）。
        members: 只展示类的这些方法（名字的列表），其余方法以一行注释代替。
        region: 只展示源代码中 ``# region 名字`` 与 ``# endregion`` 之间的行。
        full: 为 True 时原样展示；默认略去文档字符串与参数检查，略去处留一行注释
            ``# …（参数检查从略）``，完整的源代码在下方的折叠块里。
        helpers: 为 True 时在函数后面接着展示它直接调用的、同一模块中的函数和类
            （如私有的辅助函数），章节因此不必引用私有的名字；也可以是名字的
            列表，只展示其中这几个。
    """
    get_source(obj)  # 字符串等给出清楚的 TypeError
    module = getattr(obj, "__module__", None) or "?"
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))
    title = f"{module}.{name}"
    if members is not None:
        if isinstance(members, str):
            members = [members]
        if not inspect.isclass(obj):
            raise TypeError(f"members 只用于类，{title} 不是类")
        missing = [m for m in members if m not in vars(obj)]
        if missing:
            raise ValueError(f"{title} 中没有这些成员：{missing}")
    shown, source, span, no_doc = _listing(obj, members, full)
    spans = [span]
    if helpers:
        for helper in _helpers(obj, helpers, title):
            more, more_source, span, more_no_doc = _listing(helper, full=full)
            shown += [""] + more
            source += "\n" + more_source
            spans.append(span)
            no_doc = no_doc or more_no_doc
    if region is not None:
        shown = _region(shown, region, title)
        title += f"（{region}）"
    # 区域的标记行只是给 show_source 看的，不展示
    shown = [s for s in shown if not (_REGION.match(s) or _END_REGION.match(s))]
    code = "\n".join(shown) + "\n"
    # 装饰过的函数（如 @torch.no_grad()）：取被装饰的原函数所在的文件
    path = (inspect.getsourcefile(inspect.unwrap(obj)) or "").replace("\\", "/")
    path = path[path.rfind("seqbook/"):] if "seqbook/" in path else path
    where = f"{path}，第 " + "、".join(f"{a}–{b}" for a, b in spans) + " 行"
    note = "（文档字符串从略）" if no_doc and code != source else ""
    return _Source(code, title, full=source, where=where, note=note)
