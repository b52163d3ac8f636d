-- termguard central store, migration 11: ensure_partition serialised by a lock on
-- termguard.events instead of an advisory lock.
-- Applied by termguard-central init/migrate in one transaction, as termguard_owner.
--
-- Concurrent ingests of the first records of a new month both found no partition; one made it
-- while the other waited for the advisory lock, and the waiter's look-up after the lock still
-- found none: its CREATE TABLE failed with 'relation "events_YYYYMM" already exists' and the
-- batch was refused. Taking an advisory lock does not process the catalog's invalidation
-- messages, so the waiter's cached "no such relation" from its first look-up outlived the
-- other transaction's commit. Taking a lock on a relation does process them once it is granted:
-- after LOCK TABLE the second look-up sees the partition committed meanwhile. SHARE UPDATE
-- EXCLUSIVE is what ATTACH PARTITION takes on termguard.events anyway: it conflicts with itself
-- (one partition maker at a time), not with the ingests' inserts nor with the auditors' reads.
-- (Where this transaction holds the lock already, nobody can have made a partition since it
-- was granted, and the invalidations up to then were processed at that moment.)

SET LOCAL ROLE termguard_owner;

CREATE OR REPLACE FUNCTION termguard.ensure_partition(t timestamptz) RETURNS text
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
        LOCK TABLE termguard.events IN SHARE UPDATE EXCLUSIVE MODE;
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
