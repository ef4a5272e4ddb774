#!/usr/bin/env python3
"""Test servers for Tests/Cloud/run (test code; never shipped).

  fakes.py aws-front PORT MOTO_URL STATE_DIR
      In front of moto's server (the real EC2 API emulation): forwards every EC2 request to
      it, writes each call's Action to STATE_DIR/calls, and fails the next N calls of an
      Action as real EC2 throttles (HTTP 503, RequestLimitExceeded) after a request to
      /__fault/ACTION/N. Also answers as the instance metadata service (IMDSv2: a token from
      PUT /latest/api/token, then GET /latest/meta-data/KEY with it) from STATE_DIR/imds.json,
      which moto does not emulate for network interfaces.

  fakes.py hetzner PORT STATE_DIR TOKEN
      A recording fake of the Hetzner Cloud API (no emulator of it exists on PyPI or in
      Debian): the requests that ucarp-hetzner makes, checked against the shapes of Hetzner's
      API reference (https://docs.hetzner.cloud/): Authorization: Bearer TOKEN on every
      request, GET /v1/floating_ips[?per_page=N], GET /v1/floating_ips/ID, POST
      /v1/floating_ips/ID/actions/assign with Content-Type application/json and the body
      {"server": ID}, answered with an action that is running, then polled with
      GET /v1/actions/ID until success; errors as {"error": {"code", "message"}}. The state
      is in STATE_DIR/hetzner.json; each request is written to STATE_DIR/calls.
      /__fault/assign/N: the next N assigns get 429 rate_limit_exceeded; /__fault/action/N:
      the next N actions end in error. GET /hetzner/v1/metadata/instance-id answers as the
      metadata service, from the state's "metadata_instance_id".
"""
import http.client
import http.server
import json
import os
import sys
import threading
import urllib.parse

lock = threading.RLock()
faults = {}


def record(state_dir, line):
    with open(os.path.join(state_dir, "calls"), "a") as calls:
        calls.write(line + "\n")


def take_fault(name):
    with lock:
        left = faults.get(name, 0)
        if left > 0:
            faults[name] = left - 1
            return True
        return False


class Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def fault_request(self):
        if self.path == "/__clear":
            with lock:
                faults.clear()
            self.answer(200, "{}")
            return True
        parts = self.path.split("/")
        if len(parts) == 4 and parts[1] == "__fault":
            with lock:
                faults[parts[2]] = int(parts[3])
            self.answer(200, "{}")
            return True
        return False


class AWSFront(Quiet):
    moto = None
    state_dir = None

    def do_PUT(self):
        self.body()
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self.answer(200, "imds-token-of-the-test", "text/plain")
        else:
            self.answer(400, "", "text/plain")

    def do_GET(self):
        if self.fault_request():
            return
        if self.path.startswith("/latest/meta-data/"):
            if self.headers.get("X-aws-ec2-metadata-token") != "imds-token-of-the-test":
                self.answer(401, "", "text/plain")
                return
            key = self.path[len("/latest/meta-data/"):]
            with open(os.path.join(self.state_dir, "imds.json")) as f:
                data = json.load(f)
            record(self.state_dir, "IMDS " + key)
            if key in data:
                self.answer(200, data[key], "text/plain")
            else:
                self.answer(404, "", "text/plain")
            return
        self.forward(b"")

    def do_POST(self):
        self.forward(self.body())

    def forward(self, body):
        action = urllib.parse.parse_qs(body.decode()).get("Action", ["?"])[0]
        record(self.state_dir, action)
        if take_fault(action):
            self.answer(
                503,
                '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                "<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
                "</Error></Errors><RequestID>fault-of-the-test</RequestID></Response>",
                "text/xml",
            )
            return
        url = urllib.parse.urlparse(self.moto)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        connection.request(self.command, self.path, body, headers)
        response = connection.getresponse()
        data = response.read()
        self.answer(response.status, data, response.getheader("Content-Type", "text/xml"))
        connection.close()


