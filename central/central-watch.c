/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * watch: the central server's alerting service. It LISTENs on termguard_alert (conflicts
 * raised by ingest, the tamper tripwire) and verifies the fleet every VerifyInterval
 * (tampering, gaps, silent hosts, with the escrowed seeds when given) and counts MFA lockouts
 * (a storm); every alert goes at once to the journal (and so to syslog) with a stable
 * MESSAGE_ID per kind, and to the AlertCommand hook: run without a shell, the alert as JSON on
 * its stdin, killed after AlertTimeout. A host's verification finding is alerted when it
 * first shows or changes, not again every round.
 *
 * The database's alerts (rows of termguard.alerts) are delivered from the table, not from the
 * notification's payload: at start and at every notification, the ones not yet marked
 * delivered (termguard.alert_deliveries), oldest first, each marked after its delivery. So the
 * alerts raised while watch was down come when it starts, and none twice: a crash between a
 * delivery and its mark repeats that one alert, with its id, at the next start.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "central.h"
#include "central-verify.h"
#include "termguard/escape.h"
#include "termguard/timeutil.h"

#define CENTRAL_DEFAULT_CONFIG "/etc/termguard-central/termguard-central.conf"
#define ALERT_ARGS_MAX 32
#define ALERT_COMMAND_MAX 4096
#define ALERT_TIMEOUT_DEFAULT_USEC (30LL * 1000000)
#define VERIFY_INTERVAL_DEFAULT_USEC (15LL * 60 * 1000000)
#define LOCKOUT_WINDOW "10 minutes"
#define LOCKOUT_STORM_DEFAULT 20
/* hosts whose last alerted finding is remembered (a city has 3,000) */
#define HOSTS_REMEMBERED_MAX 200000
#define DETAIL_MAX 512
/* undelivered alerts read at a time (a backlog after a long outage is read in pages) */
#define DELIVER_PAGE 500

/* One MESSAGE_ID per kind of alert: administrators filter the journal on them
 * (journalctl MESSAGE_ID=...). Never change one. */
static const struct {
        const char *kind, *message_id;
        int priority;
} alert_kinds[] = {
        {"tamper", "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b01", LOG_CRIT},
        {"conflict", "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b02", LOG_CRIT},
        {"gap", "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b03", LOG_ERR},
        {"silent", "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b04", LOG_WARNING},
        {"lockout-storm", "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b05", LOG_WARNING},
        {"clock", "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b06", LOG_NOTICE},
        {"revoked", "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b08", LOG_NOTICE},
        {"pruned", "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b09", LOG_NOTICE},
        /* unknown kinds are sent as this one: it stays last */
        {"other", "8e2f0c4a1b7d4e6f9a3c5d7e9f1a2b07", LOG_ERR},
};

typedef struct {
        char command[ALERT_COMMAND_MAX];
        char *argv[ALERT_ARGS_MAX + 1];
        int64_t timeout_usec, verify_interval_usec, silent_after_usec;
        int64_t lockout_storm;
        char escrow[4096];
        char watermarks[4096];
        char error[256];
} watch_config;

