#!/bin/bash
# The image's HEALTHCHECK: exits 0 when GET /readyz on 127.0.0.1:PORT (default 8080) answers 200, i.e. a model is
# loaded. bash's /dev/tcp, since the runtime image has neither curl nor wget.
#   healthcheck [PORT]
set -euo pipefail
port=${1:-8080}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
read -r -t 5 _ status _ <&3
[ "$status" = 200 ]
