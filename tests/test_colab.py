"""The lessons' set-up cell: each lesson carries the repository URL and release tag of
pyproject.toml and an exact copy of `course.colab.setup_course`; outside Colab the function does
nothing, and in a faked Colab a failed clone or a bad folder is one line, never a traceback, while
an uploaded zip of the repository gets installed."""
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest

from ganseg_lib.course import colab, stamp

ROOT = Path(__file__).resolve().parent.parent


def test_every_lesson_and_the_readme_agree_with_pyproject():
    stale = [str(p.relative_to(ROOT)) for p, text in stamp.targets().items() if p.read_text(encoding="utf-8") != text]
    assert not stale, f"{stale} disagree with pyproject.toml; run `python -m ganseg_lib.course.stamp`"


def test_a_lesson_with_another_tag_is_caught():
    lesson = ROOT / "notebooks" / "00_overview.py"
    rel = stamp.release()
    moved = stamp.stamp_lesson(lesson.read_text(encoding="utf-8"), stamp.Release(rel.repo, "v9.9.9", rel.published),
                               "00_overview.ipynb")
    assert moved != lesson.read_text(encoding="utf-8")
    assert 'COURSE_REF = "v9.9.9"' in moved and "/blob/v9.9.9/notebooks/00_overview.ipynb" in moved
    # stamping is idempotent: a stamped text stamped again is unchanged
    assert stamp.stamp_lesson(moved, rel, "00_overview.ipynb") == lesson.read_text(encoding="utf-8")


def test_the_cell_copy_runs_as_the_module_does():
    cell = stamp.setup_cell(stamp.release()).replace("print(setup_course", "result = (setup_course")
    scope: dict = {}
    exec(compile(cell, "<first cell>", "exec"), scope)  # outside Colab: the message, nothing else
    assert scope["result"] == colab.setup_course("x", "y", False)


def test_outside_colab_it_does_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = []
    note = colab.setup_course("https://example.invalid/x", "v0", True, run=lambda *a, **k: calls.append(a))
    assert note.startswith("not in Colab") and calls == [] and list(tmp_path.iterdir()) == []


class FakeOutput:
    enabled = 0

    @classmethod
    def enable_custom_widget_manager(cls):
        cls.enabled += 1


@pytest.fixture
def fake_colab(monkeypatch, tmp_path):
    google = types.ModuleType("google")
    google.colab = types.ModuleType("google.colab")
    google.colab.output = FakeOutput
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", google.colab)
    monkeypatch.delenv("GANSEG_COURSE_REPO", raising=False)
    monkeypatch.delenv("GANSEG_COURSE_REF", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    FakeOutput.enabled = 0
    return tmp_path


def test_unpublished_placeholder_says_the_two_ways_on(fake_colab):
    note = colab.setup_course("https://github.com/ganseg-course/ganseg-course", "v0.1.0", False)
    assert "not published" in note and "GANSEG_COURSE_REPO" in note and ".zip" in note
    assert "\n" not in note and FakeOutput.enabled == 0


def test_a_failed_clone_is_one_line(fake_colab, monkeypatch):
    not_a_repo = fake_colab / "not-a-repo"
    not_a_repo.mkdir()
    monkeypatch.setenv("GANSEG_COURSE_REPO", str(not_a_repo))  # a local path: git fails without the network
    note = colab.setup_course("https://github.com/ganseg-course/ganseg-course", "v0.1.0", False)
    assert note.startswith(f"could not clone {not_a_repo}") and "\n" not in note, note
    assert "Traceback" not in note and FakeOutput.enabled == 0
    assert not (fake_colab / "ganseg-course").exists()


def test_an_uploaded_zip_of_the_repository_is_installed(fake_colab):
    with zipfile.ZipFile(fake_colab / "ganseg-course-main.zip", "w") as z:  # as GitHub's "Download ZIP" names it
        for name in ("pyproject.toml", "ganseg_lib/__init__.py", "ganseg_lib/course/colab.py"):
            z.write(ROOT / name, f"ganseg-course-main/{name}")
    (fake_colab / "holiday.zip").write_bytes(b"not a zip")
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    note = colab.setup_course("https://github.com/ganseg-course/ganseg-course", "v0.1.0", False, run=run)
    source = str((fake_colab / "ganseg-course" / "ganseg-course-main").resolve())
    assert note == f"the course from {source} is installed; widgets are on"
    assert calls == [[sys.executable, "-m", "pip", "install", "--quiet", "-e", source, "ipywidgets==8.1.9"]]
    assert sys.path[0] == source and FakeOutput.enabled == 1


def test_a_folder_without_the_course_is_one_line(fake_colab):
    (fake_colab / "ganseg-course").mkdir()
    note = colab.setup_course("u", "v", True)
    assert note.startswith("ganseg-course/ holds no ganseg_lib/") and FakeOutput.enabled == 0


def test_a_failed_install_is_one_line(fake_colab):
    (fake_colab / "ganseg-course" / "ganseg_lib").mkdir(parents=True)
    (fake_colab / "ganseg-course" / "pyproject.toml").write_text("")
    failed = lambda cmd, **kwargs: subprocess.CompletedProcess(cmd, 1, "", "noise\nERROR: no network")  # noqa: E731
    note = colab.setup_course("u", "v", True, run=failed)
    assert note.startswith("pip could not install") and note.endswith("(ERROR: no network)")
    assert FakeOutput.enabled == 0