static int config_handler(void *userdata, const char *section, const char *name, const char *value) {
        watch_config *c = userdata;
        int64_t v;

        if (strcmp(section, "Watch") != 0) {
                snprintf(c->error, sizeof(c->error), "unknown section [%s]", section);
                return 0;
        }
        if (strcmp(name, "AlertCommand") == 0) {
                if (strlen(value) >= sizeof(c->command) || !tg_text_is_escaped(value, strlen(value))) {
                        snprintf(c->error, sizeof(c->error), "AlertCommand= too long or not text");
                        return 0;
                }
                snprintf(c->command, sizeof(c->command), "%s", value);
        } else if (strcmp(name, "EscrowDirectory") == 0) {
                if (value[0] != '/' || strlen(value) >= sizeof(c->escrow)) {
                        snprintf(c->error, sizeof(c->error), "EscrowDirectory= must be an absolute path");
                        return 0;
                }
                snprintf(c->escrow, sizeof(c->escrow), "%s", value);
        } else if (strcmp(name, "WatermarkDirectory") == 0) {
                if (value[0] != '/' || strlen(value) >= sizeof(c->watermarks)) {
                        snprintf(c->error, sizeof(c->error), "WatermarkDirectory= must be an absolute path");
                        return 0;
                }
                snprintf(c->watermarks, sizeof(c->watermarks), "%s", value);
        } else if (strcmp(name, "LockoutStorm") == 0) {
                char *end;
                errno = 0;
                v = strtoll(value, &end, 10);
                if (errno || *end || end == value || v < 1 || v > 1000000) {
                        snprintf(c->error, sizeof(c->error), "LockoutStorm= wants a count (1..1000000)");
                        return 0;
                }
                c->lockout_storm = v;
        } else {
                int64_t *target = strcmp(name, "AlertTimeout") == 0     ? &c->timeout_usec
                                  : strcmp(name, "VerifyInterval") == 0 ? &c->verify_interval_usec
                                  : strcmp(name, "SilentAfter") == 0    ? &c->silent_after_usec
                                                                        : NULL;
                if (!target) {
                        snprintf(c->error, sizeof(c->error), "unknown key %s=", name);
                        return 0;
                }
                if (tg_parse_duration(value, &v) < 0 || v < 1 || v > 7 * 86400) {
                        snprintf(c->error, sizeof(c->error), "%s= wants a duration from 1s to 7d", name);
                        return 0;
                }
                *target = v * 1000000;
        }
        return 1;
}

/* Splits AlertCommand at spaces (no shell, no quoting); the program must be an absolute path. */
static int split_command(watch_config *c) {
        size_t n = 0;
        char *save = NULL;
        for (char *t = strtok_r(c->command, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
                if (n >= ALERT_ARGS_MAX)
                        return -E2BIG;
                c->argv[n++] = t;
        }
        c->argv[n] = NULL;
        if (n > 0 && c->argv[0][0] != '/')
                return -EINVAL;
        return 0;
}

static int watch_config_load(const char *path, bool must_exist, watch_config *c) {
        FILE *f;
        int line;

        *c = (watch_config){.timeout_usec = ALERT_TIMEOUT_DEFAULT_USEC,
                            .verify_interval_usec = VERIFY_INTERVAL_DEFAULT_USEC,
                            .lockout_storm = LOCKOUT_STORM_DEFAULT};
        f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT && !must_exist)
                        return 0;
                fprintf(stderr, "termguard-central watch: cannot read %s: %m\n", path);
                return -errno;
        }
        line = ini_parse_file(f, config_handler, c);
        fclose(f);
        if (line != 0) {
                fprintf(stderr, "termguard-central watch: %s, line %d: %s\n", path, line,
                        c->error[0] ? c->error : "not an INI line");
                return -EINVAL;
        }
        if (split_command(c) < 0) {
                fprintf(stderr,
                        "termguard-central watch: %s: AlertCommand= must start with an absolute path and "
                        "have at most %d words\n",
                        path, ALERT_ARGS_MAX);
                return -EINVAL;
        }
        return 0;
}

static size_t kind_index(const char *kind) {
        for (size_t i = 0; i < ELEMENTSOF(alert_kinds); i++)
                if (strcmp(alert_kinds[i].kind, kind) == 0)
                        return i;
        return ELEMENTSOF(alert_kinds) - 1;
}

/* Runs the hook with the alert on stdin: no shell, a fixed environment, killed after the
 * timeout. The service goes on whatever the hook does. */
