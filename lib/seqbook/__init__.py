"""seqbook：《动手学序列模型》的配套库。

书中讲到的每个模型、数据加载器、训练循环、解码器、指标和绘图工具都只在这里实现一次，
并有单元测试。子包按职责划分，读的顺序就是数据流动的顺序：

    data/       下载与校验、文本预处理、词表与分词器、各章的数据集
    models/     循环网络、编码器-解码器、注意力（attention.py 是唯一的注意力
                核心）、Transformer
    training/   一个训练步与训练循环（trainer.py）、损失、学习率调度、模型缓存
    inference/  解码（贪心、束搜索、采样）、翻译、预测与 BLEU
    display/    绘图，在书中展示库的源代码（show_source）
    _checks.py  全部参数检查（类型不对 TypeError，值不对 ValueError）

这里按书的阅读顺序导出各章用到的名字（tests/test_public_api.py 检查恰好是这些）；
其余的名字在各自的子模块里，例如 ``seqbook.inference.bleu.corpus_bleu``。
"""
# 按阅读顺序导入，不按字母排序
# ruff: noqa: I001

# 通用：设备、随机种子、计时、展示源代码与绘图
from .utils import get_device, set_seed, Timer
from .display.source import show_source
from .display.plotting import plot

# 第 1 章 循环神经网络
from .data.synthetic import sine_data, make_windows
from .models.regression import get_mlp
from .training.regression import train_regressor
from .inference.forecast import multistep_predict, k_step_predictions
from .data.download import read_text
from .data.text import (
    preprocess_line, read_time_machine, tokenize, Vocab, load_corpus_time_machine,
)
from .data.lm_data import (
    split_corpus, ngram_perplexity, seq_data_iter_random, seq_data_iter_sequential,
    load_data_time_machine,
)
from .training.lm import perplexity, evaluate_perplexity, lm_task, train_lm
from .models.rnn import RNNLMScratch, RNNScratch, RNNModel
from .inference.lm import predict
from .training.trainer import grad_clipping, train_step

# 第 2 章 现代循环神经网络与序列到序列
from .models.cells import GRUCellScratch, run_cell, LSTMCellScratch
from .models.recurrent import (
    GRUScratch, DeepRNNScratch, LSTMScratch, RecurrentScratch, BiRNNScratch,
)
from .inference.lm import prefix_perplexity
from .training.fill_blank import train_fill_blank, mask_tokens
from .data.download import download_extract
from .data.mt_data import (
    preprocess_english, tokenize_english, tokenize_chinese, read_translation_pairs,
    truncate_pad, build_array, split_by_source, load_translation, encode_source,
)
from .models.encoder_decoder import Encoder, Decoder, EncoderDecoder, select_batch
from .models.markov import markov_model
from .models.seq2seq import Seq2SeqEncoder, Seq2SeqDecoder, build_seq2seq
from .training.seq2seq import (
    masked_cross_entropy, scheduled_sampling_logits, seq2seq_loss, train_seq2seq,
)
from .models.attention import sequence_mask
from .inference.search import greedy_search, beam_search, exhaustive_search
from .inference.translate import translate, evaluate_bleu
from .inference.bleu import sentence_bleu
from .training.configs import train_or_load, GRU_CMN_CONFIG

# 第 3 章 注意力机制与 Transformer
from .display.plotting import show_heatmaps
from .data.synthetic import make_kernel_data, kernel_target
from .models.regression import (
    average_pooling, gaussian_kernel_weights, nadaraya_watson, NWKernelRegression,
    leave_one_out,
)
from .training.regression import train_kernel_regression
from .models.attention import (
    valid_key_mask, masked_softmax, AdditiveAttention, scaled_dot_product,
    DotProductAttention,
)
from .models.bahdanau import BahdanauDecoder
from .training.configs import BAHDANAU_CMN_CONFIG, TRANSFORMER_CMN_CONFIG
from .data.mt_data import BOS, EOS, PAD
from .models.multihead import MultiHeadAttention
from .models.positional import (
    sinusoidal_encoding, PositionalEncoding, relative_shift_matrix,
)
from .models.transformer import (
    PositionWiseFFN, TransformerEncoderBlock, TransformerEncoder,
    TransformerDecoderState, TransformerDecoderBlock, TransformerDecoder,
    build_transformer, keep_attention_weights,
)
from .training.schedule import lr_factor, warmup_lr_lambda

# 第 4 章 预训练：BERT
from .data.tokenizers import CharTokenizer
from .data.bert_corpus import BERT_SPECIAL_TOKENS, bert_inputs
from .models.bert import distance_bias, BERTEncoder, MaskLMHead, BERTModel
from .training.bert import BERT_CONFIG, mlm_loss
from .data.bert_corpus import (
    load_bert_corpus, mlm_mask, packed_batch, nsp_batch, split_sentences,
)
from .training.bert import heldout_mlm_set, pretrain_bert, mlm_baselines, BERTConfig
from .models.bert import BERTClassifier
from .training.finetune import (
    finetune, sample_labelled, init_encoder, finetune_classifier, steps_for,
    classification_accuracy, compare_pretraining, mean_std, bag_of_chars_baseline,
)
from .display.plotting import plot_comparison
from .data.bert_data import NER_TAGS, span_f1
from .training.finetune import finetune_tagger, tagging_chunks, tagging_f1
from .data.bert_data import bio_spans
from .training.finetune import predict_tags
from .data.bert_data import read_ocnli, NLI_LABELS

