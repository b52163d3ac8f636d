-- termguard central store, schema 1: hosts, events (monthly partitions), heartbeats, conflicts,
-- alerts, the usage rollup, the ingest function, host management and the auditors' views.
-- Applied by termguard-central init/migrate in one transaction, as termguard_owner (which
-- owns the database), after roles.sql. Described in docs/central.md.

SET LOCAL ROLE termguard_owner;

-- Only the roles that need the database may connect; nobody makes temporary tables in it.
DO $db$
BEGIN
        EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
        EXECUTE format('GRANT CONNECT ON DATABASE %I TO termguard_ingest, termguard_auditor, termguard_admin',
                       current_database());
END
$db$;

CREATE SCHEMA termguard AUTHORIZATION termguard_owner;
CREATE SCHEMA termguard_report AUTHORIZATION termguard_owner;
REVOKE ALL ON SCHEMA termguard, termguard_report FROM PUBLIC;
-- Functions are executable by PUBLIC unless revoked: none of ours is.
ALTER DEFAULT PRIVILEGES FOR ROLE termguard_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

CREATE TABLE termguard.schema_migrations (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE termguard.hosts (
        host_id uuid PRIMARY KEY,
        role name NOT NULL UNIQUE,
        department text NOT NULL,
        hostname text,
        enrolled_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        -- Highest seq stored: a record above it is new without a look-up.
        last_seq bigint NOT NULL DEFAULT 0,
        last_received_at timestamptz
);

-- Client certificates issued by enroll-host and reenroll-host (serial: hex).
CREATE TABLE termguard.certificates (
        serial text PRIMARY KEY,
        host_id uuid NOT NULL REFERENCES termguard.hosts,
        issued_at timestamptz NOT NULL DEFAULT now(),
        not_after timestamptz NOT NULL,
        revoked_at timestamptz
);
CREATE INDEX ON termguard.certificates (host_id);

-- Journal records but checkpoints. Partitioned by month of the record's time in Asia/Tokyo
-- (the auditors' months); keyed (host_id, seq): ingest keeps (host_id, seq) unique across
-- partitions, the primary key must also hold the partition key.
CREATE TABLE termguard.events (
        host_id uuid NOT NULL,
        seq bigint NOT NULL,
        time timestamptz NOT NULL,
        time_usec bigint NOT NULL,
        boot_id uuid NOT NULL,
        clock smallint NOT NULL,
        priority smallint NOT NULL,
        type text NOT NULL,
        uid bigint NOT NULL,
        pid integer NOT NULL,
        comm text NOT NULL,
        unit text NOT NULL,
        fields jsonb NOT NULL,
        prev_mac bytea NOT NULL,
        mac bytea NOT NULL,
        raw bytea NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (host_id, seq, time)
) PARTITION BY RANGE (time);
CREATE INDEX ON termguard.events (time, type);
-- Records whose time lies outside the window ingest makes partitions for (a terminal clock
-- years off): kept here, moved into their month's partition when that one is made.
CREATE TABLE termguard.events_default PARTITION OF termguard.events DEFAULT;

-- journal.checkpoint records: links of the chain and the host's heartbeat.
CREATE TABLE termguard.heartbeats (
        host_id uuid NOT NULL,
        seq bigint NOT NULL,
        time timestamptz NOT NULL,
        time_usec bigint NOT NULL,
        boot_id uuid NOT NULL,
        clock smallint NOT NULL,
        priority smallint NOT NULL,
        type text NOT NULL,
        uid bigint NOT NULL,
        pid integer NOT NULL,
        comm text NOT NULL,
        unit text NOT NULL,
        fields jsonb NOT NULL,
        prev_mac bytea NOT NULL,
        mac bytea NOT NULL,
        raw bytea NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (host_id, seq)
);
CREATE INDEX ON termguard.heartbeats (host_id, time);

-- A record received under a (host_id, seq) already stored with another MAC. The stored
-- record stays; the received one is kept here whole.
CREATE TABLE termguard.conflicts (
        id bigserial PRIMARY KEY,
        host_id uuid NOT NULL,
        seq bigint NOT NULL,
        stored_mac bytea NOT NULL,
        received_mac bytea NOT NULL,
        record jsonb NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON termguard.conflicts (host_id, seq);

CREATE TABLE termguard.alerts (
        id bigserial PRIMARY KEY,
        host_id uuid,
        kind text NOT NULL,
        seq bigint,
        detail text NOT NULL,
        raised_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON termguard.alerts (raised_at);

-- The usage register's rollup: records per host, month (Asia/Tokyo) and type, maintained by
-- ingest, so that a year by department and month reads a few thousand rows.
CREATE TABLE termguard.usage_monthly (
        host_id uuid NOT NULL,
        month date NOT NULL,
        type text NOT NULL,
        count bigint NOT NULL,
        PRIMARY KEY (host_id, month, type)
);
CREATE INDEX ON termguard.usage_monthly (month);

-- Partitions dropped by retention (termguard-central prune).
CREATE TABLE termguard.prunes (
        partition name NOT NULL,
        month date NOT NULL,
        records bigint NOT NULL,
        dropped_at timestamptz NOT NULL DEFAULT now(),
        dropped_by name NOT NULL
);

-- Months ---------------------------------------------------------------------------------

-- The start of t's month in Asia/Tokyo.
CREATE FUNCTION termguard.month_start(t timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$ SELECT date_trunc('month', t AT TIME ZONE 'Asia/Tokyo') AT TIME ZONE 'Asia/Tokyo' $$;

CREATE FUNCTION termguard.month_of(t timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$ SELECT date_trunc('month', t AT TIME ZONE 'Asia/Tokyo')::date $$;

-- Makes the partition of t's month unless it exists; rows of that month in the default
-- partition move into it. Serialised by an advisory lock (two ingests of the same new month).
CREATE FUNCTION termguard.ensure_partition(t timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        lo timestamptz := termguard.month_start(t);
        hi timestamptz := termguard.month_start(termguard.month_start(t) + interval '40 days');
        part text := 'events_' || to_char(termguard.month_of(t), 'YYYYMM');
BEGIN
        IF to_regclass('termguard.' || part) IS NOT NULL THEN
                RETURN part;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('termguard.ensure_partition'));
        IF to_regclass('termguard.' || part) IS NOT NULL THEN
                RETURN part;
        END IF;
        EXECUTE format('CREATE TABLE termguard.%I (LIKE termguard.events INCLUDING DEFAULTS)', part);
        EXECUTE format('WITH moved AS (DELETE FROM termguard.events_default WHERE time >= %L AND time < %L '
                       'RETURNING *) INSERT INTO termguard.%I SELECT * FROM moved', lo, hi, part);
        EXECUTE format('ALTER TABLE termguard.events ATTACH PARTITION termguard.%I FOR VALUES FROM (%L) TO (%L)',
                       part, lo, hi);
        RETURN part;
END
$$;

-- The partitions of this month and the next `months` ones (init, migrate).
CREATE FUNCTION termguard.ensure_partitions_ahead(months integer) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
        IF months IS NULL OR months < 0 OR months > 24 THEN
                RAISE EXCEPTION 'months must be 0..24' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        FOR i IN 0..months LOOP
                RETURN NEXT termguard.ensure_partition(now() + make_interval(months => i));
        END LOOP;
END
$$;

-- Ingest makes partitions on demand only within this window, so that a host sending absurd
-- times cannot make thousands of tables; outside it records go to events_default.
CREATE FUNCTION termguard.in_partition_window(t timestamptz) RETURNS boolean
LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$ SELECT t >= termguard.month_start(now() - interval '10 years')
              AND t < termguard.month_start(now() + interval '3 months') $$;

-- Retention: drops the whole monthly partitions that ended before the start of the month
-- older_than_months before the current one, and records each in termguard.prunes.
CREATE FUNCTION termguard.prune(older_than_months integer) RETURNS SETOF text
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
                EXECUTE format('ALTER TABLE termguard.events DETACH PARTITION termguard.%I', part.relname);
                EXECUTE format('DROP TABLE termguard.%I', part.relname);
                INSERT INTO termguard.prunes (partition, month, records, dropped_by)
                VALUES (part.relname, part.month, n, session_user);
                RETURN NEXT part.relname;
        END LOOP;
END
$$;

-- Validation of one batch element ------------------------------------------------------------

CREATE FUNCTION termguard.json_int(r jsonb, k text, lo numeric, hi numeric) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        v jsonb := r -> k;
        x numeric;
BEGIN
        IF v IS NULL OR jsonb_typeof(v) <> 'number' THEN
                RAISE EXCEPTION 'termguard.ingest: "%" must be a number', k USING ERRCODE = 'invalid_parameter_value';
        END IF;
        x := v::numeric;
        IF x <> trunc(x) OR x < lo OR x > hi THEN
                RAISE EXCEPTION 'termguard.ingest: "%" must be an integer in %..%', k, lo, hi
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        RETURN x::bigint;
END
$$;

CREATE FUNCTION termguard.json_text(r jsonb, k text, max_bytes integer, pattern text) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        v jsonb := r -> k;
        s text;
BEGIN
        IF v IS NULL OR jsonb_typeof(v) <> 'string' THEN
                RAISE EXCEPTION 'termguard.ingest: "%" must be a string', k USING ERRCODE = 'invalid_parameter_value';
        END IF;
        s := v #>> '{}';
        IF octet_length(s) > max_bytes OR (pattern IS NOT NULL AND s !~ pattern) THEN
                RAISE EXCEPTION 'termguard.ingest: "%" is malformed or longer than % bytes', k, max_bytes
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        RETURN s;
END
$$;

-- fields: [[key, value], ...] as in the journal (TG_JOURNAL_FIELDS_MAX, _KEY_MAX, _VALUE_MAX).
CREATE FUNCTION termguard.json_fields(r jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        v jsonb := r -> 'fields';
        f jsonb;
BEGIN
        IF v IS NULL OR jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) > 64 THEN
                RAISE EXCEPTION 'termguard.ingest: "fields" must be an array of at most 64 pairs'
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        FOR f IN SELECT * FROM jsonb_array_elements(v) LOOP
                IF jsonb_typeof(f) <> 'array' OR jsonb_array_length(f) <> 2
                   OR jsonb_typeof(f -> 0) <> 'string' OR jsonb_typeof(f -> 1) <> 'string'
                   OR (f ->> 0) !~ '^[A-Za-z0-9_]{1,64}$' OR octet_length(f ->> 1) > 4096 THEN
                        RAISE EXCEPTION 'termguard.ingest: a field is not a [key, value] pair within bounds'
                                USING ERRCODE = 'invalid_parameter_value';
                END IF;
        END LOOP;
        RETURN v;
END
$$;

-- Ingest ---------------------------------------------------------------------------------------

-- The only function a terminal may call. The host is the session user's row in termguard.hosts:
-- there is no parameter naming a host, and a "host_id" key in a record is refused like any
-- unknown key. A batch with one bad element is refused whole (the exception rolls back the
-- call). Returns the number of records newly stored.
CREATE FUNCTION termguard.ingest(batch jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        keys CONSTANT text[] := ARRAY['seq', 'boot_id', 'time_usec', 'clock', 'priority', 'type', 'uid', 'pid',
                                      'comm', 'unit', 'fields', 'prev_mac', 'mac', 'raw'];
        h termguard.hosts%ROWTYPE;
        r jsonb;
        bad text;
        prev_seq bigint := 0;
        v_seq bigint;
        v_time_usec bigint;
        v_time timestamptz;
        v_type text;
        v_mac bytea;
        v_raw text;
        v_raw_bytes bytea;
        stored bytea;
        months date[] := '{}';
        added bigint := 0;
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
        FOR r IN SELECT * FROM jsonb_array_elements(batch) LOOP
                IF jsonb_typeof(r) <> 'object' THEN
                        RAISE EXCEPTION 'termguard.ingest: a record must be an object'
                                USING ERRCODE = 'invalid_parameter_value';
                END IF;
                SELECT k INTO bad FROM jsonb_object_keys(r) k WHERE k <> ALL (keys) LIMIT 1;
                IF FOUND THEN
                        RAISE EXCEPTION 'termguard.ingest: unknown key "%"', left(bad, 64)
                                USING ERRCODE = 'invalid_parameter_value';
                END IF;
                v_seq := termguard.json_int(r, 'seq', 1, 9223372036854775807);
                IF v_seq <= prev_seq THEN
                        RAISE EXCEPTION 'termguard.ingest: records must be in increasing seq order'
                                USING ERRCODE = 'invalid_parameter_value';
                END IF;
                prev_seq := v_seq;
                -- Up to the end of year 9999: what timestamptz holds exactly.
                v_time_usec := termguard.json_int(r, 'time_usec', 0, 253402300799999999);
                v_time := timestamptz 'epoch' + v_time_usec * interval '1 microsecond';
                v_type := termguard.json_text(r, 'type', 64, '^[a-z0-9.-]{1,64}$');
                v_mac := decode(termguard.json_text(r, 'mac', 64, '^[0-9a-fA-F]{64}$'), 'hex');
                v_raw := termguard.json_text(r, 'raw', 174764, '^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$');
                v_raw_bytes := decode(v_raw, 'base64');
                IF octet_length(v_raw_bytes) NOT BETWEEN 1 AND 131072 THEN
                        RAISE EXCEPTION 'termguard.ingest: "raw" must hold 1..131072 bytes'
                                USING ERRCODE = 'invalid_parameter_value';
                END IF;
                -- Every column is checked before anything of this record is stored or compared.
                PERFORM termguard.json_text(r, 'boot_id', 36,
                                            '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'),
                        termguard.json_int(r, 'clock', 0, 2),
                        termguard.json_int(r, 'priority', 0, 7),
                        termguard.json_int(r, 'uid', 0, 4294967295),
                        termguard.json_int(r, 'pid', 0, 2147483647),
                        termguard.json_text(r, 'comm', 64, NULL),
                        termguard.json_text(r, 'unit', 64, NULL),
                        termguard.json_text(r, 'prev_mac', 64, '^[0-9a-fA-F]{64}$'),
                        termguard.json_fields(r);

                IF v_seq <= h.last_seq THEN
                        SELECT mac INTO stored FROM termguard.events WHERE host_id = h.host_id AND seq = v_seq
                        UNION ALL
                        SELECT mac FROM termguard.heartbeats WHERE host_id = h.host_id AND seq = v_seq
                        LIMIT 1;
                        IF FOUND THEN
                                IF stored <> v_mac THEN
                                        -- Never dropped silently: kept, and an alert raised.
                                        INSERT INTO termguard.conflicts (host_id, seq, stored_mac, received_mac, record)
                                        VALUES (h.host_id, v_seq, stored, v_mac, r);
                                        INSERT INTO termguard.alerts (host_id, kind, seq, detail)
                                        VALUES (h.host_id, 'conflict', v_seq,
                                                'a record with another MAC was received under a stored seq')
                                        RETURNING id INTO alert_id;
                                        PERFORM pg_notify('termguard_alert',
                                                          json_build_object('id', alert_id, 'kind', 'conflict',
                                                                            'host_id', h.host_id, 'seq', v_seq)::text);
                                END IF;
                                CONTINUE; -- a resend, or a conflict recorded
                        END IF;
                END IF;

                IF v_type = 'journal.checkpoint' THEN
                        INSERT INTO termguard.heartbeats (host_id, seq, time, time_usec, boot_id, clock, priority, type,
                                                          uid, pid, comm, unit, fields, prev_mac, mac, raw)
                        VALUES (h.host_id, v_seq, v_time, v_time_usec, (r ->> 'boot_id')::uuid,
                                (r ->> 'clock')::smallint, (r ->> 'priority')::smallint, v_type,
                                (r ->> 'uid')::bigint, (r ->> 'pid')::integer, r ->> 'comm', r ->> 'unit',
                                r -> 'fields', decode(r ->> 'prev_mac', 'hex'), v_mac, v_raw_bytes);
                ELSE
                        IF termguard.in_partition_window(v_time)
                           AND NOT (termguard.month_of(v_time) = ANY (months)) THEN
                                PERFORM termguard.ensure_partition(v_time);
                                months := months || termguard.month_of(v_time);
                        END IF;
                        INSERT INTO termguard.events (host_id, seq, time, time_usec, boot_id, clock, priority, type,
                                                      uid, pid, comm, unit, fields, prev_mac, mac, raw)
                        VALUES (h.host_id, v_seq, v_time, v_time_usec, (r ->> 'boot_id')::uuid,
                                (r ->> 'clock')::smallint, (r ->> 'priority')::smallint, v_type,
                                (r ->> 'uid')::bigint, (r ->> 'pid')::integer, r ->> 'comm', r ->> 'unit',
                                r -> 'fields', decode(r ->> 'prev_mac', 'hex'), v_mac, v_raw_bytes);
                        INSERT INTO termguard.usage_monthly AS u (host_id, month, type, count)
                        VALUES (h.host_id, termguard.month_of(v_time), v_type, 1)
                        ON CONFLICT (host_id, month, type) DO UPDATE SET count = u.count + 1;
                END IF;
                added := added + 1;
        END LOOP;
        UPDATE termguard.hosts SET last_seq = greatest(last_seq, prev_seq), last_received_at = now()
        WHERE host_id = h.host_id;
        RETURN added;
END
$$;

-- Host management (termguard_admin) -----------------------------------------------------------------

CREATE FUNCTION termguard.host_role(p_host_id uuid) RETURNS name
LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp
AS $$ SELECT ('tg_host_' || replace(p_host_id::text, '-', ''))::name $$;

CREATE FUNCTION termguard.check_certificate(p_serial text, p_not_after timestamptz) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
        IF p_serial IS NULL OR p_serial !~ '^[0-9a-f]{2,40}$' OR p_not_after IS NULL THEN
                RAISE EXCEPTION 'a certificate serial is 2..40 lowercase hex digits' USING ERRCODE = 'invalid_parameter_value';
        END IF;
END
$$;

-- Creates the host's login role (certificate authentication only: no password) and its row.
CREATE FUNCTION termguard.enroll_host(p_host_id uuid, p_department text, p_hostname text, p_serial text,
                                      p_not_after timestamptz) RETURNS name
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        role_name name := termguard.host_role(p_host_id);
BEGIN
        IF p_host_id IS NULL THEN
                RAISE EXCEPTION 'a host id is required' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF p_department IS NULL OR char_length(p_department) NOT BETWEEN 1 AND 128
           OR p_department ~ '[[:cntrl:]]' THEN
                RAISE EXCEPTION 'a department is 1..128 characters without control characters'
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF p_hostname IS NOT NULL AND p_hostname !~ '^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$' THEN
                RAISE EXCEPTION 'a host name is up to 253 letters, digits, dots and hyphens'
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM termguard.check_certificate(p_serial, p_not_after);
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
                RAISE EXCEPTION 'role % exists already', role_name USING ERRCODE = 'duplicate_object';
        END IF;
        -- A small connection limit: a terminal has one forwarder.
        EXECUTE format('CREATE ROLE %I LOGIN INHERIT CONNECTION LIMIT 4', role_name);
        EXECUTE format('GRANT termguard_ingest TO %I', role_name);
        INSERT INTO termguard.hosts (host_id, role, department, hostname) VALUES (p_host_id, role_name, p_department, p_hostname);
        INSERT INTO termguard.certificates (serial, host_id, not_after) VALUES (p_serial, p_host_id, p_not_after);
        RETURN role_name;
END
$$;

-- Locks the host's role out (its records stay), records its certificates as revoked and ends
-- its sessions.
CREATE FUNCTION termguard.revoke_host(p_host_id uuid) RETURNS name
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        h termguard.hosts%ROWTYPE;
BEGIN
        SELECT * INTO h FROM termguard.hosts WHERE host_id = p_host_id FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no host %', p_host_id USING ERRCODE = 'no_data_found';
        END IF;
        IF h.revoked_at IS NOT NULL THEN
                RAISE EXCEPTION 'host % was revoked at %', p_host_id, h.revoked_at USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        EXECUTE format('ALTER ROLE %I NOLOGIN', h.role);
        UPDATE termguard.hosts SET revoked_at = now() WHERE host_id = p_host_id;
        UPDATE termguard.certificates SET revoked_at = now() WHERE host_id = p_host_id AND revoked_at IS NULL;
        INSERT INTO termguard.alerts (host_id, kind, detail) VALUES (p_host_id, 'revoked', 'host revoked by ' || session_user);
        PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = h.role;
        RETURN h.role;
END
$$;

-- A new certificate for an enrolled host: the previous ones are recorded as revoked; the host
-- id, its role and its journal chain stay.
CREATE FUNCTION termguard.reenroll_host(p_host_id uuid, p_serial text, p_not_after timestamptz) RETURNS name
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        h termguard.hosts%ROWTYPE;
BEGIN
        PERFORM termguard.check_certificate(p_serial, p_not_after);
        SELECT * INTO h FROM termguard.hosts WHERE host_id = p_host_id FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no host %', p_host_id USING ERRCODE = 'no_data_found';
        END IF;
        IF h.revoked_at IS NOT NULL THEN
                RAISE EXCEPTION 'host % was revoked: enrol the terminal as a new host', p_host_id
                        USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        UPDATE termguard.certificates SET revoked_at = now() WHERE host_id = p_host_id AND revoked_at IS NULL;
        INSERT INTO termguard.certificates (serial, host_id, not_after) VALUES (p_serial, p_host_id, p_not_after);
        RETURN h.role;
END
$$;

-- After a restore into a fresh cluster: the hosts' login roles (cluster objects, not in the
-- dump) again, locked for revoked hosts. Returns how many were made.
CREATE FUNCTION termguard.restore_host_roles() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
        h termguard.hosts%ROWTYPE;
        n integer := 0;
BEGIN
        FOR h IN SELECT * FROM termguard.hosts LOOP
                CONTINUE WHEN EXISTS (SELECT FROM pg_roles WHERE rolname = h.role);
                EXECUTE format('CREATE ROLE %I %s INHERIT CONNECTION LIMIT 4', h.role,
                               CASE WHEN h.revoked_at IS NULL THEN 'LOGIN' ELSE 'NOLOGIN' END);
                EXECUTE format('GRANT termguard_ingest TO %I', h.role);
                n := n + 1;
        END LOOP;
        RETURN n;
END
$$;

-- Auditors' views (docs/central.md) ----------------------------------------------------------

CREATE VIEW termguard_report.hosts AS
        SELECT host_id, role, department, hostname, enrolled_at, revoked_at, last_seq, last_received_at
        FROM termguard.hosts;

CREATE VIEW termguard_report.events AS
        SELECT e.host_id, h.department, h.hostname, e.seq, e.time, e.clock, e.priority, e.type, e.uid, e.pid,
               e.comm, e.unit, e.fields, e.boot_id, e.time_usec, e.prev_mac, e.mac, e.raw, e.received_at
        FROM termguard.events e JOIN termguard.hosts h USING (host_id);

CREATE VIEW termguard_report.heartbeats AS
        SELECT b.host_id, h.department, h.hostname, b.seq, b.time, b.clock, b.fields, b.boot_id, b.time_usec,
               b.prev_mac, b.mac, b.raw, b.received_at
        FROM termguard.heartbeats b JOIN termguard.hosts h USING (host_id);

CREATE VIEW termguard_report.conflicts AS
        SELECT c.id, c.host_id, h.department, h.hostname, c.seq, c.stored_mac, c.received_mac, c.record,
               c.received_at
        FROM termguard.conflicts c JOIN termguard.hosts h USING (host_id);

CREATE VIEW termguard_report.alerts AS
        SELECT a.id, a.host_id, h.department, h.hostname, a.kind, a.seq, a.detail, a.raised_at
        FROM termguard.alerts a LEFT JOIN termguard.hosts h USING (host_id);

CREATE VIEW termguard_report.usage_monthly AS
        SELECT u.host_id, h.department, u.month, u.type, u.count
        FROM termguard.usage_monthly u JOIN termguard.hosts h USING (host_id);

CREATE VIEW termguard_report.prunes AS
        SELECT partition, month, records, dropped_at, dropped_by FROM termguard.prunes;

-- Privileges -------------------------------------------------------------------------------

REVOKE ALL ON ALL TABLES IN SCHEMA termguard FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA termguard FROM PUBLIC;

GRANT USAGE ON SCHEMA termguard TO termguard_ingest, termguard_admin;
GRANT EXECUTE ON FUNCTION termguard.ingest(jsonb) TO termguard_ingest;

GRANT USAGE ON SCHEMA termguard_report TO termguard_auditor;
GRANT SELECT ON ALL TABLES IN SCHEMA termguard_report TO termguard_auditor;

GRANT SELECT ON termguard.hosts, termguard.certificates, termguard.alerts, termguard.prunes TO termguard_admin;
GRANT EXECUTE ON FUNCTION termguard.enroll_host(uuid, text, text, text, timestamptz),
        termguard.revoke_host(uuid), termguard.reenroll_host(uuid, text, timestamptz),
        termguard.prune(integer), termguard.ensure_partitions_ahead(integer) TO termguard_admin;
