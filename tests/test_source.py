"""show_source：展示的就是库里的源代码；默认略去文档字符串与参数检查，并留下记号。"""
import ast
import importlib.util
import inspect
import sys
import textwrap

import pytest

import seqbook
from seqbook.display.source import GUARD_NOTE

MODULE = '''\
"""示例模块。"""
from seqbook._checks import check_index, check_positive_int


def scale(x, n, k=0):
    """把 x 放大 n 倍。

    参数：n 为正整数。
    """
    check_positive_int(n, "n")
    k = check_index(k, "k")
    if x is None:
        raise TypeError("x 不能为 None")
    elif not hasattr(x, "__mul__"):
        shape = type(x).__name__
        raise TypeError(f"x 不支持乘法：{shape}")

    # 核心：一行乘法
    y = x * n  # 放大
    if k > 1:
        y = y + k
    else:
        raise ValueError("k 太小")
    return y


class Box:
    """一个盒子。"""

    def __init__(self, n):
        """构造。"""
        ok = (int,)
        if not isinstance(n, ok):
            raise TypeError("n 应为整数")
        self.n = n

    def forward(self, x):
        self._check_x(x)
        # region core
        out = x * self.n  # 核心
        # endregion
        return out

    def size(self):
        raise NotImplementedError

    def _check_x(self, x):
        if x is None:
            raise ValueError("x")

    def __repr__(self):
        return f"Box({self.n})"


def apply(xs):
    """对每个元素调用 _twice。"""
    # 说明检查的注释随检查一起略去
    _check_list(xs)
    return [_twice(x) for x in xs]


def _twice(x):
    """乘 2。"""
    return 2 * x


def _check_list(xs):
    if not isinstance(xs, list):
        raise TypeError("xs 应为列表")
'''

SCALE = '''\
def scale(x, n, k=0):
    # …（参数检查从略）

    # 核心：一行乘法
    y = x * n  # 放大
    if k > 1:
        y = y + k
    # …（参数检查从略）
    return y
'''

