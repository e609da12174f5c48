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
