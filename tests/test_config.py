"""Presets, config round trips through checkpoints, overrides and their errors."""
import io

import pytest
import torch

from ganseg_lib import PRESETS, Generator
from ganseg_lib.config import ConfigError, GANSegConfig, GeneratorConfig, apply_overrides, from_dict, get_preset, to_dict

PAPER = ["paper-celeba-wild", "paper-celeba-aligned", "paper-taichi", "paper-cub", "paper-flowers"]


def test_required_presets_and_paper_values():
    for name in PAPER + ["cpu-small", "cpu-tiny"]:
        assert name in PRESETS and PRESETS[name].name == name
    for name in PAPER:
        g = PRESETS[name].generator
        assert (g.image_size, g.resolutions, g.channels) == (128, (32, 32, 64, 128), (512, 256, 128, 64))
        assert (g.z_dim, g.embed_dim, g.points_per_part) == (256, 64, 4)
        assert g.n_parts == (10 if name == "paper-taichi" else 8)
        t = PRESETS[name].train
        assert (t.lr_g, t.lr_d, t.betas, t.batch) == (1e-4, 4e-4, (0.5, 0.9), 64)
    assert PRESETS["paper-taichi"].loss.lambda_con == 30 and PRESETS["paper-flowers"].loss.lambda_con == 30
    assert PRESETS["paper-cub"].loss.lambda_con == 10 and PRESETS["paper-celeba-wild"].loss.lambda_con == 10
    assert PRESETS["cpu-small"].generator.image_size == 64 and PRESETS["cpu-tiny"].generator.image_size == 32


def test_unknown_preset_lists_valid_names():
    with pytest.raises(ConfigError) as err:
        get_preset("paper-celeb")
    for name in PRESETS:
        assert name in str(err.value)


def test_config_round_trip_through_a_checkpoint():
    cfg = PRESETS["cpu-tiny"]
    g = Generator(cfg)
    buf = io.BytesIO()
    torch.save({"config": to_dict(cfg), "generator": g.state_dict()}, buf)
    buf.seek(0)
    blob = torch.load(buf, weights_only=True)
    cfg2 = from_dict(blob["config"])
    assert cfg2 == cfg
    g2 = Generator(cfg2)
    g2.load_state_dict(blob["generator"])
    lat = g.sample_latents(2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(g.eval()(lat).image, g2.eval()(lat).image)


def test_from_dict_rejects_unknown_fields():
    data = to_dict(PRESETS["cpu-tiny"])
    data["generator"]["n_part"] = 3
    with pytest.raises(ConfigError, match="generator.n_part"):
        from_dict(data)


def test_overrides():
    cfg = apply_overrides(PRESETS["cpu-tiny"], ["train.batch=8", "generator.n_parts=6", "loss.lambda_con=2.5",
                                                "generator.heatmap=cone", "generator.share_spade_hidden=false"])
    assert cfg.train.batch == 8 and cfg.generator.n_parts == 6 and cfg.loss.lambda_con == 2.5
    assert cfg.generator.heatmap == "cone" and cfg.generator.share_spade_hidden is False
    assert PRESETS["cpu-tiny"].train.batch == 16  # presets are values, untouched
    with pytest.raises(ConfigError, match="train has"):
        apply_overrides(cfg, ["train.bach=8"])
    with pytest.raises(ConfigError, match="unknown section"):
        apply_overrides(cfg, ["trian.batch=8"])
    with pytest.raises(ConfigError, match="expected a value"):
        apply_overrides(cfg, ["train.batch=many"])
    with pytest.raises(ConfigError, match="section.field=value"):
        apply_overrides(cfg, ["train.batch"])
    with pytest.raises(ConfigError, match="heatmap"):
        apply_overrides(cfg, ["generator.heatmap=square"])


def test_inconsistent_configs_are_rejected():
    with pytest.raises(ConfigError, match="image_size"):
        GeneratorConfig(image_size=64)  # resolutions end at 128
    with pytest.raises(ConfigError, match="double"):
        GeneratorConfig(resolutions=(32, 128, 128, 128))
    with pytest.raises(ConfigError, match="discriminator"):
        GANSegConfig(generator=PRESETS["cpu-tiny"].generator)  # paper D expects 128 px
