/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The central store's certificate authority (OpenSSL libcrypto): its key and certificate, the
 * server's and the terminals' certificates, the revocation list. ECDSA P-256 throughout. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "central.h"
#include "termguard/fileio.h"
#include "termguard/hex.h"

#define CA_KEY "ca.key"
#define CA_CERT "ca.crt"
#define CA_CN "termguard central CA"
#define CA_DAYS (20 * 365)
#define CERT_DAYS (5 * 365)
#define CRL_DAYS 3650 /* a CRL past its next update is refused: rewritten by every revocation */
#define SERIAL_BYTES 16
#define PEM_MAX (64 * 1024)

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(X509_CRL *, X509_CRL_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIGNUM *, BN_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_INTEGER *, ASN1_INTEGER_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(ASN1_TIME *, ASN1_TIME_free)

int central_random(void *buf, size_t len) {
        return RAND_bytes(buf, (int) len) == 1 ? 0 : -EIO;
}

static int ssl_error(const char *what) {
        fprintf(stderr, "termguard-central: %s failed (OpenSSL)\n", what);
        return -EIO;
}

/* Writes a BIO's bytes to a new file dirfd/name: exclusive, never through a symlink. */
static int write_new(int dirfd, const char *name, BIO *bio, mode_t mode, uid_t owner, gid_t group) {
        _cleanup_close_ int fd = -EBADF;
        char *data;
        long len = BIO_get_mem_data(bio, &data);
        int r = 0;

        fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0) {
                fprintf(stderr, "termguard-central: cannot create %s: %m\n", name);
                return -errno;
        }
        if (fchmod(fd, mode) < 0 || (owner != (uid_t) -1 && fchown(fd, owner, group) < 0))
                r = -errno;
        if (r == 0 && write(fd, data, (size_t) len) != len)
                r = -EIO;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                fprintf(stderr, "termguard-central: cannot write %s: %s\n", name, strerror(-r));
                (void) unlinkat(dirfd, name, 0);
        }
        return r;
}

static int write_key(int dirfd, const char *name, EVP_PKEY *key, uid_t owner, gid_t group) {
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());

        if (!bio || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1)
                return ssl_error("writing a key");
        return write_new(dirfd, name, bio, 0600, owner, group);
}

static int write_cert(int dirfd, const char *name, X509 *cert, uid_t owner, gid_t group) {
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());

        if (!bio || PEM_write_bio_X509(bio, cert) != 1)
                return ssl_error("writing a certificate");
        return write_new(dirfd, name, bio, 0644, owner, group);
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
        X509V3_CTX v3;
        X509_EXTENSION *ext;
        int ok;

        X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
        ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
        if (!ext)
                return ssl_error("a certificate extension");
        ok = X509_add_ext(cert, ext, -1);
        X509_EXTENSION_free(ext);
        return ok == 1 ? 0 : ssl_error("adding an extension");
}

/* A certificate for key with subject CN = cn, signed by issuer_key (self-signed if issuer is
 * NULL); random serial. */
static int make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long days, X509 **ret,
                     char serial_hex[CENTRAL_SERIAL_HEX_MAX]) {
        _cleanup_(X509_freep) X509 *cert = X509_new();
        _cleanup_(BN_freep) BIGNUM *bn = NULL;
        uint8_t serial[SERIAL_BYTES];
        X509_NAME *name;

        if (!cert || central_random(serial, sizeof(serial)) < 0)
                return ssl_error("a new certificate");
        serial[0] &= 0x7f; /* positive, and never a leading zero byte */
        serial[0] |= 0x40;
        bn = BN_bin2bn(serial, sizeof(serial), NULL);
        if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
                return ssl_error("a serial number");
        (void) tg_hex_encode(serial, sizeof(serial), serial_hex, CENTRAL_SERIAL_HEX_MAX);
        name = X509_get_subject_name(cert);
        if (X509_set_version(cert, 2) != 1 || X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
            X509_gmtime_adj(X509_getm_notAfter(cert), days * 24 * 3600) == NULL ||
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0) != 1 ||
            X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) != 1 ||
            X509_set_pubkey(cert, key) != 1)
                return ssl_error("filling a certificate");
        if (add_ext(cert, issuer ? issuer : cert, NID_subject_key_identifier, "hash") < 0 ||
            add_ext(cert, issuer ? issuer : cert, NID_authority_key_identifier, "keyid:always") < 0)
                return -EIO;
        *ret = TAKE_PTR(cert);
        (void) issuer_key;
        return 0;
}

