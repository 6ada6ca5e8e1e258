using System.Text.Json;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Testing;

/// <summary>
/// One emulated MongooseIM node: the control-script emulator (MongooseIm/mongooseimctl, which reproduces
/// upstream's script and answers) installed as BASE/bin/mongooseimctl with its state in BASE/state. The folder is
/// open to every account, so the script may also run as another user (sudo -u) as a package's runner user would.
/// </summary>
public sealed class MongooseImNode : IDisposable
{
    public MongooseImNode(string erlangNode, string version, string? runnerUser = "mongooseim", bool running = true)
    {
        Base = Directory.CreateTempSubdirectory("ru-mim-node-").FullName;
        Directory.CreateDirectory(Path.Combine(Base, "bin"));
        Directory.CreateDirectory(State);
        foreach (var file in new[] { "mongooseimctl", "mongooseimctl.py" })
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, "MongooseIm", file), Path.Combine(Base, "bin", file));
        }

        File.SetUnixFileMode(Ctl, (UnixFileMode)0b111_101_101);
        Write("node", erlangNode);
        Write("version", version);
        Write("runner_user", runnerUser ?? string.Empty);
        Write("sessions.json", "[]");
        if (running)
        {
            Write("running", string.Empty);
        }

        foreach (var folder in new[] { Base, State })
        {
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_111_111);
        }

        foreach (var file in Directory.GetFiles(State))
        {
            File.SetUnixFileMode(file, (UnixFileMode)0b110_110_110);
        }
    }

    public string Base { get; }

    public string State => Path.Combine(Base, "state");

    /// <summary>The control script, as a plan's product.ctl names it.</summary>
    public string Ctl => Path.Combine(Base, "bin", "mongooseimctl");

    public bool Running => File.Exists(Path.Combine(State, "running"));

    /// <summary>Every call as the node received it, each argument in [brackets].</summary>
    public IReadOnlyList<string> Calls =>
        File.Exists(Path.Combine(State, "calls")) ? File.ReadAllLines(Path.Combine(State, "calls")) : [];

    /// <summary>Each kick the node received: the JID and the reason, as they arrived.</summary>
    public IReadOnlyList<(string Jid, string? Reason)> Kicks =>
        File.Exists(Path.Combine(State, "kicks"))
            ? File.ReadAllLines(Path.Combine(State, "kicks"))
                .Select(l => JsonDocument.Parse(l).RootElement)
                .Select(e => (e.GetProperty("jid").GetString()!, e.GetProperty("reason").GetString()))
                .ToList()
            : [];

    public void Sessions(params (string User, string Node)[] sessions) =>
        Write(
            "sessions.json",
            JsonSerializer.Serialize(
                sessions.Select(s => new
                {
                    user = s.User,
                    uptime = 60,
                    priority = 0,
                    port = 50000,
                    node = s.Node,
                    ip = "10.0.0.5",
                    connection = "c2s",
                })
            )
        );

    public void Members(IReadOnlyList<string> all, IReadOnlyList<string> running)
    {
        Write("db_nodes", string.Join("\n", all) + "\n");
        Write("running_db_nodes", string.Join("\n", running) + "\n");
    }

    /// <summary>The node's internal databases: "mnesia", "cets" or both.</summary>
    public void Databases(params string[] databases) =>
        Write("internal_databases", string.Join("\n", databases) + "\n");

    /// <summary>Nodes that replicate a CETS table to another list of nodes (a split cluster).</summary>
    public void CetsConflicts(params string[] nodes) => Write("cets_conflicts", string.Join("\n", nodes) + "\n");

    /// <summary>Makes this node one of a cluster whose members share <paramref name="folder"/>.</summary>
    public void JoinSharedCluster(string folder)
    {
        Write("cluster", folder);
        if (Running)
        {
            File.WriteAllText(Path.Combine(folder, File.ReadAllText(Path.Combine(State, "node")) + ".running"), "");
        }
    }

    public string Version => File.ReadAllText(Path.Combine(State, "version")).Trim();

    /// <summary>Nodes a join cannot reach (the join answers pang).</summary>
    public void Unreachable(params string[] nodes) => Write("unreachable", string.Join("\n", nodes) + "\n");

    public void Write(string name, string text)
    {
        var path = Path.Combine(State, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110);
    }

    /// <summary>
    /// Serves the node's admin GraphQL endpoint (MongooseIm/graphql_api.py) at http://ADDRESS:PORT/api/graphql until
    /// the returned process is disposed; with <paramref name="auth"/> ("user:password") it requires basic auth.
    /// </summary>
    public async Task<ChildProcess> StartGraphQlApiAsync(string address, int port, string? auth = null)
    {
        var environment = new Dictionary<string, string> { ["MIM_EMU_DIR"] = State };
        if (auth is not null)
        {
            environment["MIM_API_AUTH"] = auth;
        }

        var server = ChildProcess.Start(
            "python3",
            [Path.Combine(AppContext.BaseDirectory, "MongooseIm", "graphql_api.py"), address, $"{port}"],
            environment
        );
        try
        {
            await LoopbackPorts.WaitUntilListeningAsync(address, port, TimeSpan.FromSeconds(20));
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Every request the GraphQL endpoint received (its JSON body).</summary>
    public IReadOnlyList<string> ApiCalls =>
        File.Exists(Path.Combine(State, "api_calls")) ? File.ReadAllLines(Path.Combine(State, "api_calls")) : [];

    public void Dispose() => Directory.Delete(Base, recursive: true);
}