BOX = '''\
class Box:
    def __init__(self, n):
        # …（参数检查从略）
        self.n = n

    def forward(self, x):
        # …（参数检查从略）
        out = x * self.n  # 核心
        return out

    def size(self):
        raise NotImplementedError

    # …（参数检查从略）

    def __repr__(self):
        return f"Box({self.n})"
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    path = tmp_path_factory.mktemp("src") / "sample_mod.py"
    path.write_text(MODULE, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("sample_mod", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["sample_mod"] = module  # inspect 按模块名找类的源代码
    spec.loader.exec_module(module)
    yield module
    del sys.modules["sample_mod"]


def kept_lines(shown):
    """去掉略去记号后的行。"""
    return [line for line in shown.code.splitlines()
            if not line.strip().startswith("# …（")]


def is_subsequence(part, whole):
    it = iter(whole)
    return all(line in it for line in part)


def test_guards_and_docstrings_left_out(mod):
    shown = seqbook.show_source(mod.scale)
    assert shown.code == SCALE  # 其余的行（含注释、空行、行内注释）逐字节不变
    assert "（文档字符串从略）" in shown.title
    assert shown.full == inspect.getsource(mod.scale)  # 完整的源代码仍在
    assert shown.omitted


def test_class_methods_and_private_check_helpers(mod):
    shown = seqbook.show_source(mod.Box)
    assert shown.code == BOX
    assert "raise NotImplementedError" in shown.code  # 说明接口，不是参数检查
    ast.parse(shown.code)  # 略去之后仍是合法的 Python


def test_method_and_members(mod):
    method = seqbook.show_source(mod.Box.forward)
    assert method.code.startswith("def forward(self, x):\n    " + GUARD_NOTE + "\n")
    assert repr(method).startswith("# sample_mod.Box.forward\n")
    part = seqbook.show_source(mod.Box, members=["forward"])
    assert part.code == ("class Box:\n    # …（从略：__init__）\n\n"
                         + textwrap.indent(method.code, "    ")
                         + "\n    # …（从略：size、_check_x、__repr__）\n")


def test_region(mod):
    shown = seqbook.show_source(mod.Box.forward, region="core")
    assert shown.code == "out = x * self.n  # 核心\n"
    assert "（core）" in shown.title
    assert "# region core" in shown.full  # 标记只在完整的源代码里
    with pytest.raises(ValueError, match="没有名为 'tail' 的区域.*core"):
        seqbook.show_source(mod.Box.forward, region="tail")


def test_private_helpers(mod):
    shown = seqbook.show_source(mod.apply, helpers=True)
    assert shown.code == ("def apply(xs):\n    " + GUARD_NOTE + "\n"
                          "    return [_twice(x) for x in xs]\n\n"
                          "def _twice(x):\n    return 2 * x\n")
    assert "def _twice" in shown.full and "_check_list(xs)" in shown.full
    assert "第 55–59、62–64 行" in shown._repr_markdown_()
    assert seqbook.show_source(mod.apply, helpers=["_twice"]).code == shown.code
    with pytest.raises(ValueError, match="没有直接调用.*_check_list.*_twice"):
        seqbook.show_source(mod.apply, helpers=["_check_list"])
    with pytest.raises(TypeError, match="helpers 只用于函数"):
        seqbook.show_source(mod.Box, helpers=True)


def test_title_fits_the_page():
    shown = seqbook.show_source(seqbook.seq_data_iter_sequential, helpers=True)
    first = shown._repr_markdown_().splitlines()[1]
    assert first.startswith("# seqbook.") and len(first) <= 84
    assert "（文档字符串从略）" in shown.title


def test_full_source_one_click_away():
    shown = seqbook.show_source(seqbook.MultiHeadAttention)
    source = textwrap.dedent(inspect.getsource(seqbook.MultiHeadAttention))
    assert shown.full == source
    md = shown._repr_markdown_()
    head, details = md.split("<details>")
    assert head.startswith("```python\n# seqbook.models.multihead.MultiHeadAtt")
    assert shown.code.rstrip() in head
    assert "<summary>完整源代码（seqbook/models/multihead.py，第 " in details
    assert source.rstrip() in details and details.rstrip().endswith("</details>")
    # 纯 Python 中打印为文本
    assert repr(shown) == f"# {shown.title}\n{shown.code}"
    # full=True：原样展示，没有折叠块
    whole = seqbook.show_source(seqbook.MultiHeadAttention, full=True)
    assert whole.code == source and "<details>" not in whole._repr_markdown_()


def test_library_listings_are_the_library_code():
    """库中每个公开的函数与类：展示的行按原顺序取自源代码，仍能解析，不含文档字符串
    和检查调用，也没有超出 84 列的标题行。"""
    checked = 0
    for name in sorted(dir(seqbook)):
        obj = getattr(seqbook, name)
        if name.startswith("_"):
            continue
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if not getattr(obj, "__module__", "").startswith("seqbook"):
            continue
        try:
            inspect.getsource(obj)
        except (OSError, TypeError):  # 如 namedtuple 生成的类
            continue
        shown = seqbook.show_source(obj)
        assert is_subsequence(kept_lines(shown), shown.full.splitlines()), name
        tree = ast.parse(shown.code)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                first = node.body[0]
                has_doc = isinstance(first, ast.Expr) and isinstance(
                    getattr(first, "value", None), ast.Constant)
                assert not has_doc or len(node.body) == 1, f"{name}.{node.name}"
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                func = node.value.func
                called = getattr(func, "id", getattr(func, "attr", ""))
                assert not called.startswith(("check_", "_check")), name
        checked += 1
    assert checked > 50


def test_show_source_of_class_and_method():
    assert seqbook.show_source(seqbook.Vocab).code.startswith("class Vocab")
    method = seqbook.show_source(seqbook.Vocab.to_tokens)
    assert method.code.startswith("def to_tokens")  # 方法的缩进已去掉
    assert "seqbook.data.text.Vocab.to_tokens" in repr(method)


def test_show_source_bad_input(mod):
    with pytest.raises(TypeError, match="而不是字符串"):
        seqbook.show_source("seqbook.Vocab")
    with pytest.raises(TypeError, match="无法取得"):
        seqbook.show_source(len)
    with pytest.raises(TypeError, match="members 只用于类"):
        seqbook.show_source(mod.scale, members=["x"])
    with pytest.raises(ValueError, match="没有这些成员"):
        seqbook.show_source(mod.Box, members=["backward"])


def test_decorated_function_links_to_its_own_module():
    """``@torch.no_grad()`` 包装的函数：完整源代码的位置是库的模块，而不是 torch 的包装器。"""
    shown = seqbook.show_source(seqbook.predict)
    assert "seqbook/inference/lm.py" in shown.where and "torch" not in shown.where
