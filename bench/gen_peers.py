#!/usr/bin/env python3
"""Writes the nginx and HAProxy configurations bench/run.sh compares giosg-gateway with.

Both peers get the same rules as the gateway's bench config, generated from the same catalogue
(policies/giosg-v5-endpoints.json), so that nobody hand-maintains 106 patterns twice:

  * one internal key -> one client (both "Bearer <key>" and "Token <key>"), else 401 with
    WWW-Authenticate, checked before anything else;
  * the catalogue's url patterns as an ordered list of anchored regular expressions
    (<name> -> [^/]+, one optional trailing slash), ordered so that the first match is the one the
    gateway's trie picks (a literal segment beats a placeholder); no match -> 404;
  * per pattern the catalogue's methods, HEAD after GET; any other -> 405 with "Allow" in that
    order;
  * forwarding over keep-alive upstream connections with Authorization replaced by
    "Token <server token>", the upstream's Host, an X-Request-Id (the client's when it is
    1-128 of [A-Za-z0-9._-], else a new one) upstream and on every response;
  * one JSON access-log line per request.

What each peer does not do compared with the gateway is written down in bench/README.md.

`nginx-lean` and `haproxy-lean` are what a user who needs only the routes the bench load hits
would write by hand: the two routes (/api/v5/orgs/<id>/users and /api/v5/users/me), the key
checked first (401 + WWW-Authenticate), the method allow-list (405 + Allow), the Authorization
swap to the server token, a short access log (nginx buffered 64k / 1 s). No catalogue, no
X-Request-Id, no hop-by-hop clean-up beyond what the proxy does itself.

`nginx-upstream` is the alternative fixed upstream (bench/run.sh UPSTREAM=nginx): nginx itself
answering every request with the same ~200-byte JSON object as bench-fixed-upstream, 401 when
Authorization is not the server token, keep-alive connections never closed for their count.
"""
import argparse
import json
import os
import re


