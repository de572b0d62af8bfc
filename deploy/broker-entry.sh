#!/bin/sh
# The broker of docker compose: create (or keep) the CAs, the broker's certificates for
# the name `mosquitto`, every backend role's, the scenario runner's and the ACL in the
# shared `pki` volume, then run Mosquitto with deploy/mosquitto.conf (TLS and the ACL only).
set -eu
telematics pki init --dir /app/.run/pki --host mosquitto --host localhost --host 127.0.0.1
exec mosquitto -c /app/deploy/mosquitto.conf
