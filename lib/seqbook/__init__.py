"""seqbook：《动手学序列模型》的配套库。

书中讲到的每个模型、数据加载器、训练循环、解码器、指标和绘图工具都只在这里实现一次，
并有单元测试；各章节导入它，并用 :func:`show_source` 展示其源代码。
"""

from .data.datasets import DATASETS, DataFile, DatasetInfo, files_sha1
from .data.download import (
    DataError,
    data_dir,
    download,
    download_extract,
    download_files,
    extract,
    read_text,
    sha1sum,
)
from .display.plotting import (
    TrainingPlot,
    plot,
    show_heatmaps,
    use_cjk_font,
    use_svg_display,
)
from .display.source import get_source, show_source
from .utils import Accumulator, Timer, get_device, set_seed

__version__ = "0.1.0"

# 第 1 章：循环神经网络
# 第 4 章：预训练 BERT（数据）
from .data.bert_data import (
    NER_TAGS,
    NLI_LABELS,
    bio_spans,
    load_reviews,
    pfr_to_bio,
    read_ocnli,
    read_people_daily,
    read_reviews,
    span_f1,
    split_examples,
)
from .data.bpe import BPETokenizer
from .data.lm_data import (
    SeqDataLoader,
    load_data_time_machine,
    ngram_perplexity,
    seq_data_iter_random,
    seq_data_iter_sequential,
    split_corpus,
)
from .data.mt_data import (
    BOS,
    EOS,
    PAD,
    TranslationData,
    build_array,
    encode_source,
    load_translation,
    preprocess_english,
    read_translation_pairs,
    split_by_source,
    tokenize_chinese,
    tokenize_english,
    truncate_pad,
)

# 第 5 章：生成式预训练 GPT（诗词数据、分词器、采样）
from .data.poetry import (
    Poem,
    is_five_char_quatrain,
    load_poems,
    poem_shape,
    poems_fingerprint,
    read_poems,
    split_poems,
)
from .data.synthetic import kernel_target, make_kernel_data, make_windows, sine_data
from .data.text import (
    Vocab,
    count_corpus,
    load_corpus_time_machine,
    preprocess_line,
    read_time_machine,
    tokenize,
)
from .data.tokenizers import CharTokenizer, load_tokenizer
from .inference.bleu import bleu_stats, corpus_bleu, sentence_bleu
from .inference.forecast import k_step_predictions, multistep_predict
from .inference.lm import PrefixPerplexity, predict, prefix_perplexity
from .inference.sampling import (
    filter_logits,
    greedy_next,
    sample_next,
    top_k_filter,
    top_p_filter,
)
from .inference.search import beam_search, exhaustive_search, greedy_search
from .inference.translate import evaluate_bleu, translate

# 第 3 章：注意力机制（基础）
from .models.attention import (
    AdditiveAttention,
    DotProductAttention,
    masked_softmax,
    scaled_dot_product,
    sequence_mask,
    valid_key_mask,
)
from .models.bahdanau import BahdanauDecoder, build_bahdanau
from .models.cells import GRUCellScratch, LSTMCellScratch, RNNCellScratch, run_cell

# 第 2 章：机器翻译与序列到序列
from .models.encoder_decoder import (
    Decoder,
    Encoder,
    EncoderDecoder,
    map_state,
    select_batch,
)
from .models.markov import markov_model

# 第 3 章：多头注意力与 Transformer
from .models.multihead import MultiHeadAttention
from .models.positional import (
    PositionalEncoding,
    relative_shift_matrix,
    sinusoidal_encoding,
)

# 第 2 章：现代循环神经网络（门控与深度）
from .models.recurrent import (
    BiRNNScratch,
    DeepRNNScratch,
    GRUScratch,
    LSTMScratch,
    RecurrentScratch,
)
from .models.regression import (
    NWKernelRegression,
    average_pooling,
    gaussian_kernel_weights,
    get_mlp,
    leave_one_out,
    nadaraya_watson,
)
from .models.rnn import RNNLMScratch, RNNModel, RNNScratch
from .models.seq2seq import Seq2SeqDecoder, Seq2SeqEncoder, build_seq2seq
from .models.transformer import (
    PositionWiseFFN,
    TransformerDecoder,
    TransformerDecoderBlock,
    TransformerDecoderState,
    TransformerEncoder,
    TransformerEncoderBlock,
    keep_attention_weights,
    build_transformer,
)
from .training.checkpoint import CheckpointError, checkpoint_path, load_or_train
from .training.configs import (
    BAHDANAU_CMN_CONFIG,
    GRU_CMN_CONFIG,
    TRANSFORMER_CMN_CONFIG,
    train_or_load,
)
from .training.fill_blank import evaluate_fill_blank, mask_tokens, train_fill_blank
from .training.lm import (
    detach_state,
    evaluate_perplexity,
    lm_task,
    perplexity,
    train_epoch,
    train_lm,
)
from .training.regression import train_kernel_regression, train_regressor
from .training.schedule import lr_factor, warmup_lr_lambda, warmup_scheduler
from .training.seq2seq import (
    decoder_inputs,
    masked_cross_entropy,
    scheduled_sampling_logits,
    seq2seq_loss,
    train_seq2seq,
)
from .training.trainer import grad_clipping, train_step
