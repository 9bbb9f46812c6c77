"""许可：代码与正文的许可证文件，以及列出每个数据集许可与来源的附录页。"""
import pathlib
import re

import tomllib
import yaml

import seqbook

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "appendix" / "licenses.md"
# 认得出的许可名称
KNOWN = ["公有领域", "CC BY 2.0 FR", "CC BY-NC 2.0", "CC BY-SA 4.0", "CC BY 4.0", "CC0", "MIT",
         "Apache-2.0", "BSD"]


def mentions(text, licence):
    """``text`` 是否提到许可 ``licence``：不分大小写，空格与连字符可有可无，不匹配单词的一部分。"""
    parts = [re.escape(p) for p in re.split(r"[\s\-]+", licence)]
    pattern = r"(?<![A-Za-z0-9])" + r"[\s\-]*".join(parts) + r"(?![A-Za-z0-9])"
    return re.search(pattern, text, re.I) is not None


def table_rows(text):
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not set(line) <= set("|-: "):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def test_licence_files():
    code = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in code and "Version 2.0, January 2004" in code
    assert "END OF TERMS AND CONDITIONS" in code
    text = (ROOT / "LICENSE-text").read_text(encoding="utf-8")
    assert text.startswith("Creative Commons Attribution-ShareAlike 4.0 International Public License")
    assert "Section 8 – Interpretation." in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "LICENSE-text" in readme and "CC BY-SA 4.0" in readme and "Apache-2.0" in readme


def test_licence_page_is_in_the_book():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert "book/appendix/licenses" in str(yaml.safe_load(toc)["parts"])
    page = PAGE.read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in page and "Apache-2.0" in page
    # OCNLI 只许非商业使用：页面要说明这对读者意味着什么
    assert "CC BY-NC 2.0" in page and "非商业" in page and "不能用于商业目的" in page


def test_every_registered_dataset_has_its_licence_and_source_listed():
    rows = table_rows(PAGE.read_text(encoding="utf-8"))
    header = next(r for r in rows if r[0] == "登记名")
    col_source, col_licence = header.index("来源"), header.index("许可")
    for name, info in seqbook.DATASETS.items():
        row = next((r for r in rows if f"`{name}`" in r[0]), None)
        assert row is not None, (f"数据集 {name!r} 登记在 seqbook.DATASETS 中，但 book/appendix/licenses.md "
                                 "的数据集表里没有以它的登记名开头的一行（写明来源和许可）")
        licence, source = row[col_licence], row[col_source]
        assert source, f"{name}：来源为空"
        assert any(mentions(licence, k) for k in KNOWN), f"{name}：不认识的许可 {licence!r}"
        # 登记处的说明里写了许可时，两处要一致
        for k in KNOWN:
            if mentions(info.description, k):
                assert mentions(licence, k), f"{name}：登记处写的是 {k}，页面写的是 {licence}"
