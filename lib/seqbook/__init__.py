"""seqbook：《动手学序列模型》的配套库。

书中讲到的每个模型、数据加载器、训练循环、解码器、指标和绘图工具都只在这里实现一次，
并有单元测试；各章节导入它，并用 :func:`show_source` 展示其源代码。
"""
from .data import (DATASETS, DataError, DataFile, DatasetInfo, data_dir, download,
                   download_extract, download_files, extract, files_sha1, read_text, sha1sum)
from .plotting import TrainingPlot, plot, show_heatmaps, use_cjk_font, use_svg_display
from .source import get_source, show_source
from .utils import Accumulator, Timer, get_device, set_seed

__version__ = "0.1.0"

# 第 1 章：循环神经网络
from .text import (Vocab, count_corpus, load_corpus_time_machine, preprocess_line,
                   read_time_machine, tokenize)
from .sequence import (get_mlp, k_step_predictions, make_windows, multistep_predict, sine_data,
                       train_regressor)
from .lm_data import (SeqDataLoader, load_data_time_machine, ngram_perplexity,
                      seq_data_iter_random, seq_data_iter_sequential, split_corpus)
from .rnn import RNNLMScratch, RNNModel, RNNScratch
from .lm_train import (LMTrainResult, detach_state, evaluate_perplexity, grad_clipping,
                       perplexity, predict, train_epoch, train_lm)

# 第 2 章：机器翻译与序列到序列
from .encoder_decoder import Decoder, Encoder, EncoderDecoder, map_state, select_batch
from .mt_data import (BOS, EOS, PAD, TranslationData, build_array, encode_source,
                      load_translation, preprocess_english, read_translation_pairs,
                      split_by_source, tokenize_chinese, tokenize_english, truncate_pad)
from .seq2seq import (Seq2SeqDecoder, Seq2SeqEncoder, Seq2SeqTrainResult, build_seq2seq,
                      decoder_inputs, masked_cross_entropy, scheduled_sampling_logits,
                      sequence_mask, train_or_load_seq2seq, train_seq2seq)
from .bleu import bleu_stats, corpus_bleu, sentence_bleu
from .decoding import (beam_search, evaluate_bleu, exhaustive_search, greedy_search,
                       markov_model, translate)
from .checkpoint import CheckpointError, checkpoint_path, load_or_train

# 第 3 章：注意力机制（基础）
from .attention import AdditiveAttention, DotProductAttention, masked_softmax, valid_key_mask
from .kernel_regression import (NWKernelRegression, average_pooling, gaussian_kernel_weights,
                                kernel_target, leave_one_out, make_kernel_data, nadaraya_watson,
                                train_kernel_regression)
from .bahdanau import BAHDANAU_CMN_CONFIG, BahdanauDecoder, build_bahdanau

# 第 2 章：现代循环神经网络（门控与深度）
from .modern_rnn import (BiRNNScratch, DeepRNNScratch, GRUCellScratch, GRUScratch, LSTMCellScratch,
                         LSTMScratch, RecurrentLMScratch, RecurrentScratch, RNNCellScratch,
                         PrefixPerplexity, evaluate_fill_blank, mask_tokens, prefix_perplexity,
                         run_cell, train_fill_blank)

# 第 3 章：多头注意力与 Transformer
from .multihead import MultiHeadAttention, attention_valid_lens
from .positional import PositionalEncoding, relative_shift_matrix, sinusoidal_encoding
from .transformer import (PositionWiseFFN, TransformerDecoder, TransformerDecoderBlock,
                          TransformerDecoderState, TransformerEncoder, TransformerEncoderBlock,
                          keep_attention_weights, make_transformer, warmup_lr_lambda,
                          warmup_scheduler)

# 第 4 章：预训练 BERT（数据）
from .bert_data import (NER_TAGS, NLI_LABELS, bio_spans, load_reviews, pfr_to_bio, read_ocnli,
                        read_people_daily, read_reviews, span_f1, split_examples)

# 第 5 章：生成式预训练 GPT（诗词数据、分词器、采样）
from .poetry import (Poem, is_five_char_quatrain, load_poems, poem_shape, poems_fingerprint,
                     read_poems, split_poems)
from .tokenizers import BPETokenizer, CharTokenizer, load_tokenizer
from .sampling import filter_logits, greedy_next, sample_next, top_k_filter, top_p_filter
