"""设备选择、随机种子、计时器与累加器。"""
import random
import time

import numpy as np
import pytest
import torch

import seqbook


def test_get_device_prefers_gpu_when_present(monkeypatch):
    monkeypatch.delenv("SEQBOOK_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert seqbook.get_device().type == expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert seqbook.get_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert seqbook.get_device().type == "cpu"


def test_get_device_override(monkeypatch):
    monkeypatch.setenv("SEQBOOK_DEVICE", "cpu")
    assert seqbook.get_device() == torch.device("cpu")
    assert seqbook.get_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA"):
        seqbook.get_device("cuda")


def test_get_device_bad_requests_give_chinese_errors(monkeypatch):
    """没有 GPU 时请求 "gpu"/"cuda"、写错的设备名、不存在的 GPU 编号：中文的 ValueError。"""
    monkeypatch.delenv("SEQBOOK_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for request in ("gpu", "GPU", "cuda", "cuda:0", torch.device("cuda")):
        with pytest.raises(ValueError, match="没有可用的 CUDA GPU"):
            seqbook.get_device(request)
    for request in ("tpu", "cuda:x", "cpu:cuda"):
        with pytest.raises(ValueError, match="prefer.*设备"):
            seqbook.get_device(request)
    with pytest.raises(TypeError, match="prefer"):
        seqbook.get_device(0)
    monkeypatch.setenv("SEQBOOK_DEVICE", "gpu0")
    with pytest.raises(ValueError, match="SEQBOOK_DEVICE"):
        seqbook.get_device()
    # 有一块 GPU 时："gpu" 就是 "cuda"；编号超出范围时报错
    monkeypatch.delenv("SEQBOOK_DEVICE")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert seqbook.get_device("gpu") == torch.device("cuda")
    assert seqbook.get_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(ValueError, match="cuda:3.*1 块"):
        seqbook.get_device("cuda:3")


def test_set_seed_makes_runs_repeatable():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3).tolist()

    seqbook.set_seed(42)
    first = draw()
    seqbook.set_seed(42)
    assert draw() == first
    seqbook.set_seed(43)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_set_seed_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="seed"):
        seqbook.set_seed(bad)


def test_timer():
    timer = seqbook.Timer()
    time.sleep(0.01)
    first = timer.stop()
    with timer:
        time.sleep(0.01)
    assert first >= 0.01 and len(timer.times) == 2
    assert timer.sum() == pytest.approx(sum(timer.times))
    assert timer.avg() == pytest.approx(timer.sum() / 2)
    assert timer.cumsum()[-1] == pytest.approx(timer.sum())


def test_accumulator():
    acc = seqbook.utils.Accumulator(2)
    acc.add(1.5, 2)
    acc.add(torch.tensor(0.5), 3)
    assert acc[0] == 2.0 and acc[1] == 5.0 and len(acc) == 2
    acc.reset()
    assert acc.data == [0.0, 0.0]
    with pytest.raises(ValueError, match="需要 2 个数"):
        acc.add(1)
    with pytest.raises(ValueError, match="正整数"):
        seqbook.utils.Accumulator(0)
