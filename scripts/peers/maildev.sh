#!/usr/bin/env bash
# MailDev, a real SMTP server with a REST inbox, for the notification tests.
#   scripts/peers/maildev.sh start|stop|status
# Two instances, loopback only:
#   plain: SMTP $MAILDEV_SMTP_PORT (1025), web/REST $MAILDEV_WEB_PORT (1080)
#   TLS:   SMTPS $MAILDEV_TLS_SMTP_PORT (1465) with AUTH (studylink / studylink-test),
#          web/REST $MAILDEV_TLS_WEB_PORT (1081); its certificate is signed by
#          a test CA written to $DIR/tls/ca.pem.
# Installs maildev@3 from npm into $STUDYLINK_PEERS_DIR/maildev on first start.
set -euo pipefail
DIR=${STUDYLINK_PEERS_DIR:-/var/tmp/studylink-peers}/maildev
SMTP_PORT=${MAILDEV_SMTP_PORT:-1025}
WEB_PORT=${MAILDEV_WEB_PORT:-1080}
TLS_SMTP_PORT=${MAILDEV_TLS_SMTP_PORT:-1465}
TLS_WEB_PORT=${MAILDEV_TLS_WEB_PORT:-1081}
VERSION=3.0.0

healthy() { curl -fsS -o /dev/null "http://127.0.0.1:$1/api/healthz" 2>/dev/null; }

install() {
  [ -x "$DIR/node_modules/.bin/maildev" ] && return
  if ! command -v npm >/dev/null; then
    echo "maildev.sh: npm is missing. Install Node.js and npm first:" >&2
    echo "    apt-get install -y nodejs npm" >&2
    exit 1
  fi
  echo "maildev.sh: installing maildev@$VERSION from npm into $DIR"
  mkdir -p "$DIR"
  npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "maildev@$VERSION" >/dev/null
}

# A CA and a server certificate for 127.0.0.1, so TLS is verified as in production.
certificates() {
  local t=$DIR/tls
  [ -s "$t/server.pem" ] && [ -s "$t/ca.pem" ] && return
  if ! command -v openssl >/dev/null; then
    echo "maildev.sh: openssl is missing: apt-get install -y openssl" >&2; exit 1
  fi
  mkdir -p "$t"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=StudyLink test CA" \
    -keyout "$t/ca.key" -out "$t/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial -days 3650 \
    -extfile "$t/server.ext" -out "$t/server.pem" 2>/dev/null
}

start_one() { # name web-port smtp-port [maildev args…]
  local name=$1 web=$2 smtp=$3; shift 3
  if healthy "$web"; then echo "maildev ($name): already running (SMTP 127.0.0.1:$smtp, REST http://127.0.0.1:$web/api/email)"; return; fi
  setsid "$DIR/node_modules/.bin/maildev" --smtp "$smtp" --web "$web" --ip 127.0.0.1 --web-ip 127.0.0.1 "$@" \
    >"$DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/$name.pid"
  for _ in $(seq 1 60); do
    if healthy "$web"; then
      echo "maildev ($name): running (SMTP 127.0.0.1:$smtp, REST http://127.0.0.1:$web/api/email), log $DIR/$name.log"
      return
    fi
    kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null || break
    sleep 0.5
  done
  echo "maildev.sh: maildev ($name) did not come up; its log ($DIR/$name.log):" >&2
  tail -20 "$DIR/$name.log" >&2
  exit 1
}

start() {
  install
  certificates
  start_one maildev "$WEB_PORT" "$SMTP_PORT"
  start_one maildev-tls "$TLS_WEB_PORT" "$TLS_SMTP_PORT" --incoming-secure \
    --incoming-cert "$DIR/tls/server.pem" --incoming-key "$DIR/tls/server.key" \
    --incoming-user studylink --incoming-pass studylink-test
}

stop() {
  for name in maildev maildev-tls; do
    local pidfile=$DIR/$name.pid
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      # setsid made it a group leader: stop node and anything it spawned.
      kill -- "-$(cat "$pidfile")" 2>/dev/null || kill "$(cat "$pidfile")"
      echo "maildev ($name): stopped"
    else
      echo "maildev ($name): not running (or not started by this script)"
    fi
    rm -f "$pidfile"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if healthy "$WEB_PORT" && healthy "$TLS_WEB_PORT"; then echo "maildev: running"; else echo "maildev: not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
