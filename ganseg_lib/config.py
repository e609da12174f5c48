"""Frozen configuration objects and the named presets.

Every model, loss and training loop is built from a `GANSegConfig`; nothing reads a global
setting.  Presets are plain values in `PRESETS`.  A config round-trips through `to_dict` /
`from_dict`, which is how it travels inside checkpoints.

Coordinates everywhere in the project are defined once, in coords.py.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields, replace
from typing import Any


class ConfigError(ValueError):
    """A preset name, override or config dictionary that does not fit the schema."""


@dataclass(frozen=True)
class GeneratorConfig:
    image_size: int = 128  # output side S in pixels (square images)
    n_parts: int = 8  # K, number of parts; masks have K + 1 channels (last = background)
    points_per_part: int = 4  # n_per, points generated per part (eq. 1)
    z_dim: int = 256  # size of each Gaussian noise vector (point, appearance, background)
    mlp_width: int = 256  # hidden width of the level-1 and background MLPs
    point_mlp_layers: int = 4  # hidden layers of MLP_point (eq. 1)
    app_mlp_layers: int = 3  # hidden layers of MLP_app (eq. 2) and MLP_bg_app (eq. 9)
    point_divisor: float = 20.0  # points = tanh(h / divisor); authors use 20, small values spread points sooner
    embed_dim: int = 64  # D_emb, part embedding size and width of foreground/background features
    resolutions: tuple[int, ...] = (32, 32, 64, 128)  # feature-map side per level, px; each step x1 or x2
    channels: tuple[int, ...] = (512, 256, 128, 64)  # foreground/background width entering each level
    mask_channels: int = 64  # width of the mask stack between its first and last block (= D_emb in the paper)
    spade_hidden: int = 128  # width of the shared SPADE conv that reads the condition map
    share_spade_hidden: bool = False  # one SPADE hidden activation per block instead of per SPADE layer
    spade_kernel: int = 3  # kernel of SPADE's gamma/beta conv: 3 as in SPADE, 1 for light models
    coarse_masks: bool = False  # mask stack at most at half the image side, its logits up-sampled x2 (cheaper)
    # True: the mask stack covers every pixel any foreground level reads, so the image is exactly
    # equivariant.  False: it covers only what the finest level and the head read, and coarser
    # levels get the pooled masks edge-padded out to their margin: approximately equivariant (as
    # the paper's zero-padded design is), about a third fewer generator FLOPs at 128 px
    # (benchmarks/bench_margins.py)
    exact_masks: bool = True
    heatmap: str = "gaussian"  # "gaussian" exp(-d^2/sigma^2) as in eq. 4, or "cone" clamp(1 - d/sigma) as released
    scale: str = "std"  # sigma_k from the n_per points: "std" (eq. 1) or "mad" (mean abs deviation, released)
    head_hidden: int = 64  # width of the first conv of the output head (eq. 11)
    bg_shift_max: tuple[float, float] = (0.5, 0.5)  # |bg_shift| bound in [-1,1] units, (x, y); Taichi uses y = 0

    def __post_init__(self) -> None:
        if len(self.resolutions) != len(self.channels):
            raise ConfigError(f"generator.resolutions {self.resolutions} and channels {self.channels} differ in length")
        if self.resolutions[-1] != self.image_size:
            raise ConfigError(f"generator.resolutions must end at image_size {self.image_size}, got {self.resolutions}")
        for a, b in zip(self.resolutions, self.resolutions[1:]):
            if b not in (a, 2 * a):
                raise ConfigError(f"generator.resolutions must stay or double at each level, got {self.resolutions}")
        if self.heatmap not in ("gaussian", "cone"):
            raise ConfigError(f"generator.heatmap must be 'gaussian' or 'cone', got {self.heatmap!r}")
        if self.scale not in ("std", "mad"):
            raise ConfigError(f"generator.scale must be 'std' or 'mad', got {self.scale!r}")
        if self.spade_kernel not in (1, 3):
            raise ConfigError(f"generator.spade_kernel must be 1 or 3, got {self.spade_kernel}")
        if self.coarse_masks and self.resolutions[0] > self.image_size // 2:
            raise ConfigError(f"generator.coarse_masks needs a level at half the image side or below; "
                              f"resolutions are {self.resolutions}")
        if self.points_per_part < 2:
            raise ConfigError("generator.points_per_part must be >= 2 (a part's scale needs a spread)")
        if self.embed_dim % 2 or min(self.channels) % 2:
            raise ConfigError("generator.embed_dim and channels must be even (sin and cos halves)")


@dataclass(frozen=True)
class DiscriminatorConfig:
    channels: tuple[int, ...] = (64, 128, 256, 512, 512, 512)  # one residual down block each; ends at 2x2
    fc_width: int = 512  # hidden width of the linear head
    # minibatch standard deviation (Karras et al. 2018, ProGAN): groups of this many images append the
    # mean std of their 2x2 features as one more channel, so D can see a batch without variety; 0: off
    # (the paper and the released code have none)
    minibatch_std_group: int = 0


@dataclass(frozen=True)
class LossConfig:
    lambda_con: float = 10.0  # weight of the concentration loss, eq. 16 (Table 4)
    lambda_area: float = 1.0  # weight of the area loss, eq. 17 (Table 4)
    r1_gamma: float = 10.0  # R1 weight gamma in gamma/2 * ||grad D(x)||^2 (eq. 15, lambda_gp)
    r1_interval: int = 16  # R1 runs every N-th D step and is multiplied by N (lazy regularisation)
    reg_interval: int = 2  # concentration and area run every N-th G step, multiplied by N


AUGMENT_OPERATIONS = ("color", "translation", "cutout")  # see augment.py
ALIVE_MASS = 0.01  # a part whose mask covers less than this share of the image counts as dead (log, evaluation)


@dataclass(frozen=True)
class AugmentConfig:
    policy: tuple[str, ...] = ()  # D-input augmentations in order, of "color", "translation", "cutout"; () = off
    p: float = 1.0  # probability that each operation touches a sample (1 = DiffAugment); start value when adaptive
    ada_target: float = 0.0  # > 0: adapt p (ADA) so that E[sign D(real)] stays near this target, e.g. 0.6
    ada_speed_images: int = 20000  # real images over which adaptive p can move from 0 to 1
    # Jitter of the real images only (G must learn it, unlike the policy above): see augment.jitter_reals
    real_zoom: float = 0.0  # each real image is enlarged by U(1, 1 + real_zoom) about a random centre; 0 = off
    real_shift: float = 0.0  # extra shift of up to this share of the side, reflected at the border; 0 = off
    real_flip: bool = False  # mirror half of the real images left-right

    def __post_init__(self) -> None:
        unknown = [op for op in self.policy if op not in AUGMENT_OPERATIONS]
        if unknown:
            raise ConfigError(f"augment.policy: unknown operation(s) {', '.join(unknown)}; "
                              f"use {', '.join(AUGMENT_OPERATIONS)}")
        if not 0.0 <= self.p <= 1.0:
            raise ConfigError(f"augment.p must be in [0, 1], got {self.p}")
        if not 0.0 <= self.ada_target < 1.0:
            raise ConfigError(f"augment.ada_target must be in [0, 1), got {self.ada_target}")
        if not (0.0 <= self.real_zoom <= 1.0 and 0.0 <= self.real_shift <= 0.5):
            raise ConfigError(f"augment.real_zoom must be in [0, 1] and augment.real_shift in [0, 0.5], "
                              f"got {self.real_zoom} and {self.real_shift}")

    @property
    def jitters_reals(self) -> bool:
        return self.real_zoom > 0 or self.real_shift > 0 or self.real_flip


@dataclass(frozen=True)
class TrainConfig:
    batch: int = 64  # images per step (per process)
    steps: int = 30000  # generator updates
    lr_g: float = 1e-4  # Adam learning rate of G
    lr_d: float = 4e-4  # Adam learning rate of D
    betas: tuple[float, float] = (0.5, 0.9)  # Adam betas for G and D
    ema_decay: float = 0.999  # decay of the EMA copy of G used downstream
    checkpoint_every: int = 1000  # steps between atomic checkpoints and sample grids
    log_every: int = 50  # steps between rows of log.csv


@dataclass(frozen=True)
class SegmenterConfig:
    arch: str = "deeplabv3_resnet50"  # torchvision segmentation model built with no pretrained weights
    steps: int = 10000  # distillation steps
    batch: int = 64  # generated pairs per step
    lr: float = 3e-4  # Adam learning rate
    betas: tuple[float, float] = (0.9, 0.999)  # Adam betas
    input_scale: int = 1  # the segmenter sees the image enlarged by this factor (x); small images need 2-4
    bn_recalibration: int = 32  # batches of generated images that re-estimate BatchNorm statistics at the end (0: off)


@dataclass(frozen=True)
class GANSegConfig:
    name: str = "custom"  # preset this config came from, for reports
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)

    def __post_init__(self) -> None:
        size, n_down = self.generator.image_size, len(self.discriminator.channels)
        if size != 2 * 2**n_down:
            raise ConfigError(
                f"discriminator.channels has {n_down} down blocks, which takes {2 * 2**n_down} px to 2x2, "
                f"but image_size is {size}")


# --------------------------------------------------------------------------------------------
# presets

def _paper(name: str, n_parts: int = 8, lambda_con: float = 10.0, bg_y: float = 0.5) -> GANSegConfig:
    return GANSegConfig(
        name=name,
        generator=GeneratorConfig(n_parts=n_parts, bg_shift_max=(0.5, bg_y)),
        loss=LossConfig(lambda_con=lambda_con),
    )


def _paper_fast(name: str) -> GANSegConfig:
    # The paper's architecture changed only where the paper is silent: one SPADE hidden
    # activation per block (its SPADE layers read the same condition map) and 1x1 gamma/beta
    # convs (Appendix B.2 gives no kernel size): about a third of the FLOPs per image
    # (benchmarks/measured/README.md).
    cfg = _paper(name)
    return replace(cfg, generator=replace(cfg.generator, share_spade_hidden=True, spade_kernel=1))


def _cpu(name: str, size: int, coarse_masks: bool = False) -> GANSegConfig:
    # Chosen by measurement on a 2-core CPU (benchmarks/bench_speed.py, benchmarks/measured/): thin SPADE with one
    # hidden activation per block and 1x1 gamma/beta convs (small margins, few FLOPs), batch 16
    # and a point divisor of 2 (points spread early).
    if size == 64:
        gen = GeneratorConfig(image_size=64, n_parts=4, z_dim=64, mlp_width=64, embed_dim=16,
                              resolutions=(16, 32, 64), channels=(32, 16, 16), mask_channels=16,
                              spade_hidden=16, share_spade_hidden=True, spade_kernel=1, point_divisor=2.0,
                              head_hidden=16)
        disc = DiscriminatorConfig(channels=(16, 32, 64, 128, 128), fc_width=128)
    else:
        gen = GeneratorConfig(image_size=32, n_parts=4, z_dim=64, mlp_width=64, embed_dim=16,
                              resolutions=(16, 32), channels=(16, 16), mask_channels=8,
                              spade_hidden=16, share_spade_hidden=True, spade_kernel=1, point_divisor=2.0,
                              head_hidden=16, coarse_masks=coarse_masks)
        disc = DiscriminatorConfig(channels=(16, 32, 64, 64), fc_width=64)
    return GANSegConfig(
        name=name, generator=gen, discriminator=disc,
        loss=LossConfig(lambda_con=10.0, r1_gamma=1.0, r1_interval=4),
        train=TrainConfig(batch=16, steps=9000, lr_g=2e-4, lr_d=4e-4, ema_decay=0.995,
                          checkpoint_every=500, log_every=25),
        # LR-ASPP MobileNetV3 on the image enlarged to 64 px: slower than at 32 px but clearly more
        # accurate on 32-px faces (benchmarks/bench_segmenter.py)
        segmenter=SegmenterConfig(arch="lraspp_mobilenet_v3_large", steps=1500, batch=32, lr=1e-3,
                                  input_scale=max(1, 64 // size)),
    )


PRESETS: dict[str, GANSegConfig] = {
    "paper-celeba-wild": _paper("paper-celeba-wild"),
    "paper-celeba-aligned": _paper("paper-celeba-aligned"),
    "paper-taichi": _paper("paper-taichi", n_parts=10, lambda_con=30.0, bg_y=0.0),
    "paper-cub": _paper("paper-cub"),
    "paper-flowers": _paper("paper-flowers", lambda_con=30.0),
    "paper-fast": _paper_fast("paper-fast"),
    "cpu-small": _cpu("cpu-small", 64),
    "cpu-tiny": _cpu("cpu-tiny", 32),
    # cpu-tiny with its mask stack at 16 px, logits up-sampled: exact for even shifts, as cpu-tiny
    # (whose coarsest level is 16 px) already is; fewer FLOPs (benchmarks/measured/, README "Speed")
    "cpu-tiny-coarse": _cpu("cpu-tiny-coarse", 32, coarse_masks=True),
}


def get_preset(name: str) -> GANSegConfig:
    """The preset called `name`; an unknown name raises ConfigError listing the valid ones."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; valid presets: {', '.join(sorted(PRESETS))}")
    return PRESETS[name]


