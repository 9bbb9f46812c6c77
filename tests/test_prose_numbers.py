"""正文中的数字必须来自运行结果：conftest.py 在 nbval 执行完笔记本后检查 Markdown 单元（issue 8）。"""
import pathlib
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_notebooks import HEADER, code_cell, load_root_conftest, run_pytest  # noqa: E402

_root_conftest = load_root_conftest()
check_prose_numbers, prose_numbers = _root_conftest.check_prose_numbers, _root_conftest.prose_numbers


def numbers(markdown):
    return [n for n, _ in prose_numbers([markdown])[0]]


def test_extractor_finds_measurements_and_skips_settings_code_math_roles_and_exercises():
    text = """(sec-x)=
# 标题

验证困惑度约为 $5.29$，训练用了 12 秒，快 $1.8$ 倍，准确率 93%，每秒 39,000 词元。
学习率 `lr=0.123`，见 {ref}`sec-x` 与 {eq}`eq-1`，值为 {glue:text}`x_ppl:.2f`。
训练 $10$ 轮、$1{,}000$ 个句对，公式 $\\log_2 26 \\approx 4.70$ 与 $\\theta = 0.1$ 不算；最后 $10\\%$ 留作验证。
[链接](https://example.com/v1.5/page) 中的数字不算。

```python
print(3.14)
```

```{math}
y = 2.5 x
```

## 练习

1. 把温度改成 $0.5$，训练 20 秒。
"""
    assert numbers(text) == ["5.29", "12", "1.8", "93%", "39,000", "10%"]
    _, roles = prose_numbers([text])
    assert roles == [("glue:text", "x_ppl:.2f")]


def cells(markdown, code_source, outputs):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code_source), nbformat.v4.new_markdown_cell(markdown)]
    return nb.cells, [outputs]


def stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def glued(name, value_repr):
    return nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": value_repr},
        metadata={"scrapbook": {"name": name, "mime_prefix": "application/papermill.record/"}})


def test_check_accepts_printed_glued_and_typed_numbers_and_rejects_the_rest():
    code = "lr = 0.005  # 实测 5.31（注释里的数字不算）\nprint(f'{ppl:.2f}')"
    ok = cells("学习率 $0.005$，验证困惑度 5.29，即 {glue:text}`ppl:.1f`。", code,
               [stream("5.29\n"), glued("ppl", "5.2912")])
    assert check_prose_numbers(*ok) == []
    bad = cells("验证困惑度约为 5.3，另一次是 5.31。", code, [stream("5.29\n"), glued("ppl", "5.2912")])
    problems = check_prose_numbers(*bad)
    assert len(problems) == 2 and "5.3 " in problems[0] and "5.31" in problems[1], problems
    assert "验证困惑度约为 5.3" in problems[0]          # 报告所在的句子
    # 5.2 不能匹配输出里的 5.29 的前半截
    assert check_prose_numbers(*cells("约为 5.2。", code, [stream("5.29\n")]))


def test_check_reports_missing_or_unformattable_glue_keys():
    problems = check_prose_numbers(*cells("值 {glue:text}`nope:.2f`，{glue:text}`s:.2f`。", "",
                                          [glued("s", "'文字'")]))
    assert len(problems) == 2 and "'nope'" in problems[0] and "无法按" in problems[1], problems


def test_hand_typed_number_fails_the_notebook_and_glued_number_passes(tmp_path):
    compute = code_cell("x = sum(range(10)) / 7\nprint(f'结果 {x:.3f}')")
    glue = code_cell("from myst_nb import glue\nglue('demo_x', x, display=False)", ["remove-cell"])
    (tmp_path / "glued.md").write_text(
        HEADER + compute + glue + "\n结果为 {glue:text}`demo_x:.3f`，与打印的 6.429 相同。\n", encoding="utf-8")
    (tmp_path / "typed.md").write_text(
        HEADER + compute + glue + "\n本书构建时的运行：结果约为 6.43。\n", encoding="utf-8")
    result = run_pytest(tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "1 failed, 3 passed" in out, out
    assert "typed.md" in out and "6.43" in out and "本书构建时的运行：结果约为 6.43" in out, out
    assert "glued.md::Cell 1 FAILED" not in out.replace("\\", "/"), out
