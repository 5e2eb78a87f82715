using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Parley.Server.Hosting;

/// <summary>
/// Prometheus text exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats) for the instruments
/// of one <see cref="Meter"/> instance, without a package (prometheus-net and OpenTelemetry's exporter are not
/// available here). A <see cref="MeterListener"/> sums counters and up-down counters and keeps the last value of
/// gauges, per tag set; observable instruments are read when scraped. Histograms are not exported (the server has
/// none), nor measurements other than long, int and double. Names follow OpenTelemetry's Prometheus mapping: dots
/// become underscores, the unit is appended unless the name already says it, counters end in <c>_total</c>.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Tag sets kept per instrument; past it new ones are dropped, so a careless tag cannot grow memory without bound.</summary>
    public const int MaxSeriesPerInstrument = 1000;

    private readonly Meter _meter;
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private readonly List<Family> _families = [];

    public PrometheusExporter(Meter meter)
    {
        _meter = meter;
        _listener.InstrumentPublished = OnPublished;
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>Reads the observable instruments, then writes every family in the order its instrument was created.</summary>
    public string Scrape()
    {
        var text = new StringBuilder();
        lock (_gate)
        {
            // An observable instrument reports its whole state on each collection: forget tag sets it no longer reports.
            foreach (var family in _families.Where(f => f.Instrument.IsObservable))
            {
                family.Clear();
            }

            _listener.RecordObservableInstruments();
            foreach (var family in _families)
            {
                family.Write(text);
            }
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>The name Prometheus sees (OpenTelemetry's mapping, simplified): dots to underscores, unit, <c>_total</c>.</summary>
    internal static string MetricName(string name, string? unit, bool counter)
    {
        var metric = Sanitize(name);
        var suffix = unit switch
        {
            null or "" or "1" => null,
            ['{', .., '}'] => null, // an annotation such as {message} names what is counted, not a unit
            "By" => "bytes",
            "s" => "seconds",
            "ms" => "milliseconds",
            _ => Sanitize(unit).ToLowerInvariant(),
        };
        if (suffix is not null && !metric.Split('_').Contains(suffix))
        {
            metric += "_" + suffix;
        }

        return counter && !metric.EndsWith("_total", StringComparison.Ordinal) ? metric + "_total" : metric;
    }

    private void OnPublished(Instrument instrument, MeterListener listener)
    {
        if (!ReferenceEquals(instrument.Meter, _meter) || Kind(instrument) is not (var type, var lastValue))
        {
            return;
        }

        var family = new Family(instrument, MetricName(instrument.Name, instrument.Unit, type == "counter"), type, lastValue);
        lock (_gate)
        {
            _families.Add(family);
        }

        listener.EnableMeasurementEvents(instrument, family);
    }

    /// <summary>The Prometheus type and whether a measurement replaces the value (else it adds to it); null for what is not exported.</summary>
    private static (string Type, bool LastValue)? Kind(Instrument instrument)
    {
        var type = instrument.GetType();
        var value = type.IsGenericType ? type.GetGenericArguments()[0] : null;
        if (value != typeof(long) && value != typeof(int) && value != typeof(double))
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        return definition == typeof(Counter<>) ? ("counter", false)
            : definition == typeof(ObservableCounter<>) ? ("counter", true) // reports its running total
            : definition == typeof(UpDownCounter<>) ? ("gauge", false)
            : definition == typeof(ObservableUpDownCounter<>) || definition == typeof(ObservableGauge<>) || definition == typeof(Gauge<>) ? ("gauge", true)
            : null;
    }

    private static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length + 1);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_');
        }

        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }

    private static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string FormatDouble(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>One instrument's samples, one <see cref="Series"/> per tag set.</summary>
    private sealed class Family(Instrument instrument, string name, string type, bool lastValue)
    {
        private readonly Lock _gate = new();
        private Series[] _series = [];

        public Instrument Instrument { get; } = instrument;

        public void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (Find(tags) is { } series)
            {
                if (lastValue)
                {
                    Interlocked.Exchange(ref series.Long, value);
                }
                else
                {
                    Interlocked.Add(ref series.Long, value);
                }
            }
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (Find(tags) is not { } series)
            {
                return;
            }

            if (lastValue)
            {
                Interlocked.Exchange(ref series.Double, value);
                return;
            }

            var seen = Volatile.Read(ref series.Double);
            while (Interlocked.CompareExchange(ref series.Double, seen + value, seen) is var now && !now.Equals(seen))
            {
                seen = now;
            }
        }

        public void Clear()
        {
            lock (_gate)
            {
                Volatile.Write(ref _series, []);
            }
        }

        public void Write(StringBuilder text)
        {
            var description = Instrument.Description;
            if (!string.IsNullOrEmpty(description))
            {
                text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(description)).Append('\n');
            }

            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            var isDouble = Instrument.GetType().GetGenericArguments()[0] == typeof(double);
            foreach (var series in Volatile.Read(ref _series))
            {
                text.Append(name);
                if (series.Tags.Length > 0)
                {
                    text.Append('{');
                    for (var i = 0; i < series.Tags.Length; i++)
                    {
                        var (key, value) = series.Tags[i];
                        text.Append(i > 0 ? "," : "").Append(Sanitize(key)).Append("=\"")
                            .Append(EscapeLabelValue(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")).Append('"');
                    }

                    text.Append('}');
                }

                text.Append(' ').Append(isDouble
                    ? FormatDouble(Volatile.Read(ref series.Double))
                    : Interlocked.Read(ref series.Long).ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        /// <summary>
        /// The series of this tag set, created on first use. The lookup scans a small array without a lock or an
        /// allocation, since it runs on the instrumented path; tag order does not matter.
        /// </summary>
        private Series? Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var series in Volatile.Read(ref _series))
            {
                if (series.Matches(tags))
                {
                    return series;
                }
            }

            lock (_gate)
            {
                var all = _series;
                foreach (var series in all)
                {
                    if (series.Matches(tags))
                    {
                        return series;
                    }
                }

                if (all.Length >= MaxSeriesPerInstrument)
                {
                    return null;
                }

                var added = new Series([.. tags.ToArray().OrderBy(t => t.Key, StringComparer.Ordinal)]);
                Volatile.Write(ref _series, [.. all, added]);
                return added;
            }
        }
    }

    private sealed class Series(KeyValuePair<string, object?>[] tags)
    {
        public readonly KeyValuePair<string, object?>[] Tags = tags;
        public long Long;
        public double Double;

        public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length != Tags.Length)
            {
                return false;
            }

            foreach (var (key, value) in tags)
            {
                if (!Has(key, value))
                {
                    return false;
                }
            }

            return true;
        }

        private bool Has(string key, object? value)
        {
            foreach (var tag in Tags)
            {
                if (tag.Key == key && Equals(tag.Value, value))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
