using System.CommandLine;
using System.Text.Json;
using Parley.LoadGenerator.Relay;
using Parley.LoadGenerator.Reporting;
using Parley.LoadGenerator.Workloads;
using O = Parley.LoadGenerator.BenchOptions;

namespace Parley.LoadGenerator;

/// <summary>The commands of <c>parley-bench</c>, one per workload of issue #8, plus <c>suite</c> (all of them, both servers) and <c>chart</c>.</summary>
internal static class BenchCommands
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static Command Relay() => RelayCommand("relay", "Relay workload against Parley: CHAT sessions, every message encrypted and stored", RelayTargets.Parley);

    public static Command Irc() => RelayCommand("irc", "The same relay workload against InspIRCd: PRIVMSG between pairs", RelayTargets.InspIrcd);

    public static Command Connections()
    {
        var command = new Command("connections", "Idle authenticated connections: the server's memory per connection") { O.Connections, O.Warmup, O.Json, O.ServerExe, O.ServerArgs, O.ServerCpus };
        command.SetAction((result, ct) => ReportAsync(result, async report =>
            report.Runs.Add(await ConnectionsWorkload.RunAsync(result.GetValue(O.ServerExe)!, result.GetValue(O.Connections),
                TimeSpan.FromSeconds(result.GetValue(O.Warmup)), result.GetValue(O.ServerArgs)!, ct).ConfigureAwait(false))));
        return command;
    }

    public static Command LogOns()
    {
        var command = new Command("logons", "Full log-ons per second (UDP challenge-response, then TCP CONNECT)")
        {
            O.Users, O.Concurrency, O.Warmup, O.Duration, O.Json, O.ServerExe, O.ServerArgs, O.ServerCpus,
        };
        command.SetAction((result, ct) => ReportAsync(result, async report =>
            report.Runs.Add(await LogOnsWorkload.RunAsync(result.GetValue(O.ServerExe)!, result.GetValue(O.Users), result.GetValue(O.Concurrency),
                TimeSpan.FromSeconds(result.GetValue(O.Warmup)), TimeSpan.FromSeconds(result.GetValue(O.Duration)), result.GetValue(O.ServerArgs)!, ct)
                .ConfigureAwait(false))));
        return command;
    }

    public static Command History()
    {
        var command = new Command("history", "Time for a long conversation's history to reach the client") { O.Messages, O.HistorySize, O.Repeats, O.Json, O.ServerExe, O.ServerArgs, O.ServerCpus };
        command.SetAction((result, ct) => ReportAsync(result, async report =>
            report.Runs.Add(await HistoryWorkload.RunAsync(result.GetValue(O.ServerExe)!, result.GetValue(O.Messages), result.GetValue(O.HistorySize),
                result.GetValue(O.Repeats), result.GetValue(O.ServerArgs)!, ct).ConfigureAwait(false))));
        return command;
    }

    public static Command Soak()
    {
        var command = new Command("soak", "Issue #9's soak: clients mixing every message kind for minutes; fails on any error, loss, duplicate or growing memory")
        {
            O.Clients, O.SoakDuration, O.Seed, O.SoakRate, O.RssInterval, O.Json, O.ServerExe, O.ServerArgs, O.ServerCpus,
        };
        command.SetAction(async (result, ct) =>
        {
            Hosting.CpuPinning.ServerCpus = result.GetValue(O.ServerCpus);
            var parameters = new Workloads.Soak.SoakParameters(result.GetValue(O.Clients), result.GetValue(O.SoakDuration), result.GetValue(O.Seed),
                result.GetValue(O.SoakRate), TimeSpan.FromSeconds(result.GetValue(O.RssInterval)));
            var startedAt = DateTimeOffset.UtcNow;
            Workloads.Soak.SoakOutcome outcome;
            try
            {
                outcome = await SoakWorkload.RunAsync(result.GetValue(O.ServerExe)!, parameters, result.GetValue(O.ServerArgs)!, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or Client.ParleyClientException or IOException or TimeoutException
                or System.ComponentModel.Win32Exception)
            {
                await Console.Error.WriteLineAsync($"parley-bench: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            Console.Write(outcome.Render());
            if (result.GetValue(O.Json) is { } json)
            {
                var report = new BenchReport(startedAt, MachineProbe.Describe(), [outcome.ToRunResult()], Hosting.CpuPinning.ServerCpus);
                await File.WriteAllTextAsync(json.FullName, JsonSerializer.Serialize(report, JsonOptions), ct).ConfigureAwait(false);
                Console.WriteLine($"Wrote {json.FullName}");
            }

            // Non-zero when anything was lost, duplicated or went wrong, or memory grew: a script can gate on it.
            return outcome.Failures().Count == 0 ? 0 : 1;
        });
        return command;
    }

    public static Command Suite()
    {
        var command = new Command("suite", "Everything docs/PERFORMANCE.md reports, Parley and InspIRCd in one run")
        {
            O.Pairs, O.Window, O.Size, O.Warmup, O.Duration, O.Connections, O.Json, O.Svg, O.ServerExe, O.ServerArgs, O.InspIrcdConfig, O.ServerCpus,
        };
        command.SetAction((result, ct) => ReportAsync(result, report => BenchSuite.RunAsync(result, report, ct)));
        return command;
    }

    public static Command Chart()
    {
        var input = new Argument<FileInfo>("report") { Description = "A JSON report written with --json" };
        var command = new Command("chart", "Draw latency against offered rate from a JSON report") { input, O.Svg };
        command.SetAction(async (result, ct) =>
        {
            await using var stream = result.GetValue(input)!.OpenRead();
            var report = await JsonSerializer.DeserializeAsync<BenchReport>(stream, JsonOptions, ct).ConfigureAwait(false)
                ?? throw new InvalidDataException("The report is empty.");
            var svg = result.GetValue(O.Svg) ?? new FileInfo(Path.ChangeExtension(result.GetValue(input)!.FullName, ".svg"));
            await File.WriteAllTextAsync(svg.FullName, LatencyChart.RenderSvg(report), ct).ConfigureAwait(false);
            Console.WriteLine($"Wrote {svg.FullName}");
            return 0;
        });
        return command;
    }

    private static Command RelayCommand(string name, string description, Func<ParseResult, int, CancellationToken, Task<IRelayTarget>> start)
    {
        var command = new Command(name, description)
        {
            O.Pairs, O.Window, O.Size, O.Rates, O.Warmup, O.Duration, O.Json, O.Svg, O.ServerExe, O.ServerArgs, O.InspIrcdConfig, O.ServerCpus,
        };
        command.SetAction((result, ct) => ReportAsync(result, async report =>
        {
            var rates = result.GetValue(O.Rates) is { Length: > 0 } asked ? asked.Select(r => (double?)r) : [null];
            foreach (var rate in rates)
            {
                report.Runs.Add(await RunRelayAsync(result, start, rate, result.GetValue(O.Size), ct).ConfigureAwait(false));
            }
        }));
        return command;
    }

    /// <summary>One relay run on a fresh server: start it, connect the pairs, measure, stop it.</summary>
    internal static async Task<RunResult> RunRelayAsync(ParseResult result, Func<ParseResult, int, CancellationToken, Task<IRelayTarget>> start,
        double? rate, int size, CancellationToken cancellationToken)
    {
        var parameters = new RelayParameters(result.GetValue(O.Pairs), result.GetValue(O.Window), size, rate,
            TimeSpan.FromSeconds(result.GetValue(O.Warmup)), TimeSpan.FromSeconds(result.GetValue(O.Duration)));
        if (parameters.Pairs < 1 || parameters.Window < 1 || parameters.Size < RelayBody.MinimumSize || rate is { } r && !(r > 0 && double.IsFinite(r))
            || parameters.Duration <= TimeSpan.Zero)
        {
            throw new ArgumentException($"--pairs and --window must be at least 1, --size at least {RelayBody.MinimumSize}, --rate a number above 0 and --duration above 0.");
        }

        await using var target = await start(result, parameters.Pairs, cancellationToken).ConfigureAwait(false);
        var run = await RelayWorkload.RunAsync(target, parameters, cancellationToken).ConfigureAwait(false);
        Console.Error.WriteLine($"  {run.Target} {(rate is null ? $"W={parameters.Window}" : $"rate {rate:#,0}")} size {size}: {run.Metrics[MetricNames.MessagesPerSecond]:#,0} msg/s, p99 {run.Metrics[MetricNames.P99Micros]:#,0} µs");
        return run;
    }

    /// <summary>Runs <paramref name="work"/>, then prints the table and writes the JSON and the chart if asked.</summary>
    private static async Task<int> ReportAsync(ParseResult result, Func<BenchReport, Task> work)
    {
        Hosting.CpuPinning.ServerCpus = result.GetValue(O.ServerCpus);
        var report = new BenchReport(DateTimeOffset.UtcNow, MachineProbe.Describe(), [], Hosting.CpuPinning.ServerCpus);
        try
        {
            await work(report).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or Client.ParleyClientException or IOException or TimeoutException
            or System.ComponentModel.Win32Exception)
        {
            await Console.Error.WriteLineAsync($"parley-bench: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        Console.Write(ConsoleReport.Render(report));
        if (result.GetValue(O.Json) is { } json)
        {
            await File.WriteAllTextAsync(json.FullName, JsonSerializer.Serialize(report, JsonOptions)).ConfigureAwait(false);
            Console.WriteLine($"Wrote {json.FullName}");
        }

        if (result.GetValue(O.Svg) is { } svg)
        {
            await File.WriteAllTextAsync(svg.FullName, LatencyChart.RenderSvg(report)).ConfigureAwait(false);
            Console.WriteLine($"Wrote {svg.FullName}");
        }

        return 0;
    }
}
