"""The generator by its first import path (ganseg_lib.model.generator holds it)."""
from .model.generator import Generator, GeneratorOutput, Latents  # noqa: F401
