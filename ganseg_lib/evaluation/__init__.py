"""Evaluation: the paper's protocols as pure functions (`metrics`), and scoring a segmenter (`evaluate`)."""