static void run_hook(const watch_config *c, const char *json) {
        static char *const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", NULL};
        posix_spawn_file_actions_t fa;
        int pipefd[2], status = 0, pidfd;
        pid_t pid;
        struct pollfd p;
        size_t len = strlen(json), off = 0;

        if (!c->argv[0])
                return;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, pipefd[0], STDIN_FILENO);
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        if (posix_spawn(&pid, c->argv[0], &fa, NULL, c->argv, env) != 0) {
                fprintf(stderr, "termguard-central watch: cannot run %s: %m\n", c->argv[0]);
                posix_spawn_file_actions_destroy(&fa);
                close(pipefd[0]);
                close(pipefd[1]);
                return;
        }
        posix_spawn_file_actions_destroy(&fa);
        close(pipefd[0]);
        /* the alert is small (a few hundred bytes): it fits the pipe, a hook that never reads
         * cannot block the service */
        (void) fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
        while (off < len) {
                ssize_t k = write(pipefd[1], json + off, len - off);
                if (k <= 0)
                        break;
                off += (size_t) k;
        }
        if (off == len && write(pipefd[1], "\n", 1) != 1)
                fprintf(stderr, "termguard-central watch: %s did not take the whole alert\n", c->argv[0]);
        close(pipefd[1]);
        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        p = (struct pollfd){.fd = pidfd, .events = POLLIN};
        if (pidfd < 0 || poll(&p, 1, (int) (c->timeout_usec / 1000)) == 0) {
                fprintf(stderr, "termguard-central watch: %s did not end within its timeout: killed\n", c->argv[0]);
                (void) kill(pid, SIGKILL);
        }
        if (pidfd >= 0)
                close(pidfd);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fprintf(stderr, "termguard-central watch: %s failed (status %d)\n", c->argv[0], status);
}

/* One alert: to the journal (or stderr when there is no journal) and to the hook. id: the
 * alert's row in termguard.alerts, 0 for the alerts watch finds itself (verification, storms). */
static void alert(const watch_config *c, int64_t id, const char *kind, const char *host_id, uint64_t seq,
                  const char *detail) {
        size_t k = kind_index(kind);
        char esc_detail[DETAIL_MAX * 4 + 1], esc_host[64 * 4 + 1];
        json_object *o = json_object_new_object();
        int r;

        /* values from the database are shown escaped (a hostname or detail could hold anything) */
        tg_escape(detail, strlen(detail), DETAIL_MAX, esc_detail, sizeof(esc_detail));
        tg_escape(host_id ? host_id : "", host_id ? strlen(host_id) : 0, 64, esc_host, sizeof(esc_host));
        r = sd_journal_send("MESSAGE=termguard central alert: %s, host %s, seq %" PRIu64 ": %s", kind,
                            *esc_host ? esc_host : "-", seq, esc_detail, "MESSAGE_ID=%s", alert_kinds[k].message_id,
                            "PRIORITY=%d", alert_kinds[k].priority, "SYSLOG_IDENTIFIER=termguard-central",
                            "TERMGUARD_ALERT_KIND=%s", kind, "TERMGUARD_HOST_ID=%s", esc_host, "TERMGUARD_SEQ=%" PRIu64,
                            seq, "TERMGUARD_ALERT_ID=%" PRId64, id, NULL);
        if (r < 0)
                fprintf(stderr,
                        "<%d>termguard-central: alert %" PRId64 " %s host %s seq %" PRIu64 ": %s MESSAGE_ID=%s\n",
                        alert_kinds[k].priority, id, kind, *esc_host ? esc_host : "-", seq, esc_detail,
                        alert_kinds[k].message_id);
        json_object_object_add(o, "id", id > 0 ? json_object_new_int64(id) : NULL);
        json_object_object_add(o, "kind", json_object_new_string(kind));
        json_object_object_add(o, "message_id", json_object_new_string(alert_kinds[k].message_id));
        json_object_object_add(o, "host_id", host_id ? json_object_new_string(host_id) : NULL);
        json_object_object_add(o, "seq", json_object_new_uint64(seq));
        json_object_object_add(o, "detail", json_object_new_string(esc_detail));
        run_hook(c, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
}

/* The alerts the database raised (ingest's conflicts, the tamper tripwire, revocations) and
 * watch has not delivered yet, oldest first, each marked delivered after it went out. */
static int deliver_pending(PGconn *conn, const watch_config *c) {
        char limit[16];
        const char *page_params[] = {limit};
        int r;

        snprintf(limit, sizeof(limit), "%d", DELIVER_PAGE);

        for (;;) {
                _cleanup_pgresult_ PGresult *res = NULL;
                int n;

                r = central_query(conn,
                                  "SELECT id, kind, host_id, coalesce(seq, 0), detail "
                                  "FROM termguard.undelivered_alerts($1::int)",
                                  1, page_params, &res);
                if (r < 0)
                        return r;
                n = PQntuples(res);
                for (int i = 0; i < n; i++) {
                        _cleanup_pgresult_ PGresult *marked = NULL;
                        const char *params[] = {PQgetvalue(res, i, 0)};
                        alert(c, strtoll(PQgetvalue(res, i, 0), NULL, 10), PQgetvalue(res, i, 1),
                              PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2),
                              (uint64_t) strtoull(PQgetvalue(res, i, 3), NULL, 10), PQgetvalue(res, i, 4));
                        /* after the delivery: a crash in between repeats it, never loses it */
                        r = central_query(conn, "SELECT termguard.alert_delivered($1::bigint)", 1, params, &marked);
                        if (r < 0)
                                return r;
                }
                if (n < DELIVER_PAGE)
                        return 0;
        }
}

