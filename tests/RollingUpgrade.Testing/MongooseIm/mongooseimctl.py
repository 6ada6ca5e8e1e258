"""Answers of the mongooseimctl emulator (see mongooseimctl next to this file), from upstream's sources.

The node's folder ($MIM_EMU_DIR) holds: version, node, running (present while the node runs), stopping (how
many more status reads say "stopping" after a stop), internal_databases ("mnesia", "cets" or both, one per
line), db_nodes and running_db_nodes (node names, one per line: mnesia's view, and CETS's discovered and joined
nodes), cets_conflicts (nodes replicating a table elsewhere), sessions.json (the cluster's sessions as
listSessions shows them), unreachable (nodes a join cannot reach), kicks (each kick's JID and reason) and
local_tables (the mnesia tables with a copy on this node, "name storage_type" per line; a MongooseIM node's usual
set when absent).
"""

import fcntl
import json
import os
import sys

EMU = os.environ["MIM_EMU_DIR"]


def read(name, default=""):
    try:
        with open(os.path.join(EMU, name)) as f:
            return f.read().strip()
    except FileNotFoundError:
        return default


def write(name, text):
    with open(os.path.join(EMU, name), "w") as f:
        f.write(text)


VERSION = read("version")
NODE = read("node", "mongooseim@localhost")


def version_tuple(text):
    parts = []
    for part in text.split("-")[0].split("."):
        parts.append(int(part) if part.isdigit() else 0)
    return tuple(parts + [0] * (3 - len(parts)))


GRAPHQL = version_tuple(VERSION) >= (6, 0, 0)


def out(text):
    sys.stdout.write(text)


def pretty(value):
    # mongoose_graphql_response:term_to_pretty_json (6.x): jiffy's pretty printing, "key" : value.
    return json.dumps(value, indent=2, separators=(",", " : "))


def own_lines(name):
    return [line for line in read(name).splitlines() if line.strip()]


# A cluster of emulated nodes shares a folder (named in the node's "cluster" file): "members" lists the
# cluster's nodes and "<node>.running" marks each running one, so every node sees the others start and stop.
CLUSTER = read("cluster")


def lines(name):
    if CLUSTER and name in ("db_nodes", "running_db_nodes"):
        members = [m for m in open(os.path.join(CLUSTER, "members")).read().split() if m]
        if name == "db_nodes":
            return members
        return [m for m in members if os.path.exists(os.path.join(CLUSTER, m + ".running"))]
    return own_lines(name)


# Tables every MongooseIM node holds once it runs: the modules' mnesia:create_table with [node()] copies, then
# mongoose_mnesia:maybe_add_copies on the other nodes (src/mongoose_mnesia.erl, 6.x; ejabberd_mnesia-like in 3.x).
DEFAULT_TABLES = [
    ("schema", "disc_copies"),
    ("passwd", "disc_copies"),
    ("last_activity", "disc_copies"),
    ("muc_registered", "disc_copies"),
    ("privacy", "disc_copies"),
    ("roster", "disc_copies"),
    ("session", "ram_copies"),
    ("route", "ram_copies"),
    ("external_component", "ram_copies"),
]


def local_tables():
    own = own_lines("local_tables")
    if not own:
        return DEFAULT_TABLES
    return [tuple((line.split() + ["disc_copies"])[:2]) for line in own]


def atom(name):
    # ~w and ~p quote an atom unless it is a lower-case letter then letters, digits, '_' and '@'.
    if name and name[0].islower() and all(c.isalnum() or c in "_@" for c in name):
        return name
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def wrapped(prefix, atoms):
    # io_lib_pretty as ~p prints a list of atoms: on one line when it fits in 80 columns, otherwise filled line by
    # line with continuation lines indented to just after the "[" (OTP lib/stdlib/src/io_lib_pretty.erl).
    one = prefix + "[" + ",".join(atoms) + "]"
    if len(one) <= 80:
        return one
    indent = " " * (len(prefix) + 1)
    rows, row = [], prefix + "["
    for i, atom in enumerate(atoms):
        piece = atom + ("," if i < len(atoms) - 1 else "]")
        if len(row) + len(piece) > 80 and row.strip() not in ("", prefix.strip() + "["):
            rows.append(row)
            row = indent
        row += piece
    rows.append(row)
    return "\n".join(rows)


def running():
    return os.path.exists(os.path.join(EMU, "running"))


