# shellcheck shell=sh
# Carry-out records (part of e2e.sh's boot, sourced from it; uses its helpers): files written,
# created, renamed and deleted on a writable stick are recorded with their SHA-256 as the VM's
# sha256sum computes it; read-only media produce no records; every watch ends with its summary.
# Expects NO (next free UDC) and [MediaAudit] HashMaxSize=1M in the configuration.

media_events() { grep "\"event\":\"media\.$1" "$EVENTS"; }
# written_has PATH SIZE SHA : one media.file-written record with exactly these.
written_has() { media_events file-written | grep -q "\"path\":\"$1\",\"size\":\"$2\",\"sha256\":\"$3\""; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
size_of() { wc -c <"$1" | tr -d ' '; }
# plug_image NAME SERIAL IMAGE : a 0951:1666 stick backed by an image made by the caller.
plug_image() {
    _udc=dummy_udc.$NO
    NO=$((NO + 1))
    gadget_create "$1" 0x0951 0x1666 "$2" "$3" || return 1
    gadget_bind "$1" "$_udc" || return 1
    check "$1 ($2) enumerated on $_udc" wait_for 60 usb_dev_present "$_udc" || return 1
    DEV=$(usb_dev_for_udc "$_udc")
}
summary_of() { media_events watch-ended | grep "\"label\":\"$1\"" | tail -n 1; }
# ended LABEL WHY : the watch of LABEL's medium ended for that reason.
ended() { summary_of "$1" | grep -q "\"why\":\"$2\""; }
summary_has() { summary_of "$1" | grep -q -e "$2"; }
# recorded EVENT PATTERN : a media.EVENT record matches PATTERN (grep -e).
recorded() { media_events "$1" | grep -q -e "$2"; }
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

say "Carry-out records: files written to a writable stick (vfat)"
run $CTL media add --vid 0951 --pid 1666 --serial AUD-0001 --label jinji-03 --department 人事課
run $CTL media add --vid 0951 --pid 1666 --serial AUDX-0001 --label jinji-04 --department 人事課
UNTIL=$(date -u -d "@$(($(date +%s) + 900))" +%Y-%m-%dT%H:%M:%SZ)
run $CTL exception grant jinji-03 --until "$UNTIL" --approver "CISO 山田" --reason "人事資料の提出"
run $CTL exception grant jinji-04 --until "$UNTIL" --approver "CISO 山田" --reason "exFAT の記録"
plug aud 0x0951 0x1666 AUD-0001
AUD_DEV=$DEV
check "the stick is writable" wait_for 20 disk_ro_is "$AUD_DEV" 0
mkdir -p /mnt/aud
check "mounted read-write for staff" mount -o rw,uid=1000,gid=1000,utf8 "/dev/$(disk_for "$AUD_DEV")" /mnt/aud
check "the watch starts, everything observable" wait_for 10 recorded watch-started '"label":"jinji-03".*"observable":"written, created, renamed, deleted"'
check_not "... nothing said to be unobservable on vfat" recorded watch-started '"label":"jinji-03".*not_observable'
# What staff copy: a document, a Japanese name with a space, a file above the 1 MiB cap, an
# empty file, a folder.
head -c 300000 /dev/urandom >/tmp/scan.pdf
head -c 1500000 /dev/urandom >/tmp/large.bin
printf '令和8年度 人事異動\n' >/tmp/jinji.txt
su -s /bin/sh staff -c 'cp /tmp/scan.pdf /mnt/aud/scan.pdf && cp /tmp/jinji.txt "/mnt/aud/人事 異動.txt" && cp /tmp/large.bin /mnt/aud/large.bin && : >/mnt/aud/empty.txt && mkdir /mnt/aud/資料 && cp /tmp/jinji.txt /mnt/aud/資料/copy.txt && echo old >/mnt/aud/old.txt'
su -s /bin/sh staff -c 'mv /mnt/aud/scan.pdf /mnt/aud/資料/scan-final.pdf && rm /mnt/aud/old.txt'
check "the copy of scan.pdf is recorded with the VM's own sha256sum and size" wait_for 20 written_has /scan.pdf "$(size_of /mnt/aud/資料/scan-final.pdf)" "$(sha_of /mnt/aud/資料/scan-final.pdf)"
check "a Japanese name with a space, as it is" wait_for 10 written_has "/人事 異動.txt" "$(size_of "/mnt/aud/人事 異動.txt")" "$(sha_of "/mnt/aud/人事 異動.txt")"
check "a file in a new folder" wait_for 10 written_has "/資料/copy.txt" "$(size_of /mnt/aud/資料/copy.txt)" "$(sha_of /mnt/aud/資料/copy.txt)"
check "an empty file" wait_for 10 written_has /empty.txt 0 "$(sha_of /mnt/aud/empty.txt)"
check "a file above HashMaxSize: its size, no digest, and why" wait_for 10 recorded file-written '"path":"/large.bin","size":"1500000","hash":"not hashed: larger than cap"'
# A writer that is still running when termguardd reads the event (it waits for its record):
# process name and user come from the live process.
su -s /bin/sh staff -c "echo held >/mnt/aud/held.txt; until grep -q held.txt $EVENTS; do sleep 0.1; done"
check "who wrote it: process, its user, and the seat's user" recorded file-written '"path":"/held.txt".*"comm":"sh","uid":"1000","user":"staff","seat_user":"staff"'
check "who created a name: process id and the seat's user" recorded file-created '"path":"/empty.txt".*"process_id":"[0-9][0-9]*".*"seat_user":"staff"'
check "the register entry and exception are on each record" recorded file-written '"serial":"AUD-0001","label":"jinji-03","exception":"[0-9][0-9]*".*"path":"/empty.txt"'
check "a created folder is recorded" recorded file-created '"path":"/資料","kind":"directory"'
check "a created file is recorded" recorded file-created '"path":"/人事 異動.txt","kind":"file"'
check "the rename is recorded with both names" wait_for 10 recorded file-renamed '"from":"/scan.pdf","to":"/資料/scan-final.pdf","kind":"file"'
check "the delete is recorded" wait_for 10 recorded file-deleted '"path":"/old.txt","kind":"file"'
cat /mnt/aud/資料/copy.txt >/dev/null
umount /mnt/aud
check "unmounting ends the watch with a summary" wait_for 10 ended jinji-03 unmounted
check_not "reading the stick made no records" recorded file- '"comm":"cat"'
S=$(summary_of jinji-03)
echo "# $S"
check "summary: 7 files written (scan, 人事 異動, large, empty, copy, old, held)" test "$(echo "$S" | field files_written)" = 7
check "summary: bytes written" test "$(echo "$S" | field bytes_written)" = $((300000 + $(size_of /tmp/jinji.txt) * 2 + 1500000 + 4 + 5))
check "summary: 8 created (7 files, 1 folder), 1 renamed, 1 deleted, 1 not hashed, complete" summary_has jinji-03 '"files_created":"8","files_renamed":"1","files_deleted":"1","not_hashed":"1","events_lost":"0","complete":"yes"'

say "exFAT on this kernel: what fanotify can observe, and what the record says it cannot"
IMG=/tmp/img-audx
rm -f "$IMG"; truncate -s 16M "$IMG"; mkfs.exfat -L TGEXFAT "$IMG" >/dev/null
plug_image audx AUDX-0001 "$IMG"
AUDX_DEV=$DEV
check "the exFAT stick is writable" wait_for 20 disk_ro_is "$AUDX_DEV" 0
mkdir -p /mnt/audx
check "exFAT mounts read-write" mount -t exfat -o rw "/dev/$(disk_for "$AUDX_DEV")" /mnt/audx
check "the watch starts" wait_for 10 recorded watch-started '"label":"jinji-04"'
media_events watch-started | grep jinji-04 | sed 's/^/# /'
cp /tmp/jinji.txt /mnt/audx/kiroku.txt && echo gone >/mnt/audx/gone.txt && rm /mnt/audx/gone.txt
check "written files on exFAT are recorded with their digest" wait_for 10 written_has /kiroku.txt "$(size_of /mnt/audx/kiroku.txt)" "$(sha_of /mnt/audx/kiroku.txt)"
if media_events watch-started | grep jinji-04 | grep -q '"not_observable":"created, renamed, deleted'; then
    check_not "... no name records claimed where the kernel cannot give them" recorded file-deleted gone.txt
else
    check "... names observable on exFAT: the delete is recorded" wait_for 10 recorded file-deleted gone.txt
fi

say "Detaching a mounted stick ends its watch"
gadget_unbind audx
check "the summary says detached" wait_for 20 ended jinji-04 detached
summary_of jinji-04 | sed 's/^/# /'
umount /mnt/audx 2>/dev/null

say "Read-only media are not watched and produce no write records"
check_not "no watch ever started for the read-only stick soumu-01" recorded watch-started '"label":"soumu-01"'
check_not "no write records for it" recorded file- '"label":"soumu-01"'
