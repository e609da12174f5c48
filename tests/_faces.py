"""Prepared data files of random 40-px images with 5 MAFL-order landmarks that move as a test asks."""
import numpy as np
from PIL import Image

from data_prep.fileformat import save
from data_prep.folder import folder

BASE = np.array([[14.0, 16.0], [26.0, 16.0], [20.0, 22.0], [15.0, 28.0], [25.0, 28.0]])  # a face in 40 px


def faces(tmp_path, n: int, move) -> str:
    """n random 40-px images whose 5 MAFL-order landmarks are move(rng) applied to BASE; a prepared file."""
    root = tmp_path / "faces"
    root.mkdir()
    rng = np.random.default_rng(0)
    rows, splits = ["file," + ",".join(f"x{i},y{i}" for i in range(1, 6))], ["file,split"]
    for i in range(n):
        name = f"f{i:03d}.png"
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(root / name)
        pts = move(rng)
        rows.append(name + "," + ",".join(f"{v:.4f}" for v in pts.reshape(-1)))
        splits.append(f"{name},{'test' if i % 4 == 0 else 'train'}")
    (tmp_path / "points.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "splits.csv").write_text("\n".join(splits) + "\n")
    path = tmp_path / "faces.ganseg-data"
    save(folder(root, size=32, landmarks=tmp_path / "points.csv", splits=tmp_path / "splits.csv",
                landmark_protocol="mafl", progress=False), path)
    return path


def similar(rng) -> np.ndarray:
    """BASE under a random similarity transform about its centre: nothing else varies."""
    angle, scale, shift = rng.uniform(-0.3, 0.3), rng.uniform(0.8, 1.2), rng.uniform(-3, 3, size=2)
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre = BASE.mean(axis=0)
    return (BASE - centre) @ rot.T + centre + shift
