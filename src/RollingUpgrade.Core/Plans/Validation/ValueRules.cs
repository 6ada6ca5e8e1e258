using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace RollingUpgrade.Plans.Validation;

/// <summary>
/// Shapes of the values that end up on a command line or in a file name. Anything else is
/// refused before a run starts, so a hostile plan cannot smuggle shell syntax through a name.
/// </summary>
public static partial class ValueRules
{
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(
        @"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
            + @"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex HostNamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9_]{1,64}@[A-Za-z0-9_.-]{1,253}$", RegexOptions.CultureInvariant)]
    private static partial Regex ErlangNodePattern();

    [GeneratedRegex(@"^[0-9A-Za-z][0-9A-Za-z._+~-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_.:/@=+-]{1,255}$", RegexOptions.CultureInvariant)]
    private static partial Regex ServerIdPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvNamePattern();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_.@-]{0,254}$", RegexOptions.CultureInvariant)]
    private static partial Regex TableNamePattern();

    [GeneratedRegex(@"^[a-z_][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex UserNamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9@%+=:,./_-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex ShellWordPattern();

    [GeneratedRegex(@"^SHA256:[A-Za-z0-9+/]{43}=?$", RegexOptions.CultureInvariant)]
    private static partial Regex FingerprintPattern();

    /// <summary>A Unix account name, such as the runner user of a package ("mongooseim").</summary>
    public static string? UserName(string value) =>
        UserNamePattern().IsMatch(value)
            ? null
            : "must be a Unix user name: lower-case letters, digits, '_' and '-', starting with a letter or '_'";

    /// <summary>
    /// A word a shell reads back as itself: no quoting, spaces, globbing, expansion, redirection or separators,
    /// and no '~' or '#' at its start (mongooseimctl's re-exec re-parses its arguments through bash).
    /// </summary>
    public static bool IsShellWord(string value) =>
        ShellWordPattern().IsMatch(value) && value[0] is not ('~' or '#' or '=');

    /// <summary>A mnesia table name as mnesia:info() prints it unquoted or quoted (an Erlang atom).</summary>
    public static string? TableName(string value) =>
        TableNamePattern().IsMatch(value)
            ? null
            : "is not a mnesia table name: a letter, then letters, digits, '_', '.', '@' or '-'";

    public static string? Name(string value) =>
        NamePattern().IsMatch(value)
            ? null
            : "must start with a letter or digit and hold only letters, digits, '_', '.' and '-' (at most 63)";

    public static string? Host(string value)
    {
        if (
            IPAddress.TryParse(value, out var address)
            && (address.AddressFamily == AddressFamily.InterNetworkV6 || value.Count(c => c == '.') == 3)
        )
        {
            return null;
        }

        return HostNamePattern().IsMatch(value) && !value.All(c => char.IsAsciiDigit(c) || c == '.')
            ? null
            : "must be a host name (letters, digits, '-' and '.') or an IP address";
    }

    public static string? ErlangNode(string value) =>
        ErlangNodePattern().IsMatch(value)
            ? null
            : "must be an Erlang node name such as 'mongooseim@mim-1' (name@host: letters, digits and '_', then '@' "
                + "and a host)";

    public static string? Version(string value) =>
        VersionPattern().IsMatch(value)
            ? null
            : "must be a version such as '6.3.1' or '6.3.1-12-gabc1234' (letters, digits, '.', '_', '+', '~', '-')";

    public static string? ServerId(string value) =>
        ServerIdPattern().IsMatch(value)
            ? null
            : "must hold only letters, digits and '_', '.', ':', '/', '@', '=', '+', '-'";

    /// <summary>A bare JID such as 'admin@example.com': a node name, '@' and a host.</summary>
    public static string? Jid(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && Name(value[..at]) is null && Host(value[(at + 1)..]) is null
            ? null
            : "must be a bare JID such as 'admin@example.com'";
    }

    public static string? EnvName(string value) =>
        EnvNamePattern().IsMatch(value) ? null : "must be an environment variable name such as 'MIM_KEY_PASSPHRASE'";

    /// <summary>A PostgreSQL schema name, quoted as it is: lower-case, so psql users can type it bare.</summary>
    public static string? SchemaName(string value) =>
        SchemaNamePattern().IsMatch(value)
            ? null
            : "must be a PostgreSQL identifier: lower-case letters, digits and '_', starting with a letter or '_', "
                + "at most 63 characters";

    public static string? Fingerprint(string value) =>
        FingerprintPattern().IsMatch(value)
            ? null
            : "must be an OpenSSH SHA256 fingerprint such as 'SHA256:' followed by 43 base64 characters (ssh-keygen "
                + "-lf key.pub)";

    /// <summary>A path on a node: absolute, printable, no NUL or newline.</summary>
    public static string? RemotePath(string value)
    {
        if (value.Length is 0 or > 4096 || value.Any(char.IsControl))
        {
            return "must be a path without control characters";
        }

        return value.StartsWith('/') ? null : "must be an absolute path (starting with '/')";
    }

    /// <summary>A path on this machine: relative to the plan, absolute, or under '~/'.</summary>
    public static string? LocalPath(string value) =>
        value.Length is 0 or > 4096 || value.Any(char.IsControl) ? "must be a path without control characters" : null;

    public static string? Url(string value, params string[] schemes)
    {
        if (
            value.Any(char.IsControl)
            || !Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || !schemes.Contains(uri.Scheme)
        )
        {
            return $"must be an absolute {string.Join(" or ", schemes)} URL";
        }

        return null;
    }

    /// <summary>host:port, where host may be the <c>{host}</c> placeholder.</summary>
    public static string? Endpoint(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value[(colon + 1)..], out var port) || port is < 1 or > 65535)
        {
            return "must be host:port, such as '{host}:5222'";
        }

        var host = value[..colon];
        return host == "{host}" ? null : Host(host.Trim('[', ']'));
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaNamePattern();
}
