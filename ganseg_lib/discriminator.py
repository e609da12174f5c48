"""The discriminator by its first import path (ganseg_lib.model.discriminator holds it)."""
from .model.discriminator import Discriminator  # noqa: F401
