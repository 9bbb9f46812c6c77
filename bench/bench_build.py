"""书的两条命令要多久：``make test`` 串行与并行，``make book`` 冷启动与接在 ``make test`` 之后。

每个场景在仓库的一份新克隆（``git clone``，只含提交过的文件）里运行，用本仓库已装好的
``.venv``（不计安装时间）；“冷”指模型缓存（``SEQBOOK_CACHE``）与书的执行缓存都是空的。
打印每个场景的墙钟时间与比值（issue 11 的目标：并行的 ``make test`` ≤ 串行的 0.6 倍；
``make test`` 接着 ``make book`` ≤ 两者中较慢者单独运行的 1.2 倍）。机器上别的进程会拖慢
计时：比值只在同一次运行里比较。

    .venv/bin/python bench/bench_build.py [--only test_serial,test_parallel,book,test_then_book]
                                          [--json bench/results/build.json]

全部场景在两核机器上要一个多小时（每个场景都从零训练书中的全部模型）。
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"


def fresh_clone(work):
    """仓库的一份新克隆，旁边放 ``shared``（数据）的链接，与 CI 相同。"""
    clone = work / "main"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    shared = ROOT.parent / "shared"
    if shared.exists():
        (work / "shared").symlink_to(shared)
    # MathJax 是 npm 下载的构建依赖（不计入）：从本仓库复制
    if (ROOT / "_vendor").exists():
        shutil.copytree(ROOT / "_vendor", clone / "_vendor")
    # 克隆的文件比 .venv 的安装标记新，make 会重新安装（pip install -e 克隆，
    # 把本仓库的 .venv 指向克隆）；测试里的 make lab 也会。把它们的时间设为很早。
    for name in ("requirements.txt", "pyproject.toml"):
        os.utime(clone / name, (0, 0))
    return clone


def make(clone, target, cache, jobs=None):
    """在 ``clone`` 里运行 ``make target``，返回秒数（失败时抛出异常并给出输出的结尾）。"""
    # 克隆里的 lib 优先于 .venv 里指向本仓库的可编辑安装
    env = dict(os.environ, SEQBOOK_CACHE=str(cache), PYTHONPATH=str(clone / "lib"))
    env.setdefault("SEQBOOK_DATA", str(ROOT.parent / "shared" / "data"))
    # -o：把 .venv 的安装标记当作最新，不在克隆里重新安装（克隆的文件时间更新）
    cmd = ["make", "-o", str(VENV / ".installed"), target, f"VENV={VENV}"]
    cmd += [f"JOBS={jobs}"] if jobs else []
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=clone, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} 失败：\n{(result.stdout + result.stderr)[-3000:]}")
    return seconds


def scenario(name, steps):
    """在新克隆与空缓存里依次运行 ``steps``（[(target, jobs), ...]），返回每步的秒数。"""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        work = pathlib.Path(tmp)
        clone, cache = fresh_clone(work), work / "cache"
        times = []
        for target, jobs in steps:
            seconds = make(clone, target, cache, jobs)
            print(f"  {name}: make {target}" + (f" JOBS={jobs}" if jobs else "")
                  + f" {seconds:,.0f} 秒", flush=True)
            times.append(seconds)
        return times


SCENARIOS = {
    "test_serial": [("test", 1)],
    "test_parallel": [("test", 2)],
    "book": [("book", 2), ("book", 2)],           # 冷启动，然后什么都没改再构建一次（热缓存）
    "test_then_book": [("test", 2), ("book", 2)],  # 两条 README 命令接连运行
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(SCENARIOS))
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        sys.exit(f"--only 中有未知的场景：{sorted(unknown)}；可选 {list(SCENARIOS)}")
    times = {}
    for name in names:
        print(f"{name} ...", flush=True)
        times[name] = scenario(name, SCENARIOS[name])
    print("\n场景                           秒数")
    for name, ts in times.items():
        print(f"{name:<28} " + " + ".join(f"{t:,.0f}" for t in ts))
    if "test_serial" in times and "test_parallel" in times:
        ratio = times["test_parallel"][0] / times["test_serial"][0]
        print(f"make test 并行 / 串行 = {ratio:.2f}（目标 ≤ 0.6）")
    if "book" in times:
        print(f"make book 热缓存 / 冷启动 = {times['book'][1] / times['book'][0]:.2f}")
    if "test_then_book" in times and "book" in times:
        test, book = times["test_then_book"]
        ratio = (test + book) / max(test, times["book"][0])
        print(f"make test + make book / 较慢者单独 = {ratio:.2f}（目标 ≤ 1.2）；"
              f"接在 make test 之后的 make book {book:,.0f} 秒")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(times, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