static int sign(X509 *cert, EVP_PKEY *key) {
        return X509_sign(cert, key, EVP_sha256()) > 0 ? 0 : ssl_error("signing");
}

static int open_ca_dir(const char *ca_dir) {
        int fd = open(ca_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;

        if (fd < 0) {
                fprintf(stderr, "termguard-central: cannot open the CA directory %s: %m\n", ca_dir);
                return -errno;
        }
        /* The CA key signs every terminal's identity: its directory is its owner's alone. */
        if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 0077)) {
                fprintf(stderr, "termguard-central: %s must be a directory of this user with mode 0700\n", ca_dir);
                close(fd);
                return -EPERM;
        }
        return fd;
}

bool central_ca_exists(const char *ca_dir) {
        char path[4096];

        snprintf(path, sizeof(path), "%s/" CA_KEY, ca_dir);
        return access(path, F_OK) == 0;
}

int central_ca_create(const char *ca_dir) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        char serial[CENTRAL_SERIAL_HEX_MAX];
        int r;

        if (mkdir(ca_dir, 0700) < 0 && errno != EEXIST) {
                fprintf(stderr, "termguard-central: cannot create %s: %m\n", ca_dir);
                return -errno;
        }
        dirfd = open_ca_dir(ca_dir);
        if (dirfd < 0)
                return dirfd;
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (!key)
                return ssl_error("generating the CA key");
        r = make_cert(key, CA_CN, NULL, key, CA_DAYS, &cert, serial);
        if (r < 0)
                return r;
        if (add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
            add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") < 0)
                return -EIO;
        r = sign(cert, key);
        if (r < 0)
                return r;
        r = write_key(dirfd, CA_KEY, key, (uid_t) -1, (gid_t) -1);
        if (r < 0)
                return r;
        r = write_cert(dirfd, CA_CERT, cert, (uid_t) -1, (gid_t) -1);
        if (r < 0)
                (void) unlinkat(dirfd, CA_KEY, 0);
        return r;
}

static int load_ca(const char *ca_dir, X509 **ret_cert, EVP_PKEY **ret_key) {
        _cleanup_close_ int dirfd = open_ca_dir(ca_dir);
        _cleanup_(BIO_freep) BIO *kb = NULL, *cb = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *cert = NULL;
        char path[4096];
        ssize_t n;

        if (dirfd < 0)
                return dirfd;
        buf = malloc(PEM_MAX);
        if (!buf)
                return -ENOMEM;
        snprintf(path, sizeof(path), "%s/" CA_KEY, ca_dir);
        n = tg_read_file(path, buf, PEM_MAX);
        if (n < 0) {
                fprintf(stderr, "termguard-central: cannot read %s: %s\n", path, strerror((int) -n));
                return (int) n;
        }
        kb = BIO_new_mem_buf(buf, (int) n);
        key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
        explicit_bzero(buf, PEM_MAX);
        if (!key)
                return ssl_error("reading the CA key");
        snprintf(path, sizeof(path), "%s/" CA_CERT, ca_dir);
        n = tg_read_file(path, buf, PEM_MAX);
        if (n < 0) {
                fprintf(stderr, "termguard-central: cannot read %s: %s\n", path, strerror((int) -n));
                return (int) n;
        }
        cb = BIO_new_mem_buf(buf, (int) n);
        cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
        if (!cert)
                return ssl_error("reading the CA certificate");
        if (X509_check_private_key(cert, key) != 1)
                return ssl_error("matching the CA key and certificate");
        *ret_cert = TAKE_PTR(cert);
        *ret_key = TAKE_PTR(key);
        return 0;
}

