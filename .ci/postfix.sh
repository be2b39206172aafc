#!/usr/bin/env bash
# Start a private Postfix instance for the integration tests:
#   listens on 127.0.0.1:$PORT, rejects bare LF (smtpd_forbid_bare_newline =
#   reject, for loopback clients too), delivers every recipient of
#   example.com/.org/.net into one Maildir but refused@example.org (550)
#   and busy@example.org (450).
# Usage: .ci/postfix.sh DIR PORT   (prints the Maildir path when ready)
set -euo pipefail
dir=$1
port=$2
if ! command -v postfix >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null
    else
        echo "postfix.sh: postfix is not installed" >&2
        exit 1
    fi
fi
rm -rf "$dir"
mkdir -p "$dir/etc" "$dir/spool" "$dir/data" "$dir/mail"
chown postfix "$dir/data"
chown nobody:nogroup "$dir/mail"
uid=$(id -u nobody)
gid=$(getent group nogroup | cut -d: -f3)
cat > "$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = /dev/stdout
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.mailfmt.example.com
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
local_recipient_maps =
smtpd_relay_restrictions = permit_mynetworks, reject
# Two mailboxes that refuse, for recorded sessions (tests/vectors/smtp).
smtpd_recipient_restrictions = check_recipient_access inline:{
  { refused@example.org = 550 5.1.1 <refused@example.org>: no such mailbox },
  { busy@example.org = 450 4.2.1 <busy@example.org>: mailbox busy, try later } }
smtpd_forbid_bare_newline = reject
smtpd_forbid_bare_newline_exclusions =
smtputf8_enable = yes
message_size_limit = 0
mailbox_size_limit = 0
virtual_mailbox_limit = 0
smtpd_recipient_limit = 1000
virtual_mailbox_domains = example.com example.org example.net
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:maildir/
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 1
virtual_destination_recipient_limit = 1000
CF
# Debian's master.cf, with smtpd on our port and no chroot.
awk -v port="$port" '
  /^smtp +inet/ { $1 = "127.0.0.1:" port }
  /^[a-z0-9.:]+ +(inet|unix|unix-dgram|fifo|pass) / { if ($5 == "y") $5 = "n" }
  { print }' /etc/postfix/master.cf > "$dir/etc/master.cf"
# "start" creates the queue directories itself (a first "check" would fail
# only because they do not exist yet).
postfix -c "$dir/etc" start > "$dir/start.log" 2>&1 || {
    echo "postfix.sh: postfix did not start:" >&2
    cat "$dir/start.log" >&2
    exit 1
}
for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "$dir/mail/maildir"
        exit 0
    fi
    sleep 0.2
done
echo "postfix.sh: postfix did not start listening on 127.0.0.1:$port" >&2
cat "$dir/start.log" >&2 || true
exit 1
