-- termguard central store, migration 12: what retention dropped, per host.
-- Applied by termguard-central init/migrate in one transaction, as termguard_owner.
--
-- Dropping a month's partition takes the oldest records of every host in it: the oldest
-- record left no longer links to anything, and verify would call that a gap. Before a
-- partition goes, prune() now records for each host in it the highest seq dropped and that
-- record's MAC (the chain's head at that point), the count, when and by whom. Verification
-- starts the host's chain after the newest mark: the next record must be the mark's seq + 1
-- and carry its MAC as its previous MAC, its own MAC is checked with the key evolved from the
-- escrowed seed. A row missing after the mark is still a gap.
--
-- Only prune() writes marks (it runs as termguard_owner): no role may insert, change or delete
-- them, and a change or deletion by the owner or a superuser raises a tamper alert, as the
-- tripwire does for stored records. A forged mark could at most explain away missing oldest
-- records, and only with a MAC that the next record carries.

SET LOCAL ROLE termguard_owner;

CREATE TABLE termguard.prune_marks (
        id bigserial PRIMARY KEY,
        host_id uuid NOT NULL,
        partition name NOT NULL,
        month date NOT NULL,
        -- The highest seq of the host dropped so far (this partition and earlier prunes), and
        -- the MAC of the record at that seq.
        pruned_through bigint NOT NULL CHECK (pruned_through > 0),
        head_mac bytea NOT NULL CHECK (octet_length(head_mac) = 32),
        records bigint NOT NULL, -- the host's records in this partition
        dropped_at timestamptz NOT NULL DEFAULT now(),
        dropped_by name NOT NULL
);
CREATE INDEX ON termguard.prune_marks (host_id, pruned_through);

CREATE OR REPLACE FUNCTION termguard.prune(older_than_months integer) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        cutoff date;
        part record;
        n bigint;
BEGIN
        IF older_than_months IS NULL OR older_than_months < 1 OR older_than_months > 1200 THEN
                RAISE EXCEPTION 'older_than_months must be 1..1200' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        cutoff := (termguard.month_of(now()) - make_interval(months => older_than_months))::date;
        FOR part IN
                SELECT c.relname, to_date(substr(c.relname, 8), 'YYYYMM') AS month
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'termguard.events'::regclass AND c.relname ~ '^events_[0-9]{6}$'
                ORDER BY 2
        LOOP
                CONTINUE WHEN part.month >= cutoff;
                EXECUTE format('SELECT count(*) FROM termguard.%I', part.relname) INTO n;
                -- Per host: the newest record dropped, unless an earlier mark reaches further
                -- (a record whose clock put it in an older month).
                EXECUTE format(
                        'INSERT INTO termguard.prune_marks (host_id, partition, month, pruned_through, head_mac, '
                        '                                   records, dropped_by) '
                        'SELECT d.host_id, %L, %L, greatest(d.seq, coalesce(m.pruned_through, 0)), '
                        '       CASE WHEN m.pruned_through > d.seq THEN m.head_mac ELSE d.mac END, d.n, session_user '
                        'FROM (SELECT DISTINCT ON (host_id) host_id, seq, mac, '
                        '             count(*) OVER (PARTITION BY host_id) AS n '
                        '      FROM termguard.%I ORDER BY host_id, seq DESC) d '
                        'LEFT JOIN LATERAL (SELECT pruned_through, head_mac FROM termguard.prune_marks p '
                        '                   WHERE p.host_id = d.host_id ORDER BY pruned_through DESC, id DESC '
                        '                   LIMIT 1) m ON true',
                        part.relname, part.month, part.relname);
                EXECUTE format('ALTER TABLE termguard.events DETACH PARTITION termguard.%I', part.relname);
                EXECUTE format('DROP TABLE termguard.%I', part.relname);
                INSERT INTO termguard.prunes (partition, month, records, dropped_by)
                VALUES (part.relname, part.month, n, session_user);
                RETURN NEXT part.relname;
        END LOOP;
END
$$;

-- The tripwire for marks (termguard.tamper_alert reads a seq column marks do not have).
CREATE FUNCTION termguard.prune_mark_tamper_alert() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        alert_id bigint;
        v_host uuid;
        v_seq bigint;
BEGIN
        IF TG_LEVEL = 'ROW' THEN
                v_host := OLD.host_id;
                v_seq := OLD.pruned_through;
        END IF;
        INSERT INTO termguard.alerts (host_id, kind, seq, detail)
        VALUES (v_host, 'tamper', v_seq,
                format('%s on %s.%s by %s', lower(TG_OP), TG_TABLE_SCHEMA, TG_TABLE_NAME, session_user))
        RETURNING id INTO alert_id;
        PERFORM pg_notify('termguard_alert',
                          json_build_object('id', alert_id, 'kind', 'tamper', 'host_id', v_host, 'seq', v_seq)::text);
        RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION termguard.prune_mark_tamper_alert() FROM PUBLIC;

CREATE TRIGGER tamper_alert AFTER UPDATE OR DELETE ON termguard.prune_marks
        FOR EACH ROW EXECUTE FUNCTION termguard.prune_mark_tamper_alert();
CREATE TRIGGER tamper_alert_truncate AFTER TRUNCATE ON termguard.prune_marks
        FOR EACH STATEMENT EXECUTE FUNCTION termguard.prune_mark_tamper_alert();

-- Auditors see each host's marks beside the partitions dropped.
CREATE VIEW termguard_report.prune_marks AS
        SELECT m.id, m.host_id, h.department, h.hostname, m.partition, m.month, m.pruned_through, m.head_mac,
               m.records, m.dropped_at, m.dropped_by
        FROM termguard.prune_marks m LEFT JOIN termguard.hosts h USING (host_id);

REVOKE ALL ON termguard.prune_marks FROM PUBLIC;
REVOKE ALL ON SEQUENCE termguard.prune_marks_id_seq FROM PUBLIC;
GRANT SELECT ON termguard_report.prune_marks TO termguard_auditor;
GRANT SELECT ON termguard.prune_marks TO termguard_admin;
