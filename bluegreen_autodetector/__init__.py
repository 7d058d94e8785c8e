"""Split backward-incompatible migrations for blue-green and rolling deploys."""


def __getattr__(name: str) -> str:
    # __version__ from the installed metadata, read on first use only: every
    # manage.py command imports this package, few ask its version.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("bluegreen-autodetector")
    except PackageNotFoundError:  # a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