int central_ca_issue(const char *ca_dir, const char *cn, const char *const *sans, size_t n_sans, int dirfd,
                     const char *cert_name, const char *key_name, uid_t owner, gid_t group, central_cert_info *ret) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ca_key = NULL, *key = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL, *cert = NULL;
        _cleanup_free_ char *san = NULL;
        central_cert_info info = {};
        int r;

        r = load_ca(ca_dir, &ca, &ca_key);
        if (r < 0)
                return r;
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (!key)
                return ssl_error("generating a key");
        r = make_cert(key, cn, ca, ca_key, CERT_DAYS, &cert, info.serial);
        if (r < 0)
                return r;
        if (add_ext(cert, ca, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
            add_ext(cert, ca, NID_key_usage, "critical,digitalSignature") < 0 ||
            add_ext(cert, ca, NID_ext_key_usage, n_sans > 0 ? "serverAuth" : "clientAuth") < 0)
                return -EIO;
        for (size_t i = 0; i < n_sans; i++) {
                char *s;
                if (central_asprintf(&s, "%s%s%s", san ? san : "", san ? "," : "", sans[i]) < 0)
                        return -ENOMEM;
                free(san);
                san = s;
        }
        if (san && add_ext(cert, ca, NID_subject_alt_name, san) < 0)
                return -EIO;
        r = sign(cert, ca_key);
        if (r < 0)
                return r;
        info.not_after = time(NULL) + (time_t) CERT_DAYS * 24 * 3600;
        r = write_key(dirfd, key_name, key, owner, group);
        if (r < 0)
                return r;
        r = write_cert(dirfd, cert_name, cert, owner, group);
        if (r < 0) {
                (void) unlinkat(dirfd, key_name, 0);
                return r;
        }
        if (ret)
                *ret = info;
        return 0;
}

int central_ca_copy_cert(const char *ca_dir, int dirfd, const char *name, uid_t owner, gid_t group) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ca_key = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL;
        int r = load_ca(ca_dir, &ca, &ca_key);

        if (r < 0)
                return r;
        (void) unlinkat(dirfd, name, 0);
        return write_cert(dirfd, name, ca, owner, group);
}

int central_ca_write_crl(const char *ca_dir, const char *const *serials, size_t n, int dirfd, const char *name,
                         uid_t owner, gid_t group) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *ca_key = NULL;
        _cleanup_(X509_freep) X509 *ca = NULL;
        _cleanup_(X509_CRL_freep) X509_CRL *crl = X509_CRL_new();
        _cleanup_(ASN1_TIME_freep) ASN1_TIME *now = ASN1_TIME_new(), *next = ASN1_TIME_new();
        _cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
        char *data;
        long len;
        int r = load_ca(ca_dir, &ca, &ca_key);

        if (r < 0)
                return r;
        if (!crl || !now || !next || !bio || !X509_gmtime_adj(now, 0) ||
            !X509_gmtime_adj(next, (long) CRL_DAYS * 86400) || X509_CRL_set_version(crl, 1) != 1 ||
            X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) != 1 || X509_CRL_set1_lastUpdate(crl, now) != 1 ||
            X509_CRL_set1_nextUpdate(crl, next) != 1)
                return ssl_error("a CRL");
        for (size_t i = 0; i < n; i++) {
                _cleanup_(BN_freep) BIGNUM *bn = NULL;
                X509_REVOKED *rev = X509_REVOKED_new();
                ASN1_INTEGER *serial;

                if (!rev || !BN_hex2bn(&bn, serials[i]) || !(serial = BN_to_ASN1_INTEGER(bn, NULL))) {
                        X509_REVOKED_free(rev);
                        return ssl_error("a CRL entry");
                }
                r = X509_REVOKED_set_serialNumber(rev, serial) == 1 && X509_REVOKED_set_revocationDate(rev, now) == 1 &&
                                    X509_CRL_add0_revoked(crl, rev) == 1
                            ? 0
                            : -EIO;
                ASN1_INTEGER_free(serial);
                if (r < 0) {
                        X509_REVOKED_free(rev);
                        return ssl_error("a CRL entry");
                }
        }
        if (X509_CRL_sort(crl) != 1 || X509_CRL_sign(crl, ca_key, EVP_sha256()) <= 0 ||
            PEM_write_bio_X509_CRL(bio, crl) != 1)
                return ssl_error("signing the CRL");
        len = BIO_get_mem_data(bio, &data);
        r = tg_write_file_atomic(dirfd, name, data, (size_t) len, owner, group, 0644);
        if (r < 0)
                fprintf(stderr, "termguard-central: cannot write %s: %s\n", name, strerror(-r));
        return r;
}
