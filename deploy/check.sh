#!/usr/bin/env bash
# Check deploy/ for real, as an operator would install it:
#   the systemd units (one process, and the workers' template) with `systemd-analyze verify`, every path
#   they name present under a throwaway prefix;
#   the nginx site with `nginx -t` (Debian's nginx), with a throwaway self-signed certificate.
# Exit 0 when both pass; prints what failed otherwise. Needs systemd-analyze, nginx and openssl.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"  # nginx lives in /usr/sbin on Debian
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- systemd: the unit with /opt/livecart and /etc/livecart moved under $prefix
prefix=$tmp/root
mkdir -p "$prefix/opt/livecart/.venv/bin" "$prefix/etc/livecart"
printf '#!/bin/sh\nexit 0\n' > "$prefix/opt/livecart/.venv/bin/python"
chmod +x "$prefix/opt/livecart/.venv/bin/python"
touch "$prefix/opt/livecart/bot.py" "$prefix/opt/livecart/README.md" "$prefix/etc/livecart/config.toml"
# The one-process unit, and the workers' template as an instance (its name is the port).
for unit in livecart.service livecart@8441.service; do
    source=${unit/@8441/@}
    sed -e "s|/opt/livecart|$prefix/opt/livecart|g" -e "s|/etc/livecart|$prefix/etc/livecart|g" \
        "$here/$source" > "$tmp/$unit"
    if ! out=$(systemd-analyze verify --man=no "$tmp/$unit" 2>&1) || [ -n "$out" ]; then
        echo "deploy/$source: systemd-analyze verify failed:" >&2
        echo "$out" >&2
        exit 1
    fi
done

# --- nginx: the site inside a minimal main config, certificates replaced by a self-signed one
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=shop.example.com" \
    -keyout "$tmp/privkey.pem" -out "$tmp/fullchain.pem" >/dev/null 2>&1
sed -e "s|/etc/letsencrypt/live/shop.example.com|$tmp|g" "$here/nginx-livecart.conf" > "$tmp/site.conf"
cat > "$tmp/nginx.conf" <<CONF
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    include $tmp/site.conf;
}
CONF
if ! out=$(nginx -t -q -p "$tmp" -e "$tmp/error.log" -c "$tmp/nginx.conf" 2>&1); then
    echo "deploy/nginx-livecart.conf: nginx -t failed:" >&2
    echo "$out" >&2
    exit 1
fi
echo "deploy/: the systemd units and the nginx site check out"
