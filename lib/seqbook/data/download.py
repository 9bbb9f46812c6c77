"""数据集的登记、下载、校验与解压。

本书用到的每个数据集都登记在 :data:`DATASETS` 里：名字 → 下载地址、SHA-1、文件名。
:func:`download` 先在数据目录里找文件并核对 SHA-1，找不到才下载；下载时有超时、
检查 HTTP 状态和文件长度，写入临时文件、校验通过后再原子地改名，所以数据目录里
要么没有这个文件，要么是完整正确的文件。

数据目录：环境变量 ``SEQBOOK_DATA``（例如离线时指向一份本地副本，它可以是只读的）；
未设置时用用户缓存目录 ``~/.cache/seqbook/data``（``SEQBOOK_CACHE``
可改缓存根目录）。

数据目录里的文件 SHA-1 对不上时（例如读者自己放进去的新版本），:func:`download`
**不删除、不覆盖**它，而是发出警告说明原因，把登记的版本下载到缓存目录
``<缓存根目录>/pinned`` 并返回那里的路径。

关于 ``cmn-eng``：manythings.org 会不定期重新发布 ``cmn-eng.zip``，新版本的 SHA-1
与本书登记的不同。本书的数字是在 2020-08-23 版（登记的 SHA-1）上测得的，所以我们
坚持这个校验和：刚下载的文件对不上时报错并删除这个下载的临时文件，提示读者使用本书的
那一份。

**由多个文件组成的数据集**（``chinese-poetry``、``ocnli``）：登记项的 ``files``
列出每个文件（:class:`DataFile`：文件夹内的相对路径、下载地址、SHA-1），``filename``
是文件夹名，``sha1`` 是文件清单的 SHA-1（见
:func:`files_sha1`）。:func:`download_files` 逐个文件按上面
同样的规则取得（核对 SHA-1、原子写入、不删除不覆盖用户的文件），文件位于
``<数据目录>/<文件夹名>/<相对路径>``，例如
``<数据目录>/chinese-poetry/quan_tang_shi/poet.tang.0.json``。
"""

import hashlib
import http.client
import os
import pathlib
import shutil
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
import zlib

from .._checks import check_positive_number, check_str
from .datasets import DATASETS, DatasetInfo

_CHUNK = 1 << 16


class DataError(RuntimeError):
    """数据集无法取得或校验失败。错误信息说明原因和解决办法。"""


def cache_dir():
    """本书的缓存根目录：``SEQBOOK_CACHE``，默认 ``~/.cache/seqbook``。"""
    root = os.environ.get("SEQBOOK_CACHE")
    if root:
        return pathlib.Path(root).expanduser()
    home_cache = os.path.join(os.path.expanduser("~"), ".cache")
    xdg = os.environ.get("XDG_CACHE_HOME") or home_cache
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


def _lookup(name, multi=False):
    if isinstance(name, DatasetInfo):
        info = name
    else:
        info = _lookup_name(name)
    if bool(info.files) != multi:
        if multi:
            raise ValueError(f"数据集 {info.name!r} 只有一个文件，请用 "
                             f"download({info.name!r}) 取得它")
        raise ValueError(f"数据集 {info.name!r} 由 {len(info.files)} 个文件组成，"
                         f"请用 download_files({info.name!r}) 取得它们")
    return info


def _lookup_name(name):
    try:
        return DATASETS[name]
    except KeyError:
        known = "、".join(sorted(DATASETS))
        raise ValueError(f"未知的数据集 {name!r}；"
                         f"已登记的数据集有：{known}") from None