/* What was last alerted for a host: a finding is alerted when it first shows or changes. */
typedef struct {
        uint8_t id[TG_JOURNAL_ID_SIZE];
        char signature[96];
} host_state;

typedef struct {
        const watch_config *config;
        PGconn *conn;
        host_state *hosts;
        size_t n_hosts;
} watch_state;

/* Alerts the database raised and that arrived meanwhile: sent between hosts of a long
 * verification too, not only after it. */
static int drain_notifications(watch_state *w) {
        PGnotify *nf;
        int r = 0;
        if (!PQconsumeInput(w->conn)) {
                fprintf(stderr, "termguard-central watch: connection lost: %s", PQerrorMessage(w->conn));
                return -ECONNRESET;
        }
        while (r >= 0 && (nf = PQnotifies(w->conn))) {
                /* It only says that there may be something to deliver: any role that can connect
                 * may NOTIFY, a terminal's too, so the payload is never believed nor alerted on
                 * (a terminal would set the hook off at will); the alerts come from the table. */
                r = deliver_pending(w->conn, w->config);
                PQfreemem(nf);
        }
        return r;
}

static const char *verify_kind(const tg_host_verify_result *res) {
        if (res->tampered)
                return res->conflicts > 0 && res->first.kind == TG_HOST_FINDING_CONFLICT ? "conflict" : "tamper";
        if (res->gaps)
                return "gap";
        if (res->silent)
                return "silent";
        return "other";
}

static void on_host(const central_host_info *h, const tg_host_verify_result *res, void *userdata) {
        watch_state *w = userdata;
        host_state *s = NULL;
        char sig[96] = "";

        (void) drain_notifications(w); /* a lost connection shows in the next query */
        for (size_t i = 0; i < w->n_hosts; i++)
                if (memcmp(w->hosts[i].id, h->id, sizeof(h->id)) == 0)
                        s = &w->hosts[i];
        if (res->problems > 0)
                snprintf(sig, sizeof(sig), "%s:%s:%" PRIu64 ":%d", verify_kind(res), tg_host_finding_name(&res->first),
                         res->first.seq, res->silent);
        if (!s) {
                if (!*sig || w->n_hosts >= HOSTS_REMEMBERED_MAX)
                        return;
                s = &w->hosts[w->n_hosts++];
                memcpy(s->id, h->id, sizeof(s->id));
        }
        if (strcmp(s->signature, sig) == 0)
                return;
        snprintf(s->signature, sizeof(s->signature), "%s", sig);
        if (*sig) {
                char detail[DETAIL_MAX];
                snprintf(detail, sizeof(detail), "%s: %s (department %s, %s)", tg_host_finding_name(&res->first),
                         tg_host_finding_text(&res->first), h->department, h->hostname);
                alert(w->config, 0, verify_kind(res), h->host_id, res->tampered ? res->first_bad_seq : res->first.seq,
                      detail);
        }
}

static int lockout_storm(PGconn *conn, const watch_config *c, bool *active) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int64_t n;
        int r = central_query(conn,
                              "SELECT count(*) FROM termguard_report.events WHERE type = 'mfa.lockout' "
                              "AND received_at > now() - interval '" LOCKOUT_WINDOW "'",
                              0, NULL, &res);
        if (r < 0)
                return r;
        n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        if (n >= c->lockout_storm && !*active) {
                char detail[128];
                snprintf(detail, sizeof(detail), "%" PRId64 " MFA lockouts in the last " LOCKOUT_WINDOW, n);
                alert(c, 0, "lockout-storm", NULL, 0, detail);
        }
        *active = n >= c->lockout_storm;
        return 0;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
        (void) sig;
        stop = 1;
}

