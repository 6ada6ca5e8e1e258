using System.Text;
using System.Text.Json;

namespace RollingUpgrade.Journaling;

/// <summary>
/// An append-only JSON Lines file, one per run. Each record is flushed to disk (fsync) before
/// the call returns, so a crash never loses a step that was reported as done.
/// </summary>
public sealed class Journal : IJournalWriter, IDisposable
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

    public string Location => Path;

    public static Journal Open(string path, TimeProvider time, SecretRedactor redactor)
    {
        ArgumentNullException.ThrowIfNull(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var existing = File.Exists(path) ? Read(path) : [];
        var stream = new FileStream(
            path,
            FileMode.OpenOrCreate,
            FileAccess.Write,
            FileShare.Read,
            4096,
            FileOptions.WriteThrough
        );
        try
        {
            TruncateTornTail(path, stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return new Journal(path, stream, time, redactor, existing.Count == 0 ? 0 : existing[^1].Sequence);
    }

    /// <summary>
    /// A crash mid-write leaves a last line without its newline. It is cut off (and the cut made
    /// durable) before anything is appended, so the next record never glues onto it.
    /// </summary>
    private static void TruncateTornTail(string path, FileStream stream)
    {
        var length = stream.Length;
        if (length == 0)
        {
            return;
        }

        using (var read = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            var keep = length;
            var buffer = new byte[1];
            while (keep > 0)
            {
                read.Position = keep - 1;
                read.ReadExactly(buffer);
                if (buffer[0] == (byte)'\n')
                {
                    break;
                }

                keep--;
            }

            if (keep != length)
            {
                stream.SetLength(keep);
                stream.Flush(flushToDisk: true);
            }
        }

        stream.Seek(0, SeekOrigin.End);
    }

    public JournalRecord Append(JournalRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_gate)
        {
            var stamped = Stamp(record, ++_sequence, _time.GetUtcNow(), RunId, _redactor);
            var line = JsonSerializer.Serialize(stamped, Options) + "\n";
            _stream.Write(Encoding.UTF8.GetBytes(line));
            _stream.Flush(flushToDisk: true);
            return stamped;
        }
    }

    /// <summary>
    /// A record as every journal writes it: its sequence number, time and run, with the secrets the redactor knows
    /// replaced in its message and data.
    /// </summary>
    public static JournalRecord Stamp(
        JournalRecord record,
        long sequence,
        DateTimeOffset at,
        string runId,
        SecretRedactor redactor
    )
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(redactor);
        return record with
        {
            Sequence = sequence,
            At = at,
            RunId = runId,
            Message = record.Message is null ? null : redactor.Redact(record.Message),
            Data = record.Data?.ToDictionary(kv => kv.Key, kv => redactor.Redact(kv.Value)),
        };
    }

    /// <summary>
    /// Reads a journal. A torn last line (a crash mid-write, no newline after it) is ignored; any
    /// other line that is not a journal record is refused with <see cref="JournalCorruptException"/>
    /// naming it, never taken for something it is not.
    /// </summary>
    public static IReadOnlyList<JournalRecord> Read(string path)
    {
        var records = new List<JournalRecord>();
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }

        var text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetString(
            bytes
        );
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var torn = i == lines.Length - 1;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (torn)
            {
                // The last piece has no newline after it: the process died while writing it. Only
                // the start of a record can be torn; anything else is damage.
                if (!line.StartsWith("{\"seq\":", StringComparison.Ordinal))
                {
                    throw new JournalCorruptException(path, i + 1, "not the start of a journal record");
                }

                continue;
            }

            JournalRecord? record;
            try
            {
                record = JsonSerializer.Deserialize<JournalRecord>(line, Options);
            }
            catch (JsonException e)
            {
                throw new JournalCorruptException(path, i + 1, e.Message);
            }

            if (record is null || string.IsNullOrEmpty(record.Type))
            {
                throw new JournalCorruptException(path, i + 1, "not a journal record");
            }

            records.Add(record);
        }

        return records;
    }

    /// <summary>
    /// When a journal's first record was written (the run's start), or null when the first line is not a whole record
    /// (a torn one is not valid JSON).
    /// </summary>
    public static DateTimeOffset? FirstRecordAt(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, new UTF8Encoding(false));
        if (reader.ReadLine() is not { } line)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<JournalRecord>(line, Options) is { Type.Length: > 0 } record
                ? record.At
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _stream.Dispose();
}
