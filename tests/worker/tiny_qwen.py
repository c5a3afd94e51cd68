"""A tiny Qwen-Image pipeline with random weights, built in process and saved like a real one.

Same classes and layout as `Qwen/Qwen-Image` (QwenImageTransformer2DModel, AutoencoderKLQwenImage
with the 8x spatial VAE, Qwen2.5-VL text encoder, Qwen2 byte-level BPE tokenizer,
FlowMatchEulerDiscreteScheduler), with minimal widths so a 64x64 image takes a fraction of a
second on a CPU. Nothing is downloaded.

The tokenizer learns one merge chain per word of the pipeline's prompt template, so the
template's prefix is 34 tokens, as with the real tokenizer: `prompt_template_encode_start_idx`
then drops exactly the prefix and the embeddings start at the user's prompt.
"""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler, QwenImagePipeline, QwenImageTransformer2DModel
from tokenizers import pre_tokenizers
from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2Tokenizer

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TEMPLATE_WORDS = (
    "system\nDescribe the image by detailing the color, shape, size, texture, quantity, text, "
    "spatial relationships of the objects and background:\nuser\nassistant\n"
)
HIDDEN = 16


def build_tokenizer() -> Qwen2Tokenizer:
    """Byte-level BPE over all 256 bytes, with whole-word merges for the template's words."""
    vocab: dict[str, int] = {}
    for token in SPECIAL_TOKENS + sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab.setdefault(token, len(vocab))
    merges: list[tuple[str, str]] = []
    splitter = Qwen2Tokenizer(vocab=dict(vocab), merges=[])._tokenizer.pre_tokenizer
    for piece, _ in splitter.pre_tokenize_str(TEMPLATE_WORDS):
        for end in range(2, len(piece) + 1):
            merge = (piece[: end - 1], piece[end - 1])
            if piece[:end] not in vocab:
                vocab[piece[:end]] = len(vocab)
                merges.append(merge)
    return Qwen2Tokenizer(vocab=vocab, merges=merges, additional_special_tokens=SPECIAL_TOKENS[1:])


def build_tiny_pipeline() -> QwenImagePipeline:
    tokenizer = build_tokenizer()
    vocab_size = len(tokenizer)
    torch.manual_seed(0)
    transformer = QwenImageTransformer2DModel(
        patch_size=2,
        in_channels=16,
        out_channels=4,
        num_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=HIDDEN,
        guidance_embeds=False,
        axes_dims_rope=(8, 4, 4),
    )
    torch.manual_seed(0)
    vae = AutoencoderKLQwenImage(
        base_dim=8,
        z_dim=4,
        dim_mult=[1, 2, 4, 4],  # four levels: 8x spatial, like the real VAE, so sizes go by 16
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        latents_mean=[0.0] * 4,
        latents_std=[1.0] * 4,
    )
    torch.manual_seed(0)
    text_config = {
        "hidden_size": HIDDEN,
        "intermediate_size": HIDDEN,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"},
        "rope_theta": 1000000.0,
        "vocab_size": vocab_size,
        "bos_token_id": 0,
        "eos_token_id": 0,
    }
    vision_config = {"depth": 1, "hidden_size": HIDDEN, "intermediate_size": HIDDEN, "num_heads": 2, "out_hidden_size": HIDDEN}
    config = Qwen2_5_VLConfig(
        text_config=text_config,
        vision_config=vision_config,
        hidden_size=HIDDEN,
        vocab_size=vocab_size,
        bos_token_id=0,
        eos_token_id=0,
        # image tokens are never fed to a text-to-image encoder; ids past the vocabulary
        vision_start_token_id=vocab_size,
        vision_end_token_id=vocab_size + 1,
        vision_token_id=vocab_size + 2,
        image_token_id=vocab_size + 3,
        video_token_id=vocab_size + 4,
    )
    text_encoder = Qwen2_5_VLForConditionalGeneration(config).eval()
    return QwenImagePipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )


def save_tiny_pipeline(folder: Path) -> Path:
    """Build and save the tiny pipeline; `folder` then loads like a downloaded model."""
    build_tiny_pipeline().save_pretrained(folder)
    return folder


def save_random_lightning_lora(folder: Path, pipeline_folder: Path, weight_name: str, rank: int = 4) -> Path:
    """A LoRA file for the tiny transformer, in the format `load_lora_weights` reads."""
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    transformer = QwenImageTransformer2DModel.from_pretrained(pipeline_folder, subfolder="transformer")
    transformer.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                       init_lora_weights=False))
    layers = get_peft_model_state_dict(transformer)
    QwenImagePipeline.save_lora_weights(folder, transformer_lora_layers=layers, weight_name=weight_name)
    return folder / weight_name
