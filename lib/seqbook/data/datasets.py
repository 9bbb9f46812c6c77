"""数据集登记表：每个数据集的来源、文件与 SHA-1（下载由 :mod:`seqbook.data.download`
完成）。"""

import dataclasses
import hashlib
import pathlib
import urllib.error
import urllib.parse
import urllib.request


@dataclasses.dataclass(frozen=True)
class DataFile:
    """多文件数据集中的一个文件：文件夹内的相对路径（``/`` 分隔）、下载地址、
    SHA-1。"""
    path: str
    url: str
    sha1: str


def files_sha1(files):
    """文件清单的 SHA-1：按路径排序后，每个文件一行 ``"<SHA-1>  <路径>\n"``（即
    ``sha1sum`` 的格式）。

    清单中任何一个文件变了，这个值就变，所以它可以当作整个数据集的指纹。
    """
    lines = sorted(f"{f.sha1}  {f.path}\n" for f in files)
    return hashlib.sha1("".join(lines).encode("utf-8")).hexdigest()


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """一个数据集：名字、下载地址、SHA-1 和保存用的文件名。

    单文件数据集（``files`` 为空）：``url`` 是文件的下载地址，``sha1`` 是文件的
    SHA-1。多文件数据集：``files`` 是 :class:`DataFile` 的元组，``filename``
    是数据目录下的文件夹名，``url`` 是上游仓库的根地址（只作说明），``sha1``
    必须等于 ``files_sha1(files)``。"""
    name: str
    url: str
    sha1: str
    filename: str
    description: str = ""
    files: tuple = ()

    def __post_init__(self):
        if not self.files:
            return
        seen = set()
        for f in self.files:
            if not isinstance(f, DataFile):
                raise TypeError("files 的元素应为 DataFile，实际得到 "
                                f"{type(f).__name__}")
            parts = f.path.split("/")
            if (f.path.startswith("/") or "\\" in f.path
                    or any(p in ("", ".", "..") for p in parts)):
                raise ValueError(f"files 中的路径 {f.path!r} 应为文件夹内的相对路径"
                                 "（用 / 分隔，不含 .、..、空段）")
            if f.path in seen:
                raise ValueError(f"files 中的路径 {f.path!r} 重复")
            seen.add(f.path)
        if self.sha1 != files_sha1(self.files):
            raise ValueError(f"数据集 {self.name!r} 的 sha1 应为文件清单的 SHA-1 "
                             f"{files_sha1(self.files)}，实际得到 {self.sha1!r}")


def _manifest(name):
    """多文件数据集的清单（``sha1sum`` 的格式），存在 ``manifests/<name>.sha1``。"""
    path = pathlib.Path(__file__).with_name("manifests") / f"{name}.sha1"
    return path.read_text(encoding="utf-8")


def _folder_dataset(name, base_url, manifest, upstream_dirs, description):
    """由 ``sha1sum`` 格式的清单建立多文件数据集；``upstream_dirs`` 把本地路径
    （或目录）映射到上游路径。"""
    files = []
    for line in manifest.strip().splitlines():
        sha1, path = line.split(maxsplit=1)
        upstream = path
        for local, remote in upstream_dirs.items():   # 本地路径前缀 → 上游路径前缀
            if path == local or path.startswith(local + "/"):
                upstream = remote + path[len(local):]
        files.append(DataFile(path, base_url + urllib.parse.quote(upstream), sha1))
    files = tuple(sorted(files, key=lambda f: f.path))
    return DatasetInfo(name, base_url, files_sha1(files), name, description, files)


D2L_DATA_URL = "http://d2l-data.s3-accelerate.amazonaws.com/"
GITHUB_RAW_URL = "https://raw.githubusercontent.com/"


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
        "Tatoeba 英语—汉语句对（经 manythings.org/anki，2020-08-23 版），CC-BY "
        "2.0 FR"),
    "chinese-poetry": _folder_dataset(
        "chinese-poetry",
        GITHUB_RAW_URL + "chinese-poetry/chinese-poetry/"
        "99ebbef7e1345c0985c44b9fd96a3f9e776f117b/",
        _manifest("chinese-poetry"), {"quan_tang_shi": "全唐诗", "song_ci": "宋词"},
        "全唐诗（57,607 首，繁体）与宋词（21,053 首），chinese-poetry 项目，MIT"),
    "ocnli": _folder_dataset(
        "ocnli",
        GITHUB_RAW_URL + "CLUEbenchmark/OCNLI/"
        "b53efdee17257a5c33993cf6fcf8ffff0497ea0e/",
        _manifest("ocnli"), {"train.3k.json": "data/ocnli/train.3k.json",
                       "train.10k.json": "data/ocnli/train.10k.json",
                       "dev.json": "data/ocnli/dev.json"},
        "OCNLI 原生中文自然语言推理（train.3k、train.10k、dev），CC BY-NC 2.0，"
        "只能非商业使用"),
}
