using System.Text.Json;
using Parley.Tests.Support;

namespace Parley.Tests.EndToEnd;

/// <summary>
/// The real <c>parley-bench</c> (issue #8), run briefly so that a change that breaks the tool shows up here rather than
/// on the day someone measures. These tests assert that each workload does its work and reports it (messages delivered
/// and timed, every history message arriving, log-ons without failures), never how fast: timing targets belong to
/// the benchmark, not to a test on a loaded machine.
/// </summary>
public sealed class LoadGeneratorTests
{
    private static string Executable => Path.Combine(AppContext.BaseDirectory, "parley-bench");

    [Fact]
    public async Task Relay_delivers_timed_messages_through_a_real_server_and_writes_the_report()
    {
        // Open loop at a low rate: the schedule and its tokens are exercised, and the test leaves the CPUs to the others.
        var report = await RunAsync("relay", "--pairs", "2", "--rate", "200", "--warmup", "0.5", "--duration", "1");

        var run = Assert.Single(report.GetProperty("runs").EnumerateArray());
        Assert.Equal("relay", run.GetProperty("workload").GetString());
        Assert.Equal("parley", run.GetProperty("target").GetString());
        var metrics = run.GetProperty("metrics");
        Assert.True(metrics.GetProperty("delivered").GetDouble() > 0, run.ToString());
        Assert.True(metrics.GetProperty("offered_per_s").GetDouble() > 100, run.ToString());
        Assert.True(metrics.GetProperty("p50_us").GetDouble() > 0, run.ToString());
        Assert.True(metrics.GetProperty("p99_us").GetDouble() >= metrics.GetProperty("p50_us").GetDouble(), run.ToString());
        // The server ran on this machine, so its CPU time and memory were read from /proc.
        Assert.True(metrics.GetProperty("server_rss_bytes").GetDouble() > 0, run.ToString());
        Assert.Empty(run.GetProperty("notes").EnumerateArray());
    }

    [Fact]
    public async Task History_fetches_every_stored_message_and_log_ons_succeed()
    {
        var history = await RunAsync("history", "--messages", "300", "--repeats", "1");
        var logOns = await RunAsync("logons", "--users", "4", "--concurrency", "2", "--warmup", "0.5", "--duration", "1");

        var fetched = Assert.Single(history.GetProperty("runs").EnumerateArray()).GetProperty("metrics");
        Assert.Equal(300, fetched.GetProperty("history_messages").GetDouble());
        Assert.True(fetched.GetProperty("history_ms").GetDouble() > 0);
        var logged = Assert.Single(logOns.GetProperty("runs").EnumerateArray()).GetProperty("metrics");
        Assert.True(logged.GetProperty("logons_per_s").GetDouble() > 0, logged.ToString());
        Assert.Equal(0, logged.GetProperty("failures").GetDouble());
    }

    [Fact]
    public async Task Soak_sends_every_message_kind_and_accounts_for_every_message_it_owes()
    {
        // Four clients for eight seconds (issue #9's soak, briefly): the mix sends each kind nobody has sent yet first,
        // so all of them go, and a user who logs off is sent DMs while away. The tool itself exits non-zero on any
        // loss, duplicate, ERROR, exception or unexpected close; the test checks that it judged deliveries at all.
        var report = await RunAsync("soak", "--clients", "4", "--duration", "8", "--rss-interval", "1");

        var run = Assert.Single(report.GetProperty("runs").EnumerateArray());
        Assert.Equal("soak", run.GetProperty("workload").GetString());
        var metrics = run.GetProperty("metrics");
        string[] kinds = ["CHAT_REQUEST", "CHAT", "END_REQUEST", "DM", "DM_ACK", "TALK", "READ", "HISTORY_REQ", "LIST_REQ", "JOIN", "SAY", "PART",
            "ROOMS", "KEYS_GET", "KEYS_PUT", "LISTEN", "LOOKUP_REQUEST", "PING", "PASSWD", "LOG_OFF"];
        Assert.All(kinds, kind => Assert.True(metrics.GetProperty("sent_" + kind).GetDouble() > 0, $"no {kind} sent: {run}"));
        Assert.Equal(1, metrics.GetProperty("passed").GetDouble());
        string[] zero = ["problems", "dm_lost", "dm_duplicated", "chat_lost", "chat_duplicated", "history_missing", "history_duplicated", "history_unexpected",
            "say_lost", "say_duplicated"];
        Assert.All(zero, name => Assert.True(metrics.GetProperty(name).GetDouble() == 0, $"{name}: {run}"));
        Assert.True(metrics.GetProperty("dm_confirmed").GetDouble() > 0, run.ToString());
        Assert.True(metrics.GetProperty("dm_offline").GetDouble() > 0, run.ToString());
        Assert.True(metrics.GetProperty("chat_sent").GetDouble() > 0 && metrics.GetProperty("history_chats").GetDouble() > 0, run.ToString());
        Assert.True(metrics.GetProperty("say_expected").GetDouble() > 0, run.ToString());
        // The server's memory was read as it ran, but eight seconds are all warm-up: the trend is reported, not judged.
        Assert.True(run.GetProperty("series").GetProperty("rss_mib").GetArrayLength() >= 2, run.ToString());
        Assert.Equal(-1, metrics.GetProperty("rss_flat").GetDouble());
    }

    [Fact]
    public async Task A_soak_without_a_peer_for_anyone_is_refused_with_a_reason()
    {
        await using var bench = ParleyProcess.StartExecutable(Executable, new Dictionary<string, string?>(), "bench", "soak", "--clients", "1");

        Assert.Equal(1, await bench.WaitForExitAsync());
        Assert.Contains("--clients must be at least 2", bench.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_payload_too_small_for_the_timestamp_is_refused_with_a_reason()
    {
        await using var bench = ParleyProcess.StartExecutable(Executable, new Dictionary<string, string?>(), "bench", "relay", "--size", "8");

        Assert.Equal(1, await bench.WaitForExitAsync());
        Assert.Contains("--size at least 17", bench.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Runs one workload with <c>--json</c> and returns the report it wrote.</summary>
    private static async Task<JsonElement> RunAsync(params string[] args)
    {
        var json = Path.Combine(Path.GetTempPath(), $"parley-bench-{Guid.NewGuid():N}.json");
        try
        {
            await using var bench = ParleyProcess.StartExecutable(Executable, new Dictionary<string, string?>(), "bench", [.. args, "--json", json]);
            Assert.True(await bench.WaitForExitAsync() == 0, $"parley-bench {string.Join(' ', args)} failed:\n{string.Join('\n', bench.Lines)}\n{bench.Stderr}");
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(json));
            return document.RootElement.Clone();
        }
        finally
        {
            File.Delete(json);
        }
    }
}
