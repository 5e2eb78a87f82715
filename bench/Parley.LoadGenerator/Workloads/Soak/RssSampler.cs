using System.Diagnostics;
using Parley.LoadGenerator.Hosting;

namespace Parley.LoadGenerator.Workloads.Soak;

/// <summary>The server's resident memory (VmRSS, /proc) every interval while the soak runs.</summary>
internal sealed class RssSampler(int processId)
{
    private readonly List<RssSample> _samples = [];

    public IReadOnlyList<RssSample> Samples => _samples;

    /// <summary>Samples now, then every <paramref name="interval"/> until <paramref name="stop"/>, and once more then; each sample is passed to <paramref name="progress"/>.</summary>
    public async Task RunAsync(TimeSpan interval, Action<RssSample> progress, CancellationToken stop)
    {
        var started = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(interval);
        do
        {
            Take(started, progress);
        }
        while (await Tick(timer, stop).ConfigureAwait(false));

        Take(started, progress);
    }

    private void Take(long started, Action<RssSample> progress)
    {
        var sample = new RssSample(Stopwatch.GetElapsedTime(started).TotalSeconds, ProcessStats.RssBytes(processId));
        _samples.Add(sample);
        progress(sample);
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken stop)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}

/// <summary>One reading: seconds since the load started, and the server's RSS in bytes.</summary>
internal sealed record RssSample(double Seconds, long Bytes);

/// <summary>
/// Whether the server's memory stayed flat. The first half of the run is warm-up (the runtime's heaps and caches,
/// SQLite's page cache and the connections' buffers grow to their working size); the verdict compares the second
/// half's start with its end, each the median of its first or last three samples so that one garbage collection does
/// not decide it. Flat means that growth is at most <see cref="AllowedFraction"/> of the mid-run RSS, and at least
/// <see cref="AllowedFloorBytes"/> is always allowed (GC heap sizing alone moves RSS by a few MiB). Runs shorter than
/// <see cref="SoakParameters.MinimumJudgedDuration"/>, or with fewer than six samples in their second half, are not judged.
/// </summary>
internal sealed record RssTrend(double StartMiB, double MidMiB, double EndMiB, double MaxMiB, double GrowthMiB, double SlopeMiBPerMinute, bool? Flat)
{
    public const double AllowedFraction = 0.10;
    public const long AllowedFloorBytes = 8L << 20;

    public string Verdict => Flat switch { true => "flat", false => "GROWING", null => "not judged (run too short)" };

    public static RssTrend From(IReadOnlyList<RssSample> samples, TimeSpan duration)
    {
        if (samples.Count == 0)
        {
            return new RssTrend(0, 0, 0, 0, 0, 0, null);
        }

        var half = samples[^1].Seconds / 2;
        var second = samples.Where(s => s.Seconds >= half).ToArray();
        var mid = MiB(Median(second.Take(3)));
        var end = MiB(Median(second.TakeLast(3)));
        var growth = end - mid;
        bool? flat = duration < SoakParameters.MinimumJudgedDuration || second.Length < 6
            ? null
            : growth <= Math.Max(AllowedFraction * mid, MiB(AllowedFloorBytes));
        return new RssTrend(MiB(samples[0].Bytes), mid, end, MiB(samples.Max(s => s.Bytes)), growth, Slope(second) * 60, flat);
    }

    private static double Median(IEnumerable<RssSample> samples)
    {
        var sorted = samples.Select(s => (double)s.Bytes).Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Least-squares slope in MiB per second.</summary>
    private static double Slope(RssSample[] samples)
    {
        if (samples.Length < 2)
        {
            return 0;
        }

        var meanX = samples.Average(s => s.Seconds);
        var meanY = samples.Average(s => MiB(s.Bytes));
        var covariance = samples.Sum(s => (s.Seconds - meanX) * (MiB(s.Bytes) - meanY));
        var variance = samples.Sum(s => (s.Seconds - meanX) * (s.Seconds - meanX));
        return variance == 0 ? 0 : covariance / variance;
    }

    private static double MiB(double bytes) => bytes / (1024 * 1024);
}
