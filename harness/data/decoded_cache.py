"""A disk cache of decoded IDX arrays, keyed by the content of the source files.

Decompressing and checking Fashion-MNIST's gz files costs 0.4-1.8 s per process here;
loading the same arrays from an uncompressed .npz takes a fraction of that. The key is a
SHA-256 of the source files' content (about 0.06 s for Fashion-MNIST's 30 MB here), so a
replaced file gets a new key even when its size and time stamp are the same. What the cache
returns is checked by the caller like freshly decoded arrays; a bad entry is decoded again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from harness.atomic import atomic_path


def cache_dir() -> Path:
    return Path(os.environ.get("MLPTUNE_CACHE_DIR") or Path.home() / ".cache" / "mlptune")


def files_key(paths: Sequence[Path]) -> str:
    combined = hashlib.sha256()
    for path in paths:  # one hash per file, then a hash of those: file boundaries cannot shift
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        combined.update(digest.digest())
    return combined.hexdigest()[:32]


def load(name: str, key: str) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None when absent or unreadable (then the caller decodes again)."""
    path = cache_dir() / f"{name}-{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {k: stored[k] for k in stored.files}
    except (OSError, ValueError, EOFError):
        return None


def store(name: str, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Write the arrays; a cache that cannot be written is skipped, never an error."""
    try:
        with atomic_path(cache_dir() / f"{name}-{key}.npz") as temporary:
            np.savez(temporary, **arrays)
    except OSError:
        pass
