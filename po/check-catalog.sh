#!/bin/sh
# Fails when a translatable message in the sources has no entry in a catalog (po/LANG.po).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
xgettext --keyword=_ --keyword=N_ --from-code=UTF-8 --language=C -o "$tmp" \
        "$top"/ctl/*.c "$top/pam_module/pam_termguard.c" "$top"/session/*.c
for po in "$top"/po/*.po; do
        msgcmp "$po" "$tmp"
        untranslated=$(msgattrib --untranslated --no-obsolete "$po" | grep -c '^msgid ' || true)
        # the header entry is the one msgid "" that always counts
        if [ "$untranslated" -gt 1 ]; then
                echo "$po: $((untranslated - 1)) untranslated message(s)" >&2
                exit 1
        fi
        echo "$po: complete"
done
