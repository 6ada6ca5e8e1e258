namespace RollingUpgrade.LoadBalancers.HAProxy.Runtime;

/// <summary>One row of <c>show stat</c>.</summary>
public sealed class StatRow(IReadOnlyDictionary<string, string> fields)
{
    public string Proxy => this["pxname"];

    public string Name => this["svname"];

    public string Status => this["status"];

    public string this[string column] => fields.TryGetValue(column, out var value) ? value : string.Empty;

    public long Number(string column) =>
        long.TryParse(
            this[column],
            System.Globalization.NumberStyles.Integer,
            System.Globalization.CultureInfo.InvariantCulture,
            out var n
        )
            ? n
            : 0;

    /// <summary>Sessions on the server now, plus requests queued for it.</summary>
    public long Live => Number("scur") + Number("qcur");

    /// <summary>Connection errors and 5xx answers counted for this server.</summary>
    public long Errors => Number("econ") + Number("hrsp_5xx");

    /// <summary>Status prefixes per HAProxy's stats code: "UP 1/2", "DRAIN (agent)", "MAINT (via)"...</summary>
    public bool IsUp =>
        Status.StartsWith("UP", StringComparison.Ordinal)
        || Status == "no check"
        || Status.StartsWith("DRAIN", StringComparison.Ordinal)
        || Status == "NOLB";
}
