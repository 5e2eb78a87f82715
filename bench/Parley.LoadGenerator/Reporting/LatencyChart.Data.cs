using System.Globalization;

namespace Parley.LoadGenerator.Reporting;

/// <summary>The chart's data side: which runs form the sweep and the saturation lines, per target, and the titles.</summary>
internal static partial class LatencyChart
{
    private static bool IsSweepRun(RunResult run) =>
        run.Workload == RelayWorkload && Positive(run.Parameters, RateParameter) is not null;

    // Closed loop: no positive rate asked, so the senders went as fast as the server let them.
    private static bool IsClosedLoopRun(RunResult run) =>
        run.Workload == RelayWorkload && Positive(run.Parameters, RateParameter) is null &&
        Positive(run.Metrics, MetricNames.MessagesPerSecond) is not null;

    private static double? Positive(Dictionary<string, double> values, string key) =>
        values.TryGetValue(key, out var value) && double.IsFinite(value) && value > 0 ? value : null;

    private static List<double> DistinctParameter(List<RunResult> runs, string key) =>
        [.. runs.Select(r => Positive(r.Parameters, key)).OfType<double>().Distinct().Order()];

    private static List<Series> BuildSeries(BenchReport report, List<RunResult> sweepRuns, List<double> pairs, List<double> sizes)
    {
        // Targets in the order the report ran them, so the colours are stable from one report to the next.
        var targets = report.Runs.Where(r => IsSweepRun(r) || IsClosedLoopRun(r)).Select(r => r.Target).Distinct().ToList();
        var series = new List<Series>();
        foreach (var target in targets)
        {
            var points = sweepRuns
                .Where(r => r.Target == target)
                .Select(ToPoint)
                .Where(p => p.P50 is not null || p.P99 is not null)
                .OrderBy(p => p.Offered)
                .ToList();

            // A closed-loop run with other pairs or sizes than the sweep measured another thing; when the sweep used
            // one setting, only the runs with that setting count.
            var saturation = report.Runs
                .Where(r => r.Target == target && IsClosedLoopRun(r))
                .Where(r => SameSetting(r, PairsParameter, pairs) && SameSetting(r, SizeParameter, sizes))
                .Select(r => Positive(r.Metrics, MetricNames.MessagesPerSecond))
                .Max();

            if (points.Count > 0 || saturation is not null)
            {
                series.Add(new Series(target, series.Count, points, saturation));
            }
        }

        return series;
    }

    private static bool SameSetting(RunResult run, string key, List<double> sweepValues) =>
        sweepValues.Count != 1 || Positive(run.Parameters, key) is not { } value || value == sweepValues[0];

    private static SweepPoint ToPoint(RunResult run)
    {
        var offered = Positive(run.Metrics, MetricNames.OfferedPerSecond) ?? Positive(run.Parameters, RateParameter)!.Value;
        var fellBehind = run.Metrics.TryGetValue(MetricNames.MessagesPerSecond, out var delivered) &&
            double.IsFinite(delivered) && delivered < KeepUpShare * offered;
        return new SweepPoint(
            offered,
            Positive(run.Metrics, MetricNames.P50Micros),
            Positive(run.Metrics, MetricNames.P99Micros),
            fellBehind);
    }

    private static string Title(List<double> pairs, List<double> sizes)
    {
        var parts = new List<string>();
        if (pairs.Count > 0)
        {
            parts.Add($"{JoinNumbers(pairs)} {(pairs is [1] ? "pair" : "pairs")}");
        }

        if (sizes.Count > 0)
        {
            parts.Add($"{JoinNumbers(sizes)}-byte messages");
        }

        return parts.Count == 0
            ? "Relay latency against offered rate"
            : $"Relay latency against offered rate ({string.Join(", ", parts)})";
    }

    private static string JoinNumbers(List<double> values) =>
        string.Join("/", values.Select(v => v.ToString("0.##", Inv)));

    private static string Subtitle(BenchReport report)
    {
        var machine = report.Machine;
        var cores = machine.Cores == 1 ? "1 core" : string.Create(Inv, $"{machine.Cores} cores");
        var cpu = Shorten(machine.Cpu.Trim(), 70);
        var date = report.StartedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", Inv);
        return cpu.Length == 0 ? $"{cores} \u00b7 {date}" : $"{cores}, {cpu} \u00b7 {date}";
    }

    private sealed record SweepPoint(double Offered, double? P50, double? P99, bool FellBehind);

    private sealed class Series(string target, int index, List<SweepPoint> points, double? saturation)
    {
        public string Target { get; } = target;

        public int Index { get; } = index;

        public List<SweepPoint> Points { get; } = points;

        public double? Saturation { get; } = saturation;

        /// <summary>Whether the saturation line fits on the rate axis; set once the axis is known.</summary>
        public bool SaturationOnScale { get; set; }
    }
}
