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
