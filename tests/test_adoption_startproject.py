"""
A project made by ``django-admin startproject`` (admin, auth... included)
reaches a working two-release deploy with README's settings alone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()

V1 = """from django.db import models


class Brand(models.Model):
    name = models.CharField(max_length=100)


class Item(models.Model):
    title = models.CharField(max_length=200)
    rating = models.IntegerField()
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE)
"""

V2 = """from django.db import models


class Item(models.Model):
    title = models.CharField(max_length=200)
    stock = models.IntegerField(default=0)
"""


def test_startproject_with_readmes_settings_deploys_two_releases(tmp_path):
    section = README[README.index("## Settings\n") : README.index("## The two-release")]
    snippet = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    assert '"bluegreen_autodetector",' in snippet
    assert "BLUEGREEN_MIGRATIONS = True" in snippet
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(*args: str, cwd: Path = tmp_path / "mysite") -> str:
        result = subprocess.run(
            [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    run("-m", "django", "startproject", "mysite", cwd=tmp_path)
    project = tmp_path / "mysite"
    run("manage.py", "startapp", "shop")
    settings = project / "mysite" / "settings.py"
    text = settings.read_text()
    # As README says: the app first in INSTALLED_APPS, and the flag.
    text = text.replace(
        "INSTALLED_APPS = [\n", 'INSTALLED_APPS = [\n    "bluegreen_autodetector",\n', 1
    )
    text = text.replace("INSTALLED_APPS = [\n", 'INSTALLED_APPS = [\n    "shop",\n', 1)
    settings.write_text(text + "\nBLUEGREEN_MIGRATIONS = True\n")
    (project / "shop" / "models.py").write_text(V1)
    run("manage.py", "makemigrations", "-v0")
    run("manage.py", "migrate", "-v0")

    (project / "shop" / "models.py").write_text(V2)
    output = run("manage.py", "makemigrations")
    assert "- Delete model Brand (state only; PR 2 drops the table)" in output
    assert "PR 2 (next release" in output
    run("manage.py", "migrate", "-v0")
    run("manage.py", "check", "--fail-level", "WARNING")

    assert "Promotions for 'shop'" in run("manage.py", "promotemigrations")
    run("manage.py", "migrate", "-v0")
    assert "No changes detected" in run("manage.py", "makemigrations", "--check")
    assert not (project / "shop" / "migrations" / "pending").exists()
