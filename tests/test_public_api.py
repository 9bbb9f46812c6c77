"""库的公开接口：``seqbook`` 导出的正是各章用到的名字；章节不用私有名字或子模块路径；代码通过 ruff。"""
import pathlib
import re
import subprocess
import sys

import seqbook

ROOT = pathlib.Path(__file__).resolve().parents[1]
_CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)
_USE = re.compile(r"(?<![\w.])seqbook\.([A-Za-z_][\w.]*)")


def chapter_uses():
    """各章代码单元里 ``seqbook.<名字>`` 的全部用法：{名字路径: 第一次出现的文件}。"""
    uses = {}
    for path in sorted((ROOT / "book").rglob("*.md")):
        for cell in _CODE_CELL.findall(path.read_text(encoding="utf-8")):
            for name in _USE.findall(cell):
                uses.setdefault(name, path.relative_to(ROOT).as_posix())
    return uses


def test_chapters_use_only_public_top_level_names():
    bad = {name: where for name, where in chapter_uses().items()
           if name.split(".")[0].startswith("_") or name.split(".")[0] not in seqbook.__all__}
    assert not bad, f"章节用了私有名字、子模块路径或未导出的名字：{bad}"


def test_exports_are_exactly_what_chapters_use():
    used = {name.split(".")[0] for name in chapter_uses()}
    unused = sorted(set(seqbook.__all__) - used)
    assert not unused, f"导出了章节没有用到的名字（放回子模块，或在章节中用到它）：{unused}"
    assert len(seqbook.__all__) == len(set(seqbook.__all__))


def test_library_passes_ruff():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "lib"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
