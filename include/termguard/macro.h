/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Cleanup by attribute, in the style of systemd: no free() ladders. */
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(tg_freep)
#define _cleanup_close_ _cleanup_(tg_closep)
#define _cleanup_fclose_ _cleanup_(tg_fclosep)
#define _unused_ __attribute__((unused))
/* For a rarely taken path with a large frame: inlined into its caller, its frame would be part of
 * the caller's for good (a resident daemon's main keeps those stack pages for its lifetime). */
#define _noinline_ __attribute__((noinline))

static inline void tg_freep(void *p) {
        free(*(void **) p);
}
static inline void tg_closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void tg_fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
/* A heap string that held a secret (a code the user typed): wiped, then freed. */
static inline void tg_erase_and_freep(char **p) {
        if (*p) {
                explicit_bzero(*p, strlen(*p));
                free(*p);
        }
}
#define _cleanup_erase_free_ _cleanup_(tg_erase_and_freep)

static inline void tg_closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(tg_closedirp)

/* A cleanup function for a type with a free or unref function that takes NULL or not:
 * DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev *, udev_unref) defines udev_unrefp(). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                                        \
        static inline void func##p(type *p) {                                                                          \
                if (*p)                                                                                                \
                        func(*p);                                                                                      \
        }

#define TAKE_PTR(p)                                                                                                    \
        ({                                                                                                             \
                __typeof__(p) _p_ = (p);                                                                               \
                (p) = NULL;                                                                                            \
                _p_;                                                                                                   \
        })
#define TAKE_FD(fd)                                                                                                    \
        ({                                                                                                             \
                int _fd_ = (fd);                                                                                       \
                (fd) = -EBADF;                                                                                         \
                _fd_;                                                                                                  \
        })

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define STRLEN(s) (sizeof(s) - 1)

/* Returns -EINVAL from a public entry point on a violated precondition. */
#define assert_return(expr, r)                                                                                         \
        do {                                                                                                           \
                if (!(expr))                                                                                           \
                        return (r);                                                                                    \
        } while (0)
