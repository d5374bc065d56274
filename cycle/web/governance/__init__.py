"""The governance board member's pages: the compliance dashboard, a cycle's record, overriding a
gate, the audit trail with its Verify button, and the downloads (report on involvement, ledger)."""
