"""数据集的登记、下载、校验与解压。

本书用到的每个数据集都登记在 :data:`DATASETS` 里：名字 → 下载地址、SHA-1、文件名。
:func:`download` 先在数据目录里找文件并核对 SHA-1，找不到才下载；下载时有超时、
检查 HTTP 状态和文件长度，写入临时文件、校验通过后再原子地改名，所以数据目录里
要么没有这个文件，要么是完整正确的文件。

数据目录：环境变量 ``SEQBOOK_DATA``（例如离线时指向一份本地副本，它可以是只读的）；
未设置时用用户缓存目录 ``~/.cache/seqbook/data``（``SEQBOOK_CACHE`` 可改缓存根目录）。

数据目录里的文件 SHA-1 对不上时（例如读者自己放进去的新版本），:func:`download`
**不删除、不覆盖**它，而是发出警告说明原因，把登记的版本下载到缓存目录
``<缓存根目录>/pinned`` 并返回那里的路径。

关于 ``cmn-eng``：manythings.org 会不定期重新发布 ``cmn-eng.zip``，新版本的 SHA-1
与本书登记的不同。本书的数字是在 2020-08-23 版（登记的 SHA-1）上测得的，所以我们
坚持这个校验和：刚下载的文件对不上时报错并删除这个下载的临时文件，提示读者使用本书的那一份。
"""
import dataclasses
import hashlib
import http.client
import os
import pathlib
import shutil
import socket
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib

__all__ = ["DatasetInfo", "DATASETS", "DataError", "data_dir", "cache_dir",
           "sha1sum", "download", "extract", "download_extract", "read_text"]

D2L_DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """一个数据集文件：名字、下载地址、SHA-1 和保存用的文件名。"""
    name: str
    url: str
    sha1: str
    filename: str
    description: str = ""


DATASETS = {
    "time_machine": DatasetInfo(
        "time_machine", D2L_DATA_URL + "timemachine.txt",
        "090b5e7e70c295757f55df93cb0a180b9691891a", "timemachine.txt",
        "H. G. Wells《时间机器》（The Time Machine）全文，公有领域"),
    "fra-eng": DatasetInfo(
        "fra-eng", D2L_DATA_URL + "fra-eng.zip",
        "94646ad1522d915e7b0f9296181140edcf86a4f5", "fra-eng.zip",
        "Tatoeba 英语—法语句对（经 manythings.org/anki），CC-BY 2.0 FR"),
    "cmn-eng": DatasetInfo(
        "cmn-eng", "https://www.manythings.org/anki/cmn-eng.zip",
        "3384f2c230de5ededa0a6c570a514af30e0b9726", "cmn-eng.zip",
        "Tatoeba 英语—汉语句对（经 manythings.org/anki，2020-08-23 版），CC-BY 2.0 FR"),
}

_CHUNK = 1 << 16


class DataError(RuntimeError):
    """数据集无法取得或校验失败。错误信息说明原因和解决办法。"""


def cache_dir():
    """本书的缓存根目录：``SEQBOOK_CACHE``，默认 ``~/.cache/seqbook``。"""
    root = os.environ.get("SEQBOOK_CACHE")
    if root:
        return pathlib.Path(root).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(xdg) / "seqbook"


def data_dir():
    """数据目录：``SEQBOOK_DATA``，默认 ``<缓存根目录>/data``。"""
    root = os.environ.get("SEQBOOK_DATA")
    return pathlib.Path(root).expanduser() if root else cache_dir() / "data"


def sha1sum(path):
    """文件的 SHA-1（十六进制字符串）。"""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _lookup(name):
    if isinstance(name, DatasetInfo):
        return name
    try:
        return DATASETS[name]
    except KeyError:
        known = "、".join(sorted(DATASETS))
        raise ValueError(f"未知的数据集 {name!r}；已登记的数据集有：{known}") from None


def _offline_hint(info, folder):
    return (f"请检查网络，或把 {info.filename}（SHA-1 {info.sha1}）放进数据目录 {folder}，"
            f"或用环境变量 SEQBOOK_DATA 指向已有的数据副本。")


def download(name, folder=None, timeout=30.0):
    """取得数据集文件并返回它的路径（``pathlib.Path``）。

    参数：
        name: :data:`DATASETS` 里的名字，或一个 :class:`DatasetInfo`。
        folder: 数据目录，默认 :func:`data_dir`。
        timeout: 网络操作的超时秒数（连接和每次读取）。
    数据目录里已有校验正确的文件时直接返回，不访问网络。数据目录里的文件校验不对时，
    这个文件保持原样（不删除、不覆盖），发出 ``UserWarning`` 说明原因，改用缓存目录
    ``<缓存根目录>/pinned`` 里登记的版本（没有就下载到那里）并返回它的路径。
    """
    info = _lookup(name)
    if timeout is None or timeout <= 0:
        raise ValueError(f"timeout 应为正数（秒），实际得到 {timeout!r}")
    folder = pathlib.Path(folder) if folder is not None else data_dir()
    path = folder / info.filename
    if path.is_file():
        actual = sha1sum(path)
        if actual == info.sha1:
            return path
        return _download_pinned(info, path, actual, timeout)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"无法创建数据目录 {folder}：{e}。" + _offline_hint(info, folder)) from None
    _fetch(info, path, timeout)
    return path


