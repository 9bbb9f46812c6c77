"""训练好的模型的缓存：同样的配置与数据只训练一次。

有几节要用同一个训练好的模型（例如第 2 章的“序列到序列学习”与“束搜索”两节）。
:func:`load_or_train` 用“配置 + 数据指纹 + 模型结构 + 库源代码 + PyTorch 版本 +
设备类型”的 SHA-1 作为键，在缓存目录 ``<seqbook.cache_dir()>/checkpoints`` 中查找；
找到就载入权重与训练记录
（``torch.load(..., weights_only=True)``，不执行任意代码），找不到就训练并原子地写入
（先写临时文件再改名）。两条路径打印的训练记录完全相同。
缓存里的检查点损坏或不完整（读不出来）时，:func:`load_or_train` 发出警告、重新训练，
并原子地替换这个文件。
设环境变量 ``SEQBOOK_NO_CACHE=1`` 可以强制重新训练（不读也不写缓存）。
"""

import contextlib
import hashlib
import json
import os
import pathlib
import tempfile
import warnings

import torch

from ..data.download import cache_dir

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


class CheckpointError(ValueError):
    """缓存的检查点损坏、读不出来，或与当前模型或配置不匹配。"""


class _CorruptCheckpoint(CheckpointError):
    """检查点文件损坏或不完整（不是合法的 torch.save 文件）。"""


def read_checkpoint(path, device):
    """安全地读入检查点文件（``weights_only=True``，不执行任意代码）。

    文件损坏、被截断或含有不允许的对象时抛出 :class:`CheckpointError`（中文说明），
    而不是 PyTorch 的原始错误。
    """
    try:
        with warnings.catch_warnings():  # 损坏的文件会让 PyTorch 先发出 pickle 警告
            warnings.simplefilter("ignore")
            return torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # UnpicklingError、RuntimeError、EOFError 等
        # 不附上 PyTorch 的原文：它建议关掉安全载入，而对来历不明的文件这样做不安全
        raise _CorruptCheckpoint(f"检查点 {path} 已损坏或不完整，无法安全地读入"
                                 f"（{type(e).__name__}）。不要强行载入它：删除这个"
                                 f"文件后重新运行即可重新训练。") from None


def library_fingerprint():
    """seqbook 全部源文件（含子目录）的 SHA-1：库的代码（模型、训练循环）一改，
    旧检查点就不再命中。"""
    h = hashlib.sha1()
    root = pathlib.Path(__file__).parents[1]  # lib/seqbook，不只是 training/
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode("utf-8"))
        h.update(path.read_bytes())
    return h.hexdigest()


def _key_text(name, config, model, device):
    key = {"name": name, "config": config, "model": str(model),
           "library": library_fingerprint(),
           "parameters": {k: list(v.shape) for k, v in model.state_dict().items()},
           "torch": ".".join(torch.__version__.split(".")[:2]),
           "device": torch.device(device).type}
    return json.dumps(key, sort_keys=True, ensure_ascii=False, default=str)


def checkpoint_path(name, config, model, device):
    """检查点文件的路径：
    ``<缓存根目录>/checkpoints/<name>-<键的 SHA-1 前 16 位>.pt``。"""
    key = _key_text(name, config, model, device)
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()
    return cache_dir() / "checkpoints" / f"{name}-{digest[:16]}.pt"


def load_or_train(name, config, model, train_fn, device):
    """载入缓存的模型，或者训练它并写入缓存。

    参数：
        name: 检查点的名字（只含字母、数字、``-``、``_``）。
        config: 决定训练结果的全部设置（可 JSON 序列化的字典，应含数据指纹、
            超参数、随机种子）。
        model: 要训练的模型（已在 ``device`` 上）；载入时权重原地写入它。
        train_fn: 无参数的函数，训练 ``model`` 并返回可 JSON 序列化的训练记录
            （字典）。
        device: 训练用的设备。
    返回：``(record, loaded)``：训练记录，以及它是否来自缓存。
    """
    valid = isinstance(name, str) and name != ""
    if not valid or not all(c.isalnum() or c in "-_" for c in name):
        raise ValueError(f"name 只能含字母、数字、'-'、'_'，实际得到 {name!r}")
    if not isinstance(config, dict):
        raise TypeError(f"config 应为字典，实际得到 {type(config).__name__}")
    key = _key_text(name, config, model, device)
    path = checkpoint_path(name, config, model, device)
    if os.environ.get("SEQBOOK_NO_CACHE", "") not in ("", "0"):
        return json.loads(json.dumps(train_fn(), ensure_ascii=False)), False
    # 并行执行的笔记本：同一个模型只训练一次，另一个进程等它写完再载入
    with _file_lock(path):
        return _load_or_train_locked(key, path, model, train_fn, device)


@contextlib.contextmanager
def _file_lock(path):
    """进程间互斥：持有 ``<path>.lock`` 上的排他锁（没有 ``fcntl`` 时不加锁）。"""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as f:
        if fcntl is not None:
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(f, fcntl.LOCK_UN)


def _load_or_train_locked(key, path, model, train_fn, device):
    saved = None
    if path.is_file():
        try:
            saved = read_checkpoint(path, device)
        except _CorruptCheckpoint:
            warnings.warn(f"缓存的检查点 {path} 已损坏或不完整，无法读入："
                          f"重新训练，完成后原子地替换这个文件。", UserWarning,
                          stacklevel=2)
    if saved is not None:
        if not isinstance(saved, dict) or saved.get("key") != key:
            raise CheckpointError(f"检查点 {path} 与当前的模型或配置不匹配；"
                                  f"请删除这个文件后重新运行")
        try:
            model.load_state_dict(saved["state_dict"])
        except RuntimeError as e:
            raise CheckpointError(f"检查点 {path} 的权重与模型不匹配（{e}）；"
                                  f"请删除这个文件后重新运行") from None
        model.eval()
        return json.loads(saved["record"]), True
    record = train_fn()
    record_text = json.dumps(record, ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                               suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"key": key, "state_dict": state, "record": record_text}, f)
        os.replace(tmp, path)   # 原子地改名：文件要么不存在，要么完整
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return json.loads(record_text), False
