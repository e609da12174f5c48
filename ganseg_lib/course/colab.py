"""The set-up a lesson's first cell runs: in Colab, fetch the course, install it, turn on widgets.

Why the code lives here *and* in every lesson: when a learner opens a lesson in Colab, only the
notebook is there; the library is not installed yet, so the first cell cannot import it.  The
cell therefore carries its own copy of `setup_course` (standard library only), written into it by
`python -m ganseg_lib.course.stamp` together with the repository URL and release tag from
`pyproject.toml`; `tests/test_colab.py` fails when a lesson's copy differs from this module, and
tests the function here, outside Colab, with a fake `google.colab`.

This module imports nothing outside the standard library, and nothing imports it.
"""
import glob
import os
import subprocess
import sys
import zipfile

START_OF_CELL_COPY = "# --- setup_course: a copy of ganseg_lib/course/colab.py ---"
END_OF_CELL_COPY = "# --- end of copy ---"

# --- setup_course: a copy of ganseg_lib/course/colab.py ---
def setup_course(repo, ref, published, folder="ganseg-course", run=subprocess.run):
    """In Colab: clone `repo` at `ref` (or use an uploaded zip), pip-install it, enable widgets.

    Returns one line saying what happened; never raises for a failed clone or install.
    GANSEG_COURSE_REPO overrides `repo` (a fork; its default branch unless GANSEG_COURSE_REF
    names one).  Outside Colab it does nothing.
    """
    try:
        from google.colab import output
    except ImportError:
        return "not in Colab: nothing to set up (install locally with `pip install -e \".[course]\"`)"
    fork = os.environ.get("GANSEG_COURSE_REPO", "").strip()
    if fork:
        repo, ref = fork, os.environ.get("GANSEG_COURSE_REF", "").strip() or None
    zips = [z for z in sorted(glob.glob("*.zip")) if zipfile.is_zipfile(z) and any(
        n.endswith("ganseg_lib/__init__.py") for n in zipfile.ZipFile(z).namelist())]
    if not os.path.isdir(folder):
        if zips:
            zipfile.ZipFile(zips[0]).extractall(folder)
        elif not (published or fork):
            return (f"the course is not published at {repo} yet: set os.environ['GANSEG_COURSE_REPO'] "
                    "to a fork's URL, or upload the repository as a .zip (Files panel), then rerun this cell")
        else:
            branch = ["--branch", ref] if ref else []
            done = run(["git", "clone", "--quiet", "--depth", "1", *branch, repo, folder],
                       capture_output=True, text=True)
            if done.returncode != 0:
                why = (done.stderr.strip().splitlines() or ["no message"])[-1]
                return f"could not clone {repo} at {ref or 'its default branch'} ({why}); rerun with another URL or a zip"
    tops = [d for d, _, files in os.walk(folder) if "pyproject.toml" in files and os.path.isdir(f"{d}/ganseg_lib")]
    if not tops:
        return f"{folder}/ holds no ganseg_lib/ and pyproject.toml: delete it and rerun this cell"
    source = os.path.abspath(min(tops, key=len))
    done = run([sys.executable, "-m", "pip", "install", "--quiet", "-e", source, "ipywidgets==8.1.9"],
               capture_output=True, text=True)
    if done.returncode != 0:
        return f"pip could not install {source} ({(done.stderr.strip().splitlines() or ['no message'])[-1]})"
    if source not in sys.path:
        sys.path.insert(0, source)
    output.enable_custom_widget_manager()
    return f"the course from {source} is installed; widgets are on"
# --- end of copy ---


def cell_copy() -> str:
    """The lines of this module a lesson's first cell carries (from `setup_course` to the end marker)."""
    with open(__file__, encoding="utf-8") as f:
        text = f.read()
    start = text.index("\n" + START_OF_CELL_COPY + "\n") + len(START_OF_CELL_COPY) + 2
    return text[start:text.index("\n" + END_OF_CELL_COPY + "\n", start)].rstrip() + "\n"