def _download_pinned(info, user_path, actual_sha1, timeout):
    """数据目录里的 ``user_path`` 校验不对：不动它，改用缓存目录里登记的版本。"""
    pinned = cache_dir() / "pinned" / info.filename
    notice = (f"数据目录里的 {user_path} 与本书登记的版本不同（SHA-1 为 {actual_sha1}，"
              f"应为 {info.sha1}）。这个文件保持原样，不会被删除或覆盖；本书改用缓存目录里"
              f"登记的版本 {pinned}（没有时下载到那里）。")
    if info.name == "cmn-eng":
        notice += ("manythings.org 会重新发布 cmn-eng.zip，本书的数字是在 2020-08-23 版"
                   "（登记的 SHA-1）上测得的。")
    notice += f"要消除这条提示，请把 {user_path} 换成登记的版本，或移走它。"
    warnings.warn(notice, UserWarning, stacklevel=3)
    if pinned != user_path and pinned.is_file() and sha1sum(pinned) == info.sha1:
        return pinned
    try:
        pinned.parent.mkdir(parents=True, exist_ok=True)
        _fetch(info, pinned, timeout)   # 写临时文件、校验后原子改名；只写缓存目录
    except OSError as e:
        raise DataError(f"{notice}但无法创建缓存目录 {pinned.parent}：{e}。") from None
    except DataError as e:
        raise DataError(f"{notice}但{e}") from None
    return pinned


def _fetch(info, path, timeout):
    """把 ``info.url`` 下载到 ``path``：先写临时文件，校验通过后原子改名。"""
    request = urllib.request.Request(info.url, headers={"User-Agent": "seqbook"})
    try:
        tmp = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{info.filename}.",
                                          suffix=".part", delete=False)
    except OSError as e:
        raise DataError(f"数据目录 {path.parent} 不可写（{e}），无法下载 {info.filename}。"
                        + _offline_hint(info, path.parent)) from None
    try:
        with tmp:
            h, received = hashlib.sha1(), 0
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if response.status != 200:
                    raise DataError(f"下载 {info.url} 失败：HTTP {response.status}")
                expected = response.headers.get("Content-Length")
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    tmp.write(chunk)
                    h.update(chunk)
                    received += len(chunk)
            if expected is not None and received != int(expected):
                raise DataError(f"下载 {info.url} 不完整：收到 {received} 字节，"
                                f"应为 {expected} 字节。请重试。")
        if h.hexdigest() != info.sha1:
            msg = (f"下载的 {info.filename} 校验失败：SHA-1 为 {h.hexdigest()}，应为 {info.sha1}。"
                   f"文件已删除。")
            if info.name == "cmn-eng":
                msg += ("manythings.org 会重新发布这个文件，新版本与本书所用的 2020-08-23 版不同；"
                        "请使用本书的那一份（见 README 的“离线数据”）。")
            raise DataError(msg)
        os.replace(tmp.name, path)
    except urllib.error.HTTPError as e:
        raise DataError(f"下载 {info.url} 失败：HTTP {e.code} {e.reason}。"
                        + _offline_hint(info, path.parent)) from None
    except urllib.error.URLError as e:
        reason = "连接超时" if isinstance(e.reason, (socket.timeout, TimeoutError)) else e.reason
        raise DataError(f"无法下载 {info.url}（{reason}）。" + _offline_hint(info, path.parent)) from None
    except (socket.timeout, TimeoutError):
        raise DataError(f"下载 {info.url} 超时（{timeout} 秒内没有收到数据）。"
                        + _offline_hint(info, path.parent)) from None
    except http.client.IncompleteRead:
        raise DataError(f"下载 {info.url} 不完整：传输中途连接被关闭。请重试。") from None
    except (http.client.HTTPException, OSError) as e:
        raise DataError(f"下载 {info.url} 时连接中断：{e}。" + _offline_hint(info, path.parent)) from None
    finally:
        if os.path.exists(tmp.name):
            os.unlink(tmp.name)


def extract(archive, target):
    """把 zip 压缩包安全地解压到 ``target`` 目录，返回 ``target``。

    任何会落到 ``target`` 之外的成员（绝对路径、``..``）都会让整个解压失败。
    先解压到同级的临时目录，成功后再改名，所以 ``target`` 要么完整，要么不存在。
    压缩包损坏（目录结构或某个成员的数据出错、CRC 不符）时抛出 :class:`DataError`。
    """
    archive, target = pathlib.Path(archive), pathlib.Path(target)
    if not zipfile.is_zipfile(archive):
        raise DataError(f"{archive} 不是有效的 zip 文件")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                root = tmp.resolve()
                for member in zf.infolist():
                    dest = (tmp / member.filename).resolve()
                    if dest != root and root not in dest.parents:
                        raise DataError(f"压缩包 {archive.name} 中的成员 {member.filename!r} "
                                        f"会写到目标目录之外，拒绝解压")
                zf.extractall(tmp)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:
            # CRC 不符、压缩数据损坏、文件被截断、不支持的压缩方法
            raise DataError(f"压缩包 {archive} 已损坏，无法解压（{type(e).__name__}：{e}）。"
                            "请换成校验正确的副本（SHA-1 见 seqbook.DATASETS）后重试。") from None
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return target


def download_extract(name, folder=None, timeout=30.0):
    """下载（或在数据目录中找到）压缩包并解压，返回解压后的目录。

    解压结果放在缓存目录 ``<缓存根目录>/extracted/<名字>-<SHA-1 前 8 位>``，所以数据目录
    可以是只读的；同一份压缩包只解压一次。
    """
    info = _lookup(name)
    archive = download(info, folder=folder, timeout=timeout)
    target = cache_dir() / "extracted" / f"{info.name}-{info.sha1[:8]}"
    if not target.is_dir():
        extract(archive, target)
    return target


def read_text(name, folder=None, timeout=30.0):
    """以 UTF-8 读入一个文本数据集（例如 ``time_machine``）的全文。"""
    return download(name, folder=folder, timeout=timeout).read_text(encoding="utf-8")
