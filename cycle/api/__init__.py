"""The REST API, version 1: the same services as the pages, for commissioning bodies' own tools.

Serializers check the shape of a request; the services (``cycle.services``, ``roles.services``)
and the flow's entry points (``processes.commissioning``) decide. Errors are RFC 9457 problem
details (``problems``). See ``docs/api.md``.
"""
