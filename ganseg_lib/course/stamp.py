"""Write the repository URL and release tag from `pyproject.toml` into every lesson and the README.

    python -m ganseg_lib.course.stamp           # rewrite what disagrees, then regenerate the .ipynb
    python -m ganseg_lib.course.stamp --check   # exit 1 naming each file that disagrees

The settings are `[project.urls] Repository` and `[tool.ganseg-course] release` / `published`.
Each lesson's first code cell is the set-up cell (the settings and a copy of
`colab.setup_course`), and its title cell carries an "Open in Colab" badge for itself; the
top-level README carries one for lesson 00.  `tests/test_colab.py` runs the check.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from . import colab

ROOT = Path(__file__).resolve().parents[2]
LESSON_GLOB = "[0-9][0-9]_*.py"
BADGE = re.compile(r"^(# )?\[!\[Open in Colab\]\(\S+\)\]\(\S+\)\n(#\n)?", re.MULTILINE)


@dataclass(frozen=True)
class Release:
    repo: str        # e.g. https://github.com/owner/name (no trailing .git)
    ref: str         # the git tag the lessons belong to
    published: bool  # False while `repo` is a placeholder nobody can clone


def release(root: Path = ROOT) -> Release:
    """The settings in `root/pyproject.toml`."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    own = data["tool"]["ganseg-course"]
    return Release(data["project"]["urls"]["Repository"].removesuffix(".git"), own["release"], bool(own["published"]))


def colab_url(rel: Release, notebook: str) -> str:
    """Colab's address for `notebooks/<notebook>` of the GitHub repository at the release tag."""
    owner_name = rel.repo.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{owner_name}/blob/{rel.ref}/notebooks/{notebook}"


def badge(rel: Release, notebook: str) -> str:
    return f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(rel, notebook)})"


def setup_cell(rel: Release) -> str:
    """The source of every lesson's first code cell (percent format, `# %%` line included)."""
    return (
        "# %%\n"
        "# Set-up. In Colab: fetch the course, install it and turn on Colab's widget manager; anywhere\n"
        "# else this cell only says it is not in Colab. `setup_course` is a copy of\n"
        "# ganseg_lib/course/colab.py (the library is not installed yet when this cell runs in Colab);\n"
        "# the cell is written by `python -m ganseg_lib.course.stamp` from pyproject.toml.\n"
        "import glob\nimport os\nimport subprocess\nimport sys\nimport zipfile\n\n"
        f'COURSE_REPO = "{rel.repo}"\n'
        f'COURSE_REF = "{rel.ref}"  # the course release these notebooks belong to\n'
        f"COURSE_PUBLISHED = {rel.published}  # False: the URL is a placeholder (the cell then says what to do)\n\n\n"
        f"{colab.cell_copy()}\n\n"
        "print(setup_course(COURSE_REPO, COURSE_REF, COURSE_PUBLISHED))\n\n"
    )


def stamp_lesson(text: str, rel: Release, notebook: str) -> str:
    """`text` (a lesson's .py) with the set-up cell and the title badge for `rel`."""
    text = BADGE.sub("", text)
    title = re.search(r"^# # .*\n", text, re.MULTILINE)
    text = text[:title.end()] + f"#\n# {badge(rel, notebook)}\n" + text[title.end():]
    start = re.search(r"^# %%\n", text, re.MULTILINE).start()
    end = re.compile(r"^# %%", re.MULTILINE).search(text, start + 1).start()
    return text[:start] + setup_cell(rel) + text[end:]


def stamp_readme(text: str, rel: Release) -> str:
    """`text` (the top-level README) with the badge for lesson 00 under the title."""
    text = BADGE.sub("", text)
    title = re.search(r"^# .*\n", text, re.MULTILINE)
    return text[:title.end()] + f"\n{badge(rel, '00_overview.ipynb')}\n\n" + text[title.end():].lstrip("\n")


def targets(root: Path = ROOT) -> dict[Path, str]:
    """Each stamped file and its text as the settings want it."""
    rel = release(root)
    want = {p: stamp_lesson(p.read_text(encoding="utf-8"), rel, p.with_suffix(".ipynb").name)
            for p in sorted((root / "notebooks").glob(LESSON_GLOB))}
    readme = root / "README.md"
    want[readme] = stamp_readme(readme.read_text(encoding="utf-8"), rel)
    return want


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganseg_lib.course.stamp", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file disagrees")
    args = parser.parse_args(argv)
    stale = [p for p, text in targets().items() if p.read_text(encoding="utf-8") != text]
    if args.check:
        for p in stale:
            print(f"{p.relative_to(ROOT)} disagrees with pyproject.toml; run `python -m ganseg_lib.course.stamp`")
        return 1 if stale else 0
    for p, text in targets().items():
        if p in stale:
            p.write_text(text, encoding="utf-8")
            if p.suffix == ".py":  # the committed notebook follows its source, outputs stripped
                subprocess.run([sys.executable, "-m", "jupytext", "--quiet", "--to", "ipynb", str(p)], check=True)
            print(f"stamped {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
