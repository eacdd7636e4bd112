#!/bin/sh
# @APP@-@COMP@ $APP_VERSION: busybox httpd on :@PORT@
trap 'kill "$pid" 2>/dev/null; exit 0' TERM INT
if [ -d /data ]; then
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) @APP@-@COMP@ $APP_VERSION started on $(hostname)" >>/data/boot.log
fi
httpd -f -p @PORT@ -h /app/www &
pid=$!
wait "$pid"
