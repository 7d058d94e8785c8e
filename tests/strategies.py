"""
Hypothesis strategies for tests/test_properties.py: random v1 models of one
app and a random v2 made of the edits the package splits.

v1: one to three models (``Alpha``, ``Bravo``, ``Charlie``), each with one to
four fields of many types, nullable or not, with a constant ``default``, a
``db_default`` or both, ``unique`` and ``db_index`` where every vendor can
index the column; ``ForeignKey``, ``OneToOneField`` and ``ManyToManyField``
point at models defined before theirs, or (nullable, or M2M) at their own
(no other cycle: the probe fills every relation of a row it creates).

v2: models deleted, never all of them (every relation of a kept model that
points at one is removed too, so nothing kept points at a deleted model);
fields removed; ``null=True`` -> ``False`` on fields with a constant
default; fields added, nullable, or NOT NULL with a constant default (or a
``db_default``). Every v2 holds at least one backward-incompatible edit, so
a cleanup is always parked.

What is left out, and why (none of it is a case the package handles
differently):

- a unique field has no default (the probe's rows would share it), and
  booleans, dates and datetimes are never unique (the probe writes one value);
- a kept relation never PROTECTs (the probe deletes targets before sources);
- no added field deconstructs like a field removed from the same model
  (Django would ask "Did you rename ...?" on stdin);
- v2 keeps a model (the probe needs the app in v2's state);
- a vendor-specific exclusion: see ``lingers_without_check``.
"""

from __future__ import annotations

import dataclasses

from hypothesis import assume
from hypothesis import strategies as st

MODEL_NAMES = ("Alpha", "Bravo", "Charlie")

IMPORTS = """\
import datetime
import decimal
import uuid

from django.db.models.functions import Now
"""

# kind: (field class and its required arguments, constant default,
#        db_default, value the field may be unique/indexed on every vendor)
PLAIN = {
    "char": ("models.CharField(max_length=40", '"x"', '"y"', True),
    "text": ("models.TextField(", '""', '"t"', False),
    "int": ("models.IntegerField(", "0", "7", True),
    "posint": ("models.PositiveIntegerField(", "1", "2", True),
    "bool": ("models.BooleanField(", "False", "True", False),
    "float": ("models.FloatField(", "1.5", "2.5", True),
    "decimal": (
        "models.DecimalField(max_digits=10, decimal_places=2",
        'decimal.Decimal("1.50")',
        'decimal.Decimal("2.25")',
        True,
    ),
    "date": (
        "models.DateField(",
        "datetime.date(2026, 1, 2)",
        "datetime.date(2026, 1, 3)",
        True,
    ),
    "datetime": (
        "models.DateTimeField(",
        "datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)",
        "Now()",
        True,
    ),
    "uuid": (
        "models.UUIDField(",
        'uuid.UUID("12345678123456781234567812345678")',
        None,
        True,
    ),
    "json": ("models.JSONField(", None, None, False),
}
# The probe writes the same value in every row of these: never unique.
SAME_VALUE = {"bool", "date", "datetime"}
RELATIONS = ("fk", "o2o", "m2m")


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    kind: str
    null: bool = False
    default: bool = False
    db_default: bool = False
    unique: bool = False
    db_index: bool = False
    target: str | None = None
    on_delete: str = "CASCADE"
    no_index: bool = False  # a ForeignKey with db_index=False

    def render(self, model: str) -> str:
        if self.kind in RELATIONS:
            cls = {
                "fk": "models.ForeignKey",
                "o2o": "models.OneToOneField",
                "m2m": "models.ManyToManyField",
            }[self.kind]
            args = ['"self"' if self.target == model else self.target]
            if self.kind != "m2m":
                args.append(f"on_delete=models.{self.on_delete}")
                if self.null:
                    args.append("null=True")
                if self.no_index:
                    args.append("db_index=False")
            args.append(f'related_name="{model.lower()}_{self.name}"')
            return f"{self.name} = {cls}({', '.join(args)})"
        head, default, db_default, _ = PLAIN[self.kind]
        args = []
        if self.null:
            args.append("null=True")
        if self.default:
            args.append(f"default={default or 'dict'}")
        if self.db_default:
            args.append(f"db_default={db_default}")
        if self.unique:
            args.append("unique=True")
        if self.db_index:
            args.append("db_index=True")
        separator = ", " if head[-1] != "(" and args else ""
        return f"{self.name} = {head}{separator}{', '.join(args)})"

    def signature(self) -> tuple:
        """What Django's rename detection compares: everything but the name."""
        return dataclasses.astuple(dataclasses.replace(self, name=""))

    @property
    def constant_default(self) -> bool:
        """A default written as a constant (not ``dict``, the JSON callable)."""
        return self.default and PLAIN[self.kind][1] is not None