static int64_t monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int central_watch(const central_context *ctx, int argc, char **argv) {
        const char *config_path = NULL;
        central_option opts[] = {{"config", false, &config_path}};
        _cleanup_pgconn_ PGconn *conn = NULL;
        _cleanup_pgresult_ PGresult *priv = NULL;
        watch_config c;
        watch_state w = {.config = &c};
        central_verify_options vo = {.done = on_host, .userdata = &w};
        struct sigaction sa = {.sa_handler = on_signal};
        bool storm = false;
        int64_t next_verify = 0;
        char **args;
        int n, r;

        r = central_parse("watch", argc, argv, opts, ELEMENTSOF(opts), 0, 0, &args, &n);
        if (r < 0)
                return r;
        r = watch_config_load(config_path ? config_path : CENTRAL_DEFAULT_CONFIG, config_path != NULL, &c);
        if (r < 0)
                return r == -EINVAL ? -EBADMSG : r;
        w.hosts = calloc(HOSTS_REMEMBERED_MAX, sizeof(host_state));
        if (!w.hosts)
                return -ENOMEM;
        vo.escrow = c.escrow[0] ? c.escrow : NULL;
        /* under systemd, the unit's StateDirectory= unless the configuration names another */
        if (!c.watermarks[0] && getenv("STATE_DIRECTORY") && getenv("STATE_DIRECTORY")[0] == '/')
                snprintf(c.watermarks, sizeof(c.watermarks), "%.*s", (int) strcspn(getenv("STATE_DIRECTORY"), ":"),
                         getenv("STATE_DIRECTORY"));
        if (vo.escrow && c.watermarks[0]) {
                r = central_check_watermark_dir(c.watermarks);
                if (r < 0) {
                        free(w.hosts);
                        return r;
                }
                vo.watermarks = c.watermarks;
        }
        vo.silent_after_usec = c.silent_after_usec;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = central_connect(ctx, CENTRAL_DATABASE, &conn);
        if (r < 0)
                goto out;
        w.conn = conn;
        r = central_exec(conn, "LISTEN termguard_alert");
        if (r < 0)
                goto out;
        /* fail at start, not at the first alert: a watch that cannot mark would repeat them */
        r = central_query(conn,
                          /* CASE: without the schema the functions' names cannot even be looked up */
                          "SELECT CASE WHEN has_schema_privilege('termguard', 'USAGE') THEN "
                          "has_function_privilege('termguard.alert_delivered(bigint)', 'EXECUTE') AND "
                          "has_function_privilege('termguard.undelivered_alerts(integer)', 'EXECUTE') "
                          "ELSE false END",
                          0, NULL, &priv);
        if (r < 0)
                goto out;
        if (strcmp(PQgetvalue(priv, 0, 0), "t") != 0) {
                fprintf(stderr,
                        "termguard-central watch: role %s cannot mark alerts delivered: "
                        "GRANT termguard_watch, termguard_auditor TO it\n",
                        PQuser(conn));
                r = -EACCES;
                goto out;
        }
        /* after LISTEN: what is raised from now on is notified, what was raised before is here */
        r = deliver_pending(conn, &c);
        if (r < 0)
                goto out;
        fprintf(stderr, "termguard-central watch: listening; verifying every %" PRId64 " s%s%s\n",
                c.verify_interval_usec / 1000000, vo.escrow ? " with the escrowed seeds" : "",
                vo.watermarks ? ", new records only (watermarks)" : "");
        while (!stop) {
                int64_t now = monotonic_usec();
                struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};

                if (now >= next_verify) {
                        r = central_verify_hosts(conn, &vo);
                        if (r >= 0)
                                r = lockout_storm(conn, &c, &storm);
                        if (r < 0)
                                break;
                        next_verify = monotonic_usec() + c.verify_interval_usec;
                        continue;
                }
                if (poll(&p, 1, (int) ((next_verify - now) / 1000) + 1) < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                r = drain_notifications(&w);
                if (r < 0)
                        break;
        }
out:
        free(w.hosts);
        /* a watch that stops by itself is an outage of alerting: systemd restarts it */
        return stop ? 0 : r < 0 ? r : -EIO;
}
