#!/usr/bin/env python3
"""Idempotent REST bootstrap of the glance-share lab's Keystone.

Called by lab/lab.sh after `keystone-manage bootstrap` has created the admin
user/project, the roles admin/manager/member/reader/service, RegionOne and the
identity endpoints. This script adds everything else through the Keystone v3
API with the admin account (standard library only, no third-party deps):

* region RegionTwo (and RegionOne if missing),
* projects service, producer, consumer, consumer-b, producer-b (domain default),
* domain partners with projects partner-one and twin, and a second twin in
  domain default: the same project name in two domains, for name look-ups that
  must not guess,
* the glance service user (roles service + admin on project service; the
  `service` role is what Keystone's identity:validate_token policy accepts,
  FACTS §4.4),
* the demo users with their member roles and default projects,
* the directory user (domain default): reader at system scope, so it can look
  any project up by ID or name, and reader on domain partners, for a
  domain-scoped look-up; no role on any project, so it can never reach Glance,
* the image service with exactly one public endpoint per region (no /v2 in
  the URL; clients append it). Any other image endpoint is deleted so the
  catalog is deterministic even after port changes.

Running it again converges to the same state (passwords are re-set, missing
pieces created, stale endpoints fixed). Configuration comes from the
environment (see lab.sh). The project/user ids are written as KEY=value lines
to the file given as the only argument.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

DOMAIN_ID = "default"  # the domain keystone-manage bootstrap creates


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"bootstrap.py: environment variable {name} is required")
    return value


KEYSTONE_URL = env("LAB_KEYSTONE_URL").rstrip("/")  # .../v3
ADMIN_USER = env("LAB_ADMIN_USER")
ADMIN_PASSWORD = env("LAB_ADMIN_PASSWORD")
ADMIN_PROJECT = env("LAB_ADMIN_PROJECT")
REGIONS = [
    (env("LAB_REGION"), env("LAB_GLANCE_URL")),
    (env("LAB_REGION2"), env("LAB_GLANCE2_URL")),
]

PARTNERS_DOMAIN = env("LAB_PARTNERS_DOMAIN")

PROJECTS = {
    # env key prefix -> (project name, domain name; None for domain default)
    "SERVICE": ("service", None),
    "PRODUCER": (env("LAB_PRODUCER_PROJECT"), None),
    "CONSUMER": (env("LAB_CONSUMER_PROJECT"), None),
    "CONSUMER_B": (env("LAB_CONSUMER_B_PROJECT"), None),
    "PRODUCER_B": (env("LAB_PRODUCER_B_PROJECT"), None),
    "PARTNER_ONE": (env("LAB_PARTNER_ONE_PROJECT"), PARTNERS_DOMAIN),
    # Two projects of one name: a look-up by name has to show both and let a person choose.
    "TWIN": (env("LAB_TWIN_PROJECT"), None),
    "PARTNERS_TWIN": (env("LAB_TWIN_PROJECT"), PARTNERS_DOMAIN),
}

# env key prefix, user name, password, default project key, [(role, project key)]
USERS = [
    ("GLANCE_SERVICE", "glance", env("LAB_GLANCE_SERVICE_PASSWORD"), "SERVICE",
     [("service", "SERVICE"), ("admin", "SERVICE")]),
    ("PRODUCER", env("LAB_PRODUCER_USER"), env("LAB_PRODUCER_PASSWORD"), "PRODUCER",
     [("member", "PRODUCER")]),
    ("CONSUMER", env("LAB_CONSUMER_USER"), env("LAB_CONSUMER_PASSWORD"), "CONSUMER",
     [("member", "CONSUMER"), ("member", "CONSUMER_B")]),
    ("PRODUCER_B", env("LAB_PRODUCER_B_USER"), env("LAB_PRODUCER_B_PASSWORD"), "PRODUCER_B",
     [("member", "PRODUCER_B")]),
    # glance-share's directory credential: roles outside any project only (see main()).
    ("DIRECTORY", env("LAB_DIRECTORY_USER"), env("LAB_DIRECTORY_PASSWORD"), None, []),
]


class Keystone:
    def __init__(self, base):
        self.base = base
        self.token = None

    def call(self, method, path, body=None, expect=(200, 201, 204)):
        url = self.base + path
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("X-Auth-Token", self.token)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, headers, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            status, headers, raw = err.code, err.headers, err.read()
        if status not in expect:
            text = raw.decode(errors="replace")[:500]
            raise RuntimeError(f"{method} {url} -> HTTP {status}: {text}")
        payload = json.loads(raw) if raw else {}
        return status, headers, payload

    def login(self):
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": ADMIN_USER, "domain": {"id": DOMAIN_ID},
                "password": ADMIN_PASSWORD}}},
            "scope": {"project": {"name": ADMIN_PROJECT, "domain": {"id": DOMAIN_ID}}},
        }}
        # Keystone may still be warming up right after uWSGI answered /v3.
        last = None
        for _ in range(30):
            try:
                _, headers, _ = self.call("POST", "/auth/tokens", body, expect=(201,))
                self.token = headers["X-Subject-Token"]
                return
            except (RuntimeError, OSError) as err:
                last = err
                time.sleep(1)
        raise RuntimeError(f"cannot get an admin token: {last}")

    def find(self, collection, key, **query):
        qs = urllib.parse.urlencode(query)
        _, _, payload = self.call("GET", f"/{collection}?{qs}")
        return payload[key]

    def find_one_by_name(self, collection, key, name, **query):
        found = [x for x in self.find(collection, key, name=name, **query) if x["name"] == name]
        return found[0] if found else None


def ensure_region(ks, region_id):
    status, _, _ = ks.call("GET", f"/regions/{region_id}", expect=(200, 404))
    if status == 404:
        ks.call("POST", "/regions", {"region": {"id": region_id,
                                                "description": "glance-share lab"}})


def ensure_role(ks, name):
    role = ks.find_one_by_name("roles", "roles", name)
    if role is None:
        _, _, payload = ks.call("POST", "/roles", {"role": {"name": name}})
        role = payload["role"]
    return role["id"]


def ensure_domain(ks, name):
    domain = ks.find_one_by_name("domains", "domains", name)
    if domain is None:
        _, _, payload = ks.call("POST", "/domains", {"domain": {
            "name": name, "enabled": True, "description": "glance-share lab"}})
        domain = payload["domain"]
    elif not domain.get("enabled", True):
        ks.call("PATCH", f"/domains/{domain['id']}", {"domain": {"enabled": True}})
    return domain["id"]


def ensure_project(ks, name, domain_id):
    project = ks.find_one_by_name("projects", "projects", name, domain_id=domain_id)
    if project is None:
        _, _, payload = ks.call("POST", "/projects", {"project": {
            "name": name, "domain_id": domain_id, "enabled": True,
            "description": "glance-share lab"}})
        project = payload["project"]
    return project["id"]


def ensure_user(ks, name, password, default_project_id):
    """default_project_id may be None: a user without a project."""
    user = ks.find_one_by_name("users", "users", name, domain_id=DOMAIN_ID)
    if user is None:
        _, _, payload = ks.call("POST", "/users", {"user": {
            "name": name, "domain_id": DOMAIN_ID, "enabled": True,
            "password": password, "default_project_id": default_project_id}})
        return payload["user"]["id"]
    # Re-set password and default project so a changed LAB_*_PASSWORD applies.
    ks.call("PATCH", f"/users/{user['id']}", {"user": {
        "enabled": True, "password": password,
        "default_project_id": default_project_id}})
    return user["id"]


def ensure_image_catalog(ks):
    services = ks.find("services", "services", type="image")
    glance = next((s for s in services if s.get("name") == "glance"), None)
    if glance is None:
        _, _, payload = ks.call("POST", "/services", {"service": {
            "type": "image", "name": "glance", "enabled": True,
            "description": "OpenStack Image (glance-share lab)"}})
        glance = payload["service"]
    # Only one image service: a second one would make clients pick at random.
    for other in services:
        if other["id"] != glance["id"]:
            delete_endpoints_of(ks, other["id"])
            ks.call("DELETE", f"/services/{other['id']}")

    wanted = {region: url for region, url in REGIONS}
    kept = set()
    for ep in ks.find("endpoints", "endpoints", service_id=glance["id"]):
        region = ep.get("region_id") or ep.get("region")
        if ep["interface"] == "public" and region in wanted and region not in kept:
            kept.add(region)
            if ep["url"] != wanted[region] or not ep.get("enabled", True):
                ks.call("PATCH", f"/endpoints/{ep['id']}", {"endpoint": {
                    "url": wanted[region], "enabled": True}})
        else:
            ks.call("DELETE", f"/endpoints/{ep['id']}")
    for region, url in REGIONS:
        if region not in kept:
            ks.call("POST", "/endpoints", {"endpoint": {
                "service_id": glance["id"], "interface": "public",
                "region_id": region, "url": url, "enabled": True}})


def delete_endpoints_of(ks, service_id):
    for ep in ks.find("endpoints", "endpoints", service_id=service_id):
        ks.call("DELETE", f"/endpoints/{ep['id']}")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bootstrap.py OUTPUT_ENV_FILE")
    out_path = sys.argv[1]

    ks = Keystone(KEYSTONE_URL)
    ks.login()

    for region, _ in REGIONS:
        ensure_region(ks, region)
    role_ids = {name: ensure_role(ks, name)
                for name in ("admin", "member", "reader", "service")}
    domain_ids = {None: DOMAIN_ID, PARTNERS_DOMAIN: ensure_domain(ks, PARTNERS_DOMAIN)}
    project_ids = {key: ensure_project(ks, name, domain_ids[domain])
                   for key, (name, domain) in PROJECTS.items()}
    admin_project = ks.find_one_by_name("projects", "projects", ADMIN_PROJECT,
                                        domain_id=DOMAIN_ID)
    admin_user = ks.find_one_by_name("users", "users", ADMIN_USER, domain_id=DOMAIN_ID)
    if admin_project is None or admin_user is None:
        raise RuntimeError("admin user/project missing: keystone-manage bootstrap did not run?")

    user_ids = {}
    for key, name, password, default_project, roles in USERS:
        uid = ensure_user(ks, name, password,
                          project_ids[default_project] if default_project else None)
        user_ids[key] = uid
        for role, project_key in roles:
            ks.call("PUT", f"/projects/{project_ids[project_key]}/users/{uid}"
                           f"/roles/{role_ids[role]}")

    # The directory user reads: at system scope every project of every domain, at the scope
    # of domain partners only that domain's projects. Both PUTs are idempotent.
    directory = user_ids["DIRECTORY"]
    ks.call("PUT", f"/system/users/{directory}/roles/{role_ids['reader']}")
    ks.call("PUT", f"/domains/{domain_ids[PARTNERS_DOMAIN]}/users/{directory}"
                   f"/roles/{role_ids['reader']}")

    ensure_image_catalog(ks)

    lines = [
        f"LAB_ADMIN_PROJECT_ID={admin_project['id']}",
        f"LAB_ADMIN_USER_ID={admin_user['id']}",
        f"LAB_SERVICE_PROJECT_ID={project_ids['SERVICE']}",
    ]
    for key in ("PRODUCER", "CONSUMER", "CONSUMER_B", "PRODUCER_B", "PARTNER_ONE", "TWIN",
                "PARTNERS_TWIN"):
        lines.append(f"LAB_{key}_PROJECT_ID={project_ids[key]}")
    for key in ("PRODUCER", "CONSUMER", "PRODUCER_B", "DIRECTORY"):
        lines.append(f"LAB_{key}_USER_ID={user_ids[key]}")
    lines.append(f"LAB_PARTNERS_DOMAIN_ID={domain_ids[PARTNERS_DOMAIN]}")
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, out_path)


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, OSError, KeyError, ValueError) as exc:
        sys.exit(f"bootstrap.py: {exc}")