@dataclasses.dataclass(frozen=True)
class Model:
    name: str
    fields: tuple[Field, ...]


def render(models: tuple[Model, ...]) -> str:
    blocks = [IMPORTS]
    for model in models:
        lines = [f"class {model.name}(models.Model):"]
        lines += [f"    {field.render(model.name)}" for field in model.fields]
        if not model.fields:
            lines.append("    pass")
        blocks.append("\n".join(lines) + "\n")
    return "\n\n".join(blocks)


@dataclasses.dataclass(frozen=True)
class Change:
    """A v1 and v2 pair, and the edits that lead from one to the other."""

    v1: tuple[Model, ...]
    v2: tuple[Model, ...]
    edits: tuple[str, ...]

    @property
    def v1_source(self) -> str:
        return render(self.v1)

    @property
    def v2_source(self) -> str:
        return render(self.v2)

    def __repr__(self) -> str:
        return (
            f"Change(edits={list(self.edits)!r})\n"
            f"--- v1\n{self.v1_source}--- v2\n{self.v2_source}"
        )


def plain_field(draw, name: str, kinds: list[str]) -> Field:
    kind = draw(st.sampled_from(kinds))
    _, default, db_default, indexable = PLAIN[kind]
    null = draw(st.booleans())
    has_default = draw(st.booleans())
    has_db_default = db_default is not None and draw(st.booleans())
    unique = (
        indexable
        and kind not in SAME_VALUE
        and not has_default
        and not has_db_default
        and draw(st.booleans())
    )
    db_index = indexable and draw(st.booleans())
    return Field(name, kind, null, has_default, has_db_default, unique, db_index)


def relation(draw, name: str, model: str, targets: list[str]) -> Field:
    """A relation to an earlier model, or a nullable one (or M2M) to ``model``."""
    kind = draw(st.sampled_from(RELATIONS))
    target = draw(st.sampled_from([*targets, model]))
    if kind == "m2m":
        return Field(name, kind, target=target)
    null = target == model or draw(st.booleans())
    on_delete = draw(st.sampled_from(["CASCADE", "SET_NULL"] if null else ["CASCADE"]))
    no_index = kind == "fk" and draw(st.booleans())
    return Field(
        name, kind, null=null, target=target, on_delete=on_delete, no_index=no_index
    )


def v1_models(draw) -> tuple[Model, ...]:
    count = draw(st.integers(1, len(MODEL_NAMES)))
    models = []
    for index, model_name in enumerate(MODEL_NAMES[:count]):
        fields = []
        for number in range(draw(st.integers(1, 4))):
            earlier = list(MODEL_NAMES[:index])
            if draw(st.integers(0, 2)) == 0:
                field = relation(draw, f"rel{number}", model_name, earlier)
            else:
                field = plain_field(draw, f"f{number}", list(PLAIN))
            fields.append(field)
        models.append(Model(model_name, tuple(fields)))
    return tuple(models)


def rarely(draw) -> bool:
    """True about one time in three; shrinks to False."""
    return draw(st.integers(0, 2)) == 2


def is_breaking(edit: str) -> bool:
    return edit.startswith(("delete", "remove")) or edit.endswith(
        ("-> False", "(NOT NULL, constant default)")
    )


