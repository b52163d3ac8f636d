/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * termguardctl central enroll DIR: installs the enrolment bundle termguard-central enroll-host
 * made for this terminal. Everything in the bundle is checked before anything changes: the
 * host id, the seed made for it, central.conf naming this host's role, the private key kept
 * private. Then the forwarder's user and group, the journal (created with the bundle's seed
 * when there is none; an existing journal is kept only when the seed verifies it), and the
 * certificate and key for the forwarder's user alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "termguard/account.h"
#include "termguard/central.h"
#include "termguard/config.h"
#include "termguard/escape.h"
#include "termguard/fileio.h"
#include "termguard/hex.h"
#include "termguard/journal.h"
#include "termguard/macro.h"
#include "termguard/register.h"

/* The largest file a bundle holds (a certificate chain): anything bigger is not a bundle. */
#define BUNDLE_FILE_MAX (64 * 1024)
#define UUID_TEXT 36

extern char **environ;

typedef struct {
        char data[BUNDLE_FILE_MAX + 1];
        size_t len;
        mode_t mode;
} bundle_file;

typedef struct {
        int dirfd;
        const char *dir;
        bundle_file ca, cert, key, host_id, department;
        tg_central_config cfg;
        uint8_t id[TG_JOURNAL_ID_SIZE], seed[TG_JOURNAL_SEED_SIZE];
        bool have_seed; /* a bundle of reenroll-host has none: same host, same journal */
} bundle;