def set_running(on):
    marks = [os.path.join(EMU, "running")] + ([os.path.join(CLUSTER, NODE + ".running")] if CLUSTER else [])
    for mark in marks:
        if on:
            open(mark, "w").close()
        elif os.path.exists(mark):
            os.remove(mark)


def node_down():
    # src/ejabberd_ctl.erl start/0: a failed rpc prints "Failed RPC connection to the node N: nodedown" and
    # halts with 3 (STATUS_BADRPC); rel/files/mongooseimctl then prints its help for codes 2 and 3.
    out(f"Failed RPC connection to the node {NODE}: nodedown\n\n")
    out("Commands to start a MongooseIM node:\n")
    out("  start           Start a MongooseIM node as daemon (detached from terminal)\n")
    sys.exit(3)


def status():
    # src/ejabberd_ctl.erl process(["status"]) and format_status/1 (3.1.1 to 6.8.0): the same text in every
    # version; exit 0 when MongooseIM runs. While init stops, the VM status reads "stopping".
    stopping = int(read("stopping", "0") or "0")
    if not running() and stopping <= 0:
        node_down()
    vm = "started"
    if not running():
        vm = "stopping"
        write("stopping", str(stopping - 1))
    out(f"MongooseIM node {NODE}:\n")
    out("    operating system pid: 4242\n")
    out(f"    Erlang VM status: {vm} (of: starting | started | stopping)\n")
    out(f"    boot script status: {vm}\n")
    if vm == "started":
        out(f"    version: {VERSION} (as mongooseim)\n")
    else:
        out("    version: unavailable - neither ejabberd nor mongooseim is running\n")
    out("    uptime: 0 days 00:10:00\n")
    out("    distribution protocol: inet_tcp\n")
    out("    logs: none - maybe enable logging to a file in app.config?\n")
    sys.exit(0 if vm == "started" else 1)


def sessions():
    text = read("sessions.json", "[]")
    return json.loads(text)


# priv/graphql/schemas/admin/*.gql (6.0.0 to 6.8.0), the commands the tool uses: argument name -> (type, list?,
# required?). List arguments are read as JSON (src/graphql/mongoose_graphql_commands.erl parse_arg/2).
COMMANDS = {
    ("mnesia", "systemInfo"): {"keys": ("String", True, False)},
    ("cets", "systemInfo"): {},
    ("cets", "tableInfo"): {},
    ("stat", "globalStats"): {},
    ("session", "listSessions"): {"domain": ("DomainName", False, False)},
    ("session", "kickUserSession"): {"user": ("FullJID", False, True), "reason": ("String", False, False)},
    ("server", "joinCluster"): {"node": ("NodeName", False, True)},
    ("server", "leaveCluster"): {},
}


def usage_error(message):
    # src/ejabberd_ctl.erl process/1: the message, a blank line, the command's usage; exit 1 (STATUS_ERROR).
    out(message + "\n\n")
    out("Usage: mongooseimctl category command [arguments]\n")
    sys.exit(1)


def graphql(args):
    categories = {c for c, _ in COMMANDS}
    if args[0] not in categories:
        usage_error("Unknown category")
    if len(args) < 2:
        out("Usage: mongooseimctl " + args[0] + " command [arguments]\n")
        sys.exit(0)
    key = (args[0], args[1])
    if key not in COMMANDS:
        usage_error(f"Unknown command '{args[1]}'")
    spec = COMMANDS[key]
    values = {}
    rest = args[2:]
    # src/graphql/mongoose_graphql_commands.erl parse_args_loop/1: pairs of "--name" and a value.
    while rest:
        if len(rest) < 2 or not rest[0].startswith("--"):
            usage_error("Could not parse the command arguments")
        name, value = rest[0][2:], rest[1]
        rest = rest[2:]
        if name not in spec:
            usage_error(f"Unknown argument '{name}' for command '{args[1]}'")
        _, is_list, _ = spec[name]
        if is_list:
            try:
                value = json.loads(value)
            except ValueError:
                usage_error(f"Invalid value '{value}' of argument '{name}' for command '{args[1]}'")
        values[name] = value
    missing = [n for n, (_, _, required) in spec.items() if required and n not in values]
    if missing:
        usage_error(f"Missing mandatory arguments for command '{args[1]}': '" + "', '".join(missing) + "'")
    if not running():
        node_down()
    return key, values


