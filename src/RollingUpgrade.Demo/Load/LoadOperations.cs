namespace RollingUpgrade.Demo.Load;

/// <summary>Operation names the load driver records.</summary>
public static class LoadOperations
{
    public const string Connect = "connect";
    public const string Login = "login";
    public const string Ping = "ping";
    public const string Http = "http";

    /// <summary>The server ended a session: Detail is "stream-close" (clean) or "tcp-reset" (bare).</summary>
    public const string Disconnect = "disconnect";
}