# --------------------------------------------------------------------------------------------
# dictionaries (checkpoints) and overrides (command line)

def to_dict(cfg: Any) -> dict:
    """Plain nested dict of a config (tuples become lists), safe for torch.save(weights_only)."""
    def plain(v: Any) -> Any:
        if isinstance(v, (tuple, list)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v
    return plain(dataclasses.asdict(cfg))


def _build(cls: type, data: dict, where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"unknown config field(s) {', '.join(where + k for k in unknown)}")
    kwargs = {}
    for name, value in data.items():
        default = getattr(cls(), name)
        if dataclasses.is_dataclass(default):
            kwargs[name] = _build(type(default), value, f"{where}{name}.")
        elif isinstance(default, tuple):
            kwargs[name] = tuple(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


def from_dict(data: dict) -> GANSegConfig:
    """Inverse of `to_dict`; unknown keys raise ConfigError naming them."""
    return _build(GANSegConfig, data, "")


def _parse_value(text: str, current: Any, key: str, annotation: str = "") -> Any:
    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        if isinstance(current, int):
            return int(text)
        if isinstance(current, float):
            return float(text)
        if isinstance(current, tuple):
            parts = [p for p in text.strip("()[] ").split(",") if p.strip()]
            kind = type(current[0]) if current else (str if "str" in annotation else float)
            return tuple(kind(p) for p in parts)
    except ValueError:
        raise ConfigError(f"--set {key}={text}: expected a value like {current!r}") from None
    return text


def apply_overrides(cfg: GANSegConfig, assignments: list[str]) -> GANSegConfig:
    """Apply `section.field=value` strings, e.g. ``train.batch=16`` or ``generator.n_parts=4``."""
    for item in assignments:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected section.field=value, e.g. train.batch=16")
        key, text = item.split("=", 1)
        path = key.strip().split(".")
        if len(path) != 2 or not hasattr(cfg, path[0]) or not dataclasses.is_dataclass(getattr(cfg, path[0])):
            sections = [f.name for f in fields(cfg) if f.name != "name"]
            raise ConfigError(f"--set {key}: unknown section; use one of {', '.join(sections)} as section.field")
        section = getattr(cfg, path[0])
        names = [f.name for f in fields(section)]
        if path[1] not in names:
            raise ConfigError(f"--set {key}: unknown field; {path[0]} has {', '.join(names)}")
        annotation = str(next(f.type for f in fields(section) if f.name == path[1]))
        value = _parse_value(text.strip(), getattr(section, path[1]), key, annotation)
        cfg = replace(cfg, **{path[0]: replace(section, **{path[1]: value})})
    return cfg
