namespace RollingUpgrade.Execution;

/// <summary>
/// The config backup of one node for one run: every file the node reads at start is copied into a folder named
/// after the run (inside the node's backup root), compared, and older runs' folders beyond the retention are
/// removed, all in one round trip. Files that need not exist are passed with a leading '?'.
/// </summary>
internal static class ConfigBackup
{
    /// <summary>Exit 0: every backup already held its file; 10: copied; 11: cp failed; 12: copy differs; 13: a
    /// required file is missing. Prints "removed FOLDER" for each older run's folder it removed.</summary>
    public static IReadOnlyList<string> Save(
        string folder,
        int keep,
        IReadOnlyList<(string Path, bool Required)> files
    ) =>
        [
            "sh",
            "-c",
            """
                d=$1; keep=$2; shift 2
                mkdir -p -- "$d" || exit 11
                copied=0
                for f in "$@"; do
                  case $f in
                    '?'*) f=${f#?}; [ -e "$f" ] || continue ;;
                    *) [ -e "$f" ] || { echo "$f does not exist" >&2; exit 13; } ;;
                  esac
                  b="$d/${f##*/}"
                  if cmp -s -- "$f" "$b"; then continue; fi
                  cp -p -- "$f" "$b" || exit 11
                  cmp -s -- "$f" "$b" || { echo "$b differs from $f after copying" >&2; exit 12; }
                  copied=1
                done
                root=${d%/*}; run=${d##*/}; n=0
                for r in $(ls -1 -- "$root" | grep -E '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]+$' | sort -r); do
                  n=$((n + 1))
                  if [ "$r" = "$run" ] || [ "$n" -le "$keep" ]; then continue; fi
                  rm -rf -- "${root:?}/$r" && echo "removed $root/$r"
                done
                [ "$copied" = 1 ] && exit 10
                exit 0
                """,
            "rollingupgrade-backup",
            folder,
            keep.ToString(System.Globalization.CultureInfo.InvariantCulture),
            .. Arguments(files),
        ];

    /// <summary>
    /// Prints each file that differs from its backup (one per line); exit 13 when the first file's backup is
    /// missing.
    /// </summary>
    public static IReadOnlyList<string> Changed(string folder, IReadOnlyList<(string Path, bool Required)> files) =>
        [
            "sh",
            "-c",
            """
                d=$1; shift; first=1
                for f in "$@"; do
                  f=${f#\?}; b="$d/${f##*/}"
                  if [ ! -e "$b" ]; then [ "$first" = 1 ] && exit 13; first=0; continue; fi
                  first=0
                  cmp -s -- "$f" "$b" || echo "$f"
                done
                exit 0
                """,
            "rollingupgrade-changed",
            folder,
            .. Arguments(files),
        ];

    /// <summary>Copies every backup back over its file: exit 10 done; 11 cp failed; 12 differs; 13 no backup.</summary>
    public static IReadOnlyList<string> Restore(string folder, IReadOnlyList<(string Path, bool Required)> files) =>
        [
            "sh",
            "-c",
            """
                d=$1; shift; first=1
                for f in "$@"; do
                  f=${f#\?}; b="$d/${f##*/}"
                  if [ ! -e "$b" ]; then
                    [ "$first" = 1 ] && { echo "no backup $b" >&2; exit 13; }
                    first=0; continue
                  fi
                  first=0
                  if cmp -s -- "$b" "$f"; then continue; fi
                  cp -p -- "$b" "$f" || exit 11
                  cmp -s -- "$b" "$f" || { echo "$f differs from $b after copying" >&2; exit 12; }
                done
                exit 10
                """,
            "rollingupgrade-restore",
            folder,
            .. Arguments(files),
        ];

    private static IEnumerable<string> Arguments(IReadOnlyList<(string Path, bool Required)> files) =>
        files.Select(f => f.Required ? f.Path : "?" + f.Path);
}
