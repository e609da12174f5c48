"""Checkpoint files: plain tensors and numbers, written atomically, read with weights_only=True.

A checkpoint is one `torch.save` dictionary holding only tensors, numbers, strings, lists and
dicts, so `torch.load(..., weights_only=True)` reads it without running any pickled code.
It always carries `format` (= FORMAT), `kind` (what it holds: "gan", "segmenter", "course")
and `config` (the `to_dict` of the GANSegConfig that built the networks), so it loads
without guessing.  Writing goes through a temporary file in the same folder and `os.replace`,
so a reader (or a killed writer) never sees half a file.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

FORMAT = "ganseg-checkpoint/1"


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, truncated, of another kind, or not a ganseg checkpoint."""


_TMP_SUFFIX = ".tmp"  # atomic_write's temporary files: .NAME.<random>.tmp beside NAME


def partial_writes(path: str | os.PathLike) -> list[Path]:
    """Temporary files of `atomic_write(path, ...)` calls that a kill cut short (nothing else
    removes them: the process died before its `finally`)."""
    path = Path(path)
    return sorted(path.parent.glob(f".{path.name}.*{_TMP_SUFFIX}"))


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call write(tmp_path), then rename tmp_path onto path; nothing is left behind on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    atomic_write(path, write)


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any], kind: str) -> None:
    """Write `payload` (must contain "config") with its format and kind stamped in, atomically."""
    if "config" not in payload:
        raise ValueError("a checkpoint payload needs its 'config' dictionary")
    data = dict(payload, format=FORMAT, kind=kind)
    atomic_write(path, lambda tmp: torch.save(data, tmp))


def load_checkpoint(path: str | os.PathLike, kind: str | tuple[str, ...] | None = None,
                    map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint`; every failure is one CheckpointError line."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        text = str(err)
        if "Unsupported global" in text or "Unsupported class" in text:  # weights_only refused pickled code
            raise CheckpointError(f"{path} is not a ganseg checkpoint (it holds objects other than tensors, "
                                  "which are never unpickled)") from None
        first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
        raise CheckpointError(f"{path} is truncated or not a ganseg checkpoint ({first[:120]})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a ganseg checkpoint (no '{FORMAT}' format marker)")
    kinds = (kind,) if isinstance(kind, str) else kind
    if kinds is not None and data.get("kind") not in kinds:
        raise CheckpointError(f"{path} holds a {data.get('kind')!r} checkpoint, expected {' or '.join(kinds)}")
    return data


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def state_to_half(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Floating tensors to float16 (for small shipped files); integer buffers unchanged."""
    return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}


def state_to_float(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
