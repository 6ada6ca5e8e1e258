using System.Diagnostics;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Testing;

/// <summary>
/// A real PostgreSQL server (Debian's postgresql package) for one test class: a temporary data directory made by
/// initdb, the server run as the non-root "postgres" account in the foreground, listening on one loopback address
/// only (and a socket in the temporary folder), password authentication over TCP. Stopped by its own process id.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _folder;
    private readonly string _bin;
    private ChildProcess? _server;

    private PostgresServer(string folder, string bin, string address, int port, string password)
    {
        _folder = folder;
        _bin = bin;
        Address = address;
        Port = port;
        Password = password;
    }

    public string Address { get; }

    public int Port { get; }

    public string User => "rollingupgrade";

    public string Password { get; }

    public string DataDirectory => Path.Combine(_folder, "data");

    public string ConnectionString =>
        $"Host={Address};Port={Port};Username={User};Password={Password};Database=postgres;Timeout=5;"
        + "Command Timeout=10";

    /// <summary>The server's own process id (the postmaster), from its pid file.</summary>
    public int? ServerPid =>
        File.Exists(Path.Combine(DataDirectory, "postmaster.pid"))
        && int.TryParse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First(), out var pid)
            ? pid
            : null;

    public static string FindBin() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory
                .GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
                ?? throw new InvalidOperationException("no initdb under /usr/lib/postgresql/*/bin")
            : throw new InvalidOperationException(
                "PostgreSQL is not installed (apt-get install postgresql; tests/install-deps.sh does it)"
            );

    public static async Task<PostgresServer> StartAsync(string address = "127.0.0.1")
    {
        var folder = Directory.CreateTempSubdirectory("ru-pg-").FullName;
        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
        var server = new PostgresServer(folder, FindBin(), address, LoopbackPorts.Free(address), password);
        try
        {
            await server.InitAsync();
            await server.StartServerAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task InitAsync()
    {
        File.SetUnixFileMode(_folder, (UnixFileMode)0b111_111_111);
        var passwordFile = Path.Combine(_folder, "pw");
        await File.WriteAllTextAsync(passwordFile, Password + "\n");
        File.SetUnixFileMode(passwordFile, (UnixFileMode)0b110_100_100);
        using var init = ChildProcess.Start(
            "runuser",
            [
                "-u",
                "postgres",
                "--",
                Path.Combine(_bin, "initdb"),
                "-D",
                DataDirectory,
                "-U",
                User,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                $"--pwfile={passwordFile}",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            workingDirectory: _folder
        );
        var code = await init.WaitForExitAsync(TimeSpan.FromSeconds(120));
        if (code != 0)
        {
            throw new InvalidOperationException($"initdb exited with {code}:\n{init.Output}");
        }

        File.Delete(passwordFile);
    }

    /// <summary>Starts the server (again, after <see cref="StopAsync"/>) and waits until it accepts logins.</summary>
    public async Task StartServerAsync()
    {
        _server = ChildProcess.Start(
            "runuser",
            [
                "-u",
                "postgres",
                "--",
                Path.Combine(_bin, "postgres"),
                "-D",
                DataDirectory,
                "-p",
                Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-k",
                _folder,
                "-c",
                $"listen_addresses={Address}",
            ],
            workingDirectory: _folder
        );
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                // Without pooling: a pooled connection from before a restart would answer "open" at once.
                await using var connection = new Npgsql.NpgsqlConnection(ConnectionString + ";Pooling=false");
                await connection.OpenAsync();
                return;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
            {
                if (DateTime.UtcNow > deadline || _server.HasExited)
                {
                    throw new InvalidOperationException($"PostgreSQL did not start: {e.Message}\n{_server.Output}");
                }

                await Task.Delay(100);
            }
        }
    }

    /// <summary>A fast shutdown (SIGINT to the postmaster, by its pid), waited for.</summary>
    public async Task StopAsync()
    {
        if (_server is null)
        {
            return;
        }

        if (ServerPid is { } pid)
        {
            using var kill = Process.Start(
                "kill",
                ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]
            );
            await kill!.WaitForExitAsync();
        }

        await _server.WaitForExitAsync(TimeSpan.FromSeconds(30));
        _server.Dispose();
        _server = null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (OperationCanceledException)
        {
            // Disposing the child process below ends it by its id.
        }

        _server?.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
