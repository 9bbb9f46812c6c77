"""训练结果的缓存：命中时载入相同的权重与记录，不匹配时给出明确的错误。"""
import pytest
import torch

import seqbook
from seqbook.training.configs import Seq2SeqConfig
from seqbook.training.trainer import TrainResult


def _model():
    torch.manual_seed(0)
    return torch.nn.Linear(3, 2)


def test_load_or_train_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQBOOK_CACHE", str(tmp_path))
    monkeypatch.delenv("SEQBOOK_NO_CACHE", raising=False)
    calls = []

    def train(model):
        def fn():
            calls.append(1)
            with torch.no_grad():
                model.weight.add_(1.0)
            return {"losses": [1.5, 0.5], "device": "cpu"}
        return fn

    trained = _model()
    record, loaded = seqbook.training.checkpoint.load_or_train("toy", {"lr": 0.1}, trained, train(trained), "cpu")
    assert not loaded and record == {"losses": [1.5, 0.5], "device": "cpu"}
    path = seqbook.training.checkpoint.checkpoint_path("toy", {"lr": 0.1}, trained, "cpu")
    assert path.is_file() and not list(path.parent.glob("*.part"))
    fresh = _model()
    record2, loaded = seqbook.training.checkpoint.load_or_train("toy", {"lr": 0.1}, fresh, train(fresh), "cpu")
    assert loaded and record2 == record and len(calls) == 1
    assert torch.equal(fresh.weight, trained.weight)
    # 配置不同 → 不同的文件，重新训练
    other = _model()
    seqbook.training.checkpoint.load_or_train("toy", {"lr": 0.2}, other, train(other), "cpu")
    assert len(calls) == 2
    # 被替换成别的内容的检查点 → 明确的错误
    torch.save({"key": "别的", "state_dict": {}, "record": "{}"}, path)
    with pytest.raises(seqbook.training.checkpoint.CheckpointError, match="不匹配"):
        seqbook.training.checkpoint.load_or_train("toy", {"lr": 0.1}, _model(), train(_model()), "cpu")
    # SEQBOOK_NO_CACHE=1：总是训练，不读缓存
    monkeypatch.setenv("SEQBOOK_NO_CACHE", "1")
    seqbook.training.checkpoint.load_or_train("toy", {"lr": 0.1}, _model(), train(_model()), "cpu")
    assert len(calls) == 3


