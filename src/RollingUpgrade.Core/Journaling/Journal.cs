using System.Text;
using System.Text.Json;

namespace RollingUpgrade.Journaling;

/// <summary>
/// An append-only JSON Lines file, one per run. Each record is flushed to disk (fsync) before
/// the call returns, so a crash never loses a step that was reported as done.
/// </summary>
public sealed class Journal : IDisposable
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = false };
    private readonly FileStream _stream;
    private readonly TimeProvider _time;
    private readonly SecretRedactor _redactor;
    private readonly Lock _gate = new();
    private long _sequence;

    private Journal(string path, FileStream stream, TimeProvider time, SecretRedactor redactor, long sequence)
    {
        Path = path;
        _stream = stream;
        _time = time;
        _redactor = redactor;
        _sequence = sequence;
    }

    public string Path { get; }

    public string RunId => System.IO.Path.GetFileNameWithoutExtension(Path);

    public static Journal Open(string path, TimeProvider time, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var existing = File.Exists(path) ? Read(path) : [];
        var stream = new FileStream(
            path,
            FileMode.Append,
            FileAccess.Write,
            FileShare.Read,
            4096,
            FileOptions.WriteThrough
        );
        return new Journal(path, stream, time, redactor, existing.Count == 0 ? 0 : existing[^1].Sequence);
    }

    public JournalRecord Append(JournalRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            var stamped = record with
            {
                Sequence = ++_sequence,
                At = _time.GetUtcNow(),
                RunId = RunId,
                Message = record.Message is null ? null : _redactor.Redact(record.Message),
                Data = record.Data?.ToDictionary(kv => kv.Key, kv => _redactor.Redact(kv.Value)),
            };
            var line = JsonSerializer.Serialize(stamped, Options) + "\n";
            _stream.Write(Encoding.UTF8.GetBytes(line));
            _stream.Flush(flushToDisk: true);
            return stamped;
        }
    }

    /// <summary>Reads a journal; a torn last line (a crash mid-write) is ignored.</summary>
    public static IReadOnlyList<JournalRecord> Read(string path)
    {
        var records = new List<JournalRecord>();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize<JournalRecord>(line, Options) is { } record)
                {
                    records.Add(record);
                }
            }
            catch (JsonException) when (reader.Peek() < 0)
            {
                // The last line was being written when the process died.
            }
        }

        return records;
    }

    public void Dispose() => _stream.Dispose();
}
