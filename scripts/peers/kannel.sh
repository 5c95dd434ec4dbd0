#!/usr/bin/env bash
# Kannel with a fake SMSC, for the SMS tests: bearerbox + smsbox + fakesmsc
# (Debian's kannel and kannel-extras), all on loopback.
#   scripts/peers/kannel.sh start|stop|status
# sendsms: http://127.0.0.1:$KANNEL_SENDSMS_PORT/cgi-bin/sendsms (13913),
#   username studylink, password studylink-test.
# Every message the fake SMSC receives is a line in $DIR/fakesmsc.log:
#   Got message N: <from to text …>
set -euo pipefail
DIR=${STUDYLINK_PEERS_DIR:-/var/tmp/studylink-peers}/kannel
ADMIN_PORT=${KANNEL_ADMIN_PORT:-13900}
BOX_PORT=${KANNEL_BOX_PORT:-13901}
SMSC_PORT=${KANNEL_SMSC_PORT:-13910}
SENDSMS_PORT=${KANNEL_SENDSMS_PORT:-13913}
BEARERBOX=/usr/sbin/bearerbox
SMSBOX=/usr/sbin/smsbox
FAKESMSC=/usr/lib/kannel/test/fakesmsc

sendsms_up() {
  # Any HTTP answer (403 without credentials) means smsbox is listening.
  curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SENDSMS_PORT/cgi-bin/sendsms" 2>/dev/null | grep -q '^[1-5]'
}
alive() { [ -f "$DIR/$1.pid" ] && kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null; }
running() { alive bearerbox && alive smsbox && alive fakesmsc && sendsms_up; }

install() {
  [ -x "$BEARERBOX" ] && [ -x "$SMSBOX" ] && [ -x "$FAKESMSC" ] && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "kannel.sh: installing Debian packages kannel and kannel-extras"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kannel kannel-extras >/dev/null
    # The package's own service would hold the default ports; we run our own boxes.
    command -v service >/dev/null && service kannel stop >/dev/null 2>&1 || true
  fi
  if ! [ -x "$BEARERBOX" ] || ! [ -x "$SMSBOX" ]; then
    echo "kannel.sh: $BEARERBOX or $SMSBOX is missing. Install Kannel:" >&2
    echo "    sudo apt-get install -y kannel kannel-extras" >&2
    exit 1
  fi
  if ! [ -x "$FAKESMSC" ]; then
    echo "kannel.sh: $FAKESMSC is missing (it ships in kannel-extras). Install it:" >&2
    echo "    sudo apt-get install -y kannel-extras" >&2
    exit 1
  fi
}

write_conf() {
  cat >"$DIR/kannel.conf" <<CONF
# Written by scripts/peers/kannel.sh: a test gateway, loopback only.
group = core
admin-port = $ADMIN_PORT
admin-password = studylink-admin
admin-allow-ip = "127.0.0.1"
smsbox-port = $BOX_PORT
box-allow-ip = "127.0.0.1"
log-file = "$DIR/bearerbox.log"
log-level = 0
access-log = "$DIR/access.log"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = FAKE
port = $SMSC_PORT
connect-allow-ip = "127.0.0.1"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $BOX_PORT
sendsms-port = $SENDSMS_PORT
sendsms-interface = 127.0.0.1
global-sender = StudyLink
log-file = "$DIR/smsbox.log"
log-level = 0

group = sendsms-user
username = studylink
password = studylink-test
max-messages = 6
concatenation = true

group = sms-service
keyword = default
text = "No service"
catch-all = true
CONF
}

wait_for() { # what, test command...
  local what=$1; shift
  for _ in $(seq 1 40); do "$@" && return 0; sleep 0.25; done
  echo "kannel.sh: $what did not come up; see $DIR/*.log" >&2
  tail -5 "$DIR"/*.log >&2 || true
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  if running; then
    echo "kannel: already running (sendsms http://127.0.0.1:$SENDSMS_PORT, fake SMSC log $DIR/fakesmsc.log)"
    return
  fi
  install
  stop >/dev/null
  mkdir -p "$DIR"
  write_conf
  : >"$DIR/fakesmsc.log"
  setsid "$BEARERBOX" "$DIR/kannel.conf" >"$DIR/bearerbox.out" 2>&1 </dev/null &
  echo $! >"$DIR/bearerbox.pid"
  wait_for "bearerbox (fake SMSC port $SMSC_PORT)" port_open "$SMSC_PORT"
  # fakesmsc reads messages to inject from stdin: keep it open and empty.
  setsid bash -c "exec $FAKESMSC -H 127.0.0.1 -r $SMSC_PORT -m 0 < <(sleep infinity)" >>"$DIR/fakesmsc.log" 2>&1 &
  echo $! >"$DIR/fakesmsc.pid"
  setsid "$SMSBOX" "$DIR/kannel.conf" >"$DIR/smsbox.out" 2>&1 </dev/null &
  echo $! >"$DIR/smsbox.pid"
  wait_for "smsbox (sendsms port $SENDSMS_PORT)" sendsms_up
  if ! alive fakesmsc; then
    echo "kannel.sh: fakesmsc exited; its log:" >&2; tail -20 "$DIR/fakesmsc.log" >&2; exit 1
  fi
  echo "kannel: running (sendsms http://127.0.0.1:$SENDSMS_PORT, user studylink/studylink-test, fake SMSC log $DIR/fakesmsc.log)"
}

stop() {
  local any=
  for box in smsbox fakesmsc bearerbox; do
    if alive "$box"; then
      kill -- "-$(cat "$DIR/$box.pid")" 2>/dev/null || kill "$(cat "$DIR/$box.pid")" 2>/dev/null || true
      any=1
    fi
    rm -f "$DIR/$box.pid"
  done
  [ -n "$any" ] && echo "kannel: stopped" || echo "kannel: not running (or not started by this script)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "kannel: running"; else echo "kannel: not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
