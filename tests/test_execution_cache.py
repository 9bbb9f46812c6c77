"""make book 的执行缓存：键里有库的源代码与数值设置，改了 seqbook 就不会沿用旧的输出。"""
import importlib.util
import pathlib

import jupytext
from jupyter_cache.cache.main import JupyterCacheBase

import seqbook.training.checkpoint
from seqbook.numerics import PINNED_ENV, execution_key

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_extension():
    spec = importlib.util.spec_from_file_location("seqbook_cache", ROOT / "book/_ext/seqbook_cache.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cache_hash(notebook, tmp_path):
    return JupyterCacheBase(str(tmp_path / "cache")).create_hashed_notebook(notebook)[1]


def test_execution_key_names_library_torch_and_numerics():
    key = execution_key()
    assert key["library"] == seqbook.training.checkpoint.library_fingerprint()
    assert set(key["numerics"]) == set(PINNED_ENV)


def test_changing_the_library_changes_the_cache_hash(tmp_path, monkeypatch):
    ext = load_extension()
    notebook = jupytext.read(ROOT / "book/chapter_rnn/rnn.md")
    plain = cache_hash(notebook, tmp_path)
    first = cache_hash(ext.stamp(notebook), tmp_path)
    assert first != plain and cache_hash(ext.stamp(notebook), tmp_path) == first
    monkeypatch.setattr(seqbook.training.checkpoint, "library_fingerprint", lambda: "0" * 40)
    assert cache_hash(ext.stamp(notebook), tmp_path) != first
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    assert cache_hash(ext.stamp(notebook), tmp_path) != first


def test_extension_is_registered():
    assert "seqbook_cache: book/_ext" in (ROOT / "_config.yml").read_text(encoding="utf-8")
