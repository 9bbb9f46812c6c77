"""show_source：展示的就是库里的源代码。"""
import inspect

import pytest

import seqbook


def test_show_source_is_the_library_code():
    shown = seqbook.show_source(seqbook.set_seed)
    assert shown.code == inspect.getsource(seqbook.set_seed)
    md = shown._repr_markdown_()
    assert md.startswith("```python\n# seqbook.utils.set_seed\n")
    assert "torch.manual_seed(seed)" in md and md.endswith("```")


def test_show_source_of_class_and_method():
    assert seqbook.show_source(seqbook.Vocab).code.startswith("class Vocab")
    method = seqbook.show_source(seqbook.Vocab.to_tokens)
    assert method.code.startswith("def to_tokens")  # 方法的缩进已去掉
    assert "seqbook.data.text.Vocab.to_tokens" in repr(method)


def test_show_source_bad_input():
    with pytest.raises(TypeError, match="而不是字符串"):
        seqbook.show_source("seqbook.Vocab")
    with pytest.raises(TypeError, match="无法取得"):
        seqbook.show_source(len)