def answer(category, command, result):
    out(pretty({"data": {category: {command: result}}}) + "\n")
    sys.exit(0)


def refuse(category, command, message, code, extra=None):
    # src/ejabberd_ctl.erl handle_graphql_result/1: errors print as pretty JSON and exit 1.
    error = {"extensions": dict({"code": code}, **(extra or {})), "message": message, "path": [category, command]}
    out(pretty({"data": {category: {command: None}}, "errors": [error]}) + "\n")
    sys.exit(1)


def databases():
    return lines("internal_databases") or ["mnesia"]


def require_database(category, command, database):
    # src/graphql/directive/mongoose_graphql_directive_use.erl (6.x): a query marked
    # @use(internal_databases: [...]) on a node without that database answers deps_not_loaded.
    if database not in databases():
        refuse(
            category,
            command,
            "Some of the required internal databases are not loaded",
            "deps_not_loaded",
            {"not_loaded_internal_databases": [database]},
        )


def run_graphql(args):
    (category, command), values = graphql(args)
    if category in ("mnesia", "cets"):
        require_database(category, command, category)
    if (category, command) == ("cets", "systemInfo"):
        # src/graphql/admin/mongoose_graphql_cets_admin_query.erl (6.2.1): the node names of cets_status.
        discovered = lines("db_nodes") or [NODE]
        joined = lines("running_db_nodes") or [NODE]
        conflicts = lines("cets_conflicts")
        answer(
            category,
            command,
            {
                "availableNodes": joined,
                "unavailableNodes": [n for n in discovered if n not in joined],
                "joinedNodes": joined,
                "discoveredNodes": discovered,
                "remoteNodesWithoutDisco": [],
                "remoteNodesWithUnknownTables": [],
                "remoteUnknownTables": [],
                "remoteNodesWithMissingTables": [],
                "remoteMissingTables": [],
                "conflictNodes": conflicts,
                "conflictTables": ["cets_session"] if conflicts else [],
                "discoveryWorks": True,
            },
        )
    if (category, command) == ("cets", "tableInfo"):
        joined = lines("running_db_nodes") or [NODE]
        answer(
            category,
            command,
            [{"tableName": t, "memory": 100, "size": 1, "nodes": joined} for t in ["cets_session", "cets_route"]],
        )
    if (category, command) == ("mnesia", "systemInfo"):
        info = {
            "running_db_nodes": lines("running_db_nodes") or [NODE],
            "db_nodes": lines("db_nodes") or [NODE],
            "is_running": "yes",
            "local_tables": [name for name, _ in local_tables()],
            "version": "4.23",
            "transaction_commits": 12,
        }
        keys = values.get("keys") or list(info)
        answer(category, command, [{"result": info[k], "key": k} for k in keys if k in info])
    if (category, command) == ("stat", "globalStats"):
        mine = [s for s in sessions() if s.get("node") == NODE]
        answer(
            category,
            command,
            {
                "uptimeSeconds": 600,
                "registeredUsers": 10,
                "outgoingS2S": 0,
                "onlineUsersNode": len(mine),
                "onlineUsers": len(sessions()),
                "incomingS2S": 0,
            },
        )
    if (category, command) == ("session", "listSessions"):
        answer(category, command, sessions())
    if (category, command) == ("session", "kickUserSession"):
        jid = values["user"]
        if "/" not in jid:
            usage_error(f"Invalid value '{jid}' of argument 'user' for command 'kickUserSession'")
        # Kicks arrive several at once (as the node's session manager takes them): one at a time through the file.
        with open(os.path.join(EMU, "sessions.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with open(os.path.join(EMU, "kicks"), "a") as f:
                f.write(json.dumps({"jid": jid, "reason": values.get("reason")}) + "\n")
            left = [s for s in sessions() if s.get("user") != jid]
            kicked = len(left) < len(sessions())
            write("sessions.json", json.dumps(left))
        answer(
            category,
            command,
            {"message": "Session kicked" if kicked else "No active session", "kicked": kicked, "jid": jid},
        )
    if (category, command) == ("server", "joinCluster"):
        seed = values["node"]
        if seed in lines("unreachable"):
            refuse(category, command, f"Timeout while attempting to connect to node {seed}", "pang")
        if seed in lines("db_nodes") and NODE in lines("db_nodes"):
            refuse(
                category,
                command,
                f"The MongooseIM node {NODE} has already joined the cluster.",
                "already_joined",
                {"node": NODE},
            )
        members = sorted(set(lines("db_nodes") + [NODE, seed]))
        write("db_nodes", "\n".join(members) + "\n")
        write("running_db_nodes", "\n".join(members) + "\n")
        answer(
            category,
            command,
            f"You have successfully added the MongooseIM node {NODE} to the cluster with node member {seed}.",
        )
    usage_error(f"Unknown command '{command}'")


def main(args):
    if not args:
        out("Usage: mongooseimctl category command [arguments]\n")
        sys.exit(2)
    word = args[0]
    # rel/files/mongooseimctl: start and stop go to the release's own script.
    if word == "start":
        set_running(True)
        write("stopping", "0")
        sys.exit(0)
    if word == "status" and len(args) == 1:
        status()
    if word == "stop" and len(args) == 1:
        # src/ejabberd_ctl.erl process(["stop"]): init:stop(), exit 0; the node says "stopping" for a while.
        if not running():
            node_down()
        set_running(False)
        write("stopping", read("stop_polls", "2"))
        sys.exit(0)
    if not GRAPHQL:
        legacy(args)
    run_graphql(args)


def legacy(args):
    # src/ejabberd_ctl.erl and the admin commands of 3.x to 5.x: mnesia info, stats onlineusersnode, join_cluster.
    if not running():
        node_down()
    if args[0] == "stats" and read("admin_extra", "loaded") != "loaded":
        # src/ejabberd_ctl.erl try_call_command/3 (3.x to 5.1.0): the command comes from mod_admin_extra; without
        # it, "Error: command "stats" not known." and exit 1.
        out(f'Error: command "{args[0]}" not known.\n')
        sys.exit(1)
    if args == ["stats", "onlineusersnode"]:
        out(f"{len([s for s in sessions() if s.get('node') == NODE])}\n")
        sys.exit(0)
    if args == ["mnesia", "info"]:
        # mnesia:info() (OTP lib/mnesia/src/mnesia.erl, mini_info/0), as a node of OTP 25 prints it: ~w for the db
        # node lists (one line, a trailing space after the stopped ones), ~p for the table lists (wrapped).
        running_nodes = ",".join(atom(n) for n in lines("running_db_nodes") or [NODE])
        stopped = ",".join(atom(n) for n in lines("db_nodes") if n not in lines("running_db_nodes"))
        tables = local_tables()
        for header in ["Processes holding locks", "Processes waiting for locks", "Participant transactions"]:
            out(f"---> {header} <--- \n")
        out("---> Coordinator transactions <---\n---> Uncertain transactions <--- \n---> Active tables <--- \n")
        for name, _ in tables:
            out(f"{name:<15}: with 0        records occupying 305      words of mem\n")
        out('===> System info in version "4.21.3", debug level = none <===\n')
        out(f'opt_disc. Directory "/var/lib/mongooseim/Mnesia.{NODE}" is used.\nuse fallback at restart = false\n')
        out(f"running db nodes   = [{running_nodes}]\n")
        out(f"stopped db nodes   = [{stopped}] \n")
        out("master node tables = []\nremote             = []\n")
        for kind in ["ram_copies", "disc_copies", "disc_only_copies"]:
            out(wrapped(f"{kind:<19}= ", sorted(atom(n) for n, k in tables if k == kind)) + "\n")
        for kind in ["disc_copies", "ram_copies"]:
            names = [atom(n) for n, k in tables if k == kind]
            if names:
                out(wrapped(f"[{{{atom(NODE)},{kind}}}] = ", names) + "\n")
        out("3 transactions committed, 0 aborted, 0 restarted, 2 logged to disc\n")
        out("0 held locks, 0 in queue; 0 local transactions, 0 remote\n0 transactions waits for other nodes: []\n")
        sys.exit(0)
    if len(args) == 2 and args[0] == "join_cluster":
        seed = args[1]
        members = sorted(set(lines("db_nodes") + [NODE, seed]))
        write("db_nodes", "\n".join(members) + "\n")
        write("running_db_nodes", "\n".join(members) + "\n")
        out(f"You have successfully joined the node {NODE} to the cluster with node member {seed}\n")
        sys.exit(0)
    out(f"Unknown command '{args[0]}'\n")
    sys.exit(1)


main(sys.argv[1:])
