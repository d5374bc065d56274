"""The service's web pages: one face over the flow, the services and the selectors.

Views here collect input, call ``processes.commissioning`` or a service, and render what the
selectors read. They decide nothing: a refusal from a service (``cycle.errors``) becomes the page's
error summary. Layout conventions are in ``cycle/web/README.md``.
"""
