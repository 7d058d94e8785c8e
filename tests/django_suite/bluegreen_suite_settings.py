"""
Django's ``test_sqlite`` settings for its own test suite, plus the package's
flag (``BLUEGREEN_SUITE_MODE=on``) and the runner that substitutes the
package for Django's autodetector and commands (``bluegreen_shim``).
"""

import os

from test_sqlite import *  # noqa: F401,F403  (Django's tests/ is on sys.path)

BLUEGREEN_MIGRATIONS = os.environ.get("BLUEGREEN_SUITE_MODE") == "on"
TEST_RUNNER = "bluegreen_shim.Runner"
