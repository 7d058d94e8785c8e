from django.apps import AppConfig


class BlueGreenAutodetectorConfig(AppConfig):
    name = "bluegreen_autodetector"
    verbose_name = "Blue-green migrations"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .release.recording import records

        if records():  # not a deploy-time command (release/recording.py)
            from .release import heartbeat

            heartbeat.install()  # this process records its release
