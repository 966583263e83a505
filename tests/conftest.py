"""Shared fixtures: a project folder with the default pipeline and generated sample data."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["tests.smtp_server", "tests.postgres"]  # smtp_server, postgres_url fixtures

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_TODAY = "2026-03-16"


def dunning_command(*args: str) -> list[str]:
    """The real CLI in a fresh interpreter, exactly as a user or cron would run it."""
    return [sys.executable, "-m", "dunning.core.cli", *args]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the default pipeline with sample data generated for ``SAMPLE_TODAY``."""
    shutil.copy(ROOT / "pipelines.yaml", tmp_path / "pipelines.yaml")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "sample" / "generate.py"),
            "--out",
            str(tmp_path / "sample" / "invoices.csv"),
            "--today",
            SAMPLE_TODAY,
        ],
        check=True,
        capture_output=True,
    )
    return tmp_path


@pytest.fixture
def cli(project: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            dunning_command(*args),
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )

    return run
