"""
Hypothesis strategies for tests/test_sequence_properties.py: sequences of
releases of one app, each made of one or two edits (each its own
``makemigrations``), with the pending cleanups promoted at the start of a
release or not.

The models: ``Author`` and ``Publisher`` always, ``Book`` always, with the
fields of ``BOOK_FIELDS`` each in one of its definitions (or absent), and a
``Review`` model pointing at ``Book`` (or absent). An edit moves one field
(or ``Review``) to another definition, so a sequence goes through additions,
removals, NOT NULL changes both ways, edits the database never sees, Meta
changes, new relations to old tables, a re-pointed ForeignKey and a
database default replaced by a Python one, in any order. The knobs of
``NAMES`` rename: the plain field ``note``, the ForeignKey ``author`` and the
model ``Book`` itself (each makemigrations answers "y" at Django's "Did you
rename ...?"), so that a later edit of a renamed field or model, its cleanup
pending, is drawn too.
"""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

# Each field of Book: its possible definitions; None is "absent".
BOOK_FIELDS: dict[str, list[str | None]] = {
    "rating": [
        None,
        "models.IntegerField(default=5)",
        'models.IntegerField(default=5, verbose_name="stars")',
        "models.IntegerField(null=True)",
    ],
    "note": [
        None,
        "models.CharField(max_length=40, blank=True)",
        "models.CharField(max_length=40, null=True)",
        "models.CharField(max_length=80, null=True)",
    ],
    "price": [
        None,
        "models.IntegerField(db_default=3)",
        "models.IntegerField(default=3)",
    ],
    "author": [
        None,
        'models.ForeignKey("Author", models.SET_NULL, null=True)',
        'models.ForeignKey("Publisher", models.SET_NULL, null=True)',
    ],
    "tags": [None, 'models.ManyToManyField("Author", related_name="tagged")'],
}

# Rename knobs: the names a field (or Book itself) takes in turn.
NAMES: dict[str, list[str]] = {
    "book_name": ["Book", "Volume"],
    "note_name": ["note", "remark"],
    "author_name": ["author", "writer"],
}
RENAMED = {"note_name": "note", "author_name": "author", "book_name": "book"}

META = [None, 'ordering = ["title"]', 'verbose_name = "volume"']

REVIEW = """

class Review(models.Model):
    book = models.ForeignKey({book}, models.CASCADE)
    text = models.CharField(max_length=100)
"""

KNOBS = [*BOOK_FIELDS, "meta", "review", *NAMES]


def choices(knob: str) -> int:
    if knob in NAMES:
        return len(NAMES[knob])
    if knob == "meta":
        return len(META)
    if knob == "review":
        return 2
    return len(BOOK_FIELDS[knob])


@dataclasses.dataclass(frozen=True)
class Models:
    """One version of the models: the definition chosen for each knob."""

    chosen: tuple[tuple[str, int], ...]

    def with_edit(self, knob: str, step: int) -> Models:
        """``knob`` moved ``step`` definitions on (never back to the same one)."""
        return Models(
            tuple(
                (k, (c + step) % choices(k) if k == knob else c) for k, c in self.chosen
            )
        )

    def name(self, knob: str) -> str:
        """The name the rename knob ``knob`` gives (a field's, or Book's)."""
        return NAMES[knob][dict(self.chosen)[knob]]

    def definition(self, field: str) -> str | None:
        return BOOK_FIELDS[field][dict(self.chosen)[field]]

    def source(self) -> str:
        chosen = dict(self.chosen)
        names = {RENAMED[knob]: self.name(knob) for knob in NAMES}
        lines = [
            "class Author(models.Model):",
            "    name = models.CharField(max_length=100)",
            "",
            "",
            "class Publisher(models.Model):",
            "    name = models.CharField(max_length=100)",
            "",
            "",
            f"class {names['book']}(models.Model):",
            "    title = models.CharField(max_length=200)",
        ]
        for name, definitions in BOOK_FIELDS.items():
            definition = definitions[chosen[name]]
            if definition is not None:
                lines.append(f"    {names.get(name, name)} = {definition}")
        if META[chosen["meta"]]:
            lines += ["", "    class Meta:", f"        {META[chosen['meta']]}"]
        review = REVIEW.format(book=names["book"]) if chosen["review"] else ""
        return "\n".join(lines) + "\n" + review


