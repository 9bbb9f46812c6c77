"""数据集登记表：每个数据集的来源、文件与 SHA-1（下载由 :mod:`seqbook.data.download` 完成）。"""

import dataclasses
import hashlib
import urllib.error
import urllib.parse
import urllib.request


@dataclasses.dataclass(frozen=True)
class DataFile:
    """多文件数据集中的一个文件：文件夹内的相对路径（``/`` 分隔）、下载地址、SHA-1。"""
    path: str
    url: str
    sha1: str


def files_sha1(files):
    """文件清单的 SHA-1：按路径排序后，每个文件一行 ``"<SHA-1>  <路径>\n"``（即 ``sha1sum`` 的格式）。

    清单中任何一个文件变了，这个值就变，所以它可以当作整个数据集的指纹。
    """
    lines = sorted(f"{f.sha1}  {f.path}\n" for f in files)
    return hashlib.sha1("".join(lines).encode("utf-8")).hexdigest()


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """一个数据集：名字、下载地址、SHA-1 和保存用的文件名。

    单文件数据集（``files`` 为空）：``url`` 是文件的下载地址，``sha1`` 是文件的 SHA-1。
    多文件数据集：``files`` 是 :class:`DataFile` 的元组，``filename`` 是数据目录下的文件夹名，
    ``url`` 是上游仓库的根地址（只作说明），``sha1`` 必须等于 ``files_sha1(files)``。
    """
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
                raise TypeError(f"files 的元素应为 DataFile，实际得到 {type(f).__name__}")
            parts = f.path.split("/")
            if f.path.startswith("/") or "\\" in f.path or any(p in ("", ".", "..") for p in parts):
                raise ValueError(f"files 中的路径 {f.path!r} 应为文件夹内的相对路径"
                                 "（用 / 分隔，不含 .、..、空段）")
            if f.path in seen:
                raise ValueError(f"files 中的路径 {f.path!r} 重复")
            seen.add(f.path)
        if self.sha1 != files_sha1(self.files):
            raise ValueError(f"数据集 {self.name!r} 的 sha1 应为文件清单的 SHA-1 "
                             f"{files_sha1(self.files)}，实际得到 {self.sha1!r}")


def _folder_dataset(name, base_url, manifest, upstream_dirs, description):
    """由 ``sha1sum`` 格式的清单建立多文件数据集；``upstream_dirs`` 把本地路径（或目录）映射到上游路径。"""
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


