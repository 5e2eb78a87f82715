using System.Diagnostics.Metrics;
using Parley.Server.Hosting;

namespace Parley.Tests.Unit;

/// <summary>Issue #7: the Prometheus text format 0.0.4 written by <see cref="PrometheusExporter"/>, on private meters.</summary>
public sealed class PrometheusExporterTests
{
    [Fact]
    public void Counters_are_summed_per_tag_set_with_total_suffix_escaped_labels_and_help()
    {
        using var meter = new Meter("Parley.Tests.Exposition");
        using var exporter = new PrometheusExporter(meter);
        var requests = meter.CreateCounter<long>("test.requests", "{request}", "Requests \\ counted\nper path");
        requests.Add(2, new KeyValuePair<string, object?>("path", "a\"b\\c\nd"));
        requests.Add(3, new KeyValuePair<string, object?>("path", "a\"b\\c\nd"));
        requests.Add(1);
        var pairs = meter.CreateCounter<int>("test.pairs");
        pairs.Add(1, new("a", "1"), new("b", "2"));
        pairs.Add(1, new("b", "2"), new("a", "1")); // the same tag set in another order
        var seconds = meter.CreateCounter<double>("test.wait", "s");
        seconds.Add(0.5);
        seconds.Add(0.25);

        var text = exporter.Scrape();

        Assert.Equal(
            """
            # HELP test_requests_total Requests \\ counted\nper path
            # TYPE test_requests_total counter
            test_requests_total{path="a\"b\\c\nd"} 5
            test_requests_total 1
            # TYPE test_pairs_total counter
            test_pairs_total{a="1",b="2"} 2
            # TYPE test_wait_seconds_total counter
            test_wait_seconds_total 0.75

            """.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void Up_down_counters_and_gauges_are_gauges_observables_are_read_at_scrape_and_histograms_are_left_out()
    {
        using var meter = new Meter("Parley.Tests.Exposition");
        using var exporter = new PrometheusExporter(meter);
        var depth = 7;
        meter.CreateObservableGauge("test.queue.depth", () => depth, "{item}", "Items waiting");
        var level = meter.CreateUpDownCounter<long>("test.level", "By");
        level.Add(5);
        level.Add(-2);
        meter.CreateHistogram<double>("test.latency", "s").Record(1.5);

        Assert.Equal(["# HELP test_queue_depth Items waiting", "# TYPE test_queue_depth gauge", "test_queue_depth 7",
            "# TYPE test_level_bytes gauge", "test_level_bytes 3", ""], exporter.Scrape().Split('\n'));
        depth = 9;
        Assert.Contains("test_queue_depth 9\n", exporter.Scrape(), StringComparison.Ordinal);
        Assert.DoesNotContain("latency", exporter.Scrape(), StringComparison.Ordinal);
    }

    [Fact]
    public void Only_the_meter_instance_given_is_exported_not_another_of_the_same_name()
    {
        using var mine = new Meter(ServerMetrics.MeterName);
        using var theirs = new Meter(ServerMetrics.MeterName);
        using var exporter = new PrometheusExporter(mine);
        mine.CreateCounter<long>("parley.messages.relayed", "{message}").Add(1);
        theirs.CreateCounter<long>("parley.messages.relayed", "{message}").Add(100);
        theirs.CreateCounter<long>("parley.other").Add(1);

        Assert.Equal("# TYPE parley_messages_relayed_total counter\nparley_messages_relayed_total 1\n", exporter.Scrape());
    }

    [Theory]
    [InlineData("parley.bytes.received", "By", true, "parley_bytes_received_total")] // the name already says bytes
    [InlineData("parley.payload", "By", true, "parley_payload_bytes_total")]
    [InlineData("parley.history.queue.depth", "{item}", false, "parley_history_queue_depth")]
    [InlineData("rpc.duration", "ms", false, "rpc_duration_milliseconds")]
    [InlineData("already_total", null, true, "already_total")]
    [InlineData("9lives-and/odd", "1", false, "_9lives_and_odd")]
    public void Names_follow_the_OpenTelemetry_to_Prometheus_mapping(string name, string? unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusExporter.MetricName(name, unit, counter));
}
