-- termguard central store, migration 12: ingest checks and stores a batch with a few set-based
-- statements instead of a loop over its records.
-- Applied by termguard-central init/migrate in one transaction, as termguard_owner.
--
-- The loop called, for every record, a dozen PL/pgSQL and SQL helpers (json_int, json_text,
-- json_fields, month_of, in_partition_window, ensure_partition), each with its own SET
-- search_path, which PostgreSQL cannot inline and runs with a configuration save and restore
-- per call, and four single-row statements (a look-up, two inserts, an upsert of the rollup).
-- Now: one query checks every element (the same checks, in the same order, the first bad
-- element by position refuses the batch, naming it); the records are decoded once; one
-- partition check per month of the batch; one look-up of the stored seqs (only at or below the
-- host's last_seq, as before); one INSERT each into events and heartbeats and one upsert of
-- the rollup per month and type. What is stored, refused, ignored as a resend or kept as a
-- conflict is unchanged (docs/central.md, "Ingest").

SET LOCAL ROLE termguard_owner;

-- One checked record of a batch; i is its position (1-based).
CREATE TYPE termguard.ingest_record AS (
        i bigint,
        seq bigint,
        time timestamptz,
        time_usec bigint,
        boot_id uuid,
        clock smallint,
        priority smallint,
        type text,
        uid bigint,
        pid integer,
        comm text,
        unit text,
        fields jsonb,
        prev_mac bytea,
        mac bytea,
        raw bytea
);

CREATE OR REPLACE FUNCTION termguard.ingest(batch jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        keys CONSTANT text[] := ARRAY['seq', 'boot_id', 'time_usec', 'clock', 'priority', 'type', 'uid', 'pid',
                                      'comm', 'unit', 'fields', 'prev_mac', 'mac', 'raw'];
        h termguard.hosts%ROWTYPE;
        bad_i bigint;
        bad text;
        recs termguard.ingest_record[];
        min_seq bigint;
        max_seq bigint;
        part_month timestamptz;
        c record;
        known bigint[] := '{}';
        added bigint;
        alert_id bigint;
BEGIN
        -- FOR UPDATE: one host's batches are stored one after the other.
        SELECT * INTO h FROM termguard.hosts WHERE role = session_user FOR UPDATE;
        IF NOT FOUND OR h.revoked_at IS NOT NULL THEN
                RAISE EXCEPTION 'termguard.ingest: % is not an enrolled host', session_user
                        USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF batch IS NULL OR jsonb_typeof(batch) <> 'array' OR jsonb_array_length(batch) NOT BETWEEN 1 AND 10000 THEN
                RAISE EXCEPTION 'termguard.ingest: the batch must be an array of 1..10000 records'
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;

        -- Every element is checked before anything is stored or compared. CASE evaluates its
        -- branches in order: a value is only cast or measured once its type is known. The
        -- bounds are the journal's (include/termguard/journal.h).
        SELECT v.i, v.problem INTO bad_i, bad
        FROM (SELECT w.i, coalesce(w.problem, CASE WHEN w.seq <= w.prev_seq
                                                   THEN 'records must be in increasing seq order' END) AS problem
              FROM (SELECT e.i, p.problem, p.seq, lag(p.seq) OVER (ORDER BY e.i) AS prev_seq
                    FROM jsonb_array_elements(batch) WITH ORDINALITY AS e(r, i)
                    CROSS JOIN LATERAL (SELECT
                        CASE WHEN jsonb_typeof(e.r) = 'object' AND jsonb_typeof(e.r -> 'seq') = 'number'
                             THEN (e.r -> 'seq')::numeric END AS seq,
                        CASE
                        WHEN jsonb_typeof(e.r) <> 'object' THEN 'a record must be an object'
                        WHEN EXISTS (SELECT FROM jsonb_object_keys(e.r) k WHERE k <> ALL (keys)) THEN
                                (SELECT format('unknown key "%s"', left(k, 64))
                                 FROM jsonb_object_keys(e.r) k WHERE k <> ALL (keys) LIMIT 1)
                        WHEN coalesce(jsonb_typeof(e.r -> 'seq'), '') <> 'number'
                             OR (e.r -> 'seq')::numeric NOT BETWEEN 1 AND 9223372036854775807
                             OR (e.r -> 'seq')::numeric <> trunc((e.r -> 'seq')::numeric) THEN
                                '"seq" must be an integer in 1..9223372036854775807'
                        -- Up to the end of year 9999: what timestamptz holds exactly.
                        WHEN coalesce(jsonb_typeof(e.r -> 'time_usec'), '') <> 'number'
                             OR (e.r -> 'time_usec')::numeric NOT BETWEEN 0 AND 253402300799999999
                             OR (e.r -> 'time_usec')::numeric <> trunc((e.r -> 'time_usec')::numeric) THEN
                                '"time_usec" must be an integer in 0..253402300799999999'
                        WHEN coalesce(jsonb_typeof(e.r -> 'type'), '') <> 'string'
                             OR (e.r ->> 'type') !~ '^[a-z0-9.-]{1,64}$' THEN
                                '"type" must be 1..64 of a-z 0-9 . -'
                        WHEN coalesce(jsonb_typeof(e.r -> 'mac'), '') <> 'string'
                             OR (e.r ->> 'mac') !~ '^[0-9a-fA-F]{64}$' THEN
                                '"mac" must be 64 hex digits'
                        WHEN coalesce(jsonb_typeof(e.r -> 'raw'), '') <> 'string'
                             OR octet_length(e.r ->> 'raw') > 174764
                             OR (e.r ->> 'raw') !~ '^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$'
                             -- the decoded size, from the text's length and its padding
                             OR octet_length(e.r ->> 'raw') / 4 * 3 - (octet_length(e.r ->> 'raw')
                                - octet_length(rtrim(e.r ->> 'raw', '='))) NOT BETWEEN 1 AND 131072 THEN
                                '"raw" must be base64 of 1..131072 bytes'
                        WHEN coalesce(jsonb_typeof(e.r -> 'boot_id'), '') <> 'string'
                             OR (e.r ->> 'boot_id') !~
                                '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' THEN
                                '"boot_id" must be a UUID'
                        WHEN coalesce(jsonb_typeof(e.r -> 'clock'), '') <> 'number'
                             OR (e.r -> 'clock')::numeric NOT IN (0, 1, 2) THEN
                                '"clock" must be 0, 1 or 2'
                        WHEN coalesce(jsonb_typeof(e.r -> 'priority'), '') <> 'number'
                             OR (e.r -> 'priority')::numeric NOT IN (0, 1, 2, 3, 4, 5, 6, 7) THEN
                                '"priority" must be an integer in 0..7'
                        WHEN coalesce(jsonb_typeof(e.r -> 'uid'), '') <> 'number'
                             OR (e.r -> 'uid')::numeric NOT BETWEEN 0 AND 4294967295
                             OR (e.r -> 'uid')::numeric <> trunc((e.r -> 'uid')::numeric) THEN
                                '"uid" must be an integer in 0..4294967295'
                        WHEN coalesce(jsonb_typeof(e.r -> 'pid'), '') <> 'number'
                             OR (e.r -> 'pid')::numeric NOT BETWEEN 0 AND 2147483647
                             OR (e.r -> 'pid')::numeric <> trunc((e.r -> 'pid')::numeric) THEN
                                '"pid" must be an integer in 0..2147483647'
                        WHEN coalesce(jsonb_typeof(e.r -> 'comm'), '') <> 'string'
                             OR octet_length(e.r ->> 'comm') > 64 THEN
                                '"comm" must be a string of at most 64 bytes'
                        WHEN coalesce(jsonb_typeof(e.r -> 'unit'), '') <> 'string'
                             OR octet_length(e.r ->> 'unit') > 64 THEN
                                '"unit" must be a string of at most 64 bytes'
                        WHEN coalesce(jsonb_typeof(e.r -> 'prev_mac'), '') <> 'string'
                             OR (e.r ->> 'prev_mac') !~ '^[0-9a-fA-F]{64}$' THEN
                                '"prev_mac" must be 64 hex digits'
                        WHEN coalesce(jsonb_typeof(e.r -> 'fields'), '') <> 'array'
                             OR jsonb_array_length(e.r -> 'fields') > 64 THEN
                                '"fields" must be an array of at most 64 pairs'
                        -- fields as in the journal: TG_JOURNAL_FIELDS_MAX, _KEY_MAX, _VALUE_MAX
                        WHEN EXISTS (SELECT FROM jsonb_array_elements(e.r -> 'fields') AS f(pair)
                                     WHERE CASE WHEN jsonb_typeof(f.pair) <> 'array' THEN true
                                                WHEN jsonb_array_length(f.pair) <> 2 THEN true
                                                WHEN coalesce(jsonb_typeof(f.pair -> 0), '') <> 'string'
                                                     OR coalesce(jsonb_typeof(f.pair -> 1), '') <> 'string' THEN true
                                                ELSE (f.pair ->> 0) !~ '^[A-Za-z0-9_]{1,64}$'
                                                     OR octet_length(f.pair ->> 1) > 4096 END) THEN
                                'a field is not a [key, value] pair within bounds'
                        END AS problem) p) w) v
        WHERE v.problem IS NOT NULL
        ORDER BY v.i
        LIMIT 1;
        IF FOUND THEN
                RAISE EXCEPTION 'termguard.ingest: record %: %', bad_i, bad USING ERRCODE = 'invalid_parameter_value';
        END IF;

        -- Decoded once, in seq order (the order of the batch).
        SELECT array_agg(ROW(e.i, (e.r -> 'seq')::numeric::bigint,
                             timestamptz 'epoch' + (e.r -> 'time_usec')::numeric::bigint * interval '1 microsecond',
                             (e.r -> 'time_usec')::numeric::bigint, (e.r ->> 'boot_id')::uuid,
                             (e.r -> 'clock')::numeric::smallint, (e.r -> 'priority')::numeric::smallint,
                             e.r ->> 'type', (e.r -> 'uid')::numeric::bigint, (e.r -> 'pid')::numeric::integer,
                             e.r ->> 'comm', e.r ->> 'unit', e.r -> 'fields', decode(e.r ->> 'prev_mac', 'hex'),
                             decode(e.r ->> 'mac', 'hex'), decode(e.r ->> 'raw', 'base64'))::termguard.ingest_record
                         ORDER BY e.i),
               min((e.r -> 'seq')::numeric::bigint), max((e.r -> 'seq')::numeric::bigint)
        INTO recs, min_seq, max_seq
        FROM jsonb_array_elements(batch) WITH ORDINALITY AS e(r, i);

        -- The partition of each month the batch's events fall in, made when missing within the
        -- window; one check per month, not per record. The month's start as
        -- termguard.month_start computes it, inline: a record is within the window exactly when
        -- its month's start is.
        FOR part_month IN
                SELECT DISTINCT date_trunc('month', x.time AT TIME ZONE 'Asia/Tokyo') AT TIME ZONE 'Asia/Tokyo'
                FROM unnest(recs) x WHERE x.type <> 'journal.checkpoint'
        LOOP
                IF termguard.in_partition_window(part_month) THEN
                        PERFORM termguard.ensure_partition(part_month);
                END IF;
        END LOOP;

        -- A seq above the host's last_seq is new without a look-up; at or below it, the stored
        -- record with that seq decides: the same MAC is a resend, another is a conflict, never
        -- dropped silently: the received record is kept and an alert raised; the stored record
        -- stays. The look-up (over every partition) is only planned and run for a batch that
        -- reaches back to stored seqs.
        IF min_seq <= h.last_seq THEN
                FOR c IN
                        SELECT x.i, x.seq, x.mac, s.mac AS stored_mac
                        FROM unnest(recs) x
                        CROSS JOIN LATERAL (SELECT mac FROM termguard.events WHERE host_id = h.host_id AND seq = x.seq
                                            UNION ALL
                                            SELECT mac FROM termguard.heartbeats WHERE host_id = h.host_id AND seq = x.seq
                                            LIMIT 1) s
                        WHERE x.seq <= h.last_seq
                        ORDER BY x.i
                LOOP
                        known := known || c.seq;
                        CONTINUE WHEN c.stored_mac = c.mac; -- a resend
                        INSERT INTO termguard.conflicts (host_id, seq, stored_mac, received_mac, record)
                        VALUES (h.host_id, c.seq, c.stored_mac, c.mac, batch -> (c.i - 1)::integer);
                        INSERT INTO termguard.alerts (host_id, kind, seq, detail)
                        VALUES (h.host_id, 'conflict', c.seq, 'a record with another MAC was received under a stored seq')
                        RETURNING id INTO alert_id;
                        PERFORM pg_notify('termguard_alert',
                                          json_build_object('id', alert_id, 'kind', 'conflict', 'host_id', h.host_id,
                                                            'seq', c.seq)::text);
                END LOOP;
        END IF;

        WITH fresh AS (SELECT * FROM unnest(recs) x WHERE x.seq <> ALL (known)),
        hb AS (INSERT INTO termguard.heartbeats (host_id, seq, time, time_usec, boot_id, clock, priority, type,
                                                  uid, pid, comm, unit, fields, prev_mac, mac, raw)
               SELECT h.host_id, seq, time, time_usec, boot_id, clock, priority, type, uid, pid, comm, unit, fields,
                      prev_mac, mac, raw
               FROM fresh WHERE type = 'journal.checkpoint'
               RETURNING 1),
        ev AS (INSERT INTO termguard.events (host_id, seq, time, time_usec, boot_id, clock, priority, type,
                                              uid, pid, comm, unit, fields, prev_mac, mac, raw)
               SELECT h.host_id, seq, time, time_usec, boot_id, clock, priority, type, uid, pid, comm, unit, fields,
                      prev_mac, mac, raw
               FROM fresh WHERE type <> 'journal.checkpoint'
               RETURNING time, type),
        -- the month as termguard.month_of computes it, inline
        rollup AS (INSERT INTO termguard.usage_monthly AS u (host_id, month, type, count)
                   SELECT h.host_id, date_trunc('month', time AT TIME ZONE 'Asia/Tokyo')::date, type, count(*)
                   FROM ev GROUP BY 2, 3
                   ON CONFLICT (host_id, month, type) DO UPDATE SET count = u.count + excluded.count)
        SELECT (SELECT count(*) FROM hb) + (SELECT count(*) FROM ev) INTO added;

        UPDATE termguard.hosts SET last_seq = greatest(last_seq, max_seq), last_received_at = now()
        WHERE host_id = h.host_id;
        RETURN added;
END
$$;

-- The old per-record helpers: nothing calls them any more.
DROP FUNCTION termguard.json_int(jsonb, text, numeric, numeric);
DROP FUNCTION termguard.json_text(jsonb, text, integer, text);
DROP FUNCTION termguard.json_fields(jsonb);