_POETRY_FILES = """
54ec18451798bb00fb8f831aa3a3bb997cb94a59  LICENSE
79b08977996692f9d372eb12bfa3cae36bf4f503  quan_tang_shi/poet.tang.0.json
3bdd60976d7c0c75861bc65124613306940cc4a6  quan_tang_shi/poet.tang.1000.json
eac94a27d3e80434cde17d827471de35ab179323  quan_tang_shi/poet.tang.10000.json
d43b7dd1a6f7f20bb4b8edc5a5cf6e53eb56d04d  quan_tang_shi/poet.tang.11000.json
e68b8ba641c2771c013f6731da626c695416ef2b  quan_tang_shi/poet.tang.12000.json
0bcbf372953110ec55dcbf65767b6da253b81500  quan_tang_shi/poet.tang.13000.json
0a08b5617e90155c3b135ec9d7775292ddc587d3  quan_tang_shi/poet.tang.14000.json
5cd6c5df1ec5455a395916a48f89112080146a73  quan_tang_shi/poet.tang.15000.json
9aa203b518a2d18f5248a9efdf1eea8b786a1ab6  quan_tang_shi/poet.tang.16000.json
ebf67279b8d75cb4edcf90bad00a1e12989a6213  quan_tang_shi/poet.tang.17000.json
cddf70da0a8911b873d2892be55f1a9c4f3ebc98  quan_tang_shi/poet.tang.18000.json
5adb973c20982f9ceff8f4c3c7cf46c04f6b4a4e  quan_tang_shi/poet.tang.19000.json
db5552d1c1bd6818987874e8b662468ff3b91833  quan_tang_shi/poet.tang.2000.json
aac2899e1f016f02d5d9d7ac004fa766b4fca4ef  quan_tang_shi/poet.tang.20000.json
d1a694f388de79456ea3e142ac465476db4d4d5d  quan_tang_shi/poet.tang.21000.json
77b8d8ce6d4285cbb4400df0627ccbe071e3452d  quan_tang_shi/poet.tang.22000.json
a70ebed313f536d3913412dd4073515682adc608  quan_tang_shi/poet.tang.23000.json
558f95c00b09aa4fec9a3171ca380711937daa9f  quan_tang_shi/poet.tang.24000.json
f666fef25c4ab9cf7f96c9296749718fea76f12a  quan_tang_shi/poet.tang.25000.json
fb7a42a100ac688dc35ffceefe1b4be916f4bd60  quan_tang_shi/poet.tang.26000.json
ed86b6132a53c1ae2cec087d7c2a9f7d99c2971c  quan_tang_shi/poet.tang.27000.json
073fc08bef624fc8607c9e4278c15f61efd104f6  quan_tang_shi/poet.tang.28000.json
c89b9f5b9791e0baffafc0b5b3abbc7405da9897  quan_tang_shi/poet.tang.29000.json
0d2f6d6fd8131f3985e153e62ed2657aaaaa1761  quan_tang_shi/poet.tang.3000.json
735f00ef14d966d558dba6a8b75b3690d56d44bf  quan_tang_shi/poet.tang.30000.json
43ef06af89f402c5fd092d17ef4c49686f6007b6  quan_tang_shi/poet.tang.31000.json
43519e5784e260267df20d3a0c9b1f262eb919cd  quan_tang_shi/poet.tang.32000.json
e31af5abac1c37e475b6156210104c7699943fed  quan_tang_shi/poet.tang.33000.json
24a9b2caf6dbb25791ff15694bc92b2bd4bf2688  quan_tang_shi/poet.tang.34000.json
4fc28f53cb4017a72afa775392aed1edaeaf718a  quan_tang_shi/poet.tang.35000.json
a16a0ac6370038dff6eae5ed31f4dd370c302e13  quan_tang_shi/poet.tang.36000.json
81d1206ca9ae15c7ca9ebc3868a0657c8c3e575c  quan_tang_shi/poet.tang.37000.json
4a727c52e85389622ff41f1cd3aa65bc20d6ced9  quan_tang_shi/poet.tang.38000.json
0d12e3501bff1481ca0788c56ca5650ad432af17  quan_tang_shi/poet.tang.39000.json
f417b2b15e167d808ffa1db36a75fcfbdee28e38  quan_tang_shi/poet.tang.4000.json
ae29e79b2ecd779c0e0fa495206801ef06b86d2d  quan_tang_shi/poet.tang.40000.json
a6a21cea1203eb37de9aecc3c19b76b48964bcc7  quan_tang_shi/poet.tang.41000.json
251c28f3988ac6fa426c8417f46dd9c5fd0f6934  quan_tang_shi/poet.tang.42000.json
60b9252b4c422fa23f6f3322a272ad7721e6d745  quan_tang_shi/poet.tang.43000.json
942f7751a09381ce5172950f053c71d4b764f976  quan_tang_shi/poet.tang.44000.json
ee979685b285414d1ba1507099080e876e82f9b1  quan_tang_shi/poet.tang.45000.json
2d62498ccdbe10f542ec39b7634481c66c6cd210  quan_tang_shi/poet.tang.46000.json
e4f157e4a69972a13dca9653bb90532007cbac4c  quan_tang_shi/poet.tang.47000.json
2c0d7fdd5cebffccf02546f051329e9027ef2e26  quan_tang_shi/poet.tang.48000.json
8c272e9d5bae8fa96b15adf4aabce24d6dbc43ed  quan_tang_shi/poet.tang.49000.json
8ccd54fa674a6263acfe4cef7bde157d72b263c8  quan_tang_shi/poet.tang.5000.json
b65fcdfe6c0e5bf0c6f379806aea74d82996a068  quan_tang_shi/poet.tang.50000.json
8ca2b0d14e70ea3278781fe0d623c998913d4628  quan_tang_shi/poet.tang.51000.json
789b31d56c1662380f31655e16119b4e84b9a0d8  quan_tang_shi/poet.tang.52000.json
6dd372391f8857cfb3c01bd94cf5c782564c7e51  quan_tang_shi/poet.tang.53000.json
f8995b7d36371ee0c8399172deed9cbceb598f09  quan_tang_shi/poet.tang.54000.json
033428812d777ec38012d02933219be97e23709b  quan_tang_shi/poet.tang.55000.json
67cc5d36e4a49bad160e95cb832f149a3fd3e3b6  quan_tang_shi/poet.tang.56000.json
082b477574d40d09ac7afb85e97db2ceda0d2c6b  quan_tang_shi/poet.tang.57000.json
60a66c089eea6b232c8bd37f3f26d61eb4ec76b5  quan_tang_shi/poet.tang.6000.json
65095cc9e1b1a33155547808ad544cda31f17065  quan_tang_shi/poet.tang.7000.json
c3d869808914a5b206308a77f1ea70fd165666bd  quan_tang_shi/poet.tang.8000.json
c7d0c975eda710d25bb689868ff09fa344021011  quan_tang_shi/poet.tang.9000.json
a42f69802defcd5012faa269de530c15e40e081d  song_ci/ci.song.0.json
df13911aa16a2955c931fac3e6c4494b99d486e9  song_ci/ci.song.1000.json
9e9f694d8cf8a5f5b802e6005f9cf3d917e61df2  song_ci/ci.song.10000.json
7467993bc44f26815487b15ed6ce8e0643e991d7  song_ci/ci.song.11000.json
9ca5512d03fe3240b07a6f218888da1053b45d6d  song_ci/ci.song.12000.json
5557e5eeb7c8b4f4ac1f0e4cf4c49ee3a25d4793  song_ci/ci.song.13000.json
515b09624c36c03b2c674632b05c729582a5433c  song_ci/ci.song.14000.json
d845d51019379148c1a0f1044173b979244421cf  song_ci/ci.song.15000.json
cbdc8b2b1f4bf1a699678f0fb30aed92304967e9  song_ci/ci.song.16000.json
dbb7832eff6b38e64d405b69cf7aa9c4458a6997  song_ci/ci.song.17000.json
2a1f292fa61a10fc3645ab2a8074c94a55a17731  song_ci/ci.song.18000.json
25e3dfd0a9771b957e7049cc8b4e685239c94ecf  song_ci/ci.song.19000.json
2ed0ad2ec0df12d4e4d13eb459eef5897e9103a3  song_ci/ci.song.2000.json
9cfa480d6b8d2398fd3a8771ce9c5cb9a08db6be  song_ci/ci.song.20000.json
c5966201c0f30cbbf057cd5842a0eb0bcd780fa5  song_ci/ci.song.2019y.json
a52f6f9003566ed5bccc3561495305cc3a11787d  song_ci/ci.song.21000.json
de2888cbd75bdba391646a949c43eff54d3aa447  song_ci/ci.song.3000.json
8d8e5b9e74166d4144e1a3891538412adf17884a  song_ci/ci.song.4000.json
0c7a2bfd674becb15a01f80e5bd85316c56956ee  song_ci/ci.song.5000.json
a46d9fa8ad37baa8acb918261a06e6d9bd8fe1f6  song_ci/ci.song.6000.json
6bf0eb982c42fc666d03ace5ee2703592e8e8cc5  song_ci/ci.song.7000.json
d3cda81175abababea2a4eb889e20b808b8ed2d4  song_ci/ci.song.8000.json
366cf0546eed558e8d122338c28578e5472277a3  song_ci/ci.song.9000.json
"""


