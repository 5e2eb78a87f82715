using System.Diagnostics;

namespace Parley.LoadGenerator.Relay;

/// <summary>
/// Every latency of a run, kept exactly (no histogram library is available here, and a 10-second run at 200k msg/s is
/// 16 MB of longs), then sorted once for the percentiles.
/// </summary>
internal static class LatencySample
{
    /// <summary>p50, p99, p99.9 and max in microseconds, from Stopwatch tick latencies; zeros for no sample.</summary>
    public static (double P50, double P99, double P999, double Max) Percentiles(List<long>[] perPair)
    {
        var all = new long[perPair.Sum(l => l.Count)];
        var at = 0;
        foreach (var list in perPair)
        {
            list.CopyTo(all, at);
            at += list.Count;
        }

        if (all.Length == 0)
        {
            return (0, 0, 0, 0);
        }

        Array.Sort(all);
        return (Micros(At(all, 0.5)), Micros(At(all, 0.99)), Micros(At(all, 0.999)), Micros(all[^1]));
    }

    // Nearest rank: the smallest value with at least q of the sample at or below it.
    private static long At(long[] sorted, double q) => sorted[Math.Max(0, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static double Micros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}
