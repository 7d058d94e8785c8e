"""The blue-green story, end to end, on SQLite: `make demo`.

Copies example_project/ to a temporary directory and runs the real commands
there, printing each one and what it said:

  release v1        migrate, create some rows
  release v2, PR 1  models lose Book.font, Font and Product.rating;
                    makemigrations writes a contract migration (applied now)
                    and a cleanup migration (kept in migrations/pending/)
                    -> migrate; the old and the new code both work on the database
  release v3, PR 2  promotemigrations moves the cleanup in -> migrate;
                    the database matches the models, nothing left to do

Exits non-zero, naming the step, as soon as a step fails.
Options: --keep leaves the temporary project in place for a look around.
"""

import difflib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "example_project"
CHECKS = Path(__file__).resolve().parent / "demo_checks.py"
APP = "bookstore"
RULE = "=" * 78


class StepFailed(Exception):
    pass


class Demo:
    def __init__(self, project):
        self.project = project
        self.migrations = project / APP / "migrations"
        self.pending = self.migrations / "pending"
        self.step_number = 0
        self.step_title = ""
        self.env = dict(os.environ)
        self.env.update(
            DJANGO_SETTINGS_MODULE="example.settings",
            PYTHONDONTWRITEBYTECODE="1",  # models.py is swapped under our feet
            # The venv first on PATH: Django formats the migrations it writes
            # with the `black` it finds there.
            PATH=os.pathsep.join(
                [str(Path(sys.executable).parent), os.environ["PATH"]]
            ),
        )

    # -- output ---------------------------------------------------------------

    def step(self, title, why=""):
        self.step_number += 1
        self.step_title = title
        print(f"\n{RULE}\nStep {self.step_number}. {title}\n{RULE}")
        if why:
            print(textwrap.fill(" ".join(why.split()), 78) + "\n")

    def show_file(self, path):
        print(f"----- {path.relative_to(self.project)} " + "-" * 20)
        print(path.read_text().rstrip())
        print("-" * 40)

    def fail(self, message):
        raise StepFailed(message)

    # -- commands -------------------------------------------------------------

    def run(self, *args, expect_success=True):
        """Run a command in the project, print it and its output; return it."""
        shown = " ".join(["python", *args])
        print(f"$ {shown}")
        result = subprocess.run(
            [sys.executable, *args],
            check=False,
            cwd=self.project,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
        )
        output = result.stdout.rstrip()
        if output:
            print(textwrap.indent(output, "  "))
        print(f"  [exit status {result.returncode}]\n")
        if expect_success and result.returncode != 0:
            self.fail(f"`{shown}` exited with status {result.returncode}")
        return result

    def manage(self, *args, **kwargs):
        return self.run("manage.py", *args, **kwargs)

    def check(self, *args):
        return self.run(str(CHECKS), *args)

    # -- files ----------------------------------------------------------------

    def migration_files(self, folder):
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.glob("*.py") if p.name != "__init__.py")

    def new_files(self, folder, before):
        return [p for p in self.migration_files(folder) if p not in before]

    # -- the story ------------------------------------------------------------

    def story(self):
        self.step(
            "Release v1: migrate the database",
            """The example project's bookstore app, release v1: Font, Book with a
            non-null foreign key to Font, Product with a NOT NULL rating.""",
        )
        self.show_file(self.project / APP / "models.py")
        self.manage("migrate")

        self.step("Release v1 is live: it creates some rows")
        self.check("seed")

        self.step(
            "Release v2: a developer removes Book.font, Font and Product.rating",
            """This is models_v2.py.txt copied over models.py. During the deploy,
            v1 and v2 will run side by side against this one database.""",
        )
        models = self.project / APP / "models.py"
        v1_text = models.read_text()
        shutil.copyfile(self.project / APP / "models_v2.py.txt", models)
        print(
            "".join(
                difflib.unified_diff(
                    v1_text.splitlines(keepends=True),
                    models.read_text().splitlines(keepends=True),
                    "bookstore/models.py (v1)",
                    "bookstore/models.py (v2)",
                )
            )
        )

        self.step(
            "Release v2, PR 1: makemigrations splits the change in two",
            """BLUEGREEN_MIGRATIONS = True: the contract migration (applied with
            this release) removes the fields and model from Django's state and
            makes the database tolerant of v2; the cleanup migration, which drops
            the column and table, waits in migrations/pending/ for the next
            release.""",
        )
        before = self.migration_files(self.migrations)
        v1_leaf = before[-1].stem
        self.manage("makemigrations")
        contracts = self.new_files(self.migrations, before)
        cleanups = self.migration_files(self.pending)
        if not contracts:
            self.fail(
                f"no new migration in {self.migrations.relative_to(self.project)}/"
            )
        if not cleanups:
            self.fail(
                f"no cleanup migration in {self.pending.relative_to(self.project)}/"
            )
        print("The contract migration (PR 1, this release):\n")
        for path in contracts:
            self.show_file(path)
        print(
            "\nThe cleanup migration (PR 2, next release, once no v1 instance runs):\n"
        )
        for path in cleanups:
            self.show_file(path)
        v2_leaf = contracts[-1].stem

        self.step("Release v2: migrate (before the traffic switch; v1 still serves)")
        self.manage("migrate")

        self.step(
            "Blue and green together: CRUD through v1 AND v2 on the same database",
            f"""v1 is the project state at {APP}.{v1_leaf}, v2 the state at the
            contract migration {APP}.{v2_leaf}, both as historical models in one
            process. (Stock Django's migration would drop the column and table now,
            and every v1 query naming them would fail.)""",
        )
        self.check("coexistence", APP, v1_leaf, v2_leaf)

        self.step(
            "Release v3, PR 2: promotemigrations moves the cleanup in",
            """No v1 instance runs any more. The pending cleanup becomes a normal
            migration, numbered after the current leaf.""",
        )
        before = self.migration_files(self.migrations)
        self.manage("promotemigrations")
        promoted = self.new_files(self.migrations, before)
        if not promoted:
            self.fail("promotemigrations added no migration to migrations/")
        if self.migration_files(self.pending):
            self.fail("migrations/pending/ still holds a migration after promotion")
        for path in promoted:
            self.show_file(path)
        print()
        self.manage("promotemigrations", "--check")

        self.step("Release v3: migrate (the cleanup drops the column and table)")
        self.manage("migrate")
        self.manage("showmigrations", APP)

        self.step(
            "The database matches the models",
            """Every table and column of the database, introspected, against the
            models: the column and table the cleanup dropped are gone, the rest
            is as stock Django would have made it.""",
        )
        self.check("schema", APP)

        self.step("Nothing left to migrate: makemigrations --check")
        self.manage("makemigrations", "--check")

        self.step("The rows v1 wrote before the deploy are still here (read by v3)")
        self.check("show", APP)


def main(argv):
    keep = "--keep" in argv
    tmp = Path(tempfile.mkdtemp(prefix="bluegreen-demo-"))
    project = tmp / "example_project"
    shutil.copytree(
        EXAMPLE,
        project,
        ignore=shutil.ignore_patterns("db.sqlite3", "__pycache__", "*.pyc", "pending"),
    )
    # The demo needs Django and this package only (make demo installs just
    # those): the copy does without django-extensions, which the rehearsal
    # benchmark's project keeps.
    settings = project / "example" / "settings.py"
    settings.write_text(settings.read_text().replace('    "django_extensions",\n', ""))
    print(f"bluegreen_autodetector demo: a copy of example_project in {project}")
    print(f"python: {sys.executable}")
    demo = Demo(project)
    try:
        demo.story()
    except (StepFailed, subprocess.TimeoutExpired) as exc:
        print(f"\n{RULE}\nDEMO FAILED at step {demo.step_number}: {demo.step_title}")
        print(f"{exc}\n{RULE}")
        print(f"The project is left in {project} for a look.")
        return 1
    print(f"\n{RULE}\nDemo complete: every step passed.\n{RULE}")
    if keep:
        print(f"The project is left in {project}.")
    else:
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
