-- termguard central store, migration 16: what administrators may do to the records is bounded
-- and seen. Applied by termguard-central init/migrate in one transaction, as termguard_owner.
--
-- - prune() keeps at least the retention floor (12 months unless the database's owner sets
--   another): an administrator's credentials cannot empty the store of last year's records.
--   Every partition dropped raises an alert of kind "pruned", so the auditors hear of it.
-- - end_host_sessions(): a re-enrolled host's sessions opened with the replaced certificate
--   end once the new CRL is in force (PostgreSQL checks certificates at connection only).

SET LOCAL ROLE termguard_owner;

CREATE TABLE termguard.retention_floor (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        min_months integer NOT NULL CHECK (min_months BETWEEN 1 AND 1200)
);
INSERT INTO termguard.retention_floor (min_months) VALUES (12);
REVOKE ALL ON termguard.retention_floor FROM PUBLIC;
GRANT SELECT ON termguard.retention_floor TO termguard_admin, termguard_auditor;

-- The partitions' work stays as migration 14 made it, under another name nobody else calls.
ALTER FUNCTION termguard.prune(integer) RENAME TO prune_partitions;
REVOKE EXECUTE ON FUNCTION termguard.prune_partitions(integer) FROM PUBLIC, termguard_admin;

CREATE FUNCTION termguard.prune(older_than_months integer) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        floor_months integer := (SELECT min_months FROM termguard.retention_floor);
        part text;
BEGIN
        IF older_than_months IS NOT NULL AND older_than_months < floor_months THEN
                RAISE EXCEPTION 'records are kept at least % months (termguard.retention_floor)', floor_months
                        USING ERRCODE = 'insufficient_privilege';
        END IF;
        FOR part IN SELECT * FROM termguard.prune_partitions(older_than_months) LOOP
                INSERT INTO termguard.alerts (kind, detail)
                VALUES ('pruned', format('partition %s dropped by %s (older than %s months)', part, session_user,
                                         older_than_months));
                RETURN NEXT part;
        END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION termguard.prune(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION termguard.prune(integer) TO termguard_admin;

CREATE FUNCTION termguard.end_host_sessions(p_host_id uuid) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        session record;
        n integer := 0;
BEGIN
        -- The sessions are chosen first, then ended one by one: in one query the planner may
        -- call pg_terminate_backend on rows the join would have left out.
        FOR session IN SELECT a.pid FROM pg_stat_activity a JOIN termguard.hosts h ON a.usename = h.role
                       WHERE h.host_id = p_host_id LOOP
                IF pg_terminate_backend(session.pid) THEN
                        n := n + 1;
                END IF;
        END LOOP;
        RETURN n;
END
$$;
REVOKE EXECUTE ON FUNCTION termguard.end_host_sessions(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION termguard.end_host_sessions(uuid) TO termguard_admin;
