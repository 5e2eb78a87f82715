using System.Globalization;
using System.Text;

namespace Parley.LoadGenerator.Reporting;

/// <summary>The terminal view of a <see cref="BenchReport"/>: one table of relay runs, then the other workloads' figures.</summary>
internal static class ConsoleReport
{
    private static readonly (string Header, string Key, Func<double, string> Format)[] RelayColumns =
    [
        ("msg/s", MetricNames.MessagesPerSecond, Count),
        ("offered", MetricNames.OfferedPerSecond, Count),
        ("p50", MetricNames.P50Micros, Micros),
        ("p99", MetricNames.P99Micros, Micros),
        ("p99.9", MetricNames.P999Micros, Micros),
        ("max", MetricNames.MaxMicros, Micros),
        ("srv µs/msg", MetricNames.ServerCpuMicrosPerMessage, One),
        ("gen µs/msg", MetricNames.GeneratorCpuMicrosPerMessage, One),
        ("srv RSS", MetricNames.ServerRssBytes, Bytes),
    ];

    public static string Render(BenchReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{report.Machine.Cores} cores, {report.Machine.Cpu}; {report.Machine.Os}; {report.Machine.Runtime}");
        if (report.ServerCpus is { } cpus)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Servers pinned to CPU {cpus} (taskset)");
        }

        var relay = report.Runs.Where(r => r.Workload == "relay").ToList();
        if (relay.Count > 0)
        {
            string[] headers = ["target", "pairs", "W", "size", .. RelayColumns.Select(c => c.Header)];
            var rows = relay.Select(r => new[]
            {
                r.Target,
                Parameter(r, "pairs"),
                Parameter(r, "window"),
                Parameter(r, "size"),
            }.Concat(RelayColumns.Select(c => r.Metrics.TryGetValue(c.Key, out var v) ? c.Format(v) : "-")).ToArray()).ToList();
            AppendTable(text, headers, rows);
        }

        foreach (var run in report.Runs.Where(r => r.Workload != "relay"))
        {
            text.AppendLine();
            text.AppendLine(CultureInfo.InvariantCulture, $"{run.Workload} ({run.Target}; {string.Join(", ", run.Parameters.Select(p => $"{p.Key} {p.Value.ToString(CultureInfo.InvariantCulture)}"))})");
            foreach (var (key, value) in run.Metrics)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {key,-34} {value.ToString("#,0.##", CultureInfo.InvariantCulture),16}");
            }
        }

        foreach (var note in report.Runs.SelectMany(r => r.Notes.Select(n => $"{r.Workload} {r.Target}: {n}")).Distinct())
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"note: {note}");
        }

        return text.ToString();
    }

    private static void AppendTable(StringBuilder text, string[] headers, List<string[]> rows)
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        text.AppendLine(string.Join("  ", headers.Select((h, i) => i == 0 ? h.PadRight(widths[i]) : h.PadLeft(widths[i]))));
        foreach (var row in rows)
        {
            text.AppendLine(string.Join("  ", row.Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))));
        }
    }

    private static string Parameter(RunResult run, string key) =>
        run.Parameters.TryGetValue(key, out var value) ? value.ToString(CultureInfo.InvariantCulture) : key == "window" && run.Parameters.ContainsKey("rate") ? "open" : "-";

    private static string Count(double value) => value.ToString("#,0", CultureInfo.InvariantCulture);

    private static string One(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);

    private static string Micros(double value) => value >= 10_000
        ? (value / 1000).ToString("#,0", CultureInfo.InvariantCulture) + " ms"
        : value.ToString("#,0", CultureInfo.InvariantCulture) + " µs";

    private static string Bytes(double value) => (value / (1024 * 1024)).ToString("#,0.0", CultureInfo.InvariantCulture) + " MiB";
}
