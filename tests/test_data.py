"""数据层：用 127.0.0.1 上真实的 http.server 测试下载、校验、超时和缓存。"""
import hashlib
import http.server
import os
import pathlib
import stat
import threading
import time
import zipfile

import pytest

import seqbook
from seqbook.data import datasets, download
from seqbook.data.datasets import DatasetInfo
from seqbook.data.download import DataError

PAYLOAD = "第一行：时间机器\nThe Time Traveller (for so it will be convenient to speak of him)\n".encode() * 50
PAYLOAD_SHA1 = hashlib.sha1(PAYLOAD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    """固定几个路径的测试服务器：正常、截断、慢速、404。"""

    hits = 0

    def log_message(self, *args):  # 保持测试输出干净
        pass

    def do_GET(self):
        type(self).hits += 1
        if self.path == "/ok.txt":
            self._send(PAYLOAD)
        elif self.path == "/truncated.txt":  # 声明的长度比实际发送的多
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])
            self.wfile.flush()
            self.close_connection = True
        elif self.path == "/slow.txt":
            time.sleep(2.0)
            self._send(PAYLOAD)
        elif self.path == "/archive.zip":
            self._send(self.server.archive_bytes)
        else:
            self.send_error(404, "Not Found")

    def _send(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    zpath = tmp_path_factory.mktemp("zip") / "archive.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("pairs/pairs.txt", "go .\t走。\n")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.archive_bytes = zpath.read_bytes()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(server, path):
    return f"http://127.0.0.1:{server.server_address[1]}/{path}"


def info(server, path, sha1=PAYLOAD_SHA1, filename="sample.txt"):
    return DatasetInfo("sample", url(server, path), sha1, filename)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """每个测试有自己的数据目录和缓存目录。"""
    monkeypatch.setenv("SEQBOOK_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SEQBOOK_CACHE", str(tmp_path / "cache"))
    return tmp_path


def leftover_files(folder):
    return sorted(p.name for p in pathlib.Path(folder).iterdir()) if pathlib.Path(folder).exists() else []


def test_download_success(server, tmp_path):
    path = seqbook.download(info(server, "ok.txt"))
    assert path == tmp_path / "data" / "sample.txt"
    assert path.read_bytes() == PAYLOAD
    assert leftover_files(tmp_path / "data") == ["sample.txt"]  # 没有残留的临时文件


def test_cache_hit_needs_no_network(server, tmp_path):
    seqbook.download(info(server, "ok.txt"))
    before = _Handler.hits
    # 地址指向一个不存在的端口：只要命中缓存就不会访问网络
    offline = DatasetInfo("sample", "http://127.0.0.1:9/ok.txt", PAYLOAD_SHA1, "sample.txt")
    assert seqbook.download(offline).read_bytes() == PAYLOAD
    assert _Handler.hits == before


def test_wrong_checksum_is_not_kept(server, tmp_path):
    with pytest.raises(DataError, match="校验失败"):
        seqbook.download(info(server, "ok.txt", sha1="0" * 40))
    assert leftover_files(tmp_path / "data") == []


def test_http_404(server, tmp_path):
    with pytest.raises(DataError, match="HTTP 404"):
        seqbook.download(info(server, "missing.txt"))
    assert leftover_files(tmp_path / "data") == []


def test_truncated_body(server, tmp_path):
    with pytest.raises(DataError, match="不完整"):
        seqbook.download(info(server, "truncated.txt"))
    assert leftover_files(tmp_path / "data") == []


def test_slow_server_times_out(server, tmp_path):
    start = time.perf_counter()
    with pytest.raises(DataError, match="超时"):
        seqbook.download(info(server, "slow.txt"), timeout=0.5)
    assert time.perf_counter() - start < 1.8  # 没有等服务器慢慢回应
    assert leftover_files(tmp_path / "data") == []


def test_offline_error_is_clear(tmp_path):
    offline = DatasetInfo("sample", "http://127.0.0.1:9/ok.txt", PAYLOAD_SHA1, "sample.txt")
    with pytest.raises(DataError, match="SEQBOOK_DATA"):
        seqbook.download(offline, timeout=2)


def test_corrupt_cache_file_is_replaced(server, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "sample.txt").write_bytes(b"corrupt")
    with pytest.warns(UserWarning, match="SHA-1"):
        path = seqbook.download(info(server, "ok.txt"))
    assert path.read_bytes() == PAYLOAD
    assert (folder / "sample.txt").read_bytes() == b"corrupt"  # 用户的文件不删除、不覆盖


def test_mismatched_user_file_is_kept_and_pinned_copy_goes_to_cache(server, tmp_path):
    """SEQBOOK_DATA 里 SHA-1 不符的文件（例如用户自己的新版本）原样保留；登记的版本下载到缓存目录。"""
    folder = tmp_path / "data"
    folder.mkdir()
    mine = folder / "sample.txt"
    mine.write_bytes("用户自己的版本\n".encode())
    with pytest.warns(UserWarning, match="不会被删除或覆盖") as record:
        path = seqbook.download(info(server, "ok.txt"))
    assert str(mine) in str(record[0].message) and PAYLOAD_SHA1 in str(record[0].message)
    assert mine.read_bytes() == "用户自己的版本\n".encode()
    assert path != mine and path.read_bytes() == PAYLOAD
    assert download.cache_dir() in path.parents
    assert leftover_files(folder) == ["sample.txt"]
    # 再次调用：缓存里的副本校验正确，不访问网络，仍然提示、仍然不动用户的文件
    before = _Handler.hits
    offline = DatasetInfo("sample", "http://127.0.0.1:9/ok.txt", PAYLOAD_SHA1, "sample.txt")
    with pytest.warns(UserWarning, match="SHA-1"):
        assert seqbook.download(offline) == path
    assert _Handler.hits == before and mine.read_bytes() == "用户自己的版本\n".encode()


def test_mismatched_user_file_offline_gives_clear_error(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "sample.txt").write_bytes(b"mine")
    offline = DatasetInfo("sample", "http://127.0.0.1:9/ok.txt", PAYLOAD_SHA1, "sample.txt")
    with pytest.warns(UserWarning), pytest.raises(DataError, match="SHA-1.*不会被删除或覆盖.*无法下载"):
        seqbook.download(offline, timeout=2)
    assert (folder / "sample.txt").read_bytes() == b"mine"


def test_corrupt_file_in_readonly_dir_is_left_alone(server, tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "sample.txt").write_bytes(b"corrupt")

    def refuse(self, *args, **kwargs):
        raise PermissionError("只读文件系统")

    monkeypatch.setattr(pathlib.Path, "unlink", refuse)
    with pytest.warns(UserWarning, match="SHA-1"):
        path = seqbook.download(info(server, "ok.txt"))
    assert path.read_bytes() == PAYLOAD and (folder / "sample.txt").read_bytes() == b"corrupt"


def test_unknown_dataset_and_bad_timeout():
    with pytest.raises(ValueError, match="未知的数据集"):
        seqbook.download("no-such-dataset")
    with pytest.raises(ValueError, match="timeout"):
        seqbook.download("time_machine", timeout=0)


def test_download_extract(server, tmp_path):
    archive = DatasetInfo("pairs", url(server, "archive.zip"),
                          hashlib.sha1(server.archive_bytes).hexdigest(), "pairs.zip")
    folder = seqbook.download_extract(archive)
    assert (folder / "pairs" / "pairs.txt").read_text(encoding="utf-8") == "go .\t走。\n"
    assert folder.parent == tmp_path / "cache" / "extracted"
    # 第二次直接用已解压的目录
    assert seqbook.download_extract(archive) == folder


def test_extract_rejects_path_escape(tmp_path):
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../escaped.txt", "evil")
    with pytest.raises(DataError, match="目标目录之外"):
        seqbook.data.download.extract(bad, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "out").exists()  # 失败时不留下半个目录
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.zip"]  # 临时目录也已清理


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_extract_corrupt_member_is_data_error_and_leaves_nothing(tmp_path, compression):
    """压缩包里一个成员的数据损坏（CRC 不符或 zlib 出错）：DataError，不留下半个目录。"""
    bad = tmp_path / "corrupt.zip"
    body = "".join(f"go {i} .\t走{i * 7919 % 10007}。\n" for i in range(500)).encode()
    with zipfile.ZipFile(bad, "w", compression=compression) as zf:
        zf.writestr("pairs/first.txt", "fine\n")
        zf.writestr("pairs/pairs.txt", body)
    raw = bytearray(bad.read_bytes())
    with zipfile.ZipFile(bad) as zf:
        member = zf.getinfo("pairs/pairs.txt")
    start = member.header_offset + 30 + len(member.filename.encode()) + len(member.extra)
    for i in range(start + 10, start + 40):   # 改坏这个成员的数据，目录结构保持完好
        raw[i] ^= 0xFF
    bad.write_bytes(bytes(raw))
    assert zipfile.is_zipfile(bad)
    with pytest.raises(DataError, match="损坏"):
        seqbook.data.download.extract(bad, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.zip"]  # 没有 out，也没有临时目录


def test_extract_rejects_non_zip(tmp_path):
    bad = tmp_path / "not.zip"
    bad.write_text("hello")
    with pytest.raises(DataError, match="不是有效的 zip"):
        seqbook.data.download.extract(bad, tmp_path / "out")


def test_registry_matches_shared_data():
    """登记的 SHA-1 与 ../shared/data 中的数据副本一致（CI 中 SEQBOOK_DATA 指向那里）。"""
    shared = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
    if not shared.is_dir():
        pytest.fail(f"找不到数据副本 {shared}")
    for name, entry in datasets.DATASETS.items():
        if entry.files:   # 多文件数据集：逐个文件核对，清单的 SHA-1 即登记的 sha1
            for f in entry.files:
                assert download.sha1sum(shared / entry.filename / f.path) == f.sha1, (name, f.path)
            assert datasets.files_sha1(entry.files) == entry.sha1, name
        else:
            assert download.sha1sum(shared / entry.filename) == entry.sha1, name


def test_read_only_data_dir_is_used_without_writing(tmp_path, monkeypatch):
    """SEQBOOK_DATA 可以指向只读的数据副本：命中时不写任何东西。"""
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "sample.txt").write_bytes(PAYLOAD)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        monkeypatch.setenv("SEQBOOK_DATA", str(folder))
        offline = DatasetInfo("sample", "http://127.0.0.1:9/x", PAYLOAD_SHA1, "sample.txt")
        assert seqbook.download(offline) == folder / "sample.txt"
    finally:
        folder.chmod(stat.S_IRWXU)
