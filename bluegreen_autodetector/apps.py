from django.apps import AppConfig


class BlueGreenAutodetectorConfig(AppConfig):
    name = "bluegreen_autodetector"
    verbose_name = "Blue-green migrations"

    def ready(self) -> None:
        from . import checks, registry  # noqa: F401  (checks registers the system checks)

        registry.install()  # this process records its release (registry.py)
