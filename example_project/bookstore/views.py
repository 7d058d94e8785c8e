"""A tiny JSON API over every model of the app, written once for all releases.

The views never name a model or a field: they read the app's models from the
registry, so release v1 (Font, Book.font, Product.rating) and release v2
(models_v2.py.txt) serve the same view code and swapping models.py is the
only code change between them. Each release queries the database exactly as
Django does for its models: every query lists every column the release maps.

    GET    /api/                      the models and fields this release serves
    GET    /api/<model>/              the latest rows (model_to_dict)
    POST   /api/<model>/              create a row from form fields
    GET    /api/<model>/<pk>/         one row
    POST   /api/<model>/<pk>/         update: set the given fields, save()
    DELETE /api/<model>/<pk>/         delete (Django's on_delete emulation)

Form fields are the model's field names; a foreign key takes the related
row's primary key. Unknown names are ignored. A row that is not there is a
404; invalid input is a 400; anything else the database says is a 500.
"""

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

APP_LABEL = "bookstore"
LIST_LIMIT = 20


def _model(name):
    try:
        return apps.get_app_config(APP_LABEL).get_model(name)
    except LookupError:
        raise Http404(f"this release has no model {name!r}") from None


def _fields(model):
    """The concrete fields a client sets (not the primary key)."""
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _row(obj):
    return {"pk": obj.pk, **model_to_dict(obj)}


def _assign(obj, data):
    """Set the fields present in ``data``; a foreign key takes a primary key."""
    for field in _fields(obj):
        if field.name in data:
            value = data[field.name]
            if value == "" and field.null:
                value = None
            setattr(obj, field.attname, field.to_python(value))


def _describe(field):
    return {
        "name": field.name,
        "type": field.get_internal_type(),
        "null": field.null,
        "max_length": field.max_length,
        "related_model": (
            field.related_model._meta.model_name if field.is_relation else None
        ),
    }


@require_http_methods(["GET"])
def index(request):
    return JsonResponse(
        {
            "models": {
                model._meta.model_name: [_describe(f) for f in _fields(model)]
                for model in apps.get_app_config(APP_LABEL).get_models()
            }
        }
    )


@require_http_methods(["GET", "POST"])
def collection(request, model_name):
    model = _model(model_name)
    if request.method == "GET":
        rows = model.objects.order_by("-pk")[:LIST_LIMIT]
        return JsonResponse({"rows": [_row(obj) for obj in rows]})
    obj = model()
    try:
        _assign(obj, request.POST)
        with transaction.atomic():
            obj.save()
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages}, status=400)
    return JsonResponse(_row(obj), status=201)


@require_http_methods(["GET", "POST", "DELETE"])
def item(request, model_name, pk):
    model = _model(model_name)
    if request.method == "GET":
        obj = model.objects.filter(pk=pk).first()
        if obj is None:
            raise Http404(f"no {model_name} {pk}")
        return JsonResponse(_row(obj))
    with transaction.atomic():
        # Lock the row: a concurrent DELETE must not make save() re-INSERT it.
        obj = model.objects.select_for_update().filter(pk=pk).first()
        if obj is None:
            raise Http404(f"no {model_name} {pk}")
        if request.method == "DELETE":
            obj.delete()
            return HttpResponse(status=204)
        try:
            _assign(obj, request.POST)
        except ValidationError as exc:
            return JsonResponse({"error": exc.messages}, status=400)
        obj.save()
        return JsonResponse(_row(obj))
