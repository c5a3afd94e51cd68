"""Finding the model's files: a local folder, or the Hugging Face cache, downloading only when allowed.

Weights come from disk only (`local_files_only=True`) unless the operator allows downloads,
so a worker never starts a 58 GB download by surprise; when they are missing, the error says
how to fetch them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from modal_app.inference_errors import ModelWeightsMissing

if TYPE_CHECKING:
    from modal_app.engine_config import EngineConfig

_HUB_SNAPSHOT = re.compile(r"models--(?P<org>[^/]+?)--(?P<name>[^/]+)/snapshots/(?P<commit>[0-9a-f]{40})")


def describe_revision(folder: Path, fallback: str) -> str:
    """`org/name@commit` for a Hugging Face cache snapshot, else `local:<folder>`."""
    match = _HUB_SNAPSHOT.search(folder.resolve().as_posix())
    if match:
        return f"{match['org']}/{match['name']}@{match['commit']}"
    return f"local:{folder.resolve()}" if folder.is_dir() else fallback


def _looks_like_a_path(model: str) -> bool:
    """Hub ids are `org/name`; anything else that is not on disk is a folder that is missing."""
    return model.startswith(("/", ".", "~")) or model.count("/") != 1


def fetch_hint(config: EngineConfig) -> str:
    cache = f" --cache-dir {config.cache_dir}" if config.cache_dir else ""
    return (
        f"Fetch the weights once with `hf download {config.model}{cache}` (about 58 GB for Qwen-Image; "
        "on Modal: `modal run modal_app/qwen_generator.py::download_weights`), point the model setting at a "
        "folder saved with save_pretrained, or allow downloads (--allow-download / TENKAIGEN_ALLOW_DOWNLOAD=1)."
    )


def resolve_model_folder(config: EngineConfig) -> Path:
    """The pipeline folder `config.model` names: on disk, or its snapshot in the Hub cache."""
    folder = Path(config.model).expanduser()
    if not folder.is_dir() and _looks_like_a_path(config.model):
        raise ModelWeightsMissing(f"the model folder {folder} does not exist. {fetch_hint(config)}")
    if folder.is_dir():
        if not (folder / "model_index.json").is_file():
            raise ModelWeightsMissing(
                f"{folder} is not a diffusers pipeline folder: model_index.json is missing. {fetch_hint(config)}"
            )
        return folder
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(
            config.model,
            revision=config.revision,
            cache_dir=config.cache_dir,
            local_files_only=not config.allow_download,
        ))
    except (LocalEntryNotFoundError, FileNotFoundError) as exc:
        where = config.cache_dir or "the default Hugging Face cache"
        raise ModelWeightsMissing(
            f"the weights of {config.model} are not in {where} and downloads are off. {fetch_hint(config)}"
        ) from exc


def resolve_weights_file(config: EngineConfig, source: str, filename: str) -> Path:
    """A weights file from a local folder or the Hub cache (downloaded only when allowed)."""
    folder = Path(source).expanduser()
    if folder.is_dir():
        path = folder / filename
        if not path.is_file():
            raise ModelWeightsMissing(f"{filename} is not in {folder}")
        return path
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(
            source, filename, cache_dir=config.cache_dir, local_files_only=not config.allow_download
        ))
    except (LocalEntryNotFoundError, FileNotFoundError) as exc:
        cache = f" --cache-dir {config.cache_dir}" if config.cache_dir else ""
        raise ModelWeightsMissing(
            f"{source}/{filename} is not in the Hugging Face cache and downloads are off. "
            f"Fetch it once with `hf download {source} {filename}{cache}`, or allow downloads."
        ) from exc
