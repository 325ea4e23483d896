#!/bin/sh
# Writes pgbouncer's database line and user list from the environment (nothing secret is
# baked into the image), then runs the command.
set -eu
: "${POSTGRES_HOST:=postgres}"
: "${POSTGRES_PORT:=5432}"
: "${POSTGRES_DB:?POSTGRES_DB is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
umask 077
printf '%s = host=%s port=%s dbname=%s\n' \
    "$POSTGRES_DB" "$POSTGRES_HOST" "$POSTGRES_PORT" "$POSTGRES_DB" > /run/pgbouncer/databases.ini
# userlist.txt quotes names and passwords; a double quote inside is written twice.
escaped_password=$(printf '%s' "$POSTGRES_PASSWORD" | sed 's/"/""/g')
printf '"%s" "%s"\n' "$POSTGRES_USER" "$escaped_password" > /run/pgbouncer/userlist.txt
exec "$@"
