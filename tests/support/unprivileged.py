"""`qa` run as a process without root's power to read and write everything, for permission tests.

As root, permission bits are not enforced; dropping the two capabilities that bypass them
(CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from the bounding set makes a `chmod 000` folder
unreadable again, exactly as for any other user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def qa_unprivileged(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    prefix: list[str] = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: permissions cannot be enforced")
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "qa", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
    )
