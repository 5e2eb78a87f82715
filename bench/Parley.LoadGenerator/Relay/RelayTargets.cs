using System.CommandLine;
using Parley.LoadGenerator.Irc;
using O = Parley.LoadGenerator.BenchOptions;

namespace Parley.LoadGenerator.Relay;

/// <summary>Starts the server a relay run measures, fresh for each run, from the command line's options.</summary>
internal static class RelayTargets
{
    public static async Task<IRelayTarget> Parley(ParseResult result, int pairs, CancellationToken cancellationToken) =>
        await ParleyRelayTarget.StartAsync(result.GetValue(O.ServerExe)!, pairs, result.GetValue(O.ServerArgs)!, cancellationToken).ConfigureAwait(false);

    public static async Task<IRelayTarget> InspIrcd(ParseResult result, int pairs, CancellationToken cancellationToken)
    {
        var host = await InspIrcdHost.StartAsync(result.GetValue(O.InspIrcdConfig)!, cancellationToken).ConfigureAwait(false);
        return new IrcRelayTarget(host.EndPoint, host.ProcessId, host);
    }
}
