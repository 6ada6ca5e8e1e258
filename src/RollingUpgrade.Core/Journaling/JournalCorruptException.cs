namespace RollingUpgrade.Journaling;

/// <summary>
/// A journal line other than a torn last one is not a journal record: the file was damaged
/// outside the tool (an editor, a disk fault, another program). Nothing is guessed from it.
/// </summary>
public sealed class JournalCorruptException(string path, int line, string detail)
    : BadStateException(
        $"{path}:{line}: this journal line is not a journal record ({detail}); "
            + "the file was changed outside rollingupgrade. Restore it from a copy, or move it aside "
            + "and check the cluster with `rollingupgrade status` before starting a new run"
    )
{
    public string Path { get; } = path;

    public int Line { get; } = line;
}
