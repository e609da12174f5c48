"""Every exercise check accepts its reference solution, rejects its recorded mistake with a hint,
and handles an untouched stub both ways (reminder for students, reference in solutions mode)."""
import importlib
import pkgutil

import pytest

import ganseg_lib.course.exercises as exercises
from ganseg_lib.course.exercises import Exercise, ExerciseError


def all_exercises():
    found = []
    for info in pkgutil.iter_modules(exercises.__path__):
        module = importlib.import_module(f"ganseg_lib.course.exercises.{info.name}")
        for ex in getattr(module, "EXERCISES", []):
            found.append(pytest.param(ex, id=f"{info.name}:{ex.title}"))
    return found


EXERCISES = all_exercises()


def test_every_lesson_module_lists_exercises():
    assert len(EXERCISES) >= 2


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_passes(exercise: Exercise, capsys):
    exercise(exercise.solution())
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("exercise", EXERCISES)
def test_mistake_is_rejected_with_a_hint(exercise: Exercise):
    with pytest.raises(ExerciseError) as info:
        exercise(exercise.mistake())
    assert exercise.title in str(info.value) and len(str(info.value)) > len(exercise.title) + 20


@pytest.mark.parametrize("exercise", EXERCISES)
def test_stub_reminds_or_uses_reference(exercise: Exercise, monkeypatch, capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    # function exercises start as a stub raising NotImplementedError, value exercises as `...`
    untouched = stub if callable(exercise.solution()) else ...
    monkeypatch.setenv("GANSEG_SOLUTIONS", "0")
    exercise(untouched)
    assert "not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("GANSEG_SOLUTIONS", "1")
    exercise(untouched)
    assert "reference solution passes" in capsys.readouterr().out


def test_the_encoding_hints_fire_for_the_mistakes_they_name():
    """2.2: the sign mistake and the swapped halves each get their own hint."""
    import math

    import torch

    from ganseg_lib.course.exercises import lesson02

    def swapped(points, grid, weight, bias):
        rel = (grid[:, :, None, :] - points[None, None]).flatten(2)
        phase = math.pi * (rel @ weight.T + bias)
        return torch.cat((torch.cos(phase), torch.sin(phase)), dim=-1).permute(2, 0, 1)

    check = lesson02.check_relative_encoding
    with pytest.raises(ExerciseError, match="pixel minus the point"):
        check(check.mistake())
    with pytest.raises(ExerciseError, match="halves are swapped"):
        check(swapped)


def test_the_reasoning_hints_of_lessons_03_and_04_fire_for_the_mistakes_they_name():
    """3.1: a channel-by-channel ratio meets 0/0; 3.3: the background first, and the K masks right
    with a wrong background; 4.3: area in [-1, 1] units, the 2 sigma^2 Gaussian, the cone's disc."""
    import math

    import torch

    from ganseg_lib.course.exercises import lesson03, lesson04

    with pytest.raises(ExerciseError, match="0/0"):
        lesson03.check_recover_bg_mask(lesson03.check_recover_bg_mask.mistake())
    right = lesson03.check_masks_from_wfg.solution()
    with pytest.raises(ExerciseError, match="background is in the first channel"):
        lesson03.check_masks_from_wfg(lambda w, e: torch.roll(right(w, e), 1, dims=1))
    with pytest.raises(ExerciseError, match="what do all K"):
        lesson03.check_masks_from_wfg(lambda w, e: torch.cat((right(w, e)[:, :-1], torch.zeros_like(w[:, :1])), 1))
    with pytest.raises(ExerciseError, match="orthonormal"):
        lesson03.check_masks_from_wfg(lesson03.check_masks_from_wfg.mistake())

    check = lesson04.check_heatmap_area
    with pytest.raises(ExerciseError, match=r"\[-1, 1\] units"):
        check(check.mistake())
    with pytest.raises(ExerciseError, match="2 sigma"):
        check(lambda sigma, size, kind: 2 * math.pi * sigma ** 2 * (size / 2) ** 2)
    cone_as_disc = lambda sigma, size, kind: math.pi * sigma ** 2 * (size / 2) ** 2  # noqa: E731
    with pytest.raises(ExerciseError, match="disc the cone stands on"):
        check(cone_as_disc)


def test_the_heatmap_gradient_hints_fire_for_the_mistakes_they_name():
    """6.1: dH/dp instead of dH/dx, and the 2 sigma^2 Gaussian, each get their own hint."""
    from ganseg_lib.course.exercises import lesson06

    check = lesson06.check_heatmap_grad_x
    with pytest.raises(ExerciseError, match="dH/dp"):
        check(check.mistake())
    right = check.solution()
    with pytest.raises(ExerciseError, match="2 sigma"):
        check(lambda p, x, sigma: right(p, x, sigma) / 2)
