-- Reads of staff records are logged (pgaudit, object audit): every SELECT on the auditors'
-- views and on the tables of records, by any role (auditors, administrators, superusers,
-- verify and report), goes to the server's log as an AUDIT line with the role and statement.
-- Run by termguard-central init as a superuser, in database termguard, after the migrations.
-- Idempotent. pgaudit logs only once it is in shared_preload_libraries (init sets it; a
-- restart of PostgreSQL makes it take effect).
-- termguard_audit is made by roles.sql (a cluster role: restore needs it before the grants).
GRANT SELECT ON ALL TABLES IN SCHEMA termguard_report TO termguard_audit;
GRANT SELECT ON termguard.events, termguard.heartbeats, termguard.conflicts TO termguard_audit;
ALTER DATABASE termguard SET pgaudit.role = 'termguard_audit';
ALTER DATABASE termguard SET pgaudit.log_relation = on;
ALTER DATABASE termguard SET pgaudit.log_parameter = on;