_OCNLI_FILES = """
b7af6c3afb8f57852687aaa64b33587e1fff1695  README.md
f4ec45cd78ee3dbe893459bbef070ed353d85951  dev.json
875255f938122e646f40693bb2408398e96e907f  train.10k.json
2ba688a9cd5f6e2719155eb7ad99c088002fd410  train.3k.json
"""


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
    "chinese-poetry": _folder_dataset(
        "chinese-poetry",
        GITHUB_RAW_URL + "chinese-poetry/chinese-poetry/99ebbef7e1345c0985c44b9fd96a3f9e776f117b/",
        _POETRY_FILES, {"quan_tang_shi": "全唐诗", "song_ci": "宋词"},
        "全唐诗（57,607 首，繁体）与宋词（21,053 首），chinese-poetry 项目，MIT"),
    "ocnli": _folder_dataset(
        "ocnli",
        GITHUB_RAW_URL + "CLUEbenchmark/OCNLI/b53efdee17257a5c33993cf6fcf8ffff0497ea0e/",
        _OCNLI_FILES, {"train.3k.json": "data/ocnli/train.3k.json",
                       "train.10k.json": "data/ocnli/train.10k.json",
                       "dev.json": "data/ocnli/dev.json"},
        "OCNLI 原生中文自然语言推理（train.3k、train.10k、dev），CC BY-NC 2.0，只能非商业使用"),
}
