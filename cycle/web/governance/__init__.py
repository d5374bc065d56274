"""Governance board members' pages: compliance, the audit trail, overrides, downloads."""
