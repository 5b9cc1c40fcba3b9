#!/bin/sh
# Patroni's bootstrap.post_bootstrap (docker/patroni/pgN.yml): runs once, on the
# node that initialises the cluster, with the superuser's connection URL as $1
# (and PGPASSFILE set). chatd gets its own role, owner of its database, so its
# migrations (pg_trgm is a trusted extension) need no superuser. The password
# is the one in DATABASE_URL of docker/compose.cluster.yaml.
set -eu
psql "$1" -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE ROLE chatd LOGIN PASSWORD 'chatd';
CREATE DATABASE chatd OWNER chatd;
SQL