def test_bad_arguments(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQBOOK_CACHE", str(tmp_path))
    with pytest.raises(ValueError, match="name"):
        seqbook.training.checkpoint.load_or_train("a/b", {}, _model(), dict, "cpu")
    with pytest.raises(TypeError, match="config"):
        seqbook.training.checkpoint.load_or_train("a", [1], _model(), dict, "cpu")


def _train_fn(model, calls):
    def fn():
        calls.append(1)
        with torch.no_grad():
            model.weight.add_(1.0)
        return {"losses": [0.5]}
    return fn


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_corrupt_checkpoint_is_retrained_and_replaced(tmp_path, monkeypatch, damage):
    """损坏、截断的检查点：不给出 PyTorch 的原始错误，而是警告、重新训练并原子地替换它。"""
    monkeypatch.setenv("SEQBOOK_CACHE", str(tmp_path))
    monkeypatch.delenv("SEQBOOK_NO_CACHE", raising=False)
    calls = []
    model = _model()
    seqbook.training.checkpoint.load_or_train("toy", {"lr": 0.1}, model, _train_fn(model, calls), "cpu")
    path = seqbook.training.checkpoint.checkpoint_path("toy", {"lr": 0.1}, model, "cpu")
    good = path.read_bytes()
    bad = {"truncated": good[: len(good) // 2], "garbage": b"\x80\x04not a checkpoint" * 10,
           "empty": b""}[damage]
    path.write_bytes(bad)
    # load_or_train：警告、重新训练、替换
    fresh = _model()
    with pytest.warns(UserWarning, match="重新训练") as record:
        result, loaded = seqbook.training.checkpoint.load_or_train("toy", {"lr": 0.1}, fresh, _train_fn(fresh, calls), "cpu")
    assert all("weights_only" not in str(w.message) for w in record)
    assert not loaded and result == {"losses": [0.5]} and len(calls) == 2
    assert path.read_bytes() != bad and not list(path.parent.glob("*.part"))
    again = _model()
    result, loaded = seqbook.training.checkpoint.load_or_train("toy", {"lr": 0.1}, again, _train_fn(again, calls), "cpu")
    assert loaded and len(calls) == 2 and torch.equal(again.weight, fresh.weight)
    # 直接读取损坏的文件：CheckpointError，中文，不建议不安全的 weights_only=False
    path.write_bytes(bad)
    with pytest.raises(seqbook.training.checkpoint.CheckpointError, match="损坏") as info:
        seqbook.training.checkpoint.read_checkpoint(path, "cpu")
    assert "weights_only" not in str(info.value) and info.value.__cause__ is None


def _train_in_child(cache, marker, queue):
    import os
    import time

    import torch

    import seqbook
    os.environ["SEQBOOK_CACHE"] = str(cache)
    model = torch.nn.Linear(2, 2)

    def train():
        with open(marker, "a") as f:
            f.write("trained\n")
        time.sleep(1.0)  # 训练期间另一个进程应当等待，而不是读半个文件或再训练一次
        return {"loss": 1.0}

    record, loaded = seqbook.training.checkpoint.load_or_train("locked", {"seed": 0}, model, train, "cpu")
    queue.put((record, loaded))


def test_parallel_processes_train_a_model_once(tmp_path):
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    marker = tmp_path / "marker.txt"
    procs = [ctx.Process(target=_train_in_child, args=(tmp_path / "cache", marker, queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert marker.read_text().count("trained") == 1
    assert sorted(loaded for _, loaded in results) == [False, True]
    assert all(record == {"loss": 1.0} for record, _ in results)


def test_train_or_load_config_roundtrip(tmp_path, monkeypatch):
    """配置数据类 → build → 训练并缓存；第二次载入同样的权重与 TrainResult。"""
    monkeypatch.setenv("SEQBOOK_CACHE", str(tmp_path))
    monkeypatch.delenv("SEQBOOK_NO_CACHE", raising=False)
    data = seqbook.load_translation("fra-eng", num_steps=10, max_tokens=None, num_test=0,
                                    num_examples=100)
    config = Seq2SeqConfig(embed_size=8, num_hiddens=8, num_epochs=1, batch_size=32)
    model, result, loaded = seqbook.train_or_load(config, data, "cpu")
    assert not loaded and isinstance(result, TrainResult) and len(result.losses) == 1
    again, result2, loaded = seqbook.train_or_load(config, data, "cpu")
    assert loaded and result2 == result and not again.training
    for p1, p2 in zip(model.parameters(), again.parameters()):
        assert torch.equal(p1, p2)
    assert isinstance(config.build(data.src_vocab, data.tgt_vocab), seqbook.EncoderDecoder)


def test_train_or_load_without_seed_keys_on_the_rng_state(tmp_path, monkeypatch):
    """seed=None：不重设种子；同样的随机数状态命中缓存，不同的状态重新训练。"""
    monkeypatch.setenv("SEQBOOK_CACHE", str(tmp_path))
    monkeypatch.delenv("SEQBOOK_NO_CACHE", raising=False)
    data = seqbook.load_translation("fra-eng", num_steps=10, max_tokens=None, num_test=0,
                                    num_examples=100)
    config = Seq2SeqConfig(embed_size=8, num_hiddens=8, num_epochs=1, batch_size=32,
                           seed=None)
    torch.manual_seed(5)
    model, result, loaded = seqbook.train_or_load(config, data, "cpu")
    torch.manual_seed(5)
    again, result2, loaded2 = seqbook.train_or_load(config, data, "cpu")
    assert not loaded and loaded2 and result2 == result
    torch.manual_seed(6)
    _, _, loaded3 = seqbook.train_or_load(config, data, "cpu")
    assert not loaded3


def test_library_fingerprint_covers_every_subpackage():
    """库的任何源文件（models/、data/ 等子包，而不只是 training/）一改，检查点与
    执行缓存的键就变。"""
    import hashlib
    import pathlib

    import seqbook
    from seqbook.training.checkpoint import library_fingerprint
    root = pathlib.Path(seqbook.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert root / "models" / "bert.py" in files and root / "data" / "text.py" in files
    h = hashlib.sha1()
    for path in files:
        h.update(path.relative_to(root).as_posix().encode("utf-8"))
        h.update(path.read_bytes())
    assert library_fingerprint() == h.hexdigest()
