using System.CommandLine;
using Parley.LoadGenerator.Hosting;

namespace Parley.LoadGenerator;

/// <summary>The options several commands share, each with its documented default (docs/PERFORMANCE.md lists them).</summary>
internal static class BenchOptions
{
    public static readonly Option<int> Pairs = new("--pairs") { Description = "Sender→receiver pairs", DefaultValueFactory = _ => 50 };

    public static readonly Option<int> Window = new("--window") { Description = "Messages each sender keeps in flight (closed loop)", DefaultValueFactory = _ => 4 };

    public static readonly Option<int> Size = new("--size") { Description = "Payload bytes per message (at least 17: the timestamp)", DefaultValueFactory = _ => 64 };

    public static readonly Option<double[]> Rates = new("--rate")
    {
        Description = "Open loop: offered msg/s over all pairs instead of a window; several values sweep",
        AllowMultipleArgumentsPerToken = true,
    };

    public static readonly Option<double> Warmup = new("--warmup") { Description = "Seconds of load before measuring", DefaultValueFactory = _ => 3 };

    public static readonly Option<double> Duration = new("--duration") { Description = "Seconds measured", DefaultValueFactory = _ => 10 };

    public static readonly Option<FileInfo?> Json = new("--json") { Description = "Also write the results as JSON to this file" };

    public static readonly Option<FileInfo?> Svg = new("--svg") { Description = "Also draw latency against offered rate (SVG) to this file" };

    public static readonly Option<string> ServerExe = new("--server-exe")
    {
        Description = "The parley executable to start as the server",
        DefaultValueFactory = _ => ParleyServerHost.DefaultExecutable,
    };

    public static readonly Option<string[]> ServerArgs = new("--server-arg")
    {
        Description = "An extra argument for `parley server` (repeat for several), e.g. --server-arg=--history-batch --server-arg=512",
        DefaultValueFactory = _ => [],
    };

    public static readonly Option<string> InspIrcdConfig = new("--inspircd-config")
    {
        Description = "InspIRCd configuration to start the IRC server with",
        DefaultValueFactory = _ => Path.Combine(AppContext.BaseDirectory, "inspircd.conf"),
    };

    public static readonly Option<string?> ServerCpus = new("--server-cpus")
    {
        Description = "Pin every server to these CPUs (taskset -c syntax, e.g. 0); run parley-bench itself under taskset on the others",
    };

    public static readonly Option<int> Connections = new("--connections")
    {
        // 19,000, not the 20,000: this machine caps open files at 20,000 per process (RLIMIT_NOFILE, hard),
        // and the server needs a few for its listeners and database.
        Description = "Idle clients to log on",
        DefaultValueFactory = _ => 19_000,
    };

    public static readonly Option<int> Users = new("--users") { Description = "Users the log-on loops cycle through", DefaultValueFactory = _ => 256 };

    public static readonly Option<int> Concurrency = new("--concurrency") { Description = "Log-ons in progress at once", DefaultValueFactory = _ => 32 };

    public static readonly Option<int> Messages = new("--messages") { Description = "Messages in the history", DefaultValueFactory = _ => 10_000 };

    public static readonly Option<int> HistorySize = new("--size")
    {
        Description = "Bytes per history message (500 is what an end-to-end envelope of a short line takes)",
        DefaultValueFactory = _ => 500,
    };

    public static readonly Option<int> Clients = new("--clients") { Description = "Soak: clients, each one user", DefaultValueFactory = _ => 20 };

    public static readonly Option<TimeSpan> SoakDuration = new("--duration")
    {
        Description = "Soak: how long the load runs, e.g. 10m, 90s or 600 (seconds); the drain after it is bounded too",
        DefaultValueFactory = _ => TimeSpan.FromMinutes(10),
        CustomParser = result => ParseDuration(result),
    };

    public static readonly Option<int> Seed = new("--seed") { Description = "Soak: seed of every client's mix", DefaultValueFactory = _ => 1 };

    public static readonly Option<double> SoakRate = new("--rate")
    {
        Description = "Soak: messages a second each client sends (well under the server's per-client limit)",
        DefaultValueFactory = _ => 20,
    };

    public static readonly Option<double> RssInterval = new("--rss-interval")
    {
        Description = "Soak: seconds between readings of the server's RSS, each printed with the run's progress",
        DefaultValueFactory = _ => 10,
    };

    public static readonly Option<int> Repeats = new("--repeats") { Description = "Times the history is fetched (the median is reported)", DefaultValueFactory = _ => 5 };

    private static TimeSpan ParseDuration(System.CommandLine.Parsing.ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value.Trim() : "";
        var (number, unit) = text.EndsWith('m') ? (text[..^1], 60) : text.EndsWith('s') ? (text[..^1], 1) : (text, 1);
        if (double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value)
            && value * unit is > 0 and < 7 * 24 * 3600)
        {
            return TimeSpan.FromSeconds(value * unit);
        }

        result.AddError($"--duration must be a positive number of seconds (90, 90s) or minutes (10m), under a week; not '{text}'.");
        return TimeSpan.Zero;
    }
}
