using System.Diagnostics;
using RollingUpgrade.Demo;

namespace RollingUpgrade.Testing;

/// <summary>
/// OpenSSH's sshd started as a child process on a loopback address with its own config, host
/// key and authorized keys in a temp folder; client keys of each type are generated for the test.
/// </summary>
public sealed class SshdServer : IDisposable
{
    private ChildProcess? _process;

    /// <param name="extraConfig">More sshd_config lines (such as <c>MaxStartups 200</c> for many clients at once).</param>
    public SshdServer(
        string address = "127.0.0.21",
        int? port = null,
        IReadOnlyList<string>? moreAddresses = null,
        string extraConfig = ""
    )
    {
        Address = address;
        var all = new[] { address }.Concat(moreAddresses ?? []).ToArray();
        Port = port ?? LoopbackPorts.FreeOnAll(all);
        Folder = Directory.CreateTempSubdirectory("ru-sshd-").FullName;
        HostKey = Path.Combine(Folder, "ssh_host_ed25519_key");
        KeyGen("-t", "ed25519", "-N", string.Empty, "-f", HostKey, "-C", "test-host");
        foreach (var type in new[] { "ed25519", "rsa", "ecdsa" })
        {
            KeyGen([
                "-t",
                type,
                "-N",
                string.Empty,
                "-f",
                ClientKey(type),
                "-C",
                $"test-{type}",
                .. type == "rsa" ? new[] { "-b", "3072" } : [],
            ]);
        }

        KeyGen("-t", "ed25519", "-N", Passphrase, "-f", ClientKey("protected"), "-C", "test-protected");
        File.WriteAllText(
            Path.Combine(Folder, "authorized_keys"),
            string.Concat(
                new[] { "ed25519", "rsa", "ecdsa", "protected" }.Select(t => File.ReadAllText(ClientKey(t) + ".pub"))
            )
        );
        HostFingerprint = Run("ssh-keygen", "-lf", HostKey + ".pub", "-E", "sha256").Split(' ')[1];
        var hostPublic = File.ReadAllText(HostKey + ".pub").Split(' ');
        KnownHostsLine = string.Join("\n", all.Select(a => $"[{a}]:{Port} {hostPublic[0]} {hostPublic[1]}"));
        File.WriteAllText(
            Path.Combine(Folder, "sshd_config"),
            $"""
            Port {Port}
            {string.Join("\n", all.Select(a => $"ListenAddress {a}"))}
            HostKey {HostKey}
            PidFile {Folder}/sshd.pid
            AuthorizedKeysFile {Folder}/authorized_keys
            PermitRootLogin prohibit-password
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            LogLevel VERBOSE
            Subsystem sftp /usr/lib/openssh/sftp-server
            {extraConfig}

            """
        );
        Directory.CreateDirectory("/run/sshd");
        Start();
    }

    public const string Passphrase = "correct horse battery";

    public string Address { get; }

    public int Port { get; }

    public string Folder { get; }

    public string HostKey { get; }

    public string HostFingerprint { get; }

    public string KnownHostsLine { get; }

    public string ClientKey(string type) => Path.Combine(Folder, $"id_{type}");

    public string Log => _process?.Output ?? string.Empty;

    public int? ProcessId => _process?.Id;

    public void Start()
    {
        _process = ChildProcess.Start("/usr/sbin/sshd", ["-D", "-e", "-f", Path.Combine(Folder, "sshd_config")]);
        LoopbackPorts.WaitUntilListeningAsync(Address, Port, TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
    }

    /// <summary>Stops sshd; established sessions are cut as their processes end.</summary>
    public void Stop()
    {
        _process?.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        Stop();
        Directory.Delete(Folder, recursive: true);
    }

    private static void KeyGen(params string[] args) => Run("ssh-keygen", ["-q", .. args]);

    private static string Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed: {process.StandardError.ReadToEnd()}");
        }

        return output;
    }
}
