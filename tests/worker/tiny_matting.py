"""A tiny matting model shipped the way BiRefNet is: its code saved beside its weights.

`save_pretrained` copies this file into the folder and maps `AutoModelForImageSegmentation`
to it in config.json (`auto_map`), so the worker loads it with the production call,
`AutoModelForImageSegmentation.from_pretrained(folder, trust_remote_code=True)`, offline.
Like BiRefNet's, `forward` returns a list of mask logits whose last item is the final mask.
This file imports only torch and transformers: it is copied alone.
"""

from __future__ import annotations

import torch
from transformers import PretrainedConfig, PreTrainedModel


class TinyMattingConfig(PretrainedConfig):
    model_type = "tenkaigen_tiny_matting"

    def __init__(self, hidden: int = 4, **kwargs: object) -> None:
        self.hidden = hidden
        super().__init__(**kwargs)


class TinyMatting(PreTrainedModel):
    config_class = TinyMattingConfig
    base_model_prefix = "tiny_matting"
    main_input_name = "pixel_values"

    def __init__(self, config: TinyMattingConfig) -> None:
        super().__init__(config)
        self.features = torch.nn.Conv2d(3, config.hidden, 3, padding=1)
        self.mask = torch.nn.Conv2d(config.hidden, 1, 1)
        self.post_init()

    def forward(self, pixel_values: torch.Tensor) -> list[torch.Tensor]:
        return [self.mask(torch.tanh(self.features(pixel_values)))]
