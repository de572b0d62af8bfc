#!/bin/sh
# A Redis of docker compose: INSTANCE is `oem` (the OEM data) or `psap` (the PSAP domain).
# The users and passwords (`telematics redis-users init`, in the shared `redis-auth`
# volume; created once by the OEM instance, which the PSAP one waits for) come first, then
# Redis with its own ACL file (default user off), its own AOF, and nothing on a command line.
set -eu
instance="$1"
telematics redis-users init --dir /app/.run/redis >/dev/null
mkdir -p "/app/.run/redis-data/$instance"
exec redis-server --bind 0.0.0.0 --port 6379 --protected-mode no \
    --aclfile "/app/.run/redis/$instance.acl" \
    --appendonly yes --appendfsync everysec --save "" \
    --dir "/app/.run/redis-data/$instance"
