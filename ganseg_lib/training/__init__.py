"""Training: the GAN loop (`gan`), its run state and checkpoints (`state`), the CSV log (`log`),
several processes (`distributed`), and the distillation into a segmenter (`segmenter`)."""
