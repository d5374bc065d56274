"""Procurement under the Provider Selection Regime: the route, the tender and its evaluation with
users on the panel, the decision and its notice of intention, and the standstill."""
