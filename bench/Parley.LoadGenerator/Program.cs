using System.CommandLine;
using Parley.LoadGenerator;

// parley-bench: issue #8's load generator. Every workload starts its own server on loopback and stops it after.
var root = new RootCommand("parley-bench: load generator for Parley, and for InspIRCd with the same relay workload")
{
    BenchCommands.Relay(),
    BenchCommands.Irc(),
    BenchCommands.Connections(),
    BenchCommands.LogOns(),
    BenchCommands.History(),
    BenchCommands.Suite(),
    BenchCommands.Chart(),
};
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
