from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness without the database: for load balancers, docker healthchecks and the benchmark's baseline."""
    return HttpResponse("ok", content_type="text/plain")