@dataclasses.dataclass(frozen=True)
class Release:
    promote: bool  # promote the pending cleanups first
    edits: tuple[tuple[str, int], ...]  # (knob, step), each its own makemigrations


@dataclasses.dataclass(frozen=True)
class Sequence:
    initial: Models
    releases: tuple[Release, ...]

    def __repr__(self) -> str:  # What note() prints for a failing example.
        steps = [f"initial: {dict(self.initial.chosen)}"]
        for number, release in enumerate(self.releases, 1):
            steps.append(
                f"release {number}: promote={release.promote} edits={release.edits}"
            )
        return "Sequence(" + "; ".join(steps) + ")"


@st.composite
def models_versions(draw) -> Models:
    return Models(
        tuple((knob, draw(st.integers(0, choices(knob) - 1))) for knob in KNOBS)
    )


@st.composite
def edits(draw) -> tuple[str, int]:
    """
    (knob, step): each edit changes the models; renames weigh double, and
    come first: the simplest sequence (hypothesis' first) renames Book and
    renames it back, its cleanup pending.
    """
    knob = draw(st.sampled_from([*NAMES, *KNOBS]))
    return knob, draw(st.integers(1, choices(knob) - 1))


@st.composite
def sequences(draw) -> Sequence:
    releases = draw(
        st.lists(
            st.builds(
                Release,
                promote=st.booleans(),
                edits=st.lists(edits(), min_size=1, max_size=2).map(tuple),
            ),
            min_size=2,
            max_size=3,
        )
    )
    return Sequence(draw(models_versions()), tuple(releases))


# The issue's cases in one sequence, run first on every vendor: a NOT NULL
# column with a Python default, altered again and then removed within the
# release; a new M2M, a new nullable ForeignKey and a new model pointing at
# an old table; a re-pointed ForeignKey and a database default replaced by a
# Python one; promotions in between.
ISSUE_CASES = Sequence(
    Models(
        (
            ("rating", 0),
            ("note", 2),
            ("price", 1),
            ("author", 0),
            ("tags", 0),
            ("meta", 0),
            ("review", 0),
            ("note_name", 0),
            ("author_name", 0),
            ("book_name", 0),
        )
    ),
    (
        Release(False, (("rating", 1), ("rating", 1))),  # added, relabelled
        Release(True, (("tags", 1), ("author", 1), ("review", 1))),
        Release(True, (("rating", 2), ("price", 1), ("note", 3), ("author", 1))),
    ),
)


# Renames mixed with the rest, run on every vendor: a plain NOT NULL field
# renamed then made nullable (its cleanup pending), a ForeignKey renamed then
# re-pointed (refused: its cleanup pending), an addition; then, cleanups
# promoted, Book renamed (its M2M table and Review's foreign key with it)
# and a field of it removed (refused: the rename's cleanup pending).
RENAME_CASES = Sequence(
    Models(
        (
            ("rating", 1),
            ("note", 1),
            ("price", 0),
            ("author", 1),
            ("tags", 1),
            ("meta", 0),
            ("review", 1),
            ("book_name", 0),
            ("note_name", 0),
            ("author_name", 0),
        )
    ),
    (
        Release(
            False,
            (
                ("note_name", 1),
                ("note", 1),
                ("author_name", 1),
                ("author", 1),
                ("price", 1),
            ),
        ),
        Release(True, (("book_name", 1), ("rating", 3))),
    ),
)
