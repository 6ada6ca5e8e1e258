namespace RollingUpgrade.Plans.Model;

public static class NotifyFormats
{
    public const string Json = "json";
    public const string Slack = "slack";

    public static readonly string[] All = [Json, Slack];
}
