"""数据层：由多个文件组成的数据集（chinese-poetry、ocnli）。用 127.0.0.1 上真实的 http.server 测试。"""
import hashlib
import http.server
import pathlib
import stat
import threading

import pytest

import seqbook
from seqbook.data import datasets, download
from seqbook.data.datasets import DataFile, DatasetInfo
from seqbook.data.download import DataError

FILES = {   # 上游路径 → 内容；上游目录名是中文，测试 URL 编码
    "诗/a.json": '[{"title": "静夜思"}]\n'.encode(),
    "诗/b.json": '[{"title": "春晓"}]\n'.encode(),
    "LICENSE": b"MIT\n",
}
LOCAL = {"诗/a.json": "poems/a.json", "诗/b.json": "poems/b.json", "LICENSE": "LICENSE"}


class _Handler(http.server.BaseHTTPRequestHandler):
    hits = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        import urllib.parse
        path = urllib.parse.unquote(self.path.lstrip("/"))
        type(self).hits.append(path)
        body = FILES.get(path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQBOOK_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SEQBOOK_CACHE", str(tmp_path / "cache"))
    _Handler.hits.clear()
    return tmp_path


def folder_info(base, sha1s=None, name="toy"):
    manifest = "".join(f"{(sha1s or {}).get(up, hashlib.sha1(body).hexdigest())}  {LOCAL[up]}\n"
                       for up, body in FILES.items())
    return datasets._folder_dataset(name, base, manifest, {"poems": "诗"}, "测试用的多文件数据集")


def base_url(server):
    return f"http://127.0.0.1:{server.server_address[1]}/"


def all_files(folder):
    folder = pathlib.Path(folder)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_folder_dataset_urls_and_fingerprint():
    info = folder_info("https://example.org/repo/commit/")
    assert [f.path for f in info.files] == ["LICENSE", "poems/a.json", "poems/b.json"]
    assert info.files[1].url == "https://example.org/repo/commit/%E8%AF%97/a.json"
    assert info.filename == "toy" and info.sha1 == datasets.files_sha1(info.files)
    # 清单的 SHA-1 与 sha1sum 的输出格式一致：任何一个文件变了它就变
    other = folder_info("https://example.org/repo/commit/", {"LICENSE": "0" * 40})
    assert other.sha1 != info.sha1


def test_download_files_fetches_into_data_dir(server, tmp_path):
    info = folder_info(base_url(server))
    paths = seqbook.data.download.download_files(info)
    assert list(paths) == ["LICENSE", "poems/a.json", "poems/b.json"]
    assert paths["poems/a.json"] == tmp_path / "data" / "toy" / "poems" / "a.json"
    assert paths["poems/b.json"].read_bytes() == FILES["诗/b.json"]
    assert all_files(tmp_path / "data") == ["toy", "toy/LICENSE", "toy/poems", "toy/poems/a.json",
                                            "toy/poems/b.json"]   # 没有残留的临时文件
    # 第二次：全部命中，不访问网络（地址指向不存在的端口）
    offline = folder_info("http://127.0.0.1:9/")
    assert seqbook.data.download.download_files(offline) == paths


def test_prefix_selects_files_and_only_fetches_those(server, tmp_path):
    info = folder_info(base_url(server))
    paths = seqbook.data.download.download_files(info, prefix="poems/")
    assert list(paths) == ["poems/a.json", "poems/b.json"]
    assert sorted(_Handler.hits) == ["诗/a.json", "诗/b.json"]
    with pytest.raises(ValueError, match="没有以 'nope/' 开头的文件"):
        seqbook.data.download.download_files(info, prefix="nope/")
    with pytest.raises(TypeError, match="prefix"):
        seqbook.data.download.download_files(info, prefix=1)


def test_partial_folder_only_missing_files_downloaded(server, tmp_path):
    folder = tmp_path / "data" / "toy" / "poems"
    folder.mkdir(parents=True)
    (folder / "a.json").write_bytes(FILES["诗/a.json"])
    seqbook.data.download.download_files(folder_info(base_url(server)))
    assert sorted(_Handler.hits) == ["LICENSE", "诗/b.json"]


def test_mismatched_user_file_kept_and_pinned_copy_used(server, tmp_path):
    folder = tmp_path / "data" / "toy" / "poems"
    folder.mkdir(parents=True)
    mine = folder / "a.json"
    mine.write_bytes("读者自己的版本\n".encode())
    with pytest.warns(UserWarning, match="不会被删除或覆盖"):
        paths = seqbook.data.download.download_files(folder_info(base_url(server)))
    assert mine.read_bytes() == "读者自己的版本\n".encode()   # 不删除、不覆盖
    assert paths["poems/a.json"] == tmp_path / "cache" / "pinned" / "toy" / "poems" / "a.json"
    assert paths["poems/a.json"].read_bytes() == FILES["诗/a.json"]
    assert paths["poems/b.json"] == folder / "b.json"   # 其余文件照常在数据目录


def test_bad_checksum_and_404_leave_nothing(server, tmp_path):
    info = folder_info(base_url(server), {"诗/b.json": "0" * 40})
    with pytest.raises(DataError, match="b.json 校验失败"):
        seqbook.data.download.download_files(info, prefix="poems/b")
    assert all_files(tmp_path / "data" / "toy" / "poems") == []
    missing = datasets._folder_dataset("toy", base_url(server), f"{'1' * 40}  extra.json\n", {},
                                   "")
    with pytest.raises(DataError, match="HTTP 404.*toy/extra.json"):
        seqbook.data.download.download_files(missing)


def test_offline_error_names_file_and_sha1(tmp_path):
    info = folder_info("http://127.0.0.1:9/")
    with pytest.raises(DataError, match="toy/LICENSE.*SEQBOOK_DATA"):
        seqbook.data.download.download_files(info, timeout=2)


def test_read_only_copy_is_used_without_writing(tmp_path, monkeypatch):
    root = tmp_path / "ro"
    for up, local in LOCAL.items():
        p = root / "toy" / local
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(FILES[up])
    for p in sorted(root.rglob("*"), reverse=True) + [root]:
        if p.is_dir():
            p.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        monkeypatch.setenv("SEQBOOK_DATA", str(root))
        paths = seqbook.data.download.download_files(folder_info("http://127.0.0.1:9/"))
        assert paths["LICENSE"] == root / "toy" / "LICENSE"
    finally:
        for p in [root] + sorted(root.rglob("*")):
            if p.is_dir():
                p.chmod(stat.S_IRWXU)


def test_single_and_multi_file_entry_points_do_not_mix():
    with pytest.raises(ValueError, match="download_files"):
        seqbook.download("chinese-poetry")
    with pytest.raises(ValueError, match="只有一个文件"):
        seqbook.data.download.download_files("time_machine")
    with pytest.raises(ValueError, match="未知的数据集"):
        seqbook.data.download.download_files("no-such-dataset")


def test_dataset_info_validates_files():
    good = DataFile("a.txt", "http://x/a.txt", "1" * 40)
    with pytest.raises(ValueError, match="文件清单的 SHA-1"):
        DatasetInfo("x", "http://x/", "0" * 40, "x", files=(good,))
    for bad in ("../a.txt", "/etc/passwd", "a//b", "./a"):
        f = DataFile(bad, "http://x/", "1" * 40)
        with pytest.raises(ValueError, match="相对路径"):
            DatasetInfo("x", "http://x/", datasets.files_sha1([f]), "x", files=(f,))
    with pytest.raises(TypeError, match="DataFile"):
        DatasetInfo("x", "http://x/", "0" * 40, "x", files=("a.txt",))


def test_registered_multi_file_datasets():
    poetry = datasets.DATASETS["chinese-poetry"]
    paths = [f.path for f in poetry.files]
    assert sum(p.startswith("quan_tang_shi/poet.tang.") for p in paths) == 58
    assert sum(p.startswith("song_ci/ci.song.") for p in paths) == 23
    tang0 = next(f for f in poetry.files if f.path == "quan_tang_shi/poet.tang.0.json")
    assert tang0.url == ("https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/"
                         "99ebbef7e1345c0985c44b9fd96a3f9e776f117b/%E5%85%A8%E5%94%90%E8%AF%97/"
                         "poet.tang.0.json")
    ocnli = {f.path: f.url for f in datasets.DATASETS["ocnli"].files}
    assert sorted(ocnli) == ["README.md", "dev.json", "train.10k.json", "train.3k.json"]
    assert ocnli["dev.json"].endswith("/b53efdee17257a5c33993cf6fcf8ffff0497ea0e/data/ocnli/dev.json")
