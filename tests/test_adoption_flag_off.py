"""
With the flag off and a cleanup pending, makemigrations does not write
again what the cleanup does, where stock Django (which never reads
pending/) would: README, "Turning the flag off while cleanups are pending".
"""

from __future__ import annotations

from .oracles import Release

V1 = """
class Item(models.Model):
    size = models.IntegerField(null=True)
"""

V2 = """
class Item(models.Model):
    size = models.IntegerField()
"""


def test_flag_off_with_a_cleanup_pending_detects_nothing_stock_would(make_project):
    release = Release(make_project("sqlite"), V1, V2)
    release.make_v2("--noinput")
    project = release.project
    assert project.pending_files()
    off = project.manage("makemigrations", "--no-bluegreen", "--dry-run")
    assert "No changes detected" in off.stdout
    # Stock Django, the package out of INSTALLED_APPS, writes the change again.
    settings = project.root / "settings.py"
    settings.write_text(
        settings.read_text() + "INSTALLED_APPS.remove('bluegreen_autodetector')\n"
    )
    stock = project.manage("makemigrations", "--dry-run", "--noinput")
    assert "~ Alter field size on item" in stock.stdout
