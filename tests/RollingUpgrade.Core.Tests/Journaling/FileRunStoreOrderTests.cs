using Microsoft.Extensions.Time.Testing;
using RollingUpgrade.Journaling;

namespace RollingUpgrade.Tests.Journaling;

/// <summary>
/// The file store lists a cluster's runs oldest first, as the PostgreSQL store does: run ids name their start to the
/// second and then a random suffix, so two runs begun in the same second are put in order by their journals.
/// </summary>
public sealed class FileRunStoreOrderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ru-file-store-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Begin(FileRunStore store, string runId, DateTimeOffset at)
    {
        using var journal = Journal.Open(
            store.Open("prod").JournalPath(runId),
            new FakeTimeProvider(at),
            new SecretRedactor()
        );
        journal.Append(new JournalRecord { Type = JournalTypes.RunStarted });
    }

    [Fact(Timeout = 10_000)]
    public async Task Runs_begun_in_the_same_second_are_listed_in_the_order_they_began()
    {
        var store = new FileRunStore(_root);
        var second = new DateTimeOffset(2026, 12, 1, 0, 15, 0, TimeSpan.Zero);
        // Begun in this order; the later two in the same second, their suffixes sorting against it.
        Begin(store, "20261201T001459Z-888888", second.AddMilliseconds(-300));
        Begin(store, "20261201T001500Z-ffffff", second.AddMilliseconds(100));
        Begin(store, "20261201T001500Z-000000", second.AddMilliseconds(700));
        Begin(store, "20261201T001501Z-111111", second.AddSeconds(1));

        (await store.RunIdsAsync("prod")).ShouldBe([
            "20261201T001459Z-888888",
            "20261201T001500Z-ffffff",
            "20261201T001500Z-000000",
            "20261201T001501Z-111111",
        ]);
    }

    [Fact(Timeout = 10_000)]
    public async Task A_run_whose_journal_has_no_whole_record_yet_comes_last_of_its_second()
    {
        var store = new FileRunStore(_root);
        var second = new DateTimeOffset(2026, 12, 1, 0, 15, 0, TimeSpan.Zero);
        Begin(store, "20261201T001500Z-ffffff", second.AddMilliseconds(100));
        await File.WriteAllTextAsync(store.Open("prod").JournalPath("20261201T001500Z-000000"), "{\"seq\":1,\"at");

        (await store.RunIdsAsync("prod")).ShouldBe(["20261201T001500Z-ffffff", "20261201T001500Z-000000"]);
        (await new FileRunStore(Path.Combine(_root, "none")).RunIdsAsync("prod")).ShouldBeEmpty();
    }
}
