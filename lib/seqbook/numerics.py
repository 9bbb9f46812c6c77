"""数值可复现：让任何 x86-64 CPU 打印相同的数字。

PyTorch 在 CPU 上按本机支持的指令集挑选内核：支持 AVX-512 的 CPU 与只支持 AVX2 的
CPU 求和的顺序不同，训练几千步后，差别会放大到 BLEU 的第一位小数。线程数也一样。
下面这组环境变量把这些选择固定下来；它们在 PyTorch 载入时读取，``import torch``
之后再设就晚了，所以由 ``make`` 导出，并写进 ``make`` 安装时注册的 Jupyter
内核 ``seqbook``。

命令行：``python -m seqbook.numerics install-kernel``
注册内核；``python -m seqbook.numerics``打印当前进程的状态。
"""

import os
import sys

__all__ = ["PINNED_ENV", "KERNEL_NAME", "numerics_status", "install_kernel",
           "training_fingerprint", "execution_key"]

# 与 Makefile 中导出的变量一致（tests/test_numerics.py 检查）
PINNED_ENV = {
    # PyTorch 自己的向量化内核（softmax、逐元素运算、归约）
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",  # MKL 的矩阵乘法
    "ONEDNN_MAX_CPU_ISA": "AVX2",       # oneDNN（卷积等）
    "OMP_NUM_THREADS": "1",             # 线程数：决定并行求和的顺序
    "MKL_NUM_THREADS": "1",
}
KERNEL_NAME = "seqbook"
KERNEL_DISPLAY_NAME = "Python 3 (seqbook)"


def numerics_status():
    """当前进程的数值设置。

    返回 ``{"pinned": 是否与本书一致, "cpu_capability": ..., "threads": ...,
    "differs": {变量: 实际值}}``。
    """
    import torch
    env = os.environ
    differs = {k: env.get(k) for k, v in PINNED_ENV.items() if env.get(k) != v}
    capability = torch.backends.cpu.get_cpu_capability()
    return {"pinned": not differs, "cpu_capability": capability,
            "threads": torch.get_num_threads(), "differs": differs}


def install_kernel(prefix=None):
    """在 ``prefix``（默认当前 Python 环境，即 ``.venv``）中注册内核 ``seqbook``。

    内核进程启动时先把 :data:`PINNED_ENV` 中环境里还没有的变量补上，再启动 IPython
    内核，所以 PyTorch 载入时看到的就是固定设置；``make``
    导出的值（例如 ``THREADS=2``）照样生效。
    """
    import json
    import pathlib

    from ipykernel.kernelspec import install
    prefix = sys.prefix if prefix is None else prefix
    path = pathlib.Path(install(kernel_name=KERNEL_NAME,
                                display_name=KERNEL_DISPLAY_NAME, prefix=prefix))
    spec = json.loads((path / "kernel.json").read_text(encoding="utf-8"))
    launcher = ("import os, runpy, sys; "
                "[os.environ.setdefault(k, v) for k, v "
                f"in {PINNED_ENV!r}.items()]; "
                "sys.argv[0] = 'ipykernel_launcher'; "
                "runpy.run_module('ipykernel_launcher', run_name='__main__', "
                "alter_sys=True)")
    spec["argv"] = [spec["argv"][0], "-c", launcher, "-f", "{connection_file}"]
    text = json.dumps(spec, indent=1, ensure_ascii=False)
    (path / "kernel.json").write_text(text, encoding="utf-8")
    return path


def training_fingerprint(steps=40, seed=0):
    """训练一个小的 GRU + Transformer 模型 ``steps`` 步，返回全部参数与损失的
    SHA-1（前 16 位）。

    它用到书中训练会用到的各种 CPU 内核：矩阵乘法、GRU、层规范化、softmax、交叉熵、
    Adam。两次运行指纹相同，说明它们逐位相同；用来检查两种设置（两台机器）
    是否打印相同的数字。
    """
    import hashlib

    import torch
    from torch import nn

    from .models.transformer import build_transformer
    torch.manual_seed(seed)
    vocab = 50
    transformer = build_transformer(vocab, vocab, num_hiddens=64,
                                    ffn_num_hiddens=128, num_heads=4, num_layers=2,
                                    dropout=0.1, norm_first=True)
    embedding, gru = nn.Embedding(vocab, 32), nn.GRU(32, 64, batch_first=True)
    params = [*transformer.parameters(), *embedding.parameters(), *gru.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    h = hashlib.sha1()
    for _ in range(steps):
        X = torch.randint(3, vocab, (16, 12))  # (batch_size, num_steps)
        valid_lens = torch.randint(4, 13, (16,))  # (batch_size,)
        logits = transformer(X, valid_lens, X)  # (batch_size, num_steps, vocab)
        H, _ = gru(embedding(X))  # (batch_size, num_steps, 64)
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), X.reshape(-1))
        loss = loss + H.square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        h.update(loss.detach().numpy().tobytes())
    for p in params:
        h.update(p.detach().numpy().tobytes())
    return h.hexdigest()[:16]


def execution_key():
    """除笔记本本身以外，决定笔记本输出的一切：库源代码的 SHA-1、PyTorch 版本、
    数值设置。

    ``make book`` 把它写进执行缓存的键（``book/_ext/seqbook_cache.py``）：改了库，
    笔记本就重新执行。
    """
    import torch

    from .training.checkpoint import library_fingerprint
    return {"library": library_fingerprint(), "torch": torch.__version__,
            "numerics": {k: os.environ.get(k) for k in sorted(PINNED_ENV)}}


def _main(argv):
    if argv[:1] == ["install-kernel"]:
        print(f"已注册 Jupyter 内核 {KERNEL_NAME}：{install_kernel()}")
        return 0
    if argv[:1] == ["fingerprint"]:
        import torch
        print(f"{training_fingerprint()} {torch.backends.cpu.get_cpu_capability()}")
        return 0
    if argv:
        print("用法：python -m seqbook.numerics [install-kernel | "
              "fingerprint]", file=sys.stderr)
        return 2
    status = numerics_status()
    print(f"CPU 内核 {status['cpu_capability']}，线程 {status['threads']}，"
          + ("与本书的固定设置一"
             "致" if status["pinned"] else "与本书不同的变"
                                          f"量：{status['differs']}"))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
