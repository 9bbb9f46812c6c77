"""书中的架构图：提交的 SVG 与脚本重新生成的完全相同；图文件与 {figure} 指令一一对应；
每张图有标签、图注，并且正文用 {numref} 引用了它。"""
import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
IMG = BOOK / "img"
FIGURE = re.compile(r"^```\{figure\}[ \t]+(\S+)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
NUMREF = re.compile(r"\{numref\}`(?:[^`<]*<)?([^`<>]+)>?`")


def _load_script():
    spec = importlib.util.spec_from_file_location("draw_figures", IMG / "draw_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pages():
    return sorted(p for p in BOOK.rglob("*.md") if "_build" not in p.parts)


def _figures():
    """[(页面, 图文件的路径, 选项字典, 图注)]：书中所有的 {figure} 指令。"""
    found = []
    for page in _pages():
        for m in FIGURE.finditer(page.read_text(encoding="utf-8")):
            options, caption = {}, []
            for line in m.group(2).splitlines():
                opt = re.match(r"^:(\w+):\s*(.*)$", line)
                if opt and not caption:
                    options[opt.group(1)] = opt.group(2).strip()
                elif line.strip():
                    caption.append(line.strip())
            found.append((page, (page.parent / m.group(1)).resolve(), options, " ".join(caption)))
    return found


def test_committed_svgs_equal_regenerated(tmp_path):
    script = _load_script()
    paths = script.draw(tmp_path)
    committed = sorted(p.name for p in IMG.glob("*.svg"))
    assert committed == sorted(p.name for p in paths), "book/img 中的 SVG 与脚本中的图不一致"
    for path in paths:
        assert path.read_bytes() == (IMG / path.name).read_bytes(), (
            f"{path.name} 与重新生成的不同：请运行 .venv/bin/python book/img/draw_figures.py 并提交")


def test_svgs_need_no_fonts_and_carry_no_date():
    for svg in IMG.glob("*.svg"):
        text = svg.read_text(encoding="utf-8")
        assert "<text" not in text, f"{svg.name} 含有 <text> 元素：文字应转成路径"
        assert "<dc:date>" not in text, f"{svg.name} 写入了日期，输出不再确定"
        assert "<image" not in text, f"{svg.name} 含有位图"


def test_every_svg_is_used_and_every_figure_exists():
    figures = _figures()
    used = {path for _, path, _, _ in figures}
    for page, path, _, _ in figures:
        assert path.is_file(), f"{page.relative_to(ROOT)} 引用的图 {path} 不存在"
    unused = [p.name for p in IMG.glob("*.svg") if p.resolve() not in used]
    assert not unused, f"没有被任何页面引用的图：{unused}"


def test_every_figure_has_label_caption_and_numref():
    figures = _figures()
    if len(figures) < 15:
        pytest.fail(f"书中只有 {len(figures)} 个 {{figure}}，架构图应不少于 15 张")
    text = "\n".join(p.read_text(encoding="utf-8") for p in _pages())
    referenced = set(NUMREF.findall(text))
    names = [options.get("name") for _, _, options, _ in figures]
    assert len(names) == len(set(names)), f"图的标签重复：{names}"
    for page, path, options, caption in figures:
        where = f"{page.relative_to(ROOT)} 中的 {path.name}"
        assert options.get("name"), f"{where} 缺少 :name: 标签"
        assert caption, f"{where} 缺少图注"
        assert options["name"] in referenced, f"{where} 的标签 {options['name']} 没有被 {{numref}} 引用"
