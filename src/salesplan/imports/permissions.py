"""Imports and exports in the permission registry. Importing a file of a record type
needs that type's "create" entry (checked per file, with owners and duplicates checked
per row); exporting needs its "view" entry. These entries say who may use the tools."""

from salesplan.core.registry import (
    ADMIN,
    ALL,
    EXECUTIVE,
    MANAGER,
    MARKETING,
    REP,
    register,
    register_operations,
)

register("data_import", "run", {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL},
         doc="import records")
register("data_import", "view", {ADMIN: ALL, MANAGER: ALL, REP: ALL, MARKETING: ALL,
                                 EXECUTIVE: ALL}, doc="follow imports and export records")

register_operations("""
POST   /imports/{resource}                   data_import.run
POST   /imports/jobs/{job_id}/commit         data_import.run
GET    /imports/jobs/{job_id}                data_import.view
GET    /imports/exports/{resource}.csv       data_import.view
GET    /imports/exports/{resource}.xlsx      data_import.view
""")
