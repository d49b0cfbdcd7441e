#!/usr/bin/env python3
"""A canned Keystone + Glance for the benchmarks: answers from bytes prepared in advance.

One port serves both services: Keystone under /v3, Glance under /v2 (the catalog's image
endpoint is this server's own URL, without /v2, like the lab's). The bodies have the shapes
recorded from the lab's Keystone 30 and Glance 33 (curl transcripts of the lab); when
`--fixtures DIR` holds `image.json` and `members.json` recorded from the real Glance during the
same benchmark run, those exact bodies are served for the benchmark image.

What it serves:
  POST   /v3/auth/tokens      201, X-Subject-Token (a new 183-char token per call), token body
                              scoped to the recorded image's owner project, catalog -> this server
  GET    /v3/auth/tokens      200, the same body (token validation)
  DELETE /v3/auth/tokens      204
  GET    /v3/auth/projects    200, the one project
  GET    /v3/projects/{id}    403, as the lab's Keystone answers an ordinary member user
With `--directory-user` and `--directory-password-file`, Keystone also answers the operator's
directory reader (issue 14), a user with `reader` at system scope:
  POST   /v3/auth/tokens      system scope, that user and password: 201, a system-scoped token;
                              that user with another password, or anyone else at system scope: 401
  GET    /v3/projects/{id}    with the reader's token: 200 for the projects the canned data names
                              (the image's owner, its members), 404 for any other ID
  GET    /v3/domains/{id}     with the reader's token: 200 for `default`, 404 for any other ID
  GET    /v2/images/{id}      the benchmark image (shared, owned by the token's project);
                              any image of the 1000-image lists and of the review set too
  GET    /v2/images/{id}/members   128 members for the benchmark image, 2 for the others of the
                              lists, --review-members (10) for each image of the review set
  POST   /v2/images/{id}/members  200, the new member, answered after --write-delay-ms (as
                              a Glance with room for every call: writes overlap freely)
  GET    /_stats              requests served so far, by kind (summed over the workers)
  GET    /v2/images?...       member_status=... -> no images (no pending offers);
                              owner=<project>&visibility=shared -> the review set (benchmark 8):
                              --review-images (200) shared images owned by the project, every
                              --review-hidden-every'th (20th) one hidden from lists: listed only
                              with os_hidden=true, the others only without it, as Glance does;
                              `limit` (capped at 1000, Glance's api_limit_max) and `marker`
                              honoured, `next` link like Glance's (every query parameter kept,
                              the marker replaced; on every full page, even when nothing follows)
                              owner=<project> -> 1000 shared images owned by the project;
                              otherwise -> 1000 public images of another project;
                              `limit`/`marker` honoured, `next` link like Glance's

Stdlib only: asyncio protocol servers in `--workers` pre-forked processes sharing one
listening socket. Every body is serialised once (lazily for list pages) and then reused.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import mmap
import os
import struct
import signal
import socket
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

DEFAULT_IMAGE_ID = "5b0d7c39-4d0a-4c61-9a6e-2f0e5ad0b128"
DEFAULT_PROJECT_ID = "b8d6dda6f8fb4421a105788867f355c0"
OTHER_PROJECT_ID = "0f5e4c8a1b2d4e6f8a9b0c1d2e3f4a5b"
LIST_SIZE = 1000
# Glance's default api_limit_max: a larger `limit` is answered with this many images at most.
LIMIT_MAX = 1000
# Requests served, by kind, one row of counters per worker (no locking needed), summed by GET /_stats.
KINDS = ["keystone POST auth/tokens", "keystone GET auth/tokens", "keystone GET auth/projects",
         "keystone GET projects/{id}", "glance GET images/{id}", "glance GET images/{id}/members",
         "glance GET images (list)", "glance GET images (offers)", "glance POST images/{id}/members", "other",
         "keystone POST auth/tokens (directory)", "keystone GET projects/{id} (directory)",
         "keystone GET domains/{id} (directory)",
         "glance GET images (review list)", "glance GET images (review list, os_hidden)"]
MAX_WORKERS = 64
STATS = mmap.mmap(-1, 8 * len(KINDS) * MAX_WORKERS)
WORKER = 0


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def image_body(image_id, name, owner, visibility, created):
    """An image as Glance 33 shows it (`GET /v2/images/{id}` after an upload)."""
    return {
        "name": name,
        "disk_format": "raw",
        "container_format": "bare",
        "visibility": visibility,
        "size": 36,
        "virtual_size": 36,
        "status": "active",
        "checksum": "7bc71998e5bb9ddb56ac4a3dec93f301",
        "protected": False,
        "min_ram": 0,
        "min_disk": 0,
        "owner": owner,
        "os_hidden": False,
        "os_hash_algo": "sha512",
        "os_hash_value": "4d58c76c6cb3d992dabc97a17f7b3bcb6f88aee91b4bef87d07f0c2fa4f1074f"
        "3b9edb36fd198534867cffda8802b036c2bb03489506e4218bfaaf6a8d9cc000",
        "id": image_id,
        "created_at": created,
        "updated_at": created,
        "tags": [],
        "self": f"/v2/images/{image_id}",
        "file": f"/v2/images/{image_id}/file",
        "schema": "/v2/schemas/image",
        "stores": "fs",
    }


def member_body(image_id, member_id, created, status="pending"):
    return {
        "member_id": member_id,
        "image_id": image_id,
        "status": status,
        "created_at": created,
        "updated_at": created,
        "schema": "/v2/schemas/member",
    }


NO_MARKER = b'{"message": "No image found with ID", "code": "400 Bad Request"}'


def page_after(rows, marker, limit):
    """The `limit` rows after the one whose id is `marker` (from the first without one), as
    Glance pages; None when no row has that id (Glance answers 400)."""
    start = 0
    if marker:
        ids = [r["id"] for r in rows]
        if marker not in ids:
            return None
        start = ids.index(marker) + 1
    return rows[start : start + limit]


class Canned:
    """Every answer, prepared before the first request."""

    def __init__(self, base_url, fixtures, members, directory_user=None, directory_password=None,
                 review_images=200, review_members=10, review_hidden_every=20):
        now = datetime.now(timezone.utc).replace(microsecond=0)
        created = iso(now - timedelta(days=3))
        image = members_list = None
        if fixtures and os.path.exists(os.path.join(fixtures, "image.json")):
            with open(os.path.join(fixtures, "image.json"), "rb") as f:
                image = json.loads(f.read())
            with open(os.path.join(fixtures, "members.json"), "rb") as f:
                members_list = json.loads(f.read())
            self.recorded = True
        else:
            self.recorded = False
        if image is None:
            image = image_body(DEFAULT_IMAGE_ID, "bench-image-128-members", DEFAULT_PROJECT_ID, "shared", created)
            members_list = {
                "members": [
                    member_body(DEFAULT_IMAGE_ID, uuid.uuid5(uuid.NAMESPACE_OID, f"m{i}").hex, created)
                    for i in range(members)
                ],
                "schema": "/v2/schemas/members",
            }
        self.image_id = image["id"]
        self.project_id = image["owner"]
        self.template = image
        self.created = created
        self.images = {self.image_id: json.dumps(image).encode()}
        self.members = {self.image_id: json.dumps(members_list).encode()}

        # The 1000-image lists: names sort like their numbers; ids are stable from run to run.
        self.lists = {}
        for kind, owner, visibility in (("mine", self.project_id, "shared"), ("all", OTHER_PROJECT_ID, "public")):
            rows = []
            for i in range(LIST_SIZE):
                iid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"glance-share-bench/{kind}/{i}"))
                body = dict(image)
                body.update(
                    id=iid,
                    name=f"bench-image-{kind}-{i:04d}",
                    owner=owner,
                    visibility=visibility,
                    self=f"/v2/images/{iid}",
                    file=f"/v2/images/{iid}/file",
                )
                rows.append(body)
                self.images[iid] = json.dumps(body).encode()
                self.members[iid] = json.dumps(
                    {
                        "members": [
                            member_body(iid, uuid.uuid5(uuid.NAMESPACE_OID, f"{kind}{i}-{j}").hex, created)
                            for j in range(2)
                        ],
                        "schema": "/v2/schemas/members",
                    }
                ).encode()
            rows.sort(key=lambda r: r["name"])
            self.lists[kind] = rows
        self.list_cache = {}
        self.review_consumers = self.build_review(image, review_images, review_members, review_hidden_every, now)

        expires = iso(now + timedelta(hours=6)).replace("Z", ".000000Z")
        issued = iso(now).replace("Z", ".000000Z")
        token = {
            "token": {
                "methods": ["password"],
                "user": {
                    "domain": {"id": "default", "name": "Default"},
                    "id": "5a32eed96bd94e74a963bab138ec4622",
                    "name": "producer-user",
                    "password_expires_at": None,
                },
                "audit_ids": ["xpEBKi1TR2SyHNfSAgeTMg"],
                "expires_at": expires,
                "issued_at": issued,
                "project": {
                    "domain": {"id": "default", "name": "Default"},
                    "id": self.project_id,
                    "name": "producer",
                },
                "is_domain": False,
                "roles": [
                    {"id": "f2d7716f1c904db6a303a43ad5d9eecc", "name": "reader"},
                    {"id": "77fac0c67a934182a328999530b4d883", "name": "member"},
                ],
                "catalog": [
                    {
                        "endpoints": [
                            {
                                "id": "5a53e70025e8410bb064a3ee0dfc74d9",
                                "interface": "public",
                                "region_id": "RegionOne",
                                "url": f"{base_url}/v3",
                                "region": "RegionOne",
                            }
                        ],
                        "id": "abf719a5668543d9be140c162e831b50",
                        "type": "identity",
                        "name": "keystone",
                    },
                    {
                        "endpoints": [
                            {
                                "id": "02e06627692345d8af0fcc6421138216",
                                "interface": "public",
                                "region_id": "RegionOne",
                                "url": base_url,
                                "region": "RegionOne",
                            }
                        ],
                        "id": "751da618c20f4512a4ba5aa8950045f7",
                        "type": "image",
                        "name": "glance",
                    },
                ],
            }
        }
        self.token = json.dumps(token).encode()
        self.projects = json.dumps(
            {
                "projects": [
                    {
                        "id": self.project_id,
                        "name": "producer",
                        "domain_id": "default",
                        "description": "lab producer project",
                        "enabled": True,
                        "parent_id": "default",
                        "is_domain": False,
                        "tags": [],
                        "options": {},
                        "links": {"self": f"{base_url}/v3/projects/{self.project_id}"},
                    }
                ],
                "links": {"next": None, "self": f"{base_url}/v3/auth/projects", "previous": None},
            }
        ).encode()
        self.forbidden = json.dumps(
            {
                "error": {
                    "code": 403,
                    "message": "You are not authorized to perform the requested action: identity:get_project.",
                    "title": "Forbidden",
                }
            }
        ).encode()
        self.no_offers = json.dumps({"images": [], "first": "/v2/images", "schema": "/v2/schemas/images"}).encode()

        # The directory reader. Its tokens carry a MAC under a key made here, before the workers
        # fork: every worker recognises a token another one issued, with nothing shared at run time.
        self.directory_user = directory_user
        self.directory_password = directory_password
        self.token_key = os.urandom(32)
        system_token = json.loads(self.token)
        t = system_token["token"]
        del t["project"], t["is_domain"]
        t["system"] = {"all": True}
        t["user"] = {"domain": {"id": "default", "name": "Default"}, "id": "9c0b5e1a3d2f4e6a8b7c6d5e4f3a2b1c",
                     "name": directory_user or "directory", "password_expires_at": None}
        t["roles"] = [{"id": "f2d7716f1c904db6a303a43ad5d9eecc", "name": "reader"}]
        self.system_token = json.dumps(system_token).encode()
        # Names for every project the canned data mentions: the owner, then the members in order.
        self.project_names = {self.project_id: "producer", OTHER_PROJECT_ID: "bench-public-owner"}
        for i, m in enumerate(members_list["members"]):
            self.project_names.setdefault(m["member_id"], f"bench-consumer-{i:03d}")
        for i, pid in enumerate(self.review_consumers):
            self.project_names.setdefault(pid, f"bench-review-consumer-{i:02d}")
        self.project_bodies = {
            pid: json.dumps(
                {
                    "project": {
                        "id": pid,
                        "name": name,
                        "domain_id": "default",
                        "description": "",
                        "enabled": True,
                        "parent_id": "default",
                        "is_domain": False,
                        "tags": [],
                        "options": {},
                        "links": {"self": f"{base_url}/v3/projects/{pid}"},
                    }
                }
            ).encode()
            for pid, name in self.project_names.items()
        }
        self.domain_names = {"default": "Default"}
        self.domain_bodies = {
            did: json.dumps(
                {"domain": {"id": did, "name": name, "description": "The default domain", "enabled": True,
                            "tags": [], "options": {}, "links": {"self": f"{base_url}/v3/domains/{did}"}}}
            ).encode()
            for did, name in self.domain_names.items()
        }
        self.unauthorized = json.dumps(
            {"error": {"code": 401, "message": "The request you have made requires authentication.",
                       "title": "Unauthorized"}}
        ).encode()
        self.keystone_not_found = json.dumps(
            {"error": {"code": 404, "message": "Could not find project.", "title": "Not Found"}}
        ).encode()

    def build_review(self, template, n, per_image, hidden_every, now):
        """The review set (benchmark 8): `n` shared images of the project, `per_image` members
        each, drawn from a pool of 40 consumer projects; one image in `hidden_every` hidden from
        lists. Statuses mixed as an estate's are: mostly accepted, some pending (a few of them for
        weeks), some rejected. Returns the pool's project IDs."""
        pool = [uuid.uuid5(uuid.NAMESPACE_OID, f"review-consumer-{k}").hex for k in range(40)]
        old = iso(now - timedelta(days=30))
        rows = []
        self.review = {"images": n, "members": per_image, "hidden": 0, "consumers": len(pool)}
        for i in range(n):
            iid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"glance-share-bench/review/{i}"))
            hidden = hidden_every > 0 and i % hidden_every == hidden_every - 1
            self.review["hidden"] += hidden
            body = dict(template)
            body.update(id=iid, name=f"bench-review-{i:03d}", owner=self.project_id, visibility="shared",
                        os_hidden=hidden, self=f"/v2/images/{iid}", file=f"/v2/images/{iid}/file")
            rows.append(body)
            self.images[iid] = json.dumps(body).encode()
            members = []
            for j in range(per_image):
                k = (i + 4 * j) % len(pool)
                n_ = i * per_image + j
                status = "rejected" if n_ % 11 == 0 else "pending" if n_ % 7 == 0 else "accepted"
                members.append(member_body(iid, pool[k], old if n_ % 5 == 0 else self.created, status))
            self.members[iid] = json.dumps({"members": members, "schema": "/v2/schemas/members"}).encode()
        rows.sort(key=lambda r: r["name"])
        self.review_rows = rows
        return pool

    def review_list(self, q):
        """`GET /v2/images?owner=<project>&visibility=shared...`: one page of the review set."""
        hidden = q.get("os_hidden", ["false"])[0].lower() == "true"
        try:
            limit = min(int(q.get("limit", ["25"])[0]), LIMIT_MAX)
        except ValueError:
            return 400, b'{"message": "limit param must be an integer", "code": "400 Bad Request"}'
        marker = q.get("marker", [None])[0]
        key = ("review", hidden, limit, marker, tuple(sorted((k, tuple(v)) for k, v in q.items() if k != "marker")))
        body = self.list_cache.get(key)
        if body is None:
            rows = [r for r in self.review_rows if r["os_hidden"] == hidden]
            page = page_after(rows, marker, limit)
            if page is None:
                return 400, NO_MARKER
            # Glance: `first` and `next` carry the request's parameters (the marker replaced).
            params = [(k, v) for k, vs in q.items() if k != "marker" for v in vs]
            out = {"images": page, "first": "/v2/images?" + urlencode(params), "schema": "/v2/schemas/images"}
            if page and len(page) == limit:
                out["next"] = "/v2/images?" + urlencode(params + [("marker", page[-1]["id"])])
            body = json.dumps(out).encode()
            self.list_cache[key] = body
        return 200, body

    def reader_token(self):
        """A new 183-char token of the directory reader: 56 random bytes and their MAC."""
        nonce = os.urandom(56).hex()
        return "gAAAAAB" + nonce + hmac.new(self.token_key, nonce.encode(), hashlib.sha256).hexdigest()

    def is_reader(self, token):
        if not token.startswith("gAAAAAB") or len(token) != 183:
            return False
        nonce, mac = token[7:119], token[119:]
        return hmac.compare_digest(mac, hmac.new(self.token_key, nonce.encode(), hashlib.sha256).hexdigest())

    def sign_in(self, request_body):
        """(status, body, token or None, kind): the directory reader's sign-ins apart from the
        ordinary ones, which all succeed as before."""
        try:
            auth = json.loads(request_body)["auth"]
            user = auth["identity"]["password"]["user"]
        except (ValueError, KeyError, TypeError):
            user, auth = {}, {}
        if not isinstance(user, dict) or not isinstance(auth, dict):
            user, auth = {}, {}
        scope = auth.get("scope")
        system = isinstance(scope, dict) and "system" in scope
        is_directory_user = self.directory_user is not None and user.get("name") == self.directory_user
        if not system and not is_directory_user:
            return 201, self.token, "gAAAAAB" + os.urandom(88).hex(), "keystone POST auth/tokens"
        kind = "keystone POST auth/tokens (directory)"
        domain = user.get("domain") or {}
        ok = (
            is_directory_user
            and system
            and scope["system"] == {"all": True}
            and (domain.get("name") == "Default" or domain.get("id") == "default")
            and hmac.compare_digest(str(user.get("password", "")).encode(), (self.directory_password or "").encode())
        )
        if ok:
            return 201, self.system_token, self.reader_token(), kind
        return 401, self.unauthorized, None, kind

    def image_list(self, query):
        q = parse_qs(query)
        if "member_status" in q:
            return 200, self.no_offers
        if q.get("owner", [""])[0] == self.project_id and q.get("visibility", [""])[0] == "shared":
            return self.review_list(q)
        kind = "mine" if q.get("owner", [""])[0] == self.project_id else "all"
        try:
            limit = min(int(q.get("limit", ["25"])[0]), LIST_SIZE)
        except ValueError:
            return 400, b'{"message": "limit param must be an integer", "code": "400 Bad Request"}'
        marker = q.get("marker", [None])[0]
        key = (kind, limit, marker)
        body = self.list_cache.get(key)
        if body is None:
            page = page_after(self.lists[kind], marker, limit)
            if page is None:
                return 400, NO_MARKER
            out = {"images": page, "first": f"/v2/images?limit={limit}", "schema": "/v2/schemas/images"}
            # Like Glance: a full page links to the next one, even when nothing follows.
            if page and len(page) == limit:
                out["next"] = f"/v2/images?limit={limit}&marker={page[-1]['id']}"
            body = json.dumps(out).encode()
            self.list_cache[key] = body
        return 200, body


REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found"}
NOT_FOUND = b'{"message": "The resource could not be found.<br /><br />\\n\\n\\n", "code": "404 Not Found", "title": "Not Found"}'


class Handler(asyncio.Protocol):
    canned = None

    def connection_made(self, transport):
        self.transport = transport
        self.buf = b""

    def data_received(self, data):
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode("latin-1")
            lines = head.split("\r\n")
            try:
                method, target, version = lines[0].split(" ", 2)
            except ValueError:
                self.transport.close()
                return
            length = 0
            close = version == "HTTP/1.0"
            token = ""
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value.strip() or 0)
                elif name == "connection":
                    close = value.strip().lower() == "close"
                elif name == "x-auth-token":
                    token = value.strip()
            if len(self.buf) < end + 4 + length:
                return
            request_body = self.buf[end + 4 : end + 4 + length]
            self.buf = self.buf[end + 4 + length :]
            status, body, extra = self.route(method, target, request_body, token)
            head = [f"HTTP/1.1 {status} {REASONS.get(status, 'OK')}", "Content-Type: application/json"]
            head.append(f"Content-Length: {len(body)}")
            head.extend(extra)
            if close:
                head.append("Connection: close")
            answer = ("\r\n".join(head) + "\r\n\r\n").encode() + body
            if method == "POST" and target.rstrip("/").endswith("/members") and self.canned.write_delay > 0:
                # Clients send one request per connection at a time: answering later keeps order.
                asyncio.get_running_loop().call_later(self.canned.write_delay, self.answer, answer, close)
                return
            self.answer(answer, close)
            if close:
                return

    def answer(self, data, close):
        if self.transport.is_closing():
            return
        self.transport.write(data)
        if close:
            self.transport.close()

    def route(self, method, target, request_body=b"", token=""):
        status, body, extra, kind = self.dispatch(method, target, request_body, token)
        if kind is not None:
            off = 8 * (WORKER * len(KINDS) + KINDS.index(kind))
            STATS[off : off + 8] = struct.pack("<Q", struct.unpack("<Q", STATS[off : off + 8])[0] + 1)
        return status, body, extra

    def dispatch(self, method, target, request_body=b"", token=""):
        """(status, body, extra headers, kind of request for the statistics)."""
        c = self.canned
        parts = urlsplit(target)
        if parts.path == "/_stats":
            totals = [0] * len(KINDS)
            for w in range(MAX_WORKERS):
                for k in range(len(KINDS)):
                    off = 8 * (w * len(KINDS) + k)
                    totals[k] += struct.unpack("<Q", STATS[off : off + 8])[0]
            return 200, json.dumps(dict(zip(KINDS, totals))).encode(), [], None
        path = parts.path.rstrip("/")
        if path.startswith("/v3/"):
            if path == "/v3/auth/tokens":
                if method == "POST":
                    status, body, issued, kind = c.sign_in(request_body)
                    return status, body, [f"X-Subject-Token: {issued}"] if issued else [], kind
                if method == "GET":
                    return 200, c.token, [], "keystone GET auth/tokens"
                if method == "DELETE":
                    return 204, b"", [], "other"
            if path == "/v3/auth/projects" and method == "GET":
                return 200, c.projects, [], "keystone GET auth/projects"
            segs = path.split("/")
            if len(segs) == 4 and segs[2] in ("projects", "domains") and method == "GET" and c.is_reader(token):
                if segs[2] == "projects":
                    body = c.project_bodies.get(segs[3])
                    kind = "keystone GET projects/{id} (directory)"
                else:
                    body = c.domain_bodies.get(segs[3])
                    kind = "keystone GET domains/{id} (directory)"
                return (200, body, [], kind) if body else (404, c.keystone_not_found, [], kind)
            if path.startswith("/v3/projects/") and method == "GET":
                return 403, c.forbidden, [], "keystone GET projects/{id}"
            if path.startswith("/v3/domains/") and method == "GET":
                return 403, c.forbidden.replace(b"get_project", b"get_domain"), [], "other"
            return 404, NOT_FOUND, [], "other"
        if path == "/v2/images" and method == "GET":
            status, body = c.image_list(parts.query)
            q = parse_qs(parts.query)
            if "member_status" in q:
                kind = "glance GET images (offers)"
            elif q.get("owner", [""])[0] == c.project_id and q.get("visibility", [""])[0] == "shared":
                hidden = q.get("os_hidden", ["false"])[0].lower() == "true"
                kind = "glance GET images (review list, os_hidden)" if hidden else "glance GET images (review list)"
            else:
                kind = "glance GET images (list)"
            return status, body, [], kind
        segs = path.split("/")
        if len(segs) == 5 and segs[1:3] == ["v2", "images"] and segs[4] == "members" and method == "POST":
            try:
                member = str(json.loads(request_body)["member"])
            except (ValueError, KeyError, TypeError):
                return 400, b'{"message": "bad member"}', [], "other"
            body = json.dumps(member_body(segs[3], member, c.created)).encode()
            return 200, body, [], "glance POST images/{id}/members"
        if len(segs) >= 4 and segs[1] == "v2" and segs[2] == "images" and method == "GET":
            iid = segs[3]
            if len(segs) == 4 and iid in c.images:
                return 200, c.images[iid], [], "glance GET images/{id}"
            if len(segs) == 5 and segs[4] == "members" and iid in c.members:
                return 200, c.members[iid], [], "glance GET images/{id}/members"
        return 404, NOT_FOUND, [], "other"


