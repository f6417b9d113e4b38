"""The FME-side REST API (``/api/v1``): what a flag's Integrations tab in FME calls.

Documented by an OpenAPI 3 document at ``/api/openapi.json``, generated from the same
marshmallow schemas that validate the requests.
"""
