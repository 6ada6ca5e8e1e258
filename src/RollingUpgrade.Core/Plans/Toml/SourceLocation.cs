namespace RollingUpgrade.Plans.Toml;

/// <summary>A 1-based line and column in a plan file.</summary>
public readonly record struct SourceLocation(string File, int Line, int Column) : IComparable<SourceLocation>
{
    public int CompareTo(SourceLocation other)
    {
        var byLine = Line.CompareTo(other.Line);
        return byLine != 0 ? byLine : Column.CompareTo(other.Column);
    }

    public override string ToString() => $"{File}:{Line}:{Column}";

    /// <summary>"line 12", for a second place in the same file.</summary>
    public string LineText => $"line {Line}";
}
