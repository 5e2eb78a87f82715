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
