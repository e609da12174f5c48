"""Which light torchvision segmenter to distill into on CPU: speed and accuracy per candidate.

Proxy task (no GAN needed): supervised segmentation of 32-px synthetic faces into K + 1 = 5
classes (face skin, hair, facial features, neck and clothes, background), the granularity a
cpu preset's masks have.  Each candidate trains for the same number of steps from scratch;
reported: seconds per step (batch 32, forward + backward + Adam), foreground IoU and mean
class IoU on 512 held-out faces after the BatchNorm statistics are re-estimated (as in
distillation).

    python -m benchmarks.bench_segmenter [--steps 300] [--size 32] [--only lraspp_mobilenet_v3_large:2 ...]

Writes benchmarks/results/segmenter.json.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"
CANDIDATES = [("lraspp_mobilenet_v3_large", 1), ("lraspp_mobilenet_v3_large", 2),
              ("deeplabv3_mobilenet_v3_large", 1), ("deeplabv3_mobilenet_v3_large", 2)]
# faces part labels (data_prep.synthetic.faces.PART_NAMES, 1-based) -> 5 classes, background last
GROUPS = {1: 0, 8: 0, 2: 1, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 9: 3, 10: 3}


def class_map(labels: torch.Tensor) -> torch.Tensor:
    table = torch.full((256,), 4, dtype=torch.long)
    for k, v in GROUPS.items():
        table[k] = v
    return table[labels.long()]


def main() -> None:
    from data_prep import render
    from ganseg_lib.evaluation.metrics import foreground_from_masks, foreground_iou
    from ganseg_lib.training.segmenter import Segmenter, distillation_loss, recalibrate_batchnorm

    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--only", nargs="+", metavar="ARCH:SCALE", help="measure only these candidates")
    args = p.parse_args()
    candidates = CANDIDATES if not args.only else [(c.split(":")[0], int(c.split(":")[1])) for c in args.only]
    data = render("faces", 4096 + 512, args.size, seed=11)
    x = data.images.float() * (2 / 255) - 1
    y = class_map(data.part_labels)
    xtr, ytr, xte, yte = x[:4096], y[:4096], x[4096:], y[4096:]
    results = []
    for arch, scale in candidates:
        torch.manual_seed(0)
        model = Segmenter(arch, 5, scale)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        g = torch.Generator().manual_seed(0)
        model.train()
        start = time.perf_counter()
        for _ in range(args.steps):
            idx = torch.randint(len(xtr), (args.batch,), generator=g)
            loss = distillation_loss(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sec = (time.perf_counter() - start) / args.steps
        # as distillation does: BatchNorm statistics re-estimated on 32 training batches
        recalibrate_batchnorm(model, (xtr[torch.randint(len(xtr), (args.batch,), generator=g)] for _ in range(32)))
        with torch.no_grad():
            probs = torch.cat([model(xte[i:i + 128]).softmax(1) for i in range(0, len(xte), 128)])
        pred = probs.argmax(1)
        ious = [((pred == c) & (yte == c)).sum().item() / max(((pred == c) | (yte == c)).sum().item(), 1)
                for c in range(5)]
        row = {"arch": arch, "input_scale": scale, "params_M": sum(p.numel() for p in model.parameters()) / 1e6,
               "s_per_step": sec, "fg_iou": foreground_iou(foreground_from_masks(probs), yte != 4),
               "mean_class_iou": sum(ious) / 5, "final_loss": loss.item()}
        results.append(row)
        print(json.dumps(row), flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = {"steps": args.steps, "batch": args.batch, "size": args.size, "threads": torch.get_num_threads(),
           "results": results}
    (RESULTS / "segmenter.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
