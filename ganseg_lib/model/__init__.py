"""The paper's model (eq. 1-12): points -> masks -> foreground and background -> image, and the discriminator.

Levels: `points` (eq. 1-3), `masks` (eq. 4-6), `foreground_background` (eq. 7-11), put together
in `generator`; their blocks in `layers` and `spade`; faster forms of the same operations in
`fast`; `discriminator` judges the images.
"""
from .discriminator import Discriminator
from .generator import Generator, GeneratorOutput, Latents

__all__ = ["Generator", "GeneratorOutput", "Latents", "Discriminator"]
