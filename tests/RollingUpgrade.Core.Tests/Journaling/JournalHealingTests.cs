using System.Text;
using Microsoft.Extensions.Time.Testing;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Tests.Journaling;

/// <summary>A crash mid-write leaves a torn last line; the journal heals it. Damage anywhere else is refused by line.</summary>
public sealed class JournalHealingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ru-journal-").FullName;

    private string PathOf(string name) => Path.Combine(_folder, name + ".jsonl");

    private static void Write(string path, int records)
    {
        using var journal = Journal.Open(path, new FakeTimeProvider(), new SecretRedactor());
        for (var i = 0; i < records; i++)
        {
            journal.Append(
                new JournalRecord
                {
                    Type = JournalTypes.Fact,
                    Data = new() { ["key"] = "k", ["value"] = $"v{i}" },
                }
            );
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task A_torn_last_line_is_cut_before_the_next_record_is_appended()
    {
        var path = PathOf("torn");
        Write(path, 2);
        await File.AppendAllTextAsync(path, "{\"seq\":3,\"at\":\"2026-11-29T10:00:00+00:00\",\"type\":\"ste");

        Journal.Read(path).Count.ShouldBe(2);
        Write(path, 1);

        var lines = (await File.ReadAllTextAsync(path)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(3);
        lines.ShouldNotContain(l => l.Contains("\"ste", StringComparison.Ordinal));
        var records = Journal.Read(path);
        records.Select(r => r.Sequence).ShouldBe([1, 2, 3]);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_damaged_line_in_the_middle_is_refused_with_its_line_number()
    {
        var path = PathOf("middle");
        Write(path, 3);
        var lines = (await File.ReadAllTextAsync(path)).Split('\n').ToList();
        lines[1] = "this is not json";
        await File.WriteAllTextAsync(path, string.Join('\n', lines));

        var error = Should.Throw<JournalCorruptException>(() => Journal.Read(path));

        error.Line.ShouldBe(2);
        error.Message.ShouldContain($"{path}:2:");
        error.Message.ShouldContain("move it aside");
    }

    [Fact(Timeout = 10_000)]
    public async Task A_file_of_random_bytes_is_refused_and_never_appended_to()
    {
        var path = PathOf("random");
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        await File.WriteAllBytesAsync(path, bytes);

        Should.Throw<JournalCorruptException>(() => Journal.Read(path));
        Should.Throw<JournalCorruptException>(() => Journal.Open(path, new FakeTimeProvider(), new SecretRedactor()));
        (await File.ReadAllBytesAsync(path)).ShouldBe(bytes);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_valid_record_glued_to_garbage_is_not_taken_for_a_record()
    {
        var path = PathOf("glued");
        Write(path, 1);
        await File.AppendAllTextAsync(
            path,
            "{\"seq\":2,\"at\":\"2026-11-29T10:00:00+00:00\",\"ty{\"seq\":3}\n",
            Encoding.UTF8
        );

        Should.Throw<JournalCorruptException>(() => Journal.Read(path)).Line.ShouldBe(2);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
