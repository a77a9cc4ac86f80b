import os

import pytest

os.environ.setdefault("CI", "true")  # no progress bars in tests


@pytest.fixture(scope="session")
def linkage_cmd():
    """The installed console script, from the same environment as the tests."""
    import shutil
    import sys
    from pathlib import Path

    path = Path(sys.executable).parent / "linkage"
    return str(path if path.exists() else shutil.which("linkage"))
