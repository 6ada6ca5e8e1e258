using System.Globalization;
using System.Text.RegularExpressions;

namespace RollingUpgrade.Plans.Model;

/// <summary>
/// A metric gate's condition, such as <c>result &lt; 0.01</c>: every series the query returns must satisfy it.
/// </summary>
public sealed partial record MetricCondition(string Operator, double Threshold)
{
    public static readonly string[] Operators = ["<", "<=", ">", ">=", "==", "!="];

    /// <summary>The condition, or null and why it cannot be read.</summary>
    public static (MetricCondition? Condition, string? Problem) Parse(string text)
    {
        var match = Pattern().Match(text ?? string.Empty);
        if (
            !match.Success
            || !double.TryParse(
                match.Groups["value"].Value,
                NumberStyles.Float,
                CultureInfo.InvariantCulture,
                out var threshold
            )
            || !double.IsFinite(threshold)
        )
        {
            return (null, "must read 'result OP NUMBER' with OP one of < <= > >= == != (for example 'result < 0.01')");
        }

        return (new MetricCondition(match.Groups["op"].Value, threshold), null);
    }

    public bool Holds(double value) =>
        Operator switch
        {
            "<" => value < Threshold,
            "<=" => value <= Threshold,
            ">" => value > Threshold,
            ">=" => value >= Threshold,
            "==" => value == Threshold,
            _ => value != Threshold,
        };

    public override string ToString() => $"result {Operator} {Threshold.ToString("G", CultureInfo.InvariantCulture)}";

    [GeneratedRegex(@"^\s*result\s*(?<op><=|>=|==|!=|<|>)\s*(?<value>[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")]
    private static partial Regex Pattern();
}
