"""How Callrix's side of compliance can fail: the final export offered to a terminated
licensee's owner."""

from compliance.licensee.errors import ComplianceError


class FinalExportNotFound(ComplianceError):
    status_code = 404
    code = "not_found"


class FinalExportGone(ComplianceError):
    status_code = 410
    code = "export_gone"


class FinalExportDenied(ComplianceError):
    status_code = 403
    code = "invalid_credentials"
