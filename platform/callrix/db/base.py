"""django-tenants' PostgreSQL backend, minus the redundant `SET search_path`.

Stock django-tenants forgets the applied search_path on every `set_tenant()`, so each request
re-sends the SET even when the connection already sits in that schema. We remember what the
session really has (cleared whenever PostgreSQL may have discarded it) and skip a SET that
would change nothing.
"""

from django_tenants.postgresql_backend import base as tenants_base


class DatabaseWrapper(tenants_base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        self._applied_search_path = None
        super().__init__(*args, **kwargs)

    def _handle_search_path(self, cursor=None):
        if self._setting_search_path:
            return
        if self.schema_name and self._applied_search_path is not None:
            wanted = self._get_cursor_search_paths()
            if wanted == self._applied_search_path:
                self.search_path_set_schemas = wanted
                return
        super()._handle_search_path(cursor)
        self._applied_search_path = self.search_path_set_schemas

    def _forget_search_path(self):
        self._applied_search_path = None

    def close(self):
        self._forget_search_path()
        super().close()

    def rollback(self):
        self._forget_search_path()
        super().rollback()

    def savepoint_rollback(self, sid):
        try:
            super().savepoint_rollback(sid)
        finally:
            self._forget_search_path()

    def connect(self):
        self._forget_search_path()
        super().connect()
