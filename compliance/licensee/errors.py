"""Every way the licensee's side of compliance (exports, end users' rights, the request
log) can fail."""

from kernel.errors import DomainError


class ComplianceError(DomainError):
    pass


class ExportNotFound(ComplianceError):
    status_code = 404
    code = "export_not_found"


class ExportInProgress(ComplianceError):
    status_code = 409
    code = "export_in_progress"


class ExportNotReady(ComplianceError):
    status_code = 409
    code = "export_not_ready"


class ExportExpired(ComplianceError):
    status_code = 410
    code = "export_expired"


class DownloadLinkInvalid(ComplianceError):
    # The same answer as an unknown export: a link must not reveal what exists elsewhere.
    status_code = 404
    code = "export_not_found"


class DownloadLinkExpired(ComplianceError):
    status_code = 403
    code = "link_expired"


class ExportScopeIncomplete(ComplianceError):
    """Some table of the schema has no export decision, or a rule names a column the table
    no longer has (a renamed secret would be exported): exporting now could leave data out
    or let a secret through."""

    status_code = 500
    code = "export_scope_incomplete"

    def __init__(self, *, undecided_tables=(), missing_columns=()):
        problems = []
        if undecided_tables:
            problems.append(
                "tables with neither an export rule nor an exclusion: "
                + ", ".join(undecided_tables)
            )
        if missing_columns:
            problems.append(
                "columns to leave out that their tables no longer have: "
                + ", ".join(missing_columns)
            )
        super().__init__("The export scope is incomplete; " + "; ".join(problems) + ".")
        self.undecided_tables = list(undecided_tables)
        self.missing_columns = list(missing_columns)


class PasswordIncorrect(ComplianceError):
    status_code = 403
    code = "password_incorrect"


class ErasureRefused(ComplianceError):
    """The account cannot be erased yet; `code` says why (call_open, money_owed …)."""

    status_code = 409
    code = "erasure_refused"


class PrivacyRequestNotFound(ComplianceError):
    status_code = 404
    code = "privacy_request_not_found"


class PrivacyRequestInvalid(ComplianceError):
    status_code = 422
    code = "invalid_field"


class PrivacyRequestClosed(ComplianceError):
    status_code = 409
    code = "privacy_request_closed"


class SubjectNotFound(ComplianceError):
    status_code = 404
    code = "user_not_found"
