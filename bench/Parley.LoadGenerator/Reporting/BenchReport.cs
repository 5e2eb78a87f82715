using System.Text.Json.Serialization;

namespace Parley.LoadGenerator.Reporting;

/// <summary>
/// What one invocation of <c>parley-bench</c> measured: the machine, then one <see cref="RunResult"/> per workload run.
/// Written as JSON with <c>--json FILE</c>; <c>parley-bench chart</c> draws from it.
/// </summary>
internal sealed record BenchReport(
    [property: JsonPropertyName("started_at")] DateTimeOffset StartedAt,
    [property: JsonPropertyName("machine")] MachineInfo Machine,
    [property: JsonPropertyName("runs")] List<RunResult> Runs,
    [property: JsonPropertyName("server_cpus")] string? ServerCpus = null);

/// <summary>Where the figures were taken: they are only comparable on the same machine, in the same run.</summary>
internal sealed record MachineInfo(
    [property: JsonPropertyName("cores")] int Cores,
    [property: JsonPropertyName("cpu")] string Cpu,
    [property: JsonPropertyName("os")] string Os,
    [property: JsonPropertyName("runtime")] string Runtime);

/// <summary>
/// One workload against one target. <see cref="Parameters"/> are what was asked (pairs, window, size, rate...),
/// <see cref="Metrics"/> what was measured, under the names <see cref="MetricNames"/> lists. <see cref="Series"/>
/// holds figures taken over time (the soak's RSS samples), absent for the workloads that take none.
/// </summary>
internal sealed record RunResult(
    [property: JsonPropertyName("workload")] string Workload,
    [property: JsonPropertyName("target")] string Target,
    [property: JsonPropertyName("parameters")] Dictionary<string, double> Parameters,
    [property: JsonPropertyName("metrics")] Dictionary<string, double> Metrics,
    [property: JsonPropertyName("notes")] List<string> Notes,
    [property: JsonPropertyName("series"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Dictionary<string, double[]>? Series = null);

/// <summary>The metric keys every workload uses, so the table, the JSON and the chart agree.</summary>
internal static class MetricNames
{
    public const string Delivered = "delivered";
    public const string MessagesPerSecond = "msg_per_s";
    public const string OfferedPerSecond = "offered_per_s";
    public const string P50Micros = "p50_us";
    public const string P99Micros = "p99_us";
    public const string P999Micros = "p999_us";
    public const string MaxMicros = "max_us";
    public const string ServerCpuMicrosPerMessage = "server_cpu_us_per_msg";
    public const string GeneratorCpuMicrosPerMessage = "generator_cpu_us_per_msg";
    public const string ServerRssBytes = "server_rss_bytes";
    public const string Connections = "connections";
    public const string RssBytesPerConnection = "rss_bytes_per_connection";
    public const string LogOnsPerSecond = "logons_per_s";
    public const string Failures = "failures";
    public const string HistoryMessages = "history_messages";
    public const string HistoryMillis = "history_ms";
}
