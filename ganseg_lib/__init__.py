"""GANSeg: unsupervised part segmentation by hierarchical image generation (He et al., CVPR 2022)."""
from .config import PRESETS, GANSegConfig, get_preset
from .model import Discriminator, Generator, GeneratorOutput, Latents

__all__ = ["PRESETS", "GANSegConfig", "get_preset", "Generator", "GeneratorOutput", "Latents", "Discriminator"]