def serve(sock):
    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Handler, sock=sock, backlog=2048)
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(main())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--members", type=int, default=128, help="members of the built-in image (no fixtures)")
    ap.add_argument("--fixtures", help="directory with image.json and members.json recorded from Glance")
    ap.add_argument("--ready-file", help="written with the base URL once serving")
    ap.add_argument("--write-delay-ms", type=float, default=10.0,
                    help="how long an add-member call takes (the lab Glance's time per call is about 10 ms)")
    ap.add_argument("--directory-user", help="the directory reader's user name (domain Default, system scope)")
    ap.add_argument("--directory-password-file", help="a file whose first line is that user's password")
    ap.add_argument("--review-images", type=int, default=200, help="shared images of the review set (benchmark 8)")
    ap.add_argument("--review-members", type=int, default=10, help="members of each image of the review set")
    ap.add_argument("--review-hidden-every", type=int, default=20,
                    help="every n-th image of the review set is hidden from lists (os_hidden); 0: none")
    args = ap.parse_args()
    password = None
    if args.directory_user:
        if not args.directory_password_file:
            ap.error("--directory-user needs --directory-password-file")
        with open(args.directory_password_file) as f:
            password = f.readline().rstrip("\r\n")

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(2048)
    sock.setblocking(False)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    Handler.canned = Canned(base, args.fixtures, args.members, args.directory_user, password,
                            args.review_images, args.review_members, args.review_hidden_every)
    Handler.canned.write_delay = args.write_delay_ms / 1000

    children = []
    global WORKER
    for w in range(max(1, min(args.workers, MAX_WORKERS))):
        pid = os.fork()
        if pid == 0:
            WORKER = w
            try:
                serve(sock)
            finally:
                os._exit(0)
        children.append(pid)

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    info = {
        "base": base,
        "image_id": Handler.canned.image_id,
        "project_id": Handler.canned.project_id,
        "recorded": Handler.canned.recorded,
        "members": len(json.loads(Handler.canned.members[Handler.canned.image_id])["members"]),
        "workers": children,
        "write_delay_ms": args.write_delay_ms,
        # The review set (benchmark 8): images, members per image, how many hidden from lists,
        # the consumer projects' pool, and Glance's cap on `limit`.
        "review": dict(Handler.canned.review, limit_max=LIMIT_MAX),
        # What the directory reader may sign in as and the names Keystone gives, for the checks.
        "directory": {
            "user": args.directory_user,
            "user_domain": "Default",
            "projects": Handler.canned.project_names,
            "domains": Handler.canned.domain_names,
        } if args.directory_user else None,
    }
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(info, f)
        os.replace(tmp, args.ready_file)
    print(f"fake upstream listening on {base}", flush=True)
    deadline = None
    while children:
        try:
            pid, _ = os.wait()
            children.remove(pid)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if deadline is None:
            # One worker gone: stop the others too.
            stop()
            deadline = time.monotonic() + 5
    sys.exit(0)


if __name__ == "__main__":
    main()
