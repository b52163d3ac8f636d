-- termguard central store, migration 10: what central verification and alerts need.
-- Applied by termguard-central init/migrate in one transaction, as termguard_owner.
--
-- 1. The heartbeats view shows every column a checkpoint row stores, so that verification,
--    running as an auditor, compares all of them with the record's raw bytes.
-- 2. A tripwire: any UPDATE or DELETE of a stored record, and any TRUNCATE, raises an alert at
--    once (a row in termguard.alerts and NOTIFY termguard_alert, which `termguard-central
--    watch` sends to syslog and the alert hook). Nothing of termguard ever changes or deletes a
--    stored record: retention drops whole partitions (DETACH and DROP fire no row trigger). A
--    superuser can disable triggers; what the tripwire misses, verification shows, since the
--    raw bytes and their MACs cannot be remade without the escrowed seed.

SET LOCAL ROLE termguard_owner;

-- Columns are only added at the end: CREATE OR REPLACE VIEW keeps the existing ones.
CREATE OR REPLACE VIEW termguard_report.heartbeats AS
        SELECT b.host_id, h.department, h.hostname, b.seq, b.time, b.clock, b.fields, b.boot_id, b.time_usec,
               b.prev_mac, b.mac, b.raw, b.received_at, b.priority, b.type, b.uid, b.pid, b.comm, b.unit
        FROM termguard.heartbeats b JOIN termguard.hosts h USING (host_id);

-- Not SECURITY DEFINER: current_user is who changed the rows. Only termguard_owner and
-- superusers can change them at all, and both may write alerts.
CREATE FUNCTION termguard.tamper_alert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        alert_id bigint;
        what text := lower(TG_OP);
        v_host uuid;
        v_seq bigint;
BEGIN
        -- Rows of a new month move out of the default partition when its partition is made
        -- (ensure_partition, running as termguard_owner): a move, not a deletion.
        IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'events_default' AND current_user = 'termguard_owner' THEN
                RETURN NULL;
        END IF;
        IF TG_LEVEL = 'ROW' THEN
                v_host := OLD.host_id;
                v_seq := OLD.seq;
        END IF;
        INSERT INTO termguard.alerts (host_id, kind, seq, detail)
        VALUES (v_host, 'tamper', v_seq,
                format('%s on %s.%s by %s', what, TG_TABLE_SCHEMA, TG_TABLE_NAME, session_user))
        RETURNING id INTO alert_id;
        PERFORM pg_notify('termguard_alert',
                          json_build_object('id', alert_id, 'kind', 'tamper', 'host_id', v_host, 'seq', v_seq)::text);
        RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION termguard.tamper_alert() FROM PUBLIC;

-- Row triggers on a partitioned table are cloned onto every partition, present and future.
CREATE TRIGGER tamper_alert AFTER UPDATE OR DELETE ON termguard.events
        FOR EACH ROW EXECUTE FUNCTION termguard.tamper_alert();
CREATE TRIGGER tamper_alert AFTER UPDATE OR DELETE ON termguard.heartbeats
        FOR EACH ROW EXECUTE FUNCTION termguard.tamper_alert();
CREATE TRIGGER tamper_alert AFTER UPDATE OR DELETE ON termguard.conflicts
        FOR EACH ROW EXECUTE FUNCTION termguard.tamper_alert();
CREATE TRIGGER tamper_alert_truncate AFTER TRUNCATE ON termguard.events
        FOR EACH STATEMENT EXECUTE FUNCTION termguard.tamper_alert();
CREATE TRIGGER tamper_alert_truncate AFTER TRUNCATE ON termguard.heartbeats
        FOR EACH STATEMENT EXECUTE FUNCTION termguard.tamper_alert();
CREATE TRIGGER tamper_alert_truncate AFTER TRUNCATE ON termguard.conflicts
        FOR EACH STATEMENT EXECUTE FUNCTION termguard.tamper_alert();