def load_catalogue(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    merged = {}  # pattern without trailing slash -> [pattern, [methods]]
    order = []
    for entry in doc["results"]:
        pattern = entry["url_pattern"]
        key = pattern.rstrip("/") or "/"
        methods = [m["name"] for m in entry["methods"]]
        if key not in merged:
            merged[key] = [pattern, []]
            order.append(key)
        for m in methods:
            if m not in merged[key][1]:
                merged[key][1].append(m)
            # HEAD wherever GET is, listed right after it (docs/reference.md §3 step 4)
            if m == "GET" and "HEAD" not in merged[key][1]:
                merged[key][1].append("HEAD")
    return [(merged[k][0], merged[k][1]) for k in order]


def segments(pattern):
    return [s for s in pattern.strip("/").split("/") if s] if pattern != "/" else []


def is_placeholder(seg):
    return seg.startswith("<") and seg.endswith(">")


def regex_for(pattern):
    segs = segments(pattern)
    if not segs:
        return "^/$"
    parts = []
    for s in segs:
        parts.append("[^/]+" if is_placeholder(s) else re.sub(r"([^A-Za-z0-9_])", r"\\\1", s))
    return "^/" + "/".join(parts) + "/?$"


def priority_order(entries):
    """Depth-first trie order: at every segment a literal is tried before a placeholder."""
    return sorted(entries, key=lambda e: tuple(1 if is_placeholder(s) else 0 for s in segments(e[0])))


def nginx_temp_paths(d):
    """The http block's temporary folders, all inside the run's own folder."""
    return "".join(f"    {kind}_temp_path {d}/tmp/{name};\n" for kind, name in
                   (("client_body", "body"), ("proxy", "proxy"), ("fastcgi", "fastcgi"), ("uwsgi", "uwsgi"),
                    ("scgi", "scgi")))


# The catalogue-equivalent HAProxy holds 106 patterns in maps: larger buffers for its rules.
HAPROXY_CATALOGUE_GLOBAL = "    tune.bufsize 16384\n"


def nginx_upstream_pool(a):
    """The keep-alive pool towards the upstream, the same for both nginx peers."""
    return f"""    upstream giosg {{
        server 127.0.0.1:{a.upstream_port};
        keepalive {a.upstream_idle};
        keepalive_requests 100000000;
        keepalive_timeout 60s;
    }}
"""


def haproxy_head(a, maxconn, global_extra=""):
    """global, defaults and the frontend's bind lines, the same for both HAProxy peers."""
    return f"""global
    nbthread {a.workers}
    maxconn {maxconn}
    log stdout format raw local0
{global_extra}
defaults
    mode http
    log global
    option dontlognull
    timeout connect 3s
    timeout client {a.idle_timeout_s}s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive {a.idle_timeout_s}s
    http-reuse always

frontend giosg_gateway
    bind 127.0.0.1:{a.port}
    maxconn {maxconn}
"""


def nginx_conf(a, entries):
    d = a.dir
    # nginx compares plain map keys case-insensitively, which would accept a key in the wrong
    # case: a regex keeps the key case-sensitive and only the scheme case-insensitive.
    key_lines = f'        "~^(?i:bearer|token) {re.escape(a.key)}$" bench;\n'
    auth_check = (
        '        if ($client_name = "") {\n'
        '            set $code not_authenticated;\n'
        '            add_header WWW-Authenticate \'Bearer realm="giosg-gateway"\' always;\n'
        '            add_header X-Request-Id $rid always;\n'
        '            return 401 \'{"detail": "Authentication credentials were not provided.", '
        '"code": "not_authenticated", "request_id": "$rid"}\';\n'
        '        }\n')
    locations = []
    for pattern, methods in priority_order(entries):
        allow = ", ".join(methods)
        method_re = "^(" + "|".join(re.escape(m) for m in methods) + ")$"
        locations.append(
            f'    location ~ "{regex_for(pattern)}" {{\n'
            f'        set $pattern "{pattern}";\n'
            f'{auth_check}'
            f'        if ($request_method !~ "{method_re}") {{\n'
            f'            set $code method_not_allowed;\n'
            f'            add_header Allow "{allow}" always;\n'
            f'            add_header X-Request-Id $rid always;\n'
            f'            return 405 \'{{"detail": "Method \\\\"$request_method\\\\" not allowed.", '
            f'"code": "method_not_allowed", "request_id": "$rid"}}\';\n'
            f'        }}\n'
            f'        proxy_pass http://giosg;\n'
            f'    }}\n')
    # Several workers get a listening socket each (SO_REUSEPORT), as the gateway's workers do,
    # rather than contending for one; with one worker the config stays as it always was.
    reuseport = " reuseport" if a.workers > 1 else ""
    # TLS as the gateway's listener speaks it: 1.2 and 1.3, the same ECDHE AEAD ciphers, tickets.
    tls_listen, tls = "", ""
    if a.tls_cert:
        tls_listen = " ssl"
        tls = f"""
        ssl_certificate {a.tls_cert};
        ssl_certificate_key {a.tls_key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
        ssl_session_tickets on;"""
    return f"""# Generated by bench/gen_peers.py from {a.catalogue}; do not edit.
{nginx_head(a)[1]}
http {{
{nginx_temp_paths(d)}
    server_tokens off;
    uninitialized_variable_warn off;
    default_type application/json;
    merge_slashes off;
    keepalive_timeout {a.idle_timeout_s}s;
    keepalive_requests 100000000;
    client_header_timeout 10s;
    client_body_timeout {a.idle_timeout_s}s;
    client_max_body_size 10m;
    large_client_header_buffers 4 16k;

    # internal key -> client (the gateway stores SHA-256 digests; nginx has to hold the key)
    map $http_authorization $client_name {{
        default "";
{key_lines}    }}
    map $http_x_request_id $rid {{
        default $request_id;
        "~^[A-Za-z0-9._-]{{1,128}}$" $http_x_request_id;
    }}
    map $request_uri $raw_path {{
        "~^(?<p>[^?]*)" $p;
    }}
    map $upstream_status $decision {{
        "" deny;
        default allow;
    }}
    log_format audit escape=json '{{"ts":"$time_iso8601","request_id":"$rid","client":"$client_name",'
        '"remote":"$remote_addr:$remote_port","method":"$request_method","path":"$raw_path",'
        '"pattern":"$pattern","decision":"$decision","code":"$code","status":$status,'
        '"upstream_status":"$upstream_status","bytes_in":$request_length,"bytes_out":$body_bytes_sent,'
        '"duration_s":$request_time,"upstream_s":"$upstream_header_time"}}';
    access_log {a.log} audit buffer=64k flush=20ms;

{nginx_upstream_pool(a)}
    server {{
        listen 127.0.0.1:{a.port}{tls_listen} backlog=4096{reuseport};{tls}
        set $pattern "";
        set $code ok;

        proxy_http_version 1.1;
        proxy_connect_timeout 3s;
        proxy_read_timeout 30s;
        proxy_set_header Host 127.0.0.1:{a.upstream_port};
        proxy_set_header Authorization "Token {a.token}";
        proxy_set_header X-Request-Id $rid;
        proxy_set_header Connection "";
        proxy_set_header Keep-Alive "";
        proxy_set_header Proxy-Connection "";
        proxy_set_header TE "";
        proxy_set_header Trailer "";
        proxy_set_header Upgrade "";
        add_header X-Request-Id $rid always;

{"".join(locations)}
        location / {{
{auth_check}            set $code unknown_endpoint;
            return 404 '{{"detail": "Not found.", "code": "unknown_endpoint", "request_id": "$rid"}}';
        }}
    }}
}}
"""


def haproxy_files(a, entries):
    d = a.dir
    ordered = priority_order(entries)
    with open(os.path.join(d, "keys.map"), "w") as f:
        f.write(f"{a.key} bench\n")
    with open(os.path.join(d, "patterns.map"), "w") as f:
        for pattern, _ in ordered:
            f.write(f"{regex_for(pattern)} {pattern}\n")
    with open(os.path.join(d, "methods.map"), "w") as f:
        for pattern, methods in ordered:
            for m in methods:
                f.write(f"{m}@{pattern} 1\n")
    with open(os.path.join(d, "allow.map"), "w") as f:
        for pattern, methods in ordered:
            f.write(f"{pattern} {', '.join(methods)}\n")
    maxconn = max(1000, (a.fd_limit - 200) // 2)
    return f"""# Generated by bench/gen_peers.py from {a.catalogue}; do not edit.
{haproxy_head(a, maxconn, HAPROXY_CATALOGUE_GLOBAL)}    log-format '{{"ts":"%tr","request_id":"%[var(txn.rid),json(utf8s)]","client":"%[var(txn.client)]","remote":"%ci:%cp","method":"%HM","path":"%[var(txn.path),json(utf8s)]","pattern":"%[var(txn.pattern)]","server":"%s","status":%ST,"bytes_in":%U,"bytes_out":%B,"duration_ms":%Ta,"upstream_ms":%Tr}}'

    http-request set-var(txn.rid) uuid
    http-request set-var(txn.rid) req.fhdr(x-request-id) if {{ req.fhdr_cnt(x-request-id) eq 1 }} {{ req.fhdr(x-request-id) -m reg ^[A-Za-z0-9._-]{{1,128}}$ }}
    http-request set-var(txn.path) path
    http-after-response set-header X-Request-Id %[var(txn.rid)]

    # internal key -> client (the gateway stores SHA-256 digests; HAProxy has to hold the key)
    http-request set-var(txn.client) req.fhdr(authorization),word(2,' '),map_str({d}/keys.map) if {{ req.fhdr_cnt(authorization) eq 1 }} {{ req.fhdr(authorization) -m beg -i 'bearer ' 'token ' }}
    http-request return status 401 content-type application/json lf-string '{{"detail": "Authentication credentials were not provided.", "code": "not_authenticated", "request_id": "%[var(txn.rid)]"}}' hdr WWW-Authenticate 'Bearer realm="giosg-gateway"' unless {{ var(txn.client) -m found }}

    # catalogue patterns, first match wins (literal before placeholder)
    http-request set-var(txn.pattern) path,map_reg({d}/patterns.map)
    http-request return status 404 content-type application/json lf-string '{{"detail": "Not found.", "code": "unknown_endpoint", "request_id": "%[var(txn.rid)]"}}' unless {{ var(txn.pattern) -m found }}

    # per-pattern method allow-list
    http-request set-var(txn.method) method
    http-request set-var(txn.mok) var(txn.method),concat(@,txn.pattern,),map_str({d}/methods.map)
    http-request return status 405 content-type application/json lf-string '{{"detail": "Method \\"%[var(txn.method)]\\" not allowed.", "code": "method_not_allowed", "request_id": "%[var(txn.rid)]"}}' hdr Allow "%[var(txn.pattern),map_str({d}/allow.map)]" unless {{ var(txn.mok) -m found }}

    http-request set-header Authorization "Token {a.token}"
    http-request set-header Host 127.0.0.1:{a.upstream_port}
    http-request set-header X-Request-Id %[var(txn.rid)]
    default_backend giosg

backend giosg
    server upstream 127.0.0.1:{a.upstream_port} pool-max-conn {a.upstream_idle * a.workers}
"""


# The routes the bench load hits (bench/run.sh BENCH_PATH and the behaviour check's /users/me/).
LEAN_USERS_RE = "^/api/v5/orgs/[^/]+/users/?$"
LEAN_ME_RE = "^/api/v5/users/me/?$"
LEAN_ALLOW = "GET, HEAD, POST, OPTIONS"
# The same object bench-fixed-upstream answers with (bench/fixed_upstream.cpp kBody).
UPSTREAM_BODY = ('{"id":"4bb5b0a2-1d7c-4a8e-9b2f-6f1c2f4e8a10","organization_id":"7f9e9580-095b-42c7-838c-c04e667b26f7",'
                 '"first_name":"Bench","last_name":"Upstream","email":"bench@example.com","is_active":true,"count":1}')


def nginx_head(a, events_extra=""):
    d = a.dir
    reuseport = " reuseport" if a.workers > 1 else ""
    return reuseport, f"""worker_processes {a.workers};
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
worker_rlimit_nofile {a.fd_limit};

events {{
    worker_connections {a.fd_limit - 64};{events_extra}
}}
"""


def nginx_lean_conf(a):
    d = a.dir
    reuseport, head = nginx_head(a)
    return f"""# Generated by bench/gen_peers.py (nginx-lean: the bench's two routes by hand); do not edit.
{head}
http {{
{nginx_temp_paths(d)}    server_tokens off;
    default_type application/json;
    keepalive_timeout {a.idle_timeout_s}s;
    keepalive_requests 100000000;

    map $http_authorization $client_name {{
        default "";
        "~^(?i:bearer|token) {re.escape(a.key)}$" bench;
    }}
    log_format lean escape=json '{{"ts":"$time_iso8601","client":"$client_name","remote":"$remote_addr",'
        '"method":"$request_method","uri":"$request_uri","status":$status,"duration_s":$request_time}}';
    access_log {a.log} lean buffer=64k flush=1s;

{nginx_upstream_pool(a)}
    server {{
        listen 127.0.0.1:{a.port} backlog=4096{reuseport};
        # The key first, before the route (add_header is not allowed in a server-level if).
        if ($client_name = "") {{
            return 401;
        }}
        error_page 401 = @not_authenticated;
        proxy_http_version 1.1;
        proxy_set_header Host 127.0.0.1:{a.upstream_port};
        proxy_set_header Authorization "Token {a.token}";
        proxy_set_header Connection "";
        error_page 403 = @method_not_allowed;

        location ~ "{LEAN_USERS_RE}" {{
            limit_except GET POST OPTIONS {{ deny all; }}
            proxy_pass http://giosg;
        }}
        location ~ "{LEAN_ME_RE}" {{
            limit_except GET POST OPTIONS {{ deny all; }}
            proxy_pass http://giosg;
        }}
        location @not_authenticated {{
            add_header WWW-Authenticate 'Bearer realm="giosg-gateway"' always;
            return 401 '{{"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}}';
        }}
        location @method_not_allowed {{
            add_header Allow "{LEAN_ALLOW}" always;
            return 405 '{{"detail": "Method not allowed.", "code": "method_not_allowed"}}';
        }}
        location / {{
            return 404 '{{"detail": "Not found.", "code": "unknown_endpoint"}}';
        }}
    }}
}}
"""


def haproxy_lean_cfg(a):
    maxconn = max(1000, (a.fd_limit - 200) // 2)
    key = a.key  # hex: nothing to quote
    return f"""# Generated by bench/gen_peers.py (haproxy-lean: the bench's two routes by hand); do not edit.
{haproxy_head(a, maxconn)}    log-format '{{"ts":"%tr","remote":"%ci","method":"%HM","uri":"%HU","status":%ST,"duration_ms":%Ta}}'

    acl key_ok req.fhdr(authorization) -m beg -i "bearer " "token "
    acl key_ok2 req.fhdr(authorization),word(2,' ') -m str {key}
    acl r_users path_reg {LEAN_USERS_RE}
    acl r_me path /api/v5/users/me /api/v5/users/me/
    acl m_ok method GET HEAD POST OPTIONS
    http-request return status 401 content-type application/json string '{{"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}}' hdr WWW-Authenticate 'Bearer realm="giosg-gateway"' unless key_ok key_ok2
    http-request return status 404 content-type application/json string '{{"detail": "Not found.", "code": "unknown_endpoint"}}' unless r_users or r_me
    http-request return status 405 content-type application/json string '{{"detail": "Method not allowed.", "code": "method_not_allowed"}}' hdr Allow "{LEAN_ALLOW}" unless m_ok
    http-request set-header Authorization "Token {a.token}"
    default_backend giosg

backend giosg
    server upstream 127.0.0.1:{a.upstream_port} pool-max-conn {a.upstream_idle * a.workers}
"""


def nginx_upstream_conf(a):
    d = a.dir
    reuseport, head = nginx_head(a)
    return f"""# Generated by bench/gen_peers.py (nginx-upstream: fixed JSON for every request); do not edit.
{head}
http {{
{nginx_temp_paths(d)}    server_tokens off;
    default_type application/json;
    access_log off;
    keepalive_timeout {a.idle_timeout_s}s;
    keepalive_requests 1000000;

    server {{
        listen 127.0.0.1:{a.port} backlog=4096{reuseport};
        location / {{
            if ($http_authorization != "Token {a.token}") {{
                return 401 '{{"detail": "bench upstream: wrong token"}}';
            }}
            return 200 '{UPSTREAM_BODY}';
        }}
    }}
}}
"""


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("which", choices=["nginx", "haproxy", "nginx-lean", "haproxy-lean", "nginx-upstream"])
    p.add_argument("--catalogue", help="the policy catalogue (nginx, haproxy)")
    p.add_argument("--dir", required=True, help="folder for the config, maps, pid and logs")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream-port", type=int, help="not nginx-upstream")
    p.add_argument("--key", help="the bench client's internal key (not nginx-upstream)")
    p.add_argument("--token", required=True, help="the server token sent upstream")
    p.add_argument("--log", help="access log (nginx); HAProxy logs to its stdout")
    p.add_argument("--idle-timeout-s", type=int, default=60)
    p.add_argument("--fd-limit", type=int, default=20000)
    p.add_argument("--upstream-idle", type=int, default=1024,
                   help="idle upstream connections kept per worker (nginx keepalive; HAProxy "
                        "pool-max-conn is per server, so this times --workers)")
    p.add_argument("--tls-cert", help="nginx: serve TLS with this certificate (PEM) ...")
    p.add_argument("--tls-key", help="... and this key, as the gateway's `tls` does")
    p.add_argument("--workers", type=int, default=1,
                   help="nginx worker processes / HAProxy threads (the gateway's `workers`)")
    a = p.parse_args()
    a.dir = os.path.abspath(a.dir)
    need = {"nginx": ["catalogue", "upstream_port", "key", "log"], "haproxy": ["catalogue", "upstream_port", "key", "log"],
            "nginx-lean": ["upstream_port", "key", "log"], "haproxy-lean": ["upstream_port", "key"],
            "nginx-upstream": []}[a.which]
    missing = ["--" + n.replace("_", "-") for n in need if getattr(a, n) is None]
    if missing:
        p.error(f"{a.which} needs {' '.join(missing)}")
    os.makedirs(a.dir, exist_ok=True)
    if a.which in ("nginx-lean", "nginx-upstream"):
        os.makedirs(os.path.join(a.dir, "tmp"), exist_ok=True)
        out = os.path.join(a.dir, "nginx.conf")
        text = nginx_lean_conf(a) if a.which == "nginx-lean" else nginx_upstream_conf(a)
    elif a.which == "haproxy-lean":
        out = os.path.join(a.dir, "haproxy.cfg")
        text = haproxy_lean_cfg(a)
    elif a.which == "nginx":
        entries = load_catalogue(a.catalogue)
        os.makedirs(os.path.join(a.dir, "tmp"), exist_ok=True)
        out = os.path.join(a.dir, "nginx.conf")
        text = nginx_conf(a, entries)
    else:
        entries = load_catalogue(a.catalogue)
        out = os.path.join(a.dir, "haproxy.cfg")
        text = haproxy_files(a, entries)
    with open(out, "w") as f:
        f.write(text)
    print(out)


if __name__ == "__main__":
    main()
