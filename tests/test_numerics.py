"""数值可复现：固定设置下，一次小训练的结果与 CPU 支持的指令集无关，逐位相同。"""
import json
import os
import pathlib
import platform
import re
import subprocess
import sys

from seqbook.numerics import KERNEL_NAME, PINNED_ENV

ROOT = pathlib.Path(__file__).resolve().parents[1]
X86 = platform.machine().lower() in ("x86_64", "amd64")


def clean_env(**overrides):
    """去掉所有固定设置的环境，再加上 ``overrides``。"""
    env = {k: v for k, v in os.environ.items() if k not in PINNED_ENV}
    env.update(overrides)
    return env


def fingerprint(env):
    out = subprocess.run([sys.executable, "-m", "seqbook.numerics", "fingerprint"], env=env,
                         capture_output=True, text=True, timeout=300, check=True).stdout.split()
    return out[0], out[1]  # (参数与损失的 SHA-1, 实际使用的 CPU 内核级别)


def test_makefile_exports_the_pinned_settings():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    threads = re.search(r"^THREADS \?= (\S+)$", text, re.M).group(1)
    exported = {k: v.replace("$(THREADS)", threads)
                for k, v in re.findall(r"^export (\w+) := (\S+)$", text, re.M)}
    assert {k: exported.get(k) for k in PINNED_ENV} == PINNED_ENV


def test_pinned_training_is_bit_identical_to_an_avx2_only_cpu():
    """在本机固定设置下训练，与“只支持 AVX2 的 CPU 用旧的默认设置（单线程）”逐位相同。

    只支持 AVX2 的 CPU 上，PyTorch 自动选择的内核级别就是 AVX2，MKL 与 oneDNN 也最多用 AVX2；
    这里用 ATEN_CPU_CAPABILITY=avx2 模拟它，其余变量不设。
    """
    pinned, level = fingerprint(clean_env(**PINNED_ENV))
    avx2_only, _ = fingerprint(clean_env(ATEN_CPU_CAPABILITY="avx2", OMP_NUM_THREADS="1",
                                         MKL_NUM_THREADS="1"))
    assert pinned == avx2_only
    if X86:
        assert level == "AVX2"


def test_the_pins_matter_exactly_where_the_cpu_has_more_than_avx2():
    """对照：不固定内核级别时，支持 AVX-512 的 CPU 给出不同的数字（只支持 AVX2 的 CPU 则相同）。"""
    pinned, _ = fingerprint(clean_env(**PINNED_ENV))
    default, default_level = fingerprint(clean_env(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1"))
    assert (default == pinned) == (default_level == "AVX2" or not X86), default_level


def test_seqbook_kernel_sets_the_pins_before_torch_loads():
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel

    spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    assert pathlib.Path(spec.argv[0]).resolve().parent == pathlib.Path(sys.executable).resolve().parent
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k in PINNED_ENV}
    try:
        km, kc = start_new_kernel(kernel_name=KERNEL_NAME)
    finally:
        os.environ.update(saved)
    try:
        outputs = []
        code = ("import json, os, torch; print(json.dumps({'env': {k: os.environ.get(k) for k in %r},"
                " 'level': torch.backends.cpu.get_cpu_capability(),"
                " 'threads': torch.get_num_threads()}))" % (sorted(PINNED_ENV),))
        kc.execute_interactive(code, timeout=120,
                               output_hook=lambda msg: outputs.append(msg["content"].get("text", "")))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    state = json.loads("".join(outputs))
    assert state["env"] == PINNED_ENV
    assert state["threads"] == 1
    if X86:
        assert state["level"] == "AVX2"