# 第 5 章 GPT
from .models.gpt import GPT, GPTBlock, CausalSelfAttention, gpt_num_params
from .models.positional import rotary_tables, apply_rotary
from .data.bpe import BPETokenizer
from .data.poetry import (
    load_poems, verse_lines, poem_shape, is_five_char_quatrain, distinct_n,
    copied_lines, line_set,
)
from .data.gpt_data import load_poem_corpus
from .training.gpt import (
    GPTConfig, GPT_CONFIG, pretrain_gpt, bits_per_char, ngram_bits_per_char,
    poem_nll,
)
from .inference.sampling import top_p_filter
from .inference.generate import generate, encode_prompt, write_poems
from .display.plotting import plot_bars

# 附录：数据与工具
from .data.download import download, sha1sum
from .data.datasets import DATASETS
from .display.plotting import TrainingPlot

__version__ = "0.1.0"

__all__ = [
    "get_device", "set_seed", "Timer", "show_source", "plot", "sine_data",
    "make_windows", "get_mlp", "train_regressor", "multistep_predict",
    "k_step_predictions", "read_text", "preprocess_line", "read_time_machine",
    "tokenize", "Vocab", "load_corpus_time_machine", "split_corpus",
    "ngram_perplexity", "seq_data_iter_random", "seq_data_iter_sequential",
    "load_data_time_machine", "perplexity", "evaluate_perplexity", "lm_task",
    "train_lm", "RNNLMScratch", "RNNScratch", "RNNModel", "predict",
    "grad_clipping", "train_step", "GRUCellScratch", "run_cell", "LSTMCellScratch",
    "GRUScratch", "DeepRNNScratch", "LSTMScratch", "RecurrentScratch",
    "BiRNNScratch", "prefix_perplexity", "train_fill_blank", "mask_tokens",
    "download_extract", "preprocess_english", "tokenize_english",
    "tokenize_chinese", "read_translation_pairs", "truncate_pad", "build_array",
    "split_by_source", "load_translation", "encode_source", "Encoder", "Decoder",
    "EncoderDecoder", "select_batch", "markov_model", "Seq2SeqEncoder",
    "Seq2SeqDecoder", "build_seq2seq", "masked_cross_entropy",
    "scheduled_sampling_logits", "seq2seq_loss", "train_seq2seq", "sequence_mask",
    "greedy_search", "beam_search", "exhaustive_search", "translate",
    "evaluate_bleu", "sentence_bleu", "train_or_load", "GRU_CMN_CONFIG",
    "show_heatmaps", "make_kernel_data", "kernel_target", "average_pooling",
    "gaussian_kernel_weights", "nadaraya_watson", "NWKernelRegression",
    "leave_one_out", "train_kernel_regression", "valid_key_mask", "masked_softmax",
    "AdditiveAttention", "scaled_dot_product", "DotProductAttention",
    "BahdanauDecoder", "BAHDANAU_CMN_CONFIG", "TRANSFORMER_CMN_CONFIG", "BOS",
    "EOS", "PAD", "MultiHeadAttention", "sinusoidal_encoding", "PositionalEncoding",
    "relative_shift_matrix", "PositionWiseFFN", "TransformerEncoderBlock",
    "TransformerEncoder", "TransformerDecoderState", "TransformerDecoderBlock",
    "TransformerDecoder", "build_transformer", "keep_attention_weights",
    "lr_factor", "warmup_lr_lambda",
    "CharTokenizer", "BERT_SPECIAL_TOKENS", "bert_inputs", "distance_bias",
    "BERTEncoder", "MaskLMHead", "BERTModel", "BERT_CONFIG", "mlm_loss",
    "load_bert_corpus", "mlm_mask", "packed_batch", "nsp_batch", "split_sentences",
    "heldout_mlm_set", "pretrain_bert", "mlm_baselines", "BERTConfig",
    "BERTClassifier", "finetune", "sample_labelled", "init_encoder",
    "finetune_classifier", "steps_for", "classification_accuracy",
    "compare_pretraining", "mean_std", "bag_of_chars_baseline", "plot_comparison",
    "NER_TAGS", "span_f1", "finetune_tagger", "tagging_chunks", "tagging_f1",
    "bio_spans", "predict_tags", "read_ocnli", "NLI_LABELS",
    "GPT", "GPTBlock", "CausalSelfAttention", "gpt_num_params", "rotary_tables",
    "apply_rotary", "BPETokenizer", "load_poems", "verse_lines", "poem_shape",
    "is_five_char_quatrain", "distinct_n", "copied_lines", "line_set",
    "load_poem_corpus", "GPTConfig", "GPT_CONFIG", "pretrain_gpt", "bits_per_char",
    "ngram_bits_per_char", "poem_nll", "top_p_filter", "generate", "encode_prompt",
    "write_poems", "plot_bars",
    "download", "sha1sum", "DATASETS", "TrainingPlot",
]