def addition(draw, name: str, model: str, targets: list[str]) -> tuple[Field, str]:
    """A new field: nullable, or NOT NULL with a constant default or a db_default."""
    if draw(st.integers(0, 3)) == 0:
        field = dataclasses.replace(relation(draw, name, model, targets), null=True)
        if field.kind != "m2m":
            on_delete = draw(st.sampled_from(["CASCADE", "SET_NULL"]))
            field = dataclasses.replace(field, on_delete=on_delete)
        return field, "nullable"
    field = plain_field(draw, name, list(PLAIN))
    how = draw(st.sampled_from(["nullable", "default", "db_default"]))
    if how == "default" and field.constant_default:
        field = dataclasses.replace(field, null=False, db_default=False)
        return field, "NOT NULL, constant default"
    if how == "db_default" and field.db_default:
        # Not backward-incompatible: the database fills the old release's rows.
        return dataclasses.replace(field, null=False), "NOT NULL, db_default"
    return dataclasses.replace(field, null=True), "nullable"


def lingers_without_check(vendor: str, field: Field) -> bool:
    """
    README, Limitations: on MariaDB a removed NOT NULL positive integer
    without a constant default loses its CHECK while it lingers (and after a
    rollback), so reversibility cannot hold for it there.
    """
    return (
        vendor == "mysql"
        and field.kind == "posint"
        and not field.null
        and not field.db_default
        and not field.constant_default
    )


@st.composite
def changes(draw, vendor: str = "sqlite") -> Change:
    v1 = v1_models(draw)
    deleted = {model.name for model in v1 if rarely(draw)}
    # probe.py's CRUD needs the app in v2's state: keep a model.
    deleted.discard(v1[0].name if len(deleted) == len(v1) else None)
    edits = [f"delete model {name}" for name in sorted(deleted)]
    kept: dict[str, list[Field]] = {}
    removed: dict[str, list[Field]] = {}
    for model in v1:
        if model.name in deleted:
            continue
        kept[model.name], removed[model.name] = [], []
        for field in model.fields:
            where = f"{model.name}.{field.name}"
            if field.target in deleted:
                action = "remove"
                edits.append(f"remove {where} (points at a deleted model)")
            elif lingers_without_check(vendor, field):
                action = "keep"
            else:
                action = draw(st.sampled_from(["keep", "remove", "not null"]))
                if action == "remove":
                    edits.append(f"remove {where}")
            if action == "remove":
                removed[model.name].append(field)
            elif (
                action == "not null"
                and field.kind not in RELATIONS
                and field.null
                and field.constant_default
            ):
                kept[model.name].append(dataclasses.replace(field, null=False))
                edits.append(f"{where}: null=True -> False")
            else:
                kept[model.name].append(field)
    added: dict[str, list[tuple[Field, str]]] = {}
    for model_name in kept:
        position = MODEL_NAMES.index(model_name)
        targets = [name for name in kept if MODEL_NAMES.index(name) < position]
        added[model_name] = [
            addition(draw, f"new{number}", model_name, targets)
            for number in range(draw(st.integers(0, 2)))
        ]
    if not any(map(is_breaking, edits)) and not any(
        what.startswith("NOT NULL") for fields in added.values() for _, what in fields
    ):
        # At least one backward-incompatible edit: remove the first field
        # that may go.
        for model_name, fields in kept.items():
            candidates = [f for f in fields if not lingers_without_check(vendor, f)]
            if candidates:
                fields.remove(candidates[0])
                removed[model_name].append(candidates[0])
                edits.append(f"remove {model_name}.{candidates[0].name}")
                break
    v2 = []
    for model_name, fields in kept.items():
        for field, what in added[model_name]:
            if any(field.signature() == old.signature() for old in removed[model_name]):
                continue  # Django would ask on stdin whether it is a rename
            fields.append(field)
            edits.append(f"add {model_name}.{field.name} ({what})")
        v2.append(Model(model_name, tuple(fields)))
    assume(any(map(is_breaking, edits)))
    return Change(v1, tuple(v2), tuple(edits))
