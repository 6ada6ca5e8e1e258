namespace RollingUpgrade.Plans.Model;

public static class GateKinds
{
    public const string Membership = "membership";
    public const string Status = "status";
    public const string Version = "version";
    public const string Command = "command";
    public const string Http = "http";
    public const string Tcp = "tcp";
    public const string XmppLogin = "xmpp-login";
    public const string LoadBalancerErrors = "lb-errors";
    public const string Prometheus = "prometheus";

    public static readonly IReadOnlyList<string> All =
    [
        Membership,
        Status,
        Version,
        Command,
        Http,
        Tcp,
        XmppLogin,
        LoadBalancerErrors,
        Prometheus,
    ];
}
