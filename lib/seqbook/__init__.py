"""seqbook：《动手学序列模型》的配套库。

书中讲到的每个模型、数据加载器、训练循环、解码器、指标和绘图工具都只在这里实现一次，
并有单元测试；各章节导入它，并用 :func:`show_source` 展示其源代码。
"""
from .data import (DATASETS, DataError, DatasetInfo, data_dir, download, download_extract,
                   extract, read_text, sha1sum)
from .plotting import TrainingPlot, plot, show_heatmaps, use_cjk_font, use_svg_display
from .source import get_source, show_source
from .utils import Accumulator, Timer, get_device, set_seed

__version__ = "0.1.0"

# 第 1 章：循环神经网络
from .text import Vocab, count_corpus, tokenize
