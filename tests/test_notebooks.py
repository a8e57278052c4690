"""The notebooks run from top to bottom, and are committed without outputs.

Each notebook is executed with nbclient in a fresh ``python3`` kernel of the
interpreter running the tests, in a temporary working directory, with the
non-interactive matplotlib backend.  The notebooks check their own figures
against independent computations (for example notebook 02 recomputes the
inside/outside counts and distances with shapely and pyproj and asserts that
they equal minemap's crossref by handover), so a run that finishes is a run
whose checks passed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: A hang guard per cell, not a speed test: speed is measured in benchmarks/,
#: and a wall-clock limit here would fail on a busy CI machine.
CELL_TIMEOUT_S = 300


def _kernel_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The kernel must import this checkout's minemap, whatever an editable
    # install elsewhere points at, and find this checkout's samples.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MINEMAP_SAMPLES"] = str(ROOT / "sample_maps")
    env["MPLBACKEND"] = "Agg"
    env["MPLCONFIGDIR"] = str(workdir / ".matplotlib")
    env.pop("MINEMAP_STORE", None)
    return env


def test_there_are_three_notebooks():
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb", "02_handover_accuracy.ipynb", "03_survey_records.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, tmp_path: Path):
    if not (ROOT / "sample_maps" / "manifest.json").exists():
        pytest.skip("sample_maps/manifest.json is missing")
    from jupyter_client.kernelspec import KernelSpecManager

    # The python3 kernelspec's argv starts with "python", which jupyter_client
    # replaces by sys.executable: the kernel runs in this interpreter's venv.
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] in ("python", "python3", sys.executable), spec.argv

    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute(env=_kernel_env(tmp_path))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors[0]
    # Nothing was written beside the notebook: the kernel worked in tmp_path.
    assert not list((ROOT / "notebooks").glob("*.gpkg"))


def test_quickstart_shows_the_map_as_the_last_output(tmp_path: Path):
    """The last cell of 01 evaluates to the folium map, displayed inline as HTML."""
    path = ROOT / "notebooks" / "01_quickstart.ipynb"
    nb = nbformat.read(path, as_version=4)
    last = nb.cells[-1]
    assert last.cell_type == "code"
    assert "render_map" in last.source and last.source.strip().splitlines()[-1] == "m"
