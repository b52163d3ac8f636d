-- The cluster-wide group roles of termguard's central store. Roles belong to the cluster, not
-- to the database, so pg_dump does not carry them: termguard-central runs this file (as a
-- superuser) before the migrations and before a restore. Idempotent.
DO $roles$
BEGIN
        -- Owns every object; NOLOGIN: reachable only through its SECURITY DEFINER functions.
        -- CREATEROLE lets enroll_host() make a terminal's login role.
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'termguard_owner') THEN
                CREATE ROLE termguard_owner NOLOGIN CREATEROLE;
        END IF;
        -- Members are the terminals' login roles; may execute termguard.ingest() only.
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'termguard_ingest') THEN
                CREATE ROLE termguard_ingest NOLOGIN;
        END IF;
        -- Read-only on the views in schema termguard_report.
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'termguard_auditor') THEN
                CREATE ROLE termguard_auditor NOLOGIN;
        END IF;
        -- Host management (enrol, revoke, re-enrol, prune) through functions.
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'termguard_admin') THEN
                CREATE ROLE termguard_admin NOLOGIN;
        END IF;
        -- termguard-central watch: marks the alerts it delivered (migration 13).
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'termguard_watch') THEN
                CREATE ROLE termguard_watch NOLOGIN;
        END IF;
        -- pgaudit's object audit role (audit.sql): never logs in; what it may read is what
        -- every role's reads of are logged.
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'termguard_audit') THEN
                CREATE ROLE termguard_audit NOLOGIN;
        END IF;
        -- revoke_host() ends the sessions of the role it locks.
        GRANT pg_signal_backend TO termguard_owner;
END
$roles$;
