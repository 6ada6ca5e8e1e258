using System.Globalization;
using System.Net;

namespace RollingUpgrade.Cli.Metrics;

/// <summary><c>--metrics-listen ADDR:PORT</c>: an IP address (IPv6 in brackets) and a port.</summary>
internal static class ListenAddress
{
    /// <summary>The endpoint, or null and what is wrong with the text.</summary>
    public static (IPEndPoint? EndPoint, string? Problem) Parse(string text)
    {
        const string Expected = "give ADDR:PORT, such as 127.0.0.1:9464 or [::1]:9464 (0.0.0.0 for every address)";
        var colon = (text ?? string.Empty).LastIndexOf(':');
        if (colon <= 0)
        {
            return (null, Expected);
        }

        var host = text![..colon].Trim('[', ']');
        var portText = text[(colon + 1)..];
        if (!IPAddress.TryParse(host, out var address))
        {
            return (null, $"'{host}' is not an IP address; {Expected}");
        }

        if (
            !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535
        )
        {
            return (null, $"'{portText}' is not a port (1-65535); {Expected}");
        }

        return (new IPEndPoint(address, port), null);
    }
}
