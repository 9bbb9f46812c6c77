"""在笔记本和构建出的书中展示库里的源代码：章节展示的就是经过测试的那份代码。"""

import inspect
import textwrap


def get_source(obj):
    """返回函数、类或方法的源代码（字符串）。"""
    if isinstance(obj, str):
        raise TypeError("show_source 需要一个函数、类或方法对象，而不是字符串；"
                        "例如 show_source(seqbook.Vocab)")
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (TypeError, OSError) as e:
        raise TypeError(f"无法取得 {obj!r} 的源代码：{e}") from None


class _Source:
    """一段带语法高亮的 Python 源代码；在 Jupyter 和 Jupyter Book 里都以高亮形式显示。"""

    def __init__(self, code, title):
        self.code, self.title = code, title

    def __repr__(self):
        return f"# {self.title}\n{self.code}"

    def _repr_markdown_(self):
        # Jupyter 前端与 myst-nb 都把 Markdown 输出渲染成带高亮的代码块
        return f"```python\n# {self.title}\n{self.code.rstrip()}\n```"


def show_source(obj):
    """展示 ``obj`` 在 seqbook 库里的源代码，并注明它所在的模块。

    在笔记本最后一行写 ``show_source(seqbook.Vocab)`` 即可；返回的对象在 Jupyter
    中显示为高亮的代码块，在纯 Python 中打印为文本。
    """
    module = getattr(obj, "__module__", None) or "?"
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", repr(obj)))
    return _Source(get_source(obj), f"{module}.{name}")
