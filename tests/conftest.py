import os
import shutil
import sys
from pathlib import Path

import pytest

os.environ.setdefault("CI", "true")  # no progress bars in tests


def script(name: str) -> str:
    """An installed console script, by name: from the tests' own environment, else PATH."""
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"console script {name!r} is not installed (pip install -e .)")
    return found


@pytest.fixture(scope="session")
def linkage_cmd():
    return script("linkage")


@pytest.fixture(scope="session")
def report_cmd():
    return script("linkage-report")
