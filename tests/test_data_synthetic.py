"""Synthetic domains: ground truth consistent with the pixels, determinism, difficulty."""
from __future__ import annotations

import pytest
import torch

from data_prep import DataError, baselines, render
from data_prep.synthetic import DOMAINS, faces, figures

N = 64  # two random chunks, so chunk seeding is exercised


@pytest.fixture(scope="module")
def rendered():
    """Each domain once at 64 px (module-wide: rendering is the slow part)."""
    return {name: render(name, N, 64, seed=3) for name in DOMAINS}


def pixel_of(points: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(row, col) of the pixel whose centre is nearest to (x, y) in [-1, 1]."""
    col = ((points[..., 0] + 1.0) * size / 2.0).floor().long().clamp(0, size - 1)
    row = ((points[..., 1] + 1.0) * size / 2.0).floor().long().clamp(0, size - 1)
    return row, col


@pytest.mark.parametrize("name", list(DOMAINS))
def test_shapes_types_and_masks(rendered, name):
    r = rendered[name]
    assert r.images.shape == (N, 3, 64, 64) and r.images.dtype == torch.uint8
    assert r.part_labels.shape == (N, 64, 64) and r.part_labels.dtype == torch.uint8
    assert torch.equal(r.fg_masks, r.part_labels > 0)
    assert int(r.part_labels.max()) <= len(r.domain.part_names)
    fg = r.fg_masks.float().mean((1, 2))
    assert bool((fg > 0.03).all()) and bool((fg < 0.9).all()), "every image shows an object and some background"
    # Most parts of the domain appear somewhere in the batch.
    present = torch.bincount(r.part_labels.flatten().long(), minlength=len(r.domain.part_names) + 1)[1:] > 0
    assert present.float().mean() >= 0.8


@pytest.mark.parametrize("size", [32, 128])
def test_any_size_gives_the_same_scenes(size):
    small, ref = render("faces", 8, size, seed=5), render("faces", 8, 64, seed=5)
    assert small.images.shape[-1] == size
    assert torch.allclose(small.landmarks, ref.landmarks, atol=1e-5), "geometry does not depend on the size"
    # Downsampled to 32 px the two renderings agree closely.
    a = torch.nn.functional.interpolate(small.images.float(), size=32, mode="area")
    b = torch.nn.functional.interpolate(ref.images.float(), size=32, mode="area")
    assert (a - b).abs().mean() < 6.0


def test_deterministic_per_seed_and_prefix_stable():
    a, b, c = render("birds", 40, 32, seed=1), render("birds", 40, 32, seed=1), render("birds", 40, 32, seed=2)
    assert torch.equal(a.images, b.images) and torch.equal(a.part_labels, b.part_labels)
    assert not torch.equal(a.images, c.images)
    head = render("birds", 7, 32, seed=1)
    assert torch.equal(head.images, a.images[:7]), "the first k images of a larger set are the same"


def test_worker_processes_draw_the_same_images():
    a, b = render("figures", 70, 32, seed=9), render("figures", 70, 32, seed=9, workers=2)
    assert torch.equal(a.images, b.images) and torch.equal(a.part_labels, b.part_labels)
    assert torch.equal(a.landmarks, b.landmarks) and torch.equal(a.visible, b.visible)


def test_edges_are_anti_aliased():
    """A disc's coverage is fractional only in a band about one pixel wide around its edge, and
    sums to its true area: edges are anti-aliased, not stair-stepped."""
    from data_prep.synthetic.raster import Frame, circle, coverage

    size, r = 64, 0.41
    f = Frame.image(1, size)
    cov = coverage(circle(f, torch.tensor(0.07).view(1, 1, 1), torch.tensor(-0.05).view(1, 1, 1), r), f.px)[0]
    area_px = torch.pi * (r * size / 2) ** 2
    assert abs(float(cov.sum()) - area_px) < 0.005 * area_px
    soft = (cov > 0.02) & (cov < 0.98)
    dist = ((f.u[0] - 0.07) ** 2 + (f.v[0] + 0.05) ** 2).sqrt()
    assert int(soft.sum()) > 0.8 * 2 * torch.pi * r * size / 2, "most edge pixels are partly covered"
    assert float(((dist[soft] - r).abs() * size / 2).max()) <= 1.0


def test_parts_blend_at_their_edges(rendered):
    # Where labels change between horizontal neighbours, a hard rasteriser puts one of the two
    # colours in each pixel; soft edges add pixels whose colour is strictly between them.
    r = rendered["flowers"]
    img = r.images.float()
    change = r.part_labels[:, :, 1:-1] != r.part_labels[:, :, 2:]
    left, mid, right = img[:, :, :, :-2], img[:, :, :, 1:-1], img[:, :, :, 2:]
    strictly_between = (((mid - left) * (right - mid)) > 4.0).all(1) & ((right - left).abs() > 24).all(1)
    contrast = ((right - left).abs() > 24).all(1)
    assert float(strictly_between[change & contrast].float().mean()) > 0.3


def test_backgrounds_are_textured_and_varied(rendered):
    r = rendered["faces"]
    bg = ~r.fg_masks.unsqueeze(1).expand_as(r.images)
    spread = torch.stack([r.images[i].float()[bg[i]].view(3, -1).std(1).mean() for i in range(N)])
    assert float(spread.median()) > 12.0, "not flat colours"
    means = torch.stack([r.images[i].float()[bg[i]].view(3, -1).mean(1) for i in range(N)])
    assert float(means.std(0).mean()) > 25.0, "backgrounds differ between images"


def test_faces_landmarks_sit_on_their_parts(rendered):
    r = rendered["faces"]
    assert r.domain.landmark_names == ["left_eye", "right_eye", "nose", "mouth_left", "mouth_right"]
    lm = r.landmarks
    assert bool((lm[:, 0, 0] < lm[:, 1, 0]).all()), "left eye is left in the image"
    assert bool((lm[:, 3, 0] < lm[:, 4, 0]).all()), "left mouth corner is left in the image"
    row, col = pixel_of(lm, 64)
    label = r.part_labels[torch.arange(N).unsqueeze(1), row, col]
    assert bool((label[:, 0] == faces.LEFT_EYE).all()) and bool((label[:, 1] == faces.RIGHT_EYE).all())
    assert float((label[:, 2] == faces.NOSE).float().mean()) > 0.9
    assert float(torch.isin(label[:, 3:], torch.tensor([faces.MOUTH, faces.SKIN])).float().mean()) > 0.95
    assert bool(r.visible.all())


def test_wild_faces_vary_and_cover_enough_of_the_image():
    r = render("faces", 256, 64, seed=11)
    head = torch.isin(r.part_labels, torch.tensor([faces.SKIN, faces.HAIR, faces.EARS]))
    rows, cols = head.any(2), head.any(1)
    idx = torch.arange(64)

    def extent(m):
        return (torch.where(m, idx, -1).max(1).values - torch.where(m, idx, 999).min(1).values + 1).clamp(min=0)

    box = extent(rows).float() * extent(cols).float() / 64 ** 2
    assert float(box.min()) >= 0.30, "head box covers >= 30 % of the image (the paper's CelebA filter)"
    eyes = r.landmarks[:, :2].mean(1)
    assert float(eyes.std(0).min()) > 0.06, "position varies"
    tilt = torch.atan2(r.landmarks[:, 1, 1] - r.landmarks[:, 0, 1], r.landmarks[:, 1, 0] - r.landmarks[:, 0, 0])
    assert float(tilt.std()) > 0.1, "in-plane rotation varies"
    aligned = render("faces-aligned", 64, 64, seed=11)
    assert float(aligned.landmarks[:, :2].mean(1).std(0).max()) < 0.03, "aligned faces keep the eyes in place"


def test_figures_keypoints_and_visibility(rendered):
    r = rendered["figures"]
    assert r.landmarks.shape == (N, 18, 2) and len(figures.LANDMARK_NAMES) >= 14
    vis = r.visible
    assert 0.6 < float(vis.float().mean()) < 0.99, "some keypoints are hidden, most are visible"
    outside = (r.landmarks.abs() > 1).any(-1)
    assert not bool((vis & outside).any()), "points outside the image are invisible"
    row, col = pixel_of(r.landmarks, 64)
    on_figure = r.fg_masks[torch.arange(N).unsqueeze(1), row, col]
    assert float(on_figure[vis].float().mean()) > 0.9, "visible keypoints lie on the figure"


def test_figure_scenes_share_one_horizon():
    """Taichi-like backgrounds change only horizontally: averaged over many scenes, the
    row-to-row colour change peaks sharply at the one horizon row all of them share."""
    from data_prep.synthetic import backgrounds
    from data_prep.synthetic.raster import RandomPool, Sampler

    bg = backgrounds.scene(Sampler(RandomPool(torch.Generator().manual_seed(0), 32)), 64)
    rows = bg.mean(-1)  # (B, 3, S) mean colour of each row
    jump = (rows[:, :, 1:] - rows[:, :, :-1]).abs().sum(1).mean(0)  # (S - 1,)
    horizon = int((backgrounds.HORIZON + 1.0) * 32)
    assert abs(int(jump.argmax()) - (horizon - 1)) <= 1
    assert float(jump.max()) > 4.0 * float(jump.median())


def test_trivial_baselines_are_clearly_worse_than_ground_truth():
    """Mean landmark position and border-colour foreground against what the true parts allow."""
    for name in ("faces", "figures", "birds", "flowers"):
        r = render(name, 320, 64, seed=7)
        train, test = slice(0, 256), slice(256, 320)
        if r.landmarks is not None:
            centres = baselines.part_centres(r.part_labels, len(r.domain.part_names)).flatten(1)
            mean = baselines.mean_landmarks(r.landmarks[train], 64)
            if r.domain.landmark_protocol == "mafl":
                gt = baselines.regress(centres[train], r.landmarks[train], centres[test], bias=False)
                err_mean = baselines.iod_error(mean, r.landmarks[test])
                err_gt = baselines.iod_error(gt, r.landmarks[test])
                assert err_mean > 25.0 and err_gt < 6.0 and err_mean > 5 * err_gt, (err_mean, err_gt)
            else:
                vis = r.visible
                gt = baselines.regress(centres[train], r.landmarks[train], centres[test], bias=True,
                                       train_visible=vis[train])
                err_mean = baselines.pixel_error(mean, r.landmarks[test], vis[test], 64)
                err_gt = baselines.pixel_error(gt, r.landmarks[test], vis[test], 64)
                assert err_mean > 5 * err_gt, (err_mean, err_gt)
        otsu = baselines.mask_iou(baselines.border_colour_foreground(r.images[test]), r.fg_masks[test])
        best, _ = baselines.best_threshold_iou(r.images[test], r.fg_masks[test])
        assert max(otsu, best) < 0.7, (name, otsu, best)
        assert baselines.mask_iou(r.fg_masks[test], r.fg_masks[test]) == 1.0


def test_bad_arguments():
    with pytest.raises(DataError, match="unknown synthetic domain 'dogs'"):
        render("dogs", 4, 32)
    with pytest.raises(DataError, match="size 8"):
        render("faces", 4, 8)
    with pytest.raises(DataError, match="n must be"):
        render("faces", 0, 32)
