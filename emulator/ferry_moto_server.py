"""moto's server with ferry's shim (emulator/ferry_shim/) installed.

Started by `ferry-emulator start` as `.venv/bin/python ferry_moto_server.py -H HOST
-p PORT`; takes moto_server's arguments. The launcher recognises the process by
this file's name in its command line.
"""

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ferry_shim  # noqa: E402
import moto.server  # noqa: E402


def exit_now(signum: Any, frame: Any) -> None:
    """SIGTERM/SIGINT: leave at once. moto's handler (sys.exit) has the
    interpreter free every object first, which takes seconds once the tests have
    filled a few dozen accounts; the state is in memory only, so nothing is lost."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    ferry_shim.apply()
    moto.server.signal_handler = exit_now  # main() installs it for SIGINT and SIGTERM
    sys.exit(moto.server.main())
