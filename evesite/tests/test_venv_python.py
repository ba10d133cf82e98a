"""scripts/venv-python picks the venv's Python: 3.12 on PATH, else pyenv's newest 3.12, else python3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "venv-python"


def _python(path: Path, version: tuple[int, int]) -> Path:
    """A stand-in interpreter: runs the real one with sys.version_info reporting ``version``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    patch = f"import sys; sys.version_info = {version!r}; exec(sys.argv.pop(1))"
    path.write_text(f'#!/bin/sh\n[ "$1" = -c ] && shift\nexec {sys.executable} -c "{patch}" "$@"\n')
    path.chmod(0o755)
    return path


def _pick(tmp_path: Path, *, on_path: dict[str, tuple[int, int]], pyenv: dict[str, tuple[int, int]]) -> str:
    """Run the script with only the given interpreters on PATH and under PYENV_ROOT."""
    bin_dir, root = tmp_path / "bin", tmp_path / "pyenv"
    bin_dir.mkdir()
    for name, version in on_path.items():
        _python(bin_dir / name, version)
    for name, version in pyenv.items():
        _python(root / "versions" / name / "bin" / "python3", version)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PYENV_ROOT": str(root), "HOME": str(tmp_path)}
    done = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, check=False, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_python312_on_path_comes_first(tmp_path: Path) -> None:
    picked = _pick(tmp_path, on_path={"python3.12": (3, 12), "python3": (3, 11)}, pyenv={"3.12.9": (3, 12)})
    assert picked == str(tmp_path / "bin" / "python3.12")


def test_then_pyenvs_newest_312(tmp_path: Path) -> None:
    versions = {"3.12.2": (3, 12), "3.12.10": (3, 12), "3.12.1": (3, 12), "3.13.0": (3, 13)}
    picked = _pick(tmp_path, on_path={"python3": (3, 11)}, pyenv=versions)
    assert picked == str(tmp_path / "pyenv" / "versions" / "3.12.10" / "bin" / "python3")


def test_else_python3(tmp_path: Path) -> None:
    picked = _pick(tmp_path, on_path={"python3": (3, 11)}, pyenv={})
    assert picked == str(tmp_path / "bin" / "python3")


def test_a_python_older_than_311_is_passed_over(tmp_path: Path) -> None:
    picked = _pick(tmp_path, on_path={"python3.12": (3, 10), "python3": (3, 11)}, pyenv={})
    assert picked == str(tmp_path / "bin" / "python3")


def test_the_venv_is_made_with_the_picked_python() -> None:
    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text()
    assert "PYTHON ?= $(shell scripts/venv-python)" in makefile
    assert "@test -x $(PY) || $(PYTHON) -m venv $(VENV)" in makefile
