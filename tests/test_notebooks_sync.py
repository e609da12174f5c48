"""Each lesson is a pair: notebooks/NN_name.py (percent format, the reviewed source) and
notebooks/NN_name.ipynb (committed, outputs stripped).  Fails when a pair is out of sync or a
committed notebook carries outputs.  Fix with `jupytext --sync notebooks/NN_name.py` and
`jupytext --to ipynb notebooks/NN_name.py` (the latter rewrites the notebook without outputs)."""
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSON_GLOB = "[0-9][0-9]_*"
SOURCES = sorted(NOTEBOOKS.glob(LESSON_GLOB + ".py"))
IPYNBS = sorted(NOTEBOOKS.glob(LESSON_GLOB + ".ipynb"))


def cells(path: Path) -> list[tuple[str, str]]:
    nb = jupytext.read(path)
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_there_are_lessons():
    assert SOURCES, "no notebooks/NN_name.py lessons found"


def test_every_lesson_is_a_pair():
    assert {p.stem for p in SOURCES} == {p.stem for p in IPYNBS}, (
        "each notebooks/NN_name.py needs its NN_name.ipynb and vice versa "
        "(create it with `jupytext --to ipynb notebooks/NN_name.py`)")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_pair_in_sync(source: Path):
    ipynb = source.with_suffix(".ipynb")
    if not ipynb.exists():
        pytest.fail(f"{ipynb.name} is missing")
    py_cells, nb_cells = cells(source), cells(ipynb)
    for i, (a, b) in enumerate(zip(py_cells, nb_cells)):
        assert a == b, (f"{source.name} and {ipynb.name} differ at cell {i}; "
                        f"run `jupytext --sync notebooks/{source.name}`")
    assert len(py_cells) == len(nb_cells), (
        f"{source.name} has {len(py_cells)} cells, {ipynb.name} {len(nb_cells)}; "
        f"run `jupytext --sync notebooks/{source.name}`")


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(ipynb: Path):
    nb = jupytext.read(ipynb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (f"{ipynb.name} has outputs in cells {dirty}; strip them with "
                       f"`jupytext --to ipynb notebooks/{ipynb.stem}.py`")
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        f"{ipynb.name} needs the python3 kernelspec (nbval starts that kernel)")