def _offline_hint(info, folder):
    return (f"请检查网络，或把 {info.filename}（SHA-1 {info.sha1}）放进数据目录 "
            f"{folder}，"
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
    check_positive_number(timeout, "timeout")  # 秒
    folder = pathlib.Path(folder) if folder is not None else data_dir()
    return _download_file(info, folder, timeout)


def _download_file(info, folder, timeout):
    # 多文件数据集的成员：filename 形如 "文件夹/子目录/文件"
    path = folder / info.filename
    if path.is_file():
        actual = sha1sum(path)
        if actual == info.sha1:
            return path
        return _download_pinned(info, path, actual, timeout)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        hint = _offline_hint(info, folder)
        raise DataError(f"无法创建数据目录 {path.parent}：{e}。" + hint) from None
    _fetch(info, path, timeout)
    return path


def download_files(name, folder=None, timeout=30.0, prefix=""):
    """取得多文件数据集的文件，返回 ``{相对路径: pathlib.Path}``（按相对路径排序）。

    参数：
        name: :data:`DATASETS` 里多文件数据集的名字（如 ``"chinese-poetry"``），
            或一个带 ``files`` 的 :class:`DatasetInfo`。
        folder: 数据目录，默认 :func:`data_dir`；文件位于
            ``<folder>/<文件夹名>/<相对路径>``。
        timeout: 网络操作的超时秒数。
        prefix: 只取相对路径以它开头的文件，例如 ``"quan_tang_shi/"``；默认全部。
    每个文件都按 :func:`download` 的规则处理：已有且校验正确的文件不访问网络；
    缺少的文件下载到数据目录（原子写入）；校验不对的文件保持原样，发出
    ``UserWarning``，改用缓存目录``<缓存根目录>/pinned/<文件夹名>/<相对路径>``
    里登记的版本。"""
    info = _lookup(name, multi=True)
    check_positive_number(timeout, "timeout")  # 秒
    check_str(prefix, "prefix")
    chosen = [f for f in info.files if f.path.startswith(prefix)]
    if not chosen:
        raise ValueError(f"数据集 {info.name!r} 中没有以 {prefix!r} 开头的文件")
    folder = pathlib.Path(folder) if folder is not None else data_dir()
    paths = {}
    for f in chosen:
        member = DatasetInfo(f"{info.name}/{f.path}", f.url, f.sha1,
                             f"{info.filename}/{f.path}")
        paths[f.path] = _download_file(member, folder, timeout)
    return paths


def _download_pinned(info, user_path, actual_sha1, timeout):
    """数据目录里的 ``user_path`` 校验不对：不动它，改用缓存目录里登记的版本。"""
    pinned = cache_dir() / "pinned" / info.filename
    notice = (f"数据目录里的 {user_path} 与本书登记的版本不同（SHA-1 为 "
              f"{actual_sha1}，"
              f"应为 {info.sha1}）。这个文件保持原样，不会被删除或覆盖；"
              "本书改用缓存目录里"
              f"登记的版本 {pinned}（没有时下载到那里）。")
    if info.name == "cmn-eng":
        notice += ("manythings.org 会重新发布 cmn-eng.zip，本书的数字是在 "
                   "2020-08-23 版"
                   "（登记的 SHA-1）上测得的。")
    notice += f"要消除这条提示，请把 {user_path} 换成登记的版本，或移走它。"
    warnings.warn(notice, UserWarning, stacklevel=3)
    if pinned != user_path and pinned.is_file() and sha1sum(pinned) == info.sha1:
        return pinned
    try:
        pinned.parent.mkdir(parents=True, exist_ok=True)
        _fetch(info, pinned, timeout)   # 写临时文件、校验后原子改名；只写缓存目录
    except OSError as e:
        raise DataError(f"{notice}但无法创建缓存目录 {pinned.parent}："
                        f"{e}。") from None
    except DataError as e:
        raise DataError(f"{notice}但{e}") from None
    return pinned


def _fetch(info, path, timeout):
    """把 ``info.url`` 下载到 ``path``：先写临时文件，校验通过后原子改名。"""
    request = urllib.request.Request(info.url, headers={"User-Agent": "seqbook"})
    try:
        tmp = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.",
                                          suffix=".part", delete=False)
    except OSError as e:
        raise DataError(f"数据目录 {path.parent} 不可写（{e}），无法下载 "
                        f"{info.filename}。"
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
            msg = (f"下载的 {info.filename} 校验失败：SHA-1 为 {h.hexdigest()}，"
                   f"应为 {info.sha1}。"
                   f"文件已删除。")
            if info.name == "cmn-eng":
                msg += ("manythings.org 会重新发布这个文件，新版本与本书所用的 "
                        "2020-08-23 版不同；"
                        "请使用本书的那一份（见 README 的“离线数据”）。")
            raise DataError(msg)
        os.replace(tmp.name, path)
    except urllib.error.HTTPError as e:
        raise DataError(f"下载 {info.url} 失败：HTTP {e.code} {e.reason}。"
                        + _offline_hint(info, path.parent)) from None
    except urllib.error.URLError as e:
        timed_out = isinstance(e.reason, (socket.timeout, TimeoutError))
        reason = "连接超时" if timed_out else e.reason
        hint = _offline_hint(info, path.parent)
        raise DataError(f"无法下载 {info.url}（{reason}）。" + hint) from None
    except TimeoutError:  # socket.timeout 是它的别名
        raise DataError(f"下载 {info.url} 超时（{timeout} 秒内没有收到数据）。"
                        + _offline_hint(info, path.parent)) from None
    except http.client.IncompleteRead:
        raise DataError(f"下载 {info.url} 不完整：传输中途连接被关闭。"
                        "请重试。") from None
    except (http.client.HTTPException, OSError) as e:
        hint = _offline_hint(info, path.parent)
        raise DataError(f"下载 {info.url} 时连接中断：{e}。" + hint) from None
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
    tmp = pathlib.Path(tempfile.mkdtemp(dir=target.parent,
                                        prefix=f".{target.name}."))
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                root = tmp.resolve()
                for member in zf.infolist():
                    dest = (tmp / member.filename).resolve()
                    if dest != root and root not in dest.parents:
                        raise DataError(f"压缩包 {archive.name} 中的成员 "
                                        f"{member.filename!r} "
                                        f"会写到目标目录之外，拒绝解压")
                zf.extractall(tmp)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as e:
            # CRC 不符、压缩数据损坏、文件被截断、不支持的压缩方法
            raise DataError(f"压缩包 {archive} 已损坏，"
                            f"无法解压（{type(e).__name__}：{e}）。"
                            "请换成校验正确的副本（SHA-1 见 seqbook.DATASETS）"
                            "后重试。") from None
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return target


def download_extract(name, folder=None, timeout=30.0):
    """下载（或在数据目录中找到）压缩包并解压，返回解压后的目录。

    解压结果放在缓存目录 ``<缓存根目录>/extracted/<名字>-<SHA-1 前 8 位>``，
    所以数据目录可以是只读的；同一份压缩包只解压一次。
    """
    info = _lookup(name)
    archive = download(info, folder=folder, timeout=timeout)
    target = cache_dir() / "extracted" / f"{info.name}-{info.sha1[:8]}"
    if not target.is_dir():
        extract(archive, target)
    return target


def read_text(name, folder=None, timeout=30.0):
    """以 UTF-8 读入一个文本数据集（例如 ``time_machine``）的全文。"""
    return download(name, folder=folder,
                    timeout=timeout).read_text(encoding="utf-8")
