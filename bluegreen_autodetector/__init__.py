"""Split backward-incompatible migrations for blue-green and rolling deploys."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("bluegreen-autodetector")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
