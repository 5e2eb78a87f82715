using System.CommandLine;
using Parley.LoadGenerator.Relay;
using Parley.LoadGenerator.Reporting;
using Parley.LoadGenerator.Workloads;
using O = Parley.LoadGenerator.BenchOptions;

namespace Parley.LoadGenerator;

/// <summary>
/// <c>parley-bench suite</c>: every figure docs/PERFORMANCE.md reports, in one run on one machine, so the ratios to
/// InspIRCd compare like with like. Saturation first (closed loop, both servers, the given size and an envelope-sized
/// 500 bytes), then an open-loop sweep at fractions of InspIRCd's saturation rate for both servers (the chart, and
/// the "p99 at half of InspIRCd's saturation"), then Parley's idle connections, log-ons and history.
/// </summary>
internal static class BenchSuite
{
    // An end-to-end envelope of a short line is about 500 characters (docs/PERFORMANCE.md); an IRC line carries at most
    // about 470 bytes of text once the server has put the sender's prefix in front (RFC 2812 §2.3), so both servers
    // get 450 bytes in the envelope-sized runs.
    private const int EnvelopeSize = 450;
    private static readonly double[] Fractions = [0.1, 0.25, 0.5, 0.75, 0.9];

    public static async Task RunAsync(ParseResult result, BenchReport report, CancellationToken cancellationToken)
    {
        var size = result.GetValue(O.Size);
        Console.Error.WriteLine("Saturation (closed loop)");
        var irc = await Add(report, BenchCommands.RunRelayAsync(result, RelayTargets.InspIrcd, null, size, cancellationToken)).ConfigureAwait(false);
        await Add(report, BenchCommands.RunRelayAsync(result, RelayTargets.Parley, null, size, cancellationToken)).ConfigureAwait(false);
        await Add(report, BenchCommands.RunRelayAsync(result, RelayTargets.InspIrcd, null, EnvelopeSize, cancellationToken)).ConfigureAwait(false);
        await Add(report, BenchCommands.RunRelayAsync(result, RelayTargets.Parley, null, EnvelopeSize, cancellationToken)).ConfigureAwait(false);

        var saturation = irc.Metrics[MetricNames.MessagesPerSecond];
        Console.Error.WriteLine($"Latency at fractions of InspIRCd's {saturation:#,0} msg/s (open loop)");
        foreach (var fraction in Fractions)
        {
            var rate = Math.Round(saturation * fraction);
            await Add(report, BenchCommands.RunRelayAsync(result, RelayTargets.InspIrcd, rate, size, cancellationToken)).ConfigureAwait(false);
            await Add(report, BenchCommands.RunRelayAsync(result, RelayTargets.Parley, rate, size, cancellationToken)).ConfigureAwait(false);
        }

        var exe = result.GetValue(O.ServerExe)!;
        var arguments = result.GetValue(O.ServerArgs)!;
        var warmup = TimeSpan.FromSeconds(result.GetValue(O.Warmup));
        Console.Error.WriteLine("Idle connections, log-ons, history");
        await Add(report, ConnectionsWorkload.RunAsync(exe, result.GetValue(O.Connections), warmup, arguments, cancellationToken)).ConfigureAwait(false);
        await Add(report, LogOnsWorkload.RunAsync(exe, 256, 32, warmup, TimeSpan.FromSeconds(result.GetValue(O.Duration)), arguments, cancellationToken))
            .ConfigureAwait(false);
        await Add(report, HistoryWorkload.RunAsync(exe, 10_000, 500, 5, arguments, cancellationToken)).ConfigureAwait(false);
    }

    private static async Task<RunResult> Add(BenchReport report, Task<RunResult> run)
    {
        var result = await run.ConfigureAwait(false);
        report.Runs.Add(result);
        return result;
    }
}