class Hetzner(Quiet):
    state_dir = None
    token = None

    def load(self):
        with open(os.path.join(self.state_dir, "hetzner.json")) as f:
            return json.load(f)

    def save(self, state):
        path = os.path.join(self.state_dir, "hetzner.json")
        with open(path + ".tmp", "w") as f:
            json.dump(state, f)
        os.replace(path + ".tmp", path)

    def error(self, status, code, message):
        self.answer(status, json.dumps({"error": {"code": code, "message": message, "details": {}}}))

    def authorized(self, body):
        record(self.state_dir, " ".join([
            self.command, self.path,
            "auth=" + ("ok" if self.headers.get("Authorization") == "Bearer " + self.token else "bad"),
            "type=" + (self.headers.get("Content-Type") or "-"),
            "body=" + (body.decode() if body else "-"),
        ]))
        if self.headers.get("Authorization") != "Bearer " + self.token:
            self.error(401, "unauthorized", "unable to authenticate")
            return False
        return True

    def floating_ip(self, state, ip_id):
        ip = state["floating_ips"].get(ip_id)
        if ip is None:
            return None
        return {"id": int(ip_id), "ip": ip["ip"], "type": ip["type"], "server": ip["server"],
                "description": "", "home_location": {"name": "fsn1"}, "blocked": False,
                "protection": {"delete": False}, "labels": {}, "name": "ip-" + ip_id}

    def do_GET(self):
        if self.fault_request():
            return
        path = urllib.parse.urlparse(self.path)
        if path.path == "/hetzner/v1/metadata/instance-id":
            record(self.state_dir, "METADATA instance-id")
            self.answer(200, str(self.load()["metadata_instance_id"]), "text/plain")
            return
        if not self.authorized(b""):
            return
        parts = path.path.split("/")
        with lock:
            state = self.load()
            if path.path == "/v1/floating_ips":
                ips = [self.floating_ip(state, i) for i in sorted(state["floating_ips"], key=int)]
                self.answer(200, json.dumps({"floating_ips": ips, "meta": {"pagination": {
                    "page": 1, "per_page": 50, "previous_page": None, "next_page": None,
                    "last_page": 1, "total_entries": len(ips)}}}))
            elif len(parts) == 4 and parts[2] == "floating_ips":
                ip = self.floating_ip(state, parts[3])
                if ip is None:
                    self.error(404, "not_found", "floating_ip not found")
                else:
                    self.answer(200, json.dumps({"floating_ip": ip}))
            elif len(parts) == 4 and parts[2] == "actions" and parts[3] in state["actions"]:
                action = state["actions"][parts[3]]
                # Running when first asked, then done: as the API, which finishes an assign
                # in a second or so.
                if action["status"] == "running":
                    action["polls"] += 1
                    if action["polls"] >= 2:
                        if action["fail"]:
                            action["status"] = "error"
                            action["error"] = {"code": "action_failed", "message": "Action failed"}
                        else:
                            action["status"] = "success"
                            action["progress"] = 100
                            state["floating_ips"][action["floating_ip"]]["server"] = action["server"]
                        self.save(state)
                    else:
                        self.save(state)
                self.answer(200, json.dumps({"action": self.action_json(parts[3], action)}))
            else:
                self.error(404, "not_found", "not found")

    def action_json(self, action_id, action):
        return {"id": int(action_id), "command": "assign_floating_ip", "status": action["status"],
                "progress": action["progress"], "started": "2026-12-06T22:00:00+00:00",
                "finished": None if action["status"] == "running" else "2026-12-06T22:00:01+00:00",
                "resources": [{"id": action["server"], "type": "server"},
                              {"id": int(action["floating_ip"]), "type": "floating_ip"}],
                "error": action.get("error")}

    def do_POST(self):
        body = self.body()
        if not self.authorized(body):
            return
        parts = urllib.parse.urlparse(self.path).path.split("/")
        if not (len(parts) == 6 and parts[2] == "floating_ips" and parts[4:] == ["actions", "assign"]):
            self.error(404, "not_found", "not found")
            return
        if self.headers.get("Content-Type") != "application/json":
            self.error(400, "invalid_input", "Content-Type must be application/json")
            return
        try:
            request = json.loads(body)
        except ValueError:
            self.error(400, "json_error", "invalid JSON")
            return
        if not isinstance(request, dict) or set(request) != {"server"} or not isinstance(request["server"], int):
            self.error(400, "invalid_input", "expected {\"server\": integer}")
            return
        if take_fault("assign"):
            self.error(429, "rate_limit_exceeded", "limit of requests per hour reached")
            return
        with lock:
            state = self.load()
            if parts[3] not in state["floating_ips"]:
                self.error(404, "not_found", "floating_ip not found")
                return
            if request["server"] not in state["servers"]:
                self.error(422, "invalid_input", "server not found")
                return
            state["next_action"] += 1
            action_id = str(state["next_action"])
            state["actions"][action_id] = {"status": "running", "progress": 0, "polls": 0,
                                           "server": request["server"], "floating_ip": parts[3],
                                           "fail": take_fault("action")}
            self.save(state)
            self.answer(201, json.dumps({"action": self.action_json(action_id, state["actions"][action_id])}))


def main():
    kind = sys.argv[1]
    if kind == "aws-front":
        AWSFront.moto, AWSFront.state_dir = sys.argv[3], sys.argv[4]
        handler = AWSFront
    elif kind == "hetzner":
        Hetzner.state_dir, Hetzner.token = sys.argv[3], sys.argv[4]
        handler = Hetzner
    else:
        sys.exit("unknown kind " + kind)
    # Every address of the test's network namespace: its loopback, and the bridge to the
    # namespaces of the hosts in Tests/Cloud/run's test_aws_daemon_failover.
    server = http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[2])), handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
