"""MongooseIM's admin GraphQL endpoint (mongoose_graphql_handler, schema_endpoint = "admin"), emulated over the same
node state as the mongooseimctl emulator ($MIM_EMU_DIR): POST {"query", "variables"} answered with {"data"} or
{"errors"} as upstream does (src/graphql/mongoose_graphql_handler.erl, priv/graphql/schemas/admin/session.gql and
stats.gql). It knows the operations the tool sends: session listSessions, session kickUserSession (its user a FullJID
variable), stat globalStats. Basic auth is checked when $MIM_API_AUTH ("user:password") is set. Every request is
appended to api_calls. Usage: graphql_api.py HOST PORT
"""

import base64
import fcntl
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMU = os.environ["MIM_EMU_DIR"]
AUTH = os.environ.get("MIM_API_AUTH")


def path(name):
    return os.path.join(EMU, name)


def read(name, default=""):
    try:
        with open(path(name)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return default


def sessions():
    return json.loads(read("sessions.json", "[]"))


def fields(query, name):
    """The fields selected under `name { ... }` (a flat selection)."""
    match = re.search(name + r"[^{]*\{([^{}]*)\}", query)
    return match.group(1).split() if match else []


def error(message, code):
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def execute(query, variables):
    if "listSessions" in query:
        wanted = fields(query, "listSessions") or ["user"]
        listed = [{k: s.get(k) for k in wanted} for s in sessions()]
        return {"data": {"session": {"listSessions": listed}}}
    if "globalStats" in query:
        node = read("node", "mongooseim@localhost")
        mine = [s for s in sessions() if s.get("node") == node]
        stats = {"onlineUsersNode": len(mine), "onlineUsers": len(sessions()), "uptimeSeconds": 600}
        return {"data": {"stat": {"globalStats": {k: stats.get(k) for k in fields(query, "globalStats")}}}}
    if "kickUserSession" in query:
        jid = variables.get("user")
        if not isinstance(jid, str) or "/" not in jid:
            return error(f'Invalid value "{jid}" for argument "user" of type "FullJID"', "input_coercion")
        with open(path("sessions.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with open(path("kicks"), "a") as f:
                f.write(json.dumps({"jid": jid, "reason": variables.get("reason")}) + "\n")
            listed = sessions()
            left = [s for s in listed if s.get("user") != jid]
            with open(path("sessions.json"), "w") as f:
                f.write(json.dumps(left))
        kicked = len(left) < len(listed)
        payload = {"message": "Session kicked" if kicked else "No active session", "kicked": kicked, "jid": jid}
        return {"data": {"session": {"kickUserSession": {k: payload.get(k) for k in fields(query, "kickUserSession")}}}}
    return error("Cannot query this field", "parser_error")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        with open(path("api_calls"), "a") as f:
            f.write(json.dumps(request) + "\n")
        if self.path != "/api/graphql":
            self.reply(404, {"errors": [{"message": "Not found"}]})
            return
        if AUTH is not None:
            given = self.headers.get("Authorization", "")
            if given != "Basic " + base64.b64encode(AUTH.encode()).decode():
                self.reply(401, error("Invalid authorization header", "no_permissions"))
                return
        self.reply(200, execute(request.get("query", ""), request.get("variables") or {}))


if __name__ == "__main__":
    server = ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler)
    print("listening", flush=True)
    server.serve_forever()
