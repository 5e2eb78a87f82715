using System.CommandLine;
using System.Diagnostics;
using Parley.LoadGenerator;

// The generator's own code must be optimized by the end of the warm-up, or it, not the server, sets the pace: under
// load the runtime holds methods at tier 0 while any new method is still being compiled (TC_CallCountingDelayMs,
// 100 ms, times 10 on one CPU), which took longer than the warm-up here (docs/PERFORMANCE.md). So parley-bench runs
// itself again with the delay off. The servers it starts do not inherit the setting: they run as they ship.
// Only the apphost is run again: under `dotnet parley-bench.dll` the process path is dotnet's, so it runs untuned.
if (Environment.GetEnvironmentVariable(GeneratorTuning.Variable) is null && Environment.ProcessPath is { } self
    && Path.GetFileNameWithoutExtension(self) == "parley-bench")
{
    var again = new ProcessStartInfo(self) { UseShellExecute = false };
    foreach (var argument in args)
    {
        again.ArgumentList.Add(argument);
    }

    again.Environment[GeneratorTuning.Variable] = "0";
    using var child = Process.Start(again) ?? throw new InvalidOperationException($"Could not run {self} again.");
    await child.WaitForExitAsync().ConfigureAwait(false);
    return child.ExitCode;
}

// parley-bench: issue #8's load generator. Every workload starts its own server on loopback and stops it after.
var root = new RootCommand("parley-bench: load generator for Parley, and for InspIRCd with the same relay workload")
{
    BenchCommands.Relay(),
    BenchCommands.Irc(),
    BenchCommands.Connections(),
    BenchCommands.LogOns(),
    BenchCommands.History(),
    BenchCommands.Soak(),
    BenchCommands.Suite(),
    BenchCommands.Chart(),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
