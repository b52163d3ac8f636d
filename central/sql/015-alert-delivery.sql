-- termguard central store, migration 13: which alerts termguard-central watch has delivered.
-- Applied by termguard-central init/migrate in one transaction, as termguard_owner.
--
-- Alerts raised while watch is not running (stopped, crashed, the server rebooting) stay in
-- termguard.alerts; when watch starts, and at every notification, it delivers the ones not
-- marked here in id order (the journal, then AlertCommand=), each marked after its delivery.
-- A crash between the delivery and the mark delivers that alert once more at the next start:
-- at least once, with the alert's id, by which a hook tells a repeat.
--
-- Watch's login role is a member of termguard_watch (and of termguard_auditor, for its
-- verification): it may list the undelivered alerts and mark one, nothing else here.

SET LOCAL ROLE termguard_owner;

CREATE TABLE termguard.alert_deliveries (
        alert_id bigint PRIMARY KEY REFERENCES termguard.alerts,
        delivered_at timestamptz NOT NULL DEFAULT now(),
        delivered_by name NOT NULL
);

-- The alerts already there were the watch of their time's to send (or were not sent, when no
-- watch ran): a first start after this migration does not send the whole history again.
INSERT INTO termguard.alert_deliveries (alert_id, delivered_by) SELECT id, session_user FROM termguard.alerts;

-- The oldest undelivered alerts, at most max_rows of them, oldest first.
CREATE FUNCTION termguard.undelivered_alerts(max_rows integer)
RETURNS TABLE (id bigint, kind text, host_id uuid, seq bigint, detail text, raised_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
        SELECT a.id, a.kind, a.host_id, a.seq, a.detail, a.raised_at
        FROM termguard.alerts a
        WHERE NOT EXISTS (SELECT FROM termguard.alert_deliveries d WHERE d.alert_id = a.id)
        ORDER BY a.id
        LIMIT greatest(least(max_rows, 10000), 1)
$$;

-- Marks one alert delivered; marking it again changes nothing (a repeat after a crash).
CREATE FUNCTION termguard.alert_delivered(p_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
        IF NOT EXISTS (SELECT FROM termguard.alerts WHERE id = p_id) THEN
                RAISE EXCEPTION 'no alert %', p_id USING ERRCODE = 'no_data_found';
        END IF;
        INSERT INTO termguard.alert_deliveries (alert_id, delivered_by) VALUES (p_id, session_user)
        ON CONFLICT (alert_id) DO NOTHING;
END
$$;

REVOKE ALL ON termguard.alert_deliveries FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION termguard.undelivered_alerts(integer), termguard.alert_delivered(bigint) FROM PUBLIC;
GRANT USAGE ON SCHEMA termguard TO termguard_watch;
GRANT EXECUTE ON FUNCTION termguard.undelivered_alerts(integer), termguard.alert_delivered(bigint) TO termguard_watch;
GRANT SELECT ON termguard.alert_deliveries TO termguard_admin;