static void uuid_text(const uint8_t id[TG_JOURNAL_ID_SIZE], char ret[UUID_TEXT + 1]) {
        char hex[2 * TG_JOURNAL_ID_SIZE + 1];
        (void) tg_hex_encode(id, TG_JOURNAL_ID_SIZE, hex, sizeof(hex));
        snprintf(ret, UUID_TEXT + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

static int parse_uuid(const char *s, uint8_t ret[TG_JOURNAL_ID_SIZE]) {
        char hex[2 * TG_JOURNAL_ID_SIZE + 1];
        size_t n = 0, got;
        for (; *s; s++) {
                if (*s == '-')
                        continue;
                if (n >= sizeof(hex) - 1)
                        return -EBADMSG;
                hex[n++] = *s;
        }
        hex[n] = '\0';
        if (n != 2 * TG_JOURNAL_ID_SIZE || tg_hex_decode(hex, ret, TG_JOURNAL_ID_SIZE, &got) < 0)
                return -EBADMSG;
        return 0;
}

static int read_bundle_file(bundle *b, const char *name, bundle_file *f) {
        _cleanup_close_ int fd = openat(b->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        ssize_t n;

        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                fprintf(stderr, _("termguardctl: the bundle %s has no file %s (a regular file).\n"), b->dir, name);
                return -EBADMSG;
        }
        n = tg_read_full(fd, f->data, sizeof(f->data));
        if (n < 0 || (size_t) n > BUNDLE_FILE_MAX || n == 0) {
                fprintf(stderr, _("termguardctl: %s/%s is empty, unreadable or larger than %d bytes.\n"), b->dir, name,
                        BUNDLE_FILE_MAX);
                return -EBADMSG;
        }
        f->len = (size_t) n;
        f->data[n] = '\0';
        f->mode = st.st_mode & 07777;
        return 0;
}

/* One line of text: the line without its newline, nothing after it. */
static bool one_line(bundle_file *f) {
        if (f->len > 0 && f->data[f->len - 1] == '\n')
                f->data[--f->len] = '\0';
        return strlen(f->data) == f->len && !strchr(f->data, '\n');
}

static int check_bundle(bundle *b) {
        char path[PATH_MAX], err[512], id_text[UUID_TEXT + 1], role[TG_CENTRAL_NAME_MAX + 1];
        char hex[2 * TG_JOURNAL_ID_SIZE + 1];
        uint8_t seed_host[TG_JOURNAL_ID_SIZE];
        struct stat st;
        int r;

        if (fstat(b->dirfd, &st) < 0 || (st.st_mode & 022)) {
                fprintf(stderr,
                        _("termguardctl: %s may be changed by others; keep the bundle in a directory only "
                          "root can write (chmod 700).\n"),
                        b->dir);
                return -EPERM;
        }
        if (read_bundle_file(b, TG_CENTRAL_CA, &b->ca) < 0 || read_bundle_file(b, TG_CENTRAL_CERT, &b->cert) < 0 ||
            read_bundle_file(b, TG_CENTRAL_KEY, &b->key) < 0 || read_bundle_file(b, "host-id", &b->host_id) < 0 ||
            read_bundle_file(b, "department", &b->department) < 0)
                return -EBADMSG;
        if (b->key.mode & 077) {
                fprintf(stderr,
                        _("termguardctl: %s/%s is readable by others: the terminal's private key may have "
                          "leaked. Ask the central administrator for a new bundle (reenroll-host).\n"),
                        b->dir, TG_CENTRAL_KEY);
                return -EPERM;
        }
        if (!one_line(&b->department) || !tg_valid_text(b->department.data, TG_NAME_MAX, true)) {
                fprintf(stderr, _("termguardctl: %s/department is not one line of text.\n"), b->dir);
                return -EBADMSG;
        }
        snprintf(path, sizeof(path), "%s/seed", b->dir);
        b->have_seed = faccessat(b->dirfd, "seed", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        if (b->have_seed) {
                r = tg_journal_seed_read(path, b->seed, seed_host);
                if (r < 0) {
                        fprintf(stderr, _("termguardctl: cannot read the seed file %s: %s\n"), path, strerror(-r));
                        return -EBADMSG;
                }
                memcpy(b->id, seed_host, sizeof(b->id));
        } else if (!one_line(&b->host_id) || parse_uuid(b->host_id.data, b->id) < 0) {
                fprintf(stderr, _("termguardctl: %s/host-id is not a host id.\n"), b->dir);
                return -EBADMSG;
        }
        uuid_text(b->id, id_text);
        if (!one_line(&b->host_id) || strcasecmp(b->host_id.data, id_text) != 0) {
                fprintf(stderr,
                        _("termguardctl: %s/host-id and the seed's host id differ: the bundle is not one "
                          "host's.\n"),
                        b->dir);
                return -EBADMSG;
        }
        snprintf(path, sizeof(path), "%s/%s", b->dir, TG_CENTRAL_CONF);
        r = tg_central_config_load(path, &b->cfg, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "termguardctl: %s\n", err);
                return -EBADMSG;
        }
        (void) tg_hex_encode(b->id, sizeof(b->id), hex, sizeof(hex));
        snprintf(role, sizeof(role), "tg_host_%s", hex);
        if (strcmp(role, b->cfg.role) != 0) {
                fprintf(stderr, _("termguardctl: central.conf names the role %s, not this host's %s.\n"), b->cfg.role,
                        role);
                return -EBADMSG;
        }
        return 0;
}

static int run_command(char *const argv[]) {
        pid_t pid;
        int status;
        if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
                return -errno;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* The forwarder's system user and the auditor group it belongs to, as the package makes them. */
static int ensure_accounts(const char *group) {
        tg_account a;
        gid_t gid;
        int r;

        if (group[0] && tg_group_gid(group, &gid) == 0) {
                r = run_command((char *const[]){"addgroup", "--system", (char *) group, NULL});
                if (r < 0) {
                        fprintf(stderr, _("termguardctl: could not create the group %s (addgroup --system).\n"), group);
                        return r;
                }
        }
        if (tg_account_by_name(TG_FORWARDER_USER, &a) == -ENOENT) {
                r = run_command((char *const[]){"adduser", "--system", "--group", "--home", "/nonexistent",
                                                "--no-create-home", "--quiet", TG_FORWARDER_USER, NULL});
                if (r < 0) {
                        fprintf(stderr, _("termguardctl: could not create the user %s (adduser --system).\n"),
                                TG_FORWARDER_USER);
                        return r;
                }
        }
        if (group[0]) {
                r = run_command((char *const[]){"adduser", "--quiet", TG_FORWARDER_USER, (char *) group, NULL});
                if (r < 0) {
                        fprintf(stderr, _("termguardctl: could not add %s to the group %s.\n"), TG_FORWARDER_USER,
                                group);
                        return r;
                }
        }
        return 0;
}

static bool journal_exists(const char *dir) {
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof(path), "%s/state", dir);
        return lstat(path, &st) == 0 || (lstat(dir, &st) == 0 && !S_ISDIR(st.st_mode));
}

/* The journal: made with the bundle's seed, or, when there is one, kept only if the seed
 * verifies its every MAC (enrolled again with this journal's own seed). */
static int setup_journal(bundle *b, const char *journal_dir, const char *host_id_path, bool *ret_created) {
        tg_journal_verify_options vo = {.seed = b->seed};
        tg_journal_verify_result res;
        int r;

        *ret_created = false;
        if (!b->have_seed) {
                /* enrolled again (new certificate): the journal and host id stay as they are */
                uint8_t id[TG_JOURNAL_ID_SIZE];
                if (!journal_exists(journal_dir) || tg_journal_host_id(host_id_path, id) < 0 ||
                    memcmp(id, b->id, sizeof(id)) != 0) {
                        fprintf(stderr, _("termguardctl: the bundle has no seed: it renews the certificate of a "
                                          "terminal enrolled before, and this terminal is not that one (no journal, "
                                          "or another host id). Ask for a bundle of enroll-host.\n"));
                        return -ENOENT;
                }
                return 0;
        }
        if (journal_exists(journal_dir)) {
                r = tg_journal_verify(journal_dir, &vo, &res);
                if (r == 0 && res.records > 0 && res.problems == 0 && res.macs_checked) {
                        r = tg_journal_set_host_id(host_id_path, b->id);
                        if (r < 0)
                                fprintf(stderr, _("termguardctl: cannot write the host id %s: %s\n"), host_id_path,
                                        strerror(-r));
                        return r;
                }
                fprintf(stderr,
                        _("termguardctl: %s already holds an audit journal with another key chain: the bundle's seed "
                          "does not verify it, so its records could not be verified centrally.\n"
                          "Either keep this journal: give its seed file (from the auditors' escrow) to the central "
                          "administrator, who enrols this terminal again with it (termguard-central reenroll-host "
                          "--seed-in FILE), and install the new bundle;\n"
                          "or start a new journal: stop termguardd, verify and archive the old one (termguardctl "
                          "verify --key SEEDFILE), move %s away, and run this command again.\n"),
                        journal_dir, journal_dir);
                return -EEXIST;
        }
        r = tg_journal_set_host_id(host_id_path, b->id);
        if (r < 0) {
                fprintf(stderr, _("termguardctl: cannot write the host id %s: %s\n"), host_id_path, strerror(-r));
                return r;
        }
        r = tg_journal_init(journal_dir, b->seed, &(tg_journal_options){.host_id_path = host_id_path});
        if (r < 0) {
                fprintf(stderr, _("termguardctl: cannot create the journal in %s: %s\n"), journal_dir, strerror(-r));
                return r;
        }
        *ret_created = true;
        return 0;
}

static int install(const char *central_dir, bundle *b) {
        _cleanup_close_ int dirfd = -EBADF;
        tg_account fwd;
        struct stat st;
        ssize_t n;
        int r;

        r = tg_account_by_name(TG_FORWARDER_USER, &fwd);
        if (r < 0) {
                fprintf(stderr, _("termguardctl: no user %s: %s\n"), TG_FORWARDER_USER, strerror(-r));
                return r;
        }
        if (mkdir(central_dir, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, _("termguardctl: cannot create %s: %s\n"), central_dir, strerror(errno));
                return -errno;
        }
        dirfd = open(central_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dirfd < 0 || fstat(dirfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022)) {
                fprintf(stderr, _("termguardctl: %s must be a directory of root's that only root can write.\n"),
                        central_dir);
                return -EPERM;
        }
        {
                bundle_file cf;
                if (read_bundle_file(b, TG_CENTRAL_CONF, &cf) < 0)
                        return -EBADMSG;
                r = tg_write_file_atomic(dirfd, TG_CENTRAL_CONF, cf.data, cf.len, 0, 0, 0644);
        }
        /* the private key and its certificate: the forwarder's user's alone */
        if (r == 0)
                r = tg_write_file_atomic(dirfd, TG_CENTRAL_KEY, b->key.data, b->key.len, fwd.uid, fwd.gid, 0600);
        if (r == 0)
                r = tg_write_file_atomic(dirfd, TG_CENTRAL_CERT, b->cert.data, b->cert.len, fwd.uid, fwd.gid, 0600);
        if (r == 0)
                r = tg_write_file_atomic(dirfd, TG_CENTRAL_CA, b->ca.data, b->ca.len, 0, 0, 0644);
        if (r == 0) {
                char dept[TG_NAME_MAX + 2];
                n = snprintf(dept, sizeof(dept), "%s\n", b->department.data);
                r = tg_write_file_atomic(dirfd, "department", dept, (size_t) n, 0, 0, 0644);
        }
        explicit_bzero(b->key.data, sizeof(b->key.data));
        if (r < 0)
                fprintf(stderr, _("termguardctl: cannot install the enrolment in %s: %s\n"), central_dir, strerror(-r));
        return r;
}

int ctl_central_enroll(const ctl_context *ctx, int argc, char **argv) {
        static const char usage[] = N_("central enroll DIR [--journal DIR] [--central-dir DIR]");
        static const struct option options[] = {
                {"journal", required_argument, NULL, 'j'},
                {"central-dir", required_argument, NULL, 'C'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        static bundle b;
        char journal_dir[TG_PATH_MAX + 16], host_id_path[TG_PATH_MAX + 16], err[512], id_text[UUID_TEXT + 1];
        const char *journal = NULL, *central_dir = TG_CENTRAL_DIR;
        bool created = false;
        tg_config cfg;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case 'j': journal = optarg; break;
                case 'C': central_dir = optarg; break;
                case 'h': printf(_("Usage: termguardctl %s\n"), _(usage)); return 0;
                default:
                        fprintf(stderr, _("termguardctl: unknown option %s\n"), argv[optind - 1]);
                        fprintf(stderr, _("Usage: termguardctl %s\n"), _(usage));
                        return EXIT_USAGE;
                }
        }
        if (optind + 1 != argc) {
                fprintf(stderr, _("termguardctl: wrong number of arguments\n"));
                fprintf(stderr, _("Usage: termguardctl %s\n"), _(usage));
                return EXIT_USAGE;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "%s\n", _("termguardctl: central enroll must be run as root (for example with sudo)."));
                return EXIT_DENIED;
        }
        if (tg_config_load(ctx->config_root, &cfg, err, sizeof(err)) < 0) {
                fprintf(stderr, _("termguardctl: configuration error: %s\n"), err);
                return EXIT_DAEMON_ERROR;
        }
        snprintf(journal_dir, sizeof(journal_dir), "%s/journal", cfg.state_dir);
        snprintf(host_id_path, sizeof(host_id_path), "%s/host-id", cfg.state_dir);
        b.dir = argv[optind];
        b.dirfd = open(b.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (b.dirfd < 0) {
                fprintf(stderr, _("termguardctl: cannot open the bundle %s: %s\n"), b.dir, strerror(errno));
                return EXIT_USAGE;
        }
        r = check_bundle(&b);
        if (r == 0)
                r = ensure_accounts(cfg.journal_auditor_group);
        if (r == 0)
                r = setup_journal(&b, journal ? journal : journal_dir, host_id_path, &created);
        explicit_bzero(b.seed, sizeof(b.seed));
        if (r == 0)
                r = install(central_dir, &b);
        explicit_bzero(b.key.data, sizeof(b.key.data));
        close(b.dirfd);
        if (r < 0)
                return r == -EPERM ? EXIT_DENIED : EXIT_DAEMON_ERROR;
        uuid_text(b.id, id_text);
        printf(_("Enrolled as host %s (department %s); central store %s:%s.\n"), id_text, b.department.data, b.cfg.host,
               b.cfg.port);
        if (created)
                printf("%s\n", _("A new audit journal was created with the bundle's seed: restart termguardd "
                                 "(systemctl restart termguardd) so that it records into it."));
        printf("%s\n", _("Start forwarding: systemctl enable --now termguard-forwarder.service; then check "
                         "termguardctl status. Delete the bundle from this terminal (shred -u DIR/*)."));
        return 0;
}
