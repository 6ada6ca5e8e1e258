using System.Text.RegularExpressions;

namespace RollingUpgrade.Journaling;

/// <summary>
/// Where a cluster's runs live: <c>&lt;state&gt;/&lt;cluster&gt;/runs/&lt;run-id&gt;.jsonl</c>, the
/// <c>current</c> pointer to the latest run, and the lock.
/// </summary>
public sealed partial class StateDirectory(string root, string cluster)
{
    public string Root { get; } = root;

    public string ClusterFolder { get; } = Path.Combine(root, cluster);

    public string RunsFolder => Path.Combine(ClusterFolder, "runs");

    public string LockPath => Path.Combine(ClusterFolder, "lock");

    public string CurrentPath => Path.Combine(ClusterFolder, "current");

    public string PromotePath => Path.Combine(ClusterFolder, "promote");

    public string RollbackRequestPath => Path.Combine(ClusterFolder, "rollback-requested");

    public string PauseRequestPath => Path.Combine(ClusterFolder, "pause-requested");

    public string ContinueRequestPath => Path.Combine(ClusterFolder, "continue-requested");

    public static string DefaultRoot(string planPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(planPath)) ?? ".", ".rollingupgrade");

    /// <summary>
    /// The state folder of a cluster, checked before anything reads or writes it: every folder on the
    /// way is a folder (or a link to one) and the <c>current</c> pointer names a journal in <c>runs</c>.
    /// </summary>
    /// <exception cref="StateFolderException">a path is not what the tool made there.</exception>
    public static StateDirectory Open(string root, string cluster)
    {
        var state = new StateDirectory(root, cluster);
        foreach (var folder in new[] { state.Root, state.ClusterFolder, state.RunsFolder })
        {
            CheckFolder(folder);
        }

        _ = state.CurrentRunId();
        return state;
    }

    public string JournalPath(string runId) => Path.Combine(RunsFolder, runId + ".jsonl");

    /// <summary>The run the <c>current</c> pointer names, or null when there is none yet.</summary>
    /// <exception cref="StateFolderException">the pointer or its journal leads out of <c>runs</c>.</exception>
    public string? CurrentRunId()
    {
        var pointer = new FileInfo(CurrentPath);
        if (pointer.LinkTarget is { } target)
        {
            throw new StateFolderException(
                CurrentPath,
                $"is a link to {target}; the tool writes it as a plain file holding a run id. Remove it, then "
                    + "`rollingupgrade status` shows the cluster"
            );
        }

        if (!pointer.Exists)
        {
            return null;
        }

        var id = File.ReadAllText(CurrentPath).Trim();
        if (id.Length == 0)
        {
            return null;
        }

        if (!RunIdPattern().IsMatch(id))
        {
            throw new StateFolderException(
                CurrentPath,
                $"holds '{Plans.Binding.TableCursor.Shorten(id)}', which is not a run id (letters, digits, '.', '_' "
                    + "and '-', naming a "
                    + $"journal in {RunsFolder}); it was changed outside rollingupgrade. Write the id of the "
                    + "latest journal there, or remove the file to start afresh"
            );
        }

        var journal = new FileInfo(JournalPath(id));
        if (journal.LinkTarget is { } journalTarget)
        {
            throw new StateFolderException(
                journal.FullName,
                $"is a link to {journalTarget}: a journal is a plain file inside {RunsFolder}, never a link "
                    + "that may lead outside it. Put the journal itself there"
            );
        }

        return id;
    }

    public void SetCurrent(string runId)
    {
        Directory.CreateDirectory(ClusterFolder);
        var temp = CurrentPath + ".tmp";
        File.WriteAllText(temp, runId);
        File.Move(temp, CurrentPath, overwrite: true);
    }

    private static void CheckFolder(string path)
    {
        var entry = new FileInfo(path);
        if (entry.LinkTarget is { } target)
        {
            var final = entry.ResolveLinkTarget(returnFinalTarget: true)?.FullName;
            if (final is null || !Path.Exists(final))
            {
                throw new StateFolderException(
                    path,
                    $"is a link to {target}, which does not exist. Create that folder, remove the link, or "
                        + "choose another folder with --state-dir"
                );
            }

            if (!Directory.Exists(final))
            {
                throw new StateFolderException(
                    path,
                    $"is a link to {target}, which is a file, not a folder. Point the link at a folder or "
                        + "choose another one with --state-dir"
                );
            }

            return;
        }

        if (entry.Exists)
        {
            throw new StateFolderException(
                path,
                "is a file, not a folder: the tool keeps its journals and lock there. Move the file aside or "
                    + "choose another folder with --state-dir"
            );
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex RunIdPattern();
}
