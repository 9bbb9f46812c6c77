"""安装文件彼此一致：conda 与 pip 两条路径装出同一组依赖。"""
import pathlib
import re

import tomllib
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]


def requirement_lines():
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def pins():
    result = {}
    for line in requirement_lines():
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", line)
        assert match, f"requirements.txt 的每一行都应锁定到确切版本：{line!r}"
        result[match.group(1).lower()] = match.group(2)
    return result


def test_requirements_pin_cpu_torch_and_jupyter_book_1():
    p = pins()
    assert p["torch"] == "2.13.0"
    assert p["jupyter-book"].startswith("1.")
    for needed in ["jupytext", "nbval", "matplotlib", "pytest", "jieba", "tqdm", "mplfonts", "ipykernel"]:
        assert needed in p, f"requirements.txt 缺少 {needed}"


def test_environment_yml_delegates_to_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    pip_part = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    assert pip_part == ["-r requirements.txt", "-e ."]
    conda_names = {re.split(r"[=<> ]", d)[0] for d in deps if isinstance(d, str)}
    # conda 只提供 Python、pip 和 Node.js；其余都来自 requirements.txt，避免两处版本不一致
    assert conda_names == {"python", "pip", "nodejs"}


def test_pyproject_dependencies_are_satisfied_by_the_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    p = pins()
    for dep in project["dependencies"]:
        name = re.split(r"[=<>! ]", dep)[0].lower()
        assert name in p, f"pyproject 依赖 {name}，但 requirements.txt 没有锁定它"
    assert "torch>=2.4" in project["dependencies"]  # 库代码支持较旧的 torch（GPU 机器）


def test_seqbook_is_installed_from_this_checkout():
    import seqbook
    assert pathlib.Path(seqbook.__file__).resolve().parent == ROOT / "lib" / "seqbook"
