"""Tiny BERT-architecture pieces trained here, for tests, benchmarks and the demo.

Nothing can be downloaded, so the fixtures train their own WordPiece tokenizer with
``tokenizers`` and build networks from a config.

Examples
--------
>>> tokenizer = train_wordpiece_tokenizer(["a fine film", "a dull film"], "tok")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def train_wordpiece_tokenizer(texts: Sequence[str], folder: str | Path, *, vocab_size: int = 300,
                              model_max_length: int = 64):
    """A lower-casing WordPiece tokenizer (BERT's scheme) trained on ``texts``, as a transformers
    fast tokenizer saved under ``folder``.

    Returns
    -------
    transformers.PreTrainedTokenizerFast
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator(
        list(texts), trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    )
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=model_max_length,
    )
    fast.save_pretrained(folder)
    return fast
