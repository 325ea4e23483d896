"""Compliance, split by controller: `licensee` (the licensee controls its end users' data) and
`callrix` (Callrix controls its licensees' account data)."""
