#!/bin/sh
# The backend of docker compose: each role's Redis user comes from the shared `redis-auth`
# volume (its passwords are never in the compose file or on a command line); the
# supervisor hands each role only the PSAP credentials it uses.
set -eu
dir=/app/.run/redis
TELEMATICS_REDIS_URL="$(telematics redis-users url --dir "$dir" --user oem --host redis)"
TELEMATICS_PSAP_REDIS_URL="$(telematics redis-users url --dir "$dir" --user psap --host redis-psap)"
TELEMATICS_PSAP_RELAY_REDIS_URL="$(telematics redis-users url --dir "$dir" --user relay --host redis-psap)"
export TELEMATICS_REDIS_URL TELEMATICS_PSAP_REDIS_URL TELEMATICS_PSAP_RELAY_REDIS_URL
exec telematics "$@"
