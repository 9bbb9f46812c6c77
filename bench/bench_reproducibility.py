"""数值可复现的设置：哪些变量改变训练结果，固定它们要付出多少速度。

每种设置在一个新的子进程里训练同一个小模型（``seqbook.numerics.training_fingerprint``），
比较参数与损失的 SHA-1，并交替重复计时，打印相对于本书固定设置的时间比。

    .venv/bin/python bench/bench_reproducibility.py [--repeats 3] [--steps 120]
"""
import argparse
import os
import subprocess
import sys
import time

from seqbook.numerics import PINNED_ENV

# （名字，相对于“去掉全部固定变量”的环境要设的变量）
SETTINGS = [
    ("本书的固定设置", dict(PINNED_ENV)),
    ("本机默认（单线程）", {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}),
    ("只固定 ATen 内核级别", {"ATEN_CPU_CAPABILITY": "avx2", "OMP_NUM_THREADS": "1",
                             "MKL_NUM_THREADS": "1"}),
    ("固定设置 + MKL 条件数值可复现（MKL_CBWR=AVX2）", {**PINNED_ENV, "MKL_CBWR": "AVX2"}),
    ("固定设置，但 MKL/oneDNN 可用 AVX-512", {**PINNED_ENV, "MKL_ENABLE_INSTRUCTIONS": "AVX512",
                                           "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}),
    ("固定设置，2 个线程", {**PINNED_ENV, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}),
]


def run(extra, steps):
    env = {k: v for k, v in os.environ.items() if k not in PINNED_ENV and k != "MKL_CBWR"}
    env.update(extra)
    code = ("import sys, time, torch; from seqbook.numerics import training_fingerprint as f; "
            "t = time.perf_counter(); fp = f(steps=int(sys.argv[1])); "
            "print(fp, torch.backends.cpu.get_cpu_capability(), time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code, str(steps)], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return out[0], out[1], float(out[2])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=120)
    args = parser.parse_args()
    times = {name: [] for name, _ in SETTINGS}
    prints = {}
    for _ in range(args.repeats):  # 交替运行，机器负载的变化对各设置的影响相同
        for name, extra in SETTINGS:
            fp, level, seconds = run(extra, args.steps)
            prints[name] = (fp, level)
            times[name].append(seconds)
    base_fp = prints[SETTINGS[0][0]][0]
    base_time = min(times[SETTINGS[0][0]])
    print(f"{'设置':44} {'内核':8} {'指纹':18} {'与固定设置相同':>12} {'时间比':>8}")
    for name, _ in SETTINGS:
        fp, level = prints[name]
        same = "是" if fp == base_fp else "否"
        print(f"{name:44} {level:8} {fp:18} {same:>12} {min(times[name]) / base_time:>8.2f}")
    print(f"（{args.steps} 步训练，每种设置 {args.repeats} 次取最短时间；时间比 < 1 表示比固定设置快）")


if __name__ == "__main__":
    main()
